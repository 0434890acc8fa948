"""Formatting numbers and arrays for display (TeX) with a given rounding."""

from __future__ import annotations

import math
from typing import Any


def num(x: Any, digits: int = 3) -> str:
    """``x`` rounded to ``digits`` decimals, trailing zeros dropped, no ``-0``."""
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"not a finite number: {x}")
    text = f"{round(x, digits):.{max(digits, 0)}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def tex_value(value: Any, digits: int = 3, column: bool = True) -> str:
    """TeX for a number, a vector (column by default), a matrix, or named numbers."""
    if isinstance(value, dict):
        return r",\quad ".join(f"{_tex_name(k)} = {tex_value(v, digits)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        if value and isinstance(value[0], (list, tuple)):
            rows = [" & ".join(tex_value(c, digits) for c in row) for row in value]
            return r"\begin{pmatrix} " + r" \\ ".join(rows) + r" \end{pmatrix}"
        sep = r" \\ " if column else " & "
        return r"\begin{pmatrix} " + sep.join(tex_value(c, digits) for c in value) + r" \end{pmatrix}"
    if isinstance(value, str):
        return value
    return num(value, digits)


def _tex_name(name: str) -> str:
    if name in ("slope", "intercept"):
        return {"slope": "m", "intercept": "c"}[name]
    greek = {"lambda", "mu", "sigma", "alpha", "beta", "gamma", "theta", "omega", "tau", "phi"}
    if name in greek:
        return "\\" + name
    return name if len(name) == 1 else rf"\text{{{name}}}"
