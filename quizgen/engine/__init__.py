"""The answer engine: operations registered by name, computed with sympy / numpy.

An operation is ``fn(inputs) -> Result``; ``inputs`` holds sympy objects (expressions,
symbols, numbers) and plain lists/dicts, already resolved from a template or a request.
Adding an operation: write it in a module listed in ``_MODULES`` (or a new one) and
decorate it with ``@operation("name", kind=...)``.
"""

from __future__ import annotations

import functools
import importlib
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable

import sympy as sp

from .. import texcache
from ..errors import Degenerate
from ..inputs import float30
from ..numfmt import num, tex_value


@dataclass
class Result:
    value: Any                       # sympy numbers / expressions, in lists or dicts
    steps: list[str] = field(default_factory=list)   # TeX lines (maths, no $)
    display: str | None = None       # TeX of a symbolic value in the form students expect, if not sympy's
    labels: list[str] | None = None  # a categorical value: the fixed list it is one of (answer kind "label")


@dataclass(frozen=True)
class Operation:
    name: str
    fn: Callable[[dict], Result]
    kind: str                        # default answer kind of its value
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


OPERATIONS: dict[str, Operation] = {}
STEP_DIGITS: ContextVar[int] = ContextVar("step_digits", default=4)   # decimals shown in worked steps
IN_STEPS: ContextVar[bool] = ContextVar("in_steps", default=True)      # False: only the value is wanted
_MODULES = ("calculus", "directional", "classify", "chain", "networks", "series", "optimise", "lagrange", "regression")


def operation(name: str, *, kind: str, required: tuple[str, ...], optional: tuple[str, ...] = ()):
    """Register ``fn`` as the engine operation ``name``."""

    def deco(fn):
        OPERATIONS[name] = Operation(name, fn, kind, required, optional)
        return fn

    return deco


def load_all() -> dict[str, Operation]:
    for mod in _MODULES:
        importlib.import_module(f"{__name__}.{mod}")
    return OPERATIONS


def run(op: str, inputs: dict, digits: int = 4, steps: bool = True) -> Result:
    """Run operation ``op`` on resolved ``inputs``; steps show ``digits`` decimals.

    ``steps=False`` when only the value is used (a misconception's rerun): the lines of an
    iteration are then not written (the value is the same).
    """
    token, shown = STEP_DIGITS.set(max(4, digits)), IN_STEPS.set(steps)
    try:
        return load_all()[op].fn(inputs)
    finally:
        STEP_DIGITS.reset(token)
        IN_STEPS.reset(shown)


# ---- helpers shared by operations -------------------------------------------------

def real_number(x: Any) -> sp.Expr:
    """``x`` as an exact-or-float sympy number; complex, infinite or NaN is degenerate."""
    x = sp.sympify(x)
    if isinstance(x, sp.Rational) or x.free_symbols:      # a fraction is always real and finite
        return x
    if x.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        raise Degenerate("the value is infinite or undefined")
    val = complex(sp.N(x, 30))
    if abs(val.imag) > 1e-12 * max(1.0, abs(val.real)):
        raise Degenerate("the value is complex")
    if val.real != val.real or abs(val.real) == float("inf"):
        raise Degenerate("the value is not finite")
    return x


def exact_number(v: Any) -> sp.Expr:
    """A data value as an exact number (template and request numbers already are)."""
    if isinstance(v, sp.Rational):
        return v
    try:
        return _nsimplified(v)
    except TypeError:                                   # unhashable (a list): not cached
        return sp.nsimplify(v)


@functools.lru_cache(maxsize=4096)
def _nsimplified(v) -> sp.Expr:
    """``nsimplify(v)``, once per value (a pure function; sqrt(sigma) recurs across variants)."""
    return sp.nsimplify(v)


_KINKS = (sp.sign, sp.Heaviside, sp.DiracDelta)     # what sympy's derivative of |u|, min, max leaves


def at_point(expr: sp.Expr, at: dict | None) -> sp.Expr:
    """Substitute the point ``at`` ({symbol: value}) and simplify numbers.

    A derivative with a kink at the point (``sign(u)``, ``Heaviside(u)`` with u = 0 there:
    d|x|/dx at 0) is refused: one-sided derivatives differ, there is no derivative.
    """
    if not at:
        return expr
    value = real_number(expr.xreplace(at))
    if any(k.args and k.args[0].xreplace(at) == 0 for k in expr.atoms(*_KINKS)):
        _one_sided_agree(expr, at, value)
    return value


