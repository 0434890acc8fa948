"""Evaluation and differentiation: evaluate, difference quotient, derivatives,
gradient, Jacobian, Hessian."""

from __future__ import annotations

import sympy as sp

from ..errors import Degenerate
from . import approx, defined_at, tex, maybe_at, operation, point_tex, real_number, Result, tex_col
from .derivatives import diff, gradient as gradient_of, hessian as hessian_of


def _d(var) -> str:
    return rf"\frac{{\partial}}{{\partial {tex(var)}}}"


@operation("evaluate", kind="number", required=("expression", "at"))
def evaluate(inp):
    f, at = inp["expression"], inp["at"]
    value = real_number(f.subs(at))
    return Result(value, [rf"f({point_tex(at)}) = {approx(value)}"])


@operation("difference_quotient", kind="number", required=("expression", "variable", "at", "h"))
def difference_quotient(inp):
    f, x, h = inp["expression"], inp["variable"], inp["h"]
    a = inp["at"][x]
    fa, fah = real_number(f.subs(x, a)), real_number(f.subs(x, a + h))
    if h == 0:
        raise Degenerate("h = 0")
    value = real_number((fah - fa) / h)
    steps = [rf"f({tex(a)}) = {tex(fa)}",
             rf"f({tex(a)} + {tex(h)}) = f({tex(a + h)}) = {tex(fah)}",
             rf"\frac{{f(a+h) - f(a)}}{{h}} = \frac{{{tex(fah)} - ({tex(fa)})}}{{{tex(h)}}}"
             rf" = {tex(value)}"]
    return Result(value, steps)


@operation("derivative", kind="number", required=("expression", "variable"), optional=("order", "at"))
def derivative(inp):
    f, x, n, at = inp["expression"], inp["variable"], int(inp.get("order") or 1), inp.get("at")
    if n < 1:
        raise ValueError("order must be 1 or more")
    defined_at(f, at)
    d = diff(f, *[x] * n)
    lhs = rf"\frac{{d^{{{n}}} f}}{{d {tex(x)}^{{{n}}}}}" if n > 1 else rf"\frac{{df}}{{d{tex(x)}}}"
    return _scalar_result(lhs, d, at)


def _scalar_result(lhs: str, d, at) -> Result:
    """``lhs = d`` and, with a point, its value there."""
    steps = [rf"{lhs} = {tex(d)}"]
    value = maybe_at(d, at)
    if at:
        steps.append(rf"{lhs}\Big|_{{{point_tex(at)}}} = {approx(value)}")
    return Result(value, steps)


@operation("partial_derivative", kind="number", required=("expression", "variables"), optional=("at",))
def partial_derivative(inp):
    f, seq, at = inp["expression"], list(inp["variables"]), inp.get("at")
    defined_at(f, at)
    d = diff(f, *seq)
    denom = " ".join(rf"\partial {tex(v)}" for v in reversed(seq))
    num = r"\partial" + (f"^{{{len(seq)}}}" if len(seq) > 1 else "")
    return _scalar_result(rf"\frac{{{num} f}}{{{denom}}}", d, at)


@operation("gradient", kind="vector", required=("expression", "variables"), optional=("at",))
def gradient(inp):
    f, xs, at = inp["expression"], list(inp["variables"]), inp.get("at")
    defined_at(f, at)
    g = gradient_of(f, xs)
    steps = [rf"\nabla f = {tex_col(g)}"]
    value = [maybe_at(c, at) for c in g]
    if at:
        steps.append(rf"\nabla f({point_tex(at)}) = {approx([[v] for v in value])}")
    return Result(value, steps)


def _matrix_steps(symbol: str, rows, value, at) -> list[str]:
    steps = [rf"{symbol} = {tex(sp.Matrix(rows))}"]
    if at:
        steps.append(rf"{symbol}({point_tex(at)}) = {approx(value)}")
    return steps


@operation("jacobian", kind="matrix", required=("expressions", "variables"), optional=("at",))
def jacobian(inp):
    fs, xs, at = list(inp["expressions"]), list(inp["variables"]), inp.get("at")
    for f in fs:
        defined_at(f, at)
    rows = [gradient_of(f, xs) for f in fs]
    value = [[maybe_at(c, at) for c in row] for row in rows]
    return Result(value, _matrix_steps("J", rows, value, at))


@operation("hessian", kind="matrix", required=("expression", "variables"), optional=("at",))
def hessian(inp):
    f, xs, at = inp["expression"], list(inp["variables"]), inp.get("at")
    defined_at(f, at)
    rows = hessian_of(f, xs).tolist()
    value = [[maybe_at(c, at) for c in row] for row in rows]
    steps = _matrix_steps("H", rows, value, at)
    if at and len(xs) == 2:
        det = value[0][0] * value[1][1] - value[0][1] * value[1][0]
        steps.append(rf"\det H = {tex(det)},\quad "
                     rf"\operatorname{{tr}} H = {tex(value[0][0] + value[1][1])}")
    return Result(value, steps)
