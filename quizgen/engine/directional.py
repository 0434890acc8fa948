"""The directional derivative: the gradient dotted with the unit vector of a direction."""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..errors import Degenerate
from . import approx, defined_at, maybe_at, operation, point_tex, Result, tex, tex_col
from .derivatives import gradient as gradient_of


def _direction(raw, n: int) -> list[sp.Expr]:
    """The direction as a list of ``n`` numbers (a vector parameter or a list)."""
    v = list(raw.tolist() if isinstance(raw, sp.MatrixBase) else raw) if isinstance(
        raw, (list, tuple, sp.MatrixBase)) else [raw]
    v = [sp.sympify(c[0] if isinstance(c, list) and len(c) == 1 else c) for c in v]
    if len(v) != n:
        raise ValueError(f"direction has {len(v)} component(s) but there are {n} variables")
    if any(c.free_symbols for c in v):
        raise ValueError("direction must be numbers (a vector of parameters), not an expression in the variables")
    return v


def simplified(value: sp.Expr) -> sp.Expr:
    """``sp.simplify(value)``: ``value`` itself when it already has the one form sympy writes for
    such a number (most answers: ``-3*sqrt(34)/34``, ``2*sqrt(5)*sin(2)/5``), else simplify's result."""
    value = sp.sympify(value)
    return value if _settled(value) else _simplify(value)


@lru_cache(maxsize=1024)
def _simplify(value: sp.Expr) -> sp.Expr:
    """``sp.simplify``, once per expression (10 to 20 ms each; values recur across variants)."""
    return sp.simplify(value)


def _settled(value: sp.Expr) -> bool:
    """A form ``sp.simplify`` returns unchanged: a product of a rational, the square root of a
    positive integer and one of sin(n), cos(n), exp(n), E (each at most once, integer n), or a
    rational plus such a product without the root (``-12 + sin(2)``).

    sympy evaluates every other way of writing such a number into this form (sqrt(8) ->
    2*sqrt(2), 1/sqrt(2) -> sqrt(2)/2, 1/exp(2) -> exp(-2)); simplify finds nothing shorter
    (tests compare with simplify on grids of these forms and on the bank's answers).
    """
    if not value.is_Add:
        return _kinds(value) is not None
    if len(value.args) != 2:
        return False
    rational, rest = sorted(value.args, key=lambda t: not t.is_Rational)
    kinds = _kinds(rest)
    return rational.is_Rational and kinds is not None and "root" not in kinds


def _kinds(value: sp.Expr) -> set[str] | None:
    """The parts of a settled product (see :func:`_settled`), or None if ``value`` is not one."""
    factors = value.args if value.is_Mul else (value,)
    kinds = [_kind(f) for f in factors]
    return set(kinds) if None not in kinds and len(set(kinds)) == len(kinds) else None


_ROOTS_BELOW = 2 ** 30    # sympy takes every square factor out of sqrt(n) below this (trial division to 2**15)


def _kind(factor: sp.Expr) -> str | None:
    if factor.is_Rational:
        return "rational"
    if factor.is_Pow and factor.base.is_Integer and 0 < factor.base < _ROOTS_BELOW and factor.exp == sp.S.Half:
        return "root"
    if factor is sp.E or isinstance(factor, (sp.sin, sp.cos, sp.exp)) and factor.args[0].is_Integer:
        return "constant"
    return None


@operation("directional_derivative", kind="number", required=("expression", "variables", "direction"),
           optional=("at",))
def directional_derivative(inp):
    """D_u f = grad f . v / |v|: the rate of change of f per unit length along v."""
    f, xs, at = inp["expression"], list(inp["variables"]), inp.get("at")
    v = _direction(inp["direction"], len(xs))
    length = sp.sqrt(sum(c ** 2 for c in v))
    if length == 0:
        raise Degenerate("the direction is the zero vector")
    defined_at(f, at)
    g = gradient_of(f, xs)
    u = [c / length for c in v]
    steps = [rf"\text{{gradient: }}\nabla f = {tex_col(g)}"]
    grad = [maybe_at(c, at) for c in g]
    if at:
        steps.append(rf"\text{{at the point: }}\nabla f({point_tex(at)}) = {approx([[c] for c in grad])}")
    steps.append(rf"\text{{unit direction: }}\mathbf{{u}} = \frac{{\mathbf{{v}}}}{{\lVert \mathbf{{v}} \rVert}}"
                 rf" = \frac{{1}}{{{tex(length)}}}{tex_col(v)}")
    value = simplified(sum(a * b for a, b in zip(grad, u)))
    terms = " + ".join(rf"\left({tex(a)}\right)\left({tex(b)}\right)" for a, b in zip(grad, u))
    steps.append(rf"\text{{rate of change along }}\mathbf{{u}}\text{{: }}D_{{\mathbf{{u}}}} f = \nabla f \cdot \mathbf{{u}}"
                 rf" = {terms} = {approx(value)}")
    return Result(value, steps)


@operation("steepest_ascent", kind="vector", required=("expression", "variables", "at"))
def steepest_ascent(inp):
    """u = grad f / |grad f| at the point: the unit direction in which f increases fastest."""
    f, xs, at = inp["expression"], list(inp["variables"]), inp["at"]
    defined_at(f, at)
    g = gradient_of(f, xs)
    grad = [maybe_at(c, at) for c in g]
    length = sp.sqrt(sum(c ** 2 for c in grad))
    if length == 0:
        raise Degenerate("the gradient is zero at the point: no direction of steepest ascent")
    u = [simplified(c / length) for c in grad]
    return Result(u, [
        rf"\text{{gradient: }}\nabla f = {tex_col(g)}",
        rf"\text{{at the point: }}\nabla f({point_tex(at)}) = {approx([[c] for c in grad])}",
        rf"\text{{its length: }}\lVert \nabla f \rVert = {approx(length)}",
        rf"\text{{steepest ascent, the unit vector along the gradient: }}\mathbf{{u}} = "
        rf"\frac{{\nabla f}}{{\lVert \nabla f \rVert}} = {approx([[c] for c in u])}",
    ])