def _one_sided_agree(expr: sp.Expr, at: dict, value: sp.Expr) -> None:
    """At a kink the derivative exists only when both sides have the same limit, and then
    sympy's convention (sign(0) = 0) must give that limit."""
    eps = sp.Float("1e-12", 40)
    direction = [sp.Float(1 + 0.37 * i, 40) for i in range(len(at))]
    sides = []
    for s in (1, -1):
        shifted = {k: v + s * eps * d for (k, v), d in zip(at.items(), direction)}
        sides.append(complex(sp.N(expr.xreplace(shifted), 30)))
    left, right = sides
    scale = 1 + abs(left) + abs(right)
    if abs(left - right) > 1e-6 * scale or abs(complex(sp.N(value, 30)) - (left + right) / 2) > 1e-6 * scale:
        raise Degenerate(f"not differentiable at {point_text(at)}: the one-sided derivatives differ "
                         f"({left.real:.6g} and {right.real:.6g})")


def defined_at(f: sp.Expr, at: dict | None) -> None:
    """Refuse a point where ``f`` itself has no real, finite value (d/dx log(x) at x = -1)."""
    if not at:
        return
    try:
        real_number(f.xreplace(at))
    except Degenerate:
        raise Degenerate(f"the function is not defined (real and finite) at {point_text(at)}") from None


def point_text(at: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in at.items())


def maybe_at(expr: sp.Expr, at: dict | None) -> sp.Expr:
    """The expression itself without ``at``; its real value at ``at`` otherwise."""
    return at_point(expr, at) if at else tidy(expr)


def tidy(expr: sp.Expr) -> sp.Expr:
    """A cheap clean-up of a symbolic answer (full simplify is far too slow per variant)."""
    return sp.factor_terms(expr) if expr.count_ops() < 40 else expr


SHOWN = (3, 2)                    # iteration lines shown: the first and the last, when there are many


def elided_steps(count: int, line: Callable[[int], str], first: int = SHOWN[0], last: int = SHOWN[1],
                 what: str = "steps") -> list[str]:
    """Step lines ``line(0) .. line(count - 1)``: all of a few, or the first and last of many with
    a line saying how many are left out. Only the lines shown are built, so 200 Newton steps
    cost 200 updates and ten lines of TeX.
    """
    if not IN_STEPS.get():
        return []
    if count <= first + last + 1:
        return [line(k) for k in range(count)]
    return [line(k) for k in range(first)] + [rf"\vdots \quad \text{{({count - first - last} more {what})}}"] + \
        [line(k) for k in range(count - last, count)]


def step_lines(make: Callable[[], list[str]]) -> list[str]:
    """``make()``, the lines of a worked solution, or none when only the value is wanted
    (a misconception's rerun: see :func:`run`)."""
    return make() if IN_STEPS.get() else []


def point_tex(at: dict) -> str:
    return ", ".join(f"{texcache.latex(k)} = {texcache.latex(v)}" for k, v in at.items())


def to_float(x: Any) -> float:
    return float30(real_number(x))


def tex(obj: Any) -> str:
    """TeX of a sympy object; matrices as ``pmatrix``; inexact numbers to 4 decimals."""
    if isinstance(obj, (list, tuple)):
        if _inexact(obj):
            return tex_value(_floats(obj), STEP_DIGITS.get())
        obj = sp.Matrix(obj)
    if isinstance(obj, sp.MatrixBase) and _inexact(obj.tolist()):
        return tex_value(_floats(obj.tolist()), STEP_DIGITS.get())
    if isinstance(obj, sp.Float):
        return num(obj, STEP_DIGITS.get())
    if isinstance(obj, sp.Rational) and _terminating(obj):
        return num(obj, 8)
    return texcache.latex(obj, mat_str="pmatrix", mat_delim="")


def approx(obj: Any) -> str:
    """``exact \\approx decimal`` when the exact form is not already a short number."""
    exact = tex(obj)
    if isinstance(obj, (list, tuple)) and _inexact(obj) or isinstance(obj, sp.Float):
        return exact
    if all(isinstance(v, sp.Rational) and _terminating(v) for v in _flatten(obj)):
        return exact                           # already exact short decimals
    digits = STEP_DIGITS.get()
    try:
        if isinstance(obj, (list, tuple)):
            decimal = tex_value(_floats(obj), digits)
        else:
            decimal = num(to_float(obj), digits)
    except (TypeError, ValueError):
        return exact
    if exact == decimal:
        return exact
    return decimal if len(exact) > 80 else f"{exact} \\approx {decimal}"   # unreadable exact forms


def _inexact(obj) -> bool:
    """A (nested) list of plain numbers with at least one float in it."""
    flat = list(_flatten(obj))
    return all(isinstance(v, (sp.Number, int, float)) for v in flat) and \
        any(isinstance(v, (sp.Float, float)) for v in flat)


def _flatten(obj):
    if isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _flatten(v)
    else:
        yield obj


def _floats(obj):
    return [_floats(o) for o in obj] if isinstance(obj, (list, tuple)) else to_float(obj)


def tex_col(items) -> str:
    """TeX column vector of sympy objects."""
    return tex(sp.Matrix(list(items)))


def _terminating(q: sp.Rational) -> bool:
    """A fraction whose decimal form is short (denominator 2^a 5^b, at most 4 digits)."""
    d = int(q.q)
    if d == 1:
        return True
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1 and q.q <= 10 ** 8
