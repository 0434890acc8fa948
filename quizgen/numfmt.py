"""Formatting numbers and arrays for display (TeX) with a given rounding."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

_CONTEXT = Context(prec=80, rounding=ROUND_HALF_UP)


def decimal_of(x: Any) -> Decimal:
    """``x`` as a Decimal: floats by their shortest repr, exact values (sympy) to 40 digits."""
    if isinstance(x, Decimal):
        return x
    if isinstance(x, bool):
        raise ValueError(f"not a number: {x!r}")
    if isinstance(x, int):
        return Decimal(x)
    if isinstance(x, float):
        if not math.isfinite(x):
            raise ValueError(f"not a finite number: {x}")
        return Decimal(repr(x))
    if hasattr(x, "evalf"):                      # a sympy number: its exact value, not a float
        value = Decimal(str(x.evalf(40)).replace("*10**", "E"))
        if not value.is_finite():
            raise ValueError(f"not a finite number: {x}")
        return value
    return decimal_of(float(x))


def round_half_up(x: Any, digits: int) -> Decimal:
    """``x`` rounded to ``digits`` decimals, ties away from zero (0.0775 -> 0.078, -0.7325 -> -0.733)."""
    return _CONTEXT.quantize(decimal_of(x), Decimal(1).scaleb(-digits))


def num(x: Any, digits: int = 3) -> str:
    """``x`` rounded half-up to ``digits`` decimals, trailing zeros dropped, no ``-0``."""
    return _trimmed(f"{round_half_up(x, digits):f}")


def fixed(x: Any, digits: int = 3) -> str:
    """``x`` rounded half-up to exactly ``digits`` decimals, trailing zeros kept (0.540,
    -12.7500), no ``-0.000``: how a key shows an answer asked to ``digits`` decimals."""
    value = round_half_up(x, digits)
    return f"{abs(value) if value.is_zero() else value:f}"


def plain_decimal(x: Any) -> str:
    """``x`` in full as a plain decimal, never in exponent notation (1e-06 -> ``0.000001``)."""
    return _trimmed(f"{decimal_of(x):f}")


def _trimmed(text: str) -> str:
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def half_unit(digits: int) -> float:
    """The smallest tolerance that accepts every correct rounding to ``digits`` decimals:
    half a unit of the last decimal plus a 20 % margin (0.0006 for 3 decimals)."""
    return 0.6 * 10.0 ** -digits


def tex_value(value: Any, digits: int = 3, column: bool = True, keep_zeros: bool = False) -> str:
    """TeX for a number, a vector (column by default), a matrix, or named numbers;
    ``keep_zeros`` shows every asked decimal (:func:`fixed`) instead of trimming (:func:`num`)."""
    def inner(v):
        return tex_value(v, digits, keep_zeros=keep_zeros)
    if isinstance(value, dict):
        return r",\quad ".join(f"{_tex_name(k)} = {inner(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        if value and isinstance(value[0], (list, tuple)):
            rows = [" & ".join(inner(c) for c in row) for row in value]
            return r"\begin{pmatrix} " + r" \\ ".join(rows) + r" \end{pmatrix}"
        sep = r" \\ " if column else " & "
        return r"\begin{pmatrix} " + sep.join(inner(c) for c in value) + r" \end{pmatrix}"
    if isinstance(value, str):
        return value
    return fixed(value, digits) if keep_zeros else num(value, digits)


def _tex_name(name: str) -> str:
    if name in ("slope", "intercept"):
        return {"slope": "m", "intercept": "c"}[name]
    greek = {"lambda", "mu", "sigma", "alpha", "beta", "gamma", "theta", "omega", "tau", "phi"}
    if name in greek:
        return "\\" + name
    return name if len(name) == 1 else rf"\text{{{name}}}"


def plain_value(value: Any, digits: int = 3) -> str:
    """A value as plain text at ``digits`` decimals (zeros kept), for people and CSV files:
    ``(1.500, -2.000)``, ``[1.000, 2.000; 3.000, 4.000]``, ``m = 1.200, c = 0.500``;
    an expression in the contract's syntax with ``^`` for powers, a label as it is."""
    if isinstance(value, dict):
        if "point" in value:                               # one point of a point set
            return plain_value(list(value["point"].values()), digits)
        return ", ".join(f"{k} = {plain_value(v, digits)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        parts = [plain_value(c, digits) for c in value]
        if value and isinstance(value[0], dict):           # a point set: its points
            return ", ".join(parts)
        if value and isinstance(value[0], (list, tuple)):  # a matrix, row by row
            return "[" + "; ".join(p[1:-1] for p in parts) + "]"
        return "(" + ", ".join(parts) + ")"
    if isinstance(value, str):
        return value.replace("**", "^")
    return fixed(value, digits)
