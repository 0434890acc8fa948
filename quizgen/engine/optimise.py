"""Optimisation: Newton-Raphson, gradient descent, Newton with the Hessian, Lagrange."""

from __future__ import annotations

import sympy as sp

from ..errors import Degenerate
from . import approx, operation, real_number, Result, tex, to_float
from .derivatives import diff, gradient as gradient_of, hessian as hessian_of

DPS = 30
LIMIT = 1e8


def _float(x) -> sp.Float:
    x = sp.N(real_number(x), DPS)
    if abs(x) > LIMIT:
        raise Degenerate("the iteration diverges")
    return x


def _point(start, xs) -> list:
    if isinstance(start, dict):
        return [start[v] for v in xs]
    return list(start) if isinstance(start, (list, tuple)) else [start]


@operation("newton_raphson", kind="number", required=("expression", "variable", "start", "steps"))
def newton_raphson(inp):
    f, x, n = inp["expression"], inp["variable"], int(inp["steps"])
    xn = _float(_point(inp["start"], [x])[0])
    df = diff(f, x)
    steps = [rf"f'({tex(x)}) = {tex(df)}", rf"x_0 = {approx(xn)}"]
    for k in range(n):
        fx, dfx = _float(f.subs(x, xn)), _float(df.subs(x, xn))
        if abs(dfx) < 1e-9:
            raise Degenerate("f'(x) = 0 during Newton-Raphson")
        nxt = _float(xn - fx / dfx)
        steps.append(rf"x_{{{k + 1}}} = x_{{{k}}} - \frac{{f(x_{{{k}}})}}{{f'(x_{{{k}}})}} = {approx(xn)} - "
                     rf"\frac{{{approx(fx)}}}{{{approx(dfx)}}} = {approx(nxt)}")
        xn = nxt
    return Result(xn, steps)


def _vector(values) -> sp.Matrix:
    return sp.Matrix([_float(v) for v in values])


@operation("gradient_descent", kind="vector", required=("expression", "variables", "start", "learning_rate", "steps"))
def gradient_descent(inp):
    f, xs, n, rate = inp["expression"], list(inp["variables"]), int(inp["steps"]), inp["learning_rate"]
    grad = gradient_of(f, xs)
    p = _vector(_point(inp["start"], xs))
    steps = [rf"\nabla f = {tex(grad)}", rf"\mathbf{{x}}_0 = {tex(list(p))}"]
    for k in range(n):
        g = _vector([gi.subs(dict(zip(xs, p))) for gi in grad])
        p = _vector(p - _float(rate) * g)
        steps.append(rf"\mathbf{{x}}_{{{k + 1}}} = \mathbf{{x}}_{{{k}}} - \gamma \nabla f(\mathbf{{x}}_{{{k}}}) = "
                     rf"{approx(list(p))}")
    return Result(list(p), steps)


@operation("newton_optimise", kind="vector", required=("expression", "variables", "start", "steps"))
def newton_optimise(inp):
    f, xs, n = inp["expression"], list(inp["variables"]), int(inp["steps"])
    grad = sp.Matrix(gradient_of(f, xs))
    hess = hessian_of(f, xs)
    p = _vector(_point(inp["start"], xs))
    steps = [rf"\nabla f = {tex(grad)},\quad H = {tex(hess)}", rf"\mathbf{{x}}_0 = {tex(list(p))}"]
    for k in range(n):
        sub = dict(zip(xs, p))
        g, H = grad.subs(sub).evalf(DPS), hess.subs(sub).evalf(DPS)
        if abs(H.det()) < 1e-9:
            raise Degenerate("singular Hessian during Newton's method")
        p = _vector(p - H.LUsolve(g))
        steps.append(rf"\mathbf{{x}}_{{{k + 1}}} = \mathbf{{x}}_{{{k}}} - H^{{-1}}\nabla f(\mathbf{{x}}_{{{k}}}) = "
                     rf"{approx(list(p))}")
    return Result(list(p), steps)


@operation("lagrange_critical_points", kind="point_set", required=("expression", "constraint", "variables"))
def lagrange_critical_points(inp):
    f, g, xs = inp["expression"], inp["constraint"], list(inp["variables"])
    lam = sp.Symbol("lambda", real=True)
    eqs = [diff(f, v) - lam * diff(g, v) for v in xs] + [g]
    steps = [r"\nabla f = \lambda \nabla g:\quad " + r",\ ".join(rf"{tex(diff(f, v))} = \lambda ({tex(diff(g, v))})" for v in xs),
             rf"{tex(g)} = 0"]
    try:
        sols = sp.solve(eqs, xs + [lam], dict=True)
    except NotImplementedError:
        raise Degenerate("sympy cannot solve the Lagrange system") from None
    points = []
    for s in sols:
        if set(s) != set(xs + [lam]):
            raise Degenerate("the Lagrange system has a continuum of solutions")
        vals = {v: s[v] for v in xs}
        try:
            entry = {"point": {str(v): real_number(vals[v]) for v in xs},
                     "multiplier": real_number(s[lam]), "value": real_number(f.subs(vals))}
        except Degenerate:
            continue          # complex solution: not a real critical point
        points.append(entry)
    if not points:
        raise Degenerate("no real constrained critical point")
    points.sort(key=lambda e: [to_float(e["point"][str(v)]) for v in xs])
    for e in points:
        pt = ", ".join(tex(e["point"][str(v)]) for v in xs)
        steps.append(rf"({pt}),\ \lambda = {approx(e['multiplier'])},\ f = {approx(e['value'])}")
    return Result(points, steps)
