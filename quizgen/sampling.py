"""Random parameters: seeds, drawing each kind of parameter, constraints."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from .errors import QuizgenError, shorten
from .exprs import ExprError, symbols_for, to_sympy
from .limits import range_size


def derive_seed(*parts: Any) -> int:
    """A stable 48-bit seed from any parts (independent of PYTHONHASHSEED)."""
    text = "/".join(str(p) for p in parts)
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


def rng_for(seed: int, attempt: int) -> np.random.Generator:
    return np.random.default_rng([seed, attempt])


class _Pool:
    """The values a scalar (or each entry) may take, indexed without being listed.

    ``int: [lo, hi]`` or ``decimal: [lo, hi], step: s`` minus ``exclude``; value ``i`` is
    the ``i``-th of the grid in increasing order, skipping excluded values, so a range of
    a million values costs no more to draw from than one of five.
    """

    def __init__(self, spec: dict):
        if "int" in spec:
            self.lo, self.step = Fraction(spec["int"][0]), Fraction(1)
        else:
            self.lo, self.step = Fraction(str(spec["decimal"][0])), Fraction(str(spec["step"]))
        self.n = range_size(spec)
        skipped = set()
        for v in spec.get("exclude", []):
            k = (Fraction(str(v)) - self.lo) / self.step
            if k.denominator == 1 and 0 <= k < self.n:
                skipped.add(int(k))
        self.skipped = sorted(skipped)

    def __len__(self) -> int:
        return self.n - len(self.skipped)

    def __getitem__(self, i: int) -> Fraction | int:
        for k in self.skipped:
            if k <= i:
                i += 1
            else:
                break
        value = self.lo + i * self.step
        return int(value) if self.step == 1 and value.denominator == 1 else value


def _pool(spec: dict) -> _Pool:
    return _Pool(spec)


def _plain(v) -> int | float:
    """A sampled number as int or float (for JSON and display)."""
    if isinstance(v, Fraction):
        return int(v) if v.denominator == 1 else float(v)
    return v


def draw(name: str, spec: dict, rng: np.random.Generator, scope: dict) -> Any:
    """Draw one parameter; returns its plain value (numbers, lists, names, dataset dict)."""
    if "choice" in spec:
        return spec["choice"][int(rng.integers(len(spec["choice"])))]
    if "dataset" in spec:
        return _dataset(spec["dataset"], rng, scope)
    pool = _pool(spec)
    if not pool:
        raise ValueError(f"parameter {name!r} has no value left after exclusions")
    if "vector" in spec:
        return [_plain(pool[int(i)]) for i in rng.integers(len(pool), size=spec["vector"])]
    if "matrix" in spec:
        r, c = spec["matrix"]
        return [[_plain(pool[int(i)]) for i in row] for row in rng.integers(len(pool), size=(r, c))]
    return _plain(pool[int(rng.integers(len(pool)))])


def _dataset(spec: dict, rng: np.random.Generator, scope: dict) -> dict:
    xs = spec["x"]
    if isinstance(xs, dict):
        a, b, n = xs["linspace"]
        xs = [round(float(v), 10) for v in np.linspace(a, b, int(n))]
    digits = int(spec.get("round", 2))
    model = to_sympy(spec["model"], scope, symbols_for(["x"]))
    x = sp.Symbol("x", real=True)
    noise = float(spec.get("noise", 0))
    ys = [round(float(model.subs(x, sp.Rational(str(v)))) + noise * float(rng.standard_normal()), digits)
          for v in xs]
    sigma = spec.get("sigma")
    if isinstance(sigma, dict):
        sigma = [sigma["choice"][int(i)] for i in rng.integers(len(sigma["choice"]), size=len(xs))]
    elif isinstance(sigma, (int, float)):
        sigma = [sigma] * len(xs)
    return {"x": [_plain(Fraction(str(v))) for v in xs], "y": ys, "sigma": sigma}


def sympy_value(value: Any) -> Any:
    """A plain parameter value as sympy (exact rationals for decimals)."""
    if isinstance(value, str):
        return value                              # a function family name
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        return [sympy_value(v) for v in value]
    return to_sympy(value)


def sample_parameters(tpl, rng: np.random.Generator) -> tuple[dict, dict]:
    """Draw every parameter of ``tpl``; return (plain values, sympy scope)."""
    plain, scope = {}, {}
    for name, spec in tpl.parameters.items():
        try:
            value = draw(name, spec, rng, scope)
        except (ValueError, ExprError) as exc:
            raise tpl.error(["parameters", name], str(exc), "widen the range or remove exclusions") from None
        plain[name] = value
        scope[name] = sympy_value(value)
    return plain, scope


def add_definitions(tpl, scope: dict, symbols: dict) -> dict:
    """Build the ``define`` quantities in order into ``scope`` (returns it)."""
    for name, text in (tpl.data.get("define") or {}).items():
        try:
            scope[name] = to_sympy(text, scope, symbols)
        except (ExprError, ZeroDivisionError) as exc:
            raise tpl.error(["define", name], str(exc), getattr(exc, "fix", "")) from None
    return scope


def constraints_hold(tpl, scope: dict) -> bool:
    """True when every constraint is satisfied by the sampled scope."""
    for i, text in enumerate(tpl.data.get("constraints") or []):
        try:
            result = to_sympy(text, scope, {})
        except ExprError as exc:
            raise tpl.error(["constraints", i], str(exc),
                            "constraints may use parameters and defined numbers, not free variables") from None
        except ZeroDivisionError:
            return False
        if result not in (sp.true, sp.false):
            if getattr(result, "free_symbols", None):
                raise tpl.error(["constraints", i], f"{text!r} depends on a free variable",
                                "constraints may use parameters and defined numbers only")
            raise tpl.error(["constraints", i], f"{text!r} is not a true/false condition",
                            "write a comparison, e.g. a != b or a**2 + b**2 > 0")
        if result is sp.false:
            return False
    return True


def unsatisfiable(tpl, tries: int, reasons) -> QuizgenError:
    """No acceptable variant: name the commonest rejections (which answer, why, how often)."""
    path = ["constraints"] if tpl.data.get("constraints") else ["parameters"]
    common = reasons.most_common(3) if reasons else []
    why = "; ".join(f"{shorten(r, 160)} ({n} of {tries} tries)" for r, n in common)
    answer_failed = any(r.startswith("answer ") for r, _ in common)
    fix = ("make the answer defined (and nonzero, within bounds) for every parameter value, "
           "or add a constraint that excludes the values that break it") if answer_failed else \
        "loosen the constraints or widen the parameter ranges"
    return tpl.error(path, f"no acceptable variant in {tries} tries" + (f": {why}" if why else ""), fix)
