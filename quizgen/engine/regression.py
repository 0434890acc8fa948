"""Regression: chi-squared, (weighted) linear regression, least squares, gradient descent on chi^2."""

from __future__ import annotations

import sympy as sp

from ..errors import Degenerate
from . import approx, exact_number, operation, real_number, Result, tex
from .derivatives import gradient as gradient_of

X = sp.Symbol("x", real=True)


def _data(inp):
    x = [exact_number(v) for v in inp["x"]]
    y = [exact_number(v) for v in inp["y"]]
    sigma = inp.get("sigma")
    s = [exact_number(v) for v in sigma] if sigma is not None else [sp.Integer(1)] * len(x)
    if not (len(x) == len(y) == len(s)) or len(x) < 2:
        raise ValueError("x, y (and sigma) must be lists of the same length, at least 2")
    if any(v <= 0 for v in s):
        raise ValueError("every sigma must be positive")
    return x, y, s


def _xsym(model):
    return next((s for s in model.free_symbols if s.name == "x"), X)


def chi2_expr(model, x, y, s):
    xs = _xsym(model)
    return sp.Add(*[((yi - model.subs(xs, xi)) / si) ** 2 for xi, yi, si in zip(x, y, s)])


@operation("chi_squared", kind="number", required=("model", "parameters", "x", "y"), optional=("sigma",))
def chi_squared(inp):
    model, params = inp["model"], dict(inp["parameters"])
    x, y, s = _data(inp)
    fitted = model.subs(params)
    xs = _xsym(model)
    value = real_number(chi2_expr(fitted, x, y, s))
    res = [real_number(yi - fitted.subs(xs, xi)) for xi, yi in zip(x, y)]
    steps = [rf"y(x) = {tex(fitted)}",
             r"r_i = y_i - y(x_i):\ " + ",\\ ".join(approx(r) for r in res),
             rf"\chi^2 = \sum_i \left(\frac{{r_i}}{{\sigma_i}}\right)^2 = {approx(value)}"]
    return Result(value, steps)


@operation("linear_regression", kind="named", required=("x", "y"), optional=("sigma",))
def linear_regression(inp):
    x, y, s = _data(inp)
    w = [1 / si ** 2 for si in s]
    S, Sx, Sy = sum(w), sum(wi * xi for wi, xi in zip(w, x)), sum(wi * yi for wi, yi in zip(w, y))
    Sxx = sum(wi * xi ** 2 for wi, xi in zip(w, x))
    Sxy = sum(wi * xi * yi for wi, xi, yi in zip(w, x, y))
    det = S * Sxx - Sx ** 2
    if det == 0:
        raise Degenerate("all x values are equal")
    m = (S * Sxy - Sx * Sy) / det
    c = (Sxx * Sy - Sx * Sxy) / det
    wname = r"\sum 1/\sigma_i^2" if inp.get("sigma") is not None else "n"
    steps = [rf"S = {wname} = {approx(S)},\ S_x = {approx(Sx)},\ S_y = {approx(Sy)},\ "
             rf"S_{{xx}} = {approx(Sxx)},\ S_{{xy}} = {approx(Sxy)}",
             rf"m = \frac{{S S_{{xy}} - S_x S_y}}{{S S_{{xx}} - S_x^2}} = {approx(m)}",
             rf"c = \frac{{S_{{xx}} S_y - S_x S_{{xy}}}}{{S S_{{xx}} - S_x^2}} = {approx(c)}"]
    return Result({"slope": real_number(m), "intercept": real_number(c)}, steps)


def _param_symbols(model, names):
    by_name = {s.name: s for s in model.free_symbols}
    return [by_name.get(str(n), sp.Symbol(str(n), real=True)) for n in names]


@operation("least_squares", kind="named", required=("model", "parameters", "x", "y"), optional=("sigma", "start"))
def least_squares(inp):
    model = inp["model"]
    ps = _param_symbols(model, inp["parameters"])
    x, y, s = _data(inp)
    xs = _xsym(model)
    dmodel = gradient_of(model, ps)
    design = sp.Matrix([[d.subs(xs, xi) / si for d in dmodel] for xi, si in zip(x, s)])
    linear = all(not (d.free_symbols & set(ps)) for d in dmodel)
    if not linear:
        return _gauss_newton(inp, model, ps, x, y, s)
    offset = model.subs({p: 0 for p in ps})
    b = sp.Matrix([(yi - offset.subs(xs, xi)) / si for xi, yi, si in zip(x, y, s)])
    normal = design.T * design
    if normal.det() == 0:
        raise Degenerate("the normal equations are singular")
    sol = normal.LUsolve(design.T * b)
    value = {str(p): real_number(v) for p, v in zip(ps, sol)}
    steps = [rf"\chi^2(\mathbf{{p}}) = \sum_i \left(\frac{{y_i - ({tex(model)})}}{{\sigma_i}}\right)^2",
             r"\nabla_{\mathbf{p}} \chi^2 = 0 \iff A^\top A\, \mathbf{p} = A^\top \mathbf{b}",
             rf"A^\top A = {tex(normal)},\quad A^\top \mathbf{{b}} = {tex(design.T * b)}",
             ",\\ ".join(rf"{tex(p)} = {approx(v)}" for p, v in zip(ps, sol))]
    return Result(value, steps)


def _gauss_newton(inp, model, ps, x, y, s):
    start = inp.get("start") or {}
    p = sp.Matrix([sp.N(start.get(q, start.get(str(q), 1)), 30) for q in ps])
    xs = _xsym(model)
    grads = gradient_of(model, ps)
    for _ in range(100):
        sub = dict(zip(ps, p))
        J = sp.Matrix([[g.subs(sub).subs(xs, xi) / si for g in grads] for xi, si in zip(x, s)]).evalf(30)
        r = sp.Matrix([(yi - model.subs(sub).subs(xs, xi)) / si for xi, yi, si in zip(x, y, s)]).evalf(30)
        JtJ = J.T * J
        if abs(JtJ.det()) < 1e-20:
            raise Degenerate("singular Gauss-Newton step")
        dp = JtJ.LUsolve(J.T * r)
        p = p + dp
        if max(abs(v) for v in dp) < 1e-25:
            break
    else:
        raise Degenerate("Gauss-Newton did not converge")
    value = {str(q): real_number(v) for q, v in zip(ps, p)}
    steps = [rf"\chi^2(\mathbf{{p}}) = \sum_i \left(\frac{{y_i - ({tex(model)})}}{{\sigma_i}}\right)^2",
             r"\text{Gauss--Newton: } \mathbf{p} \leftarrow \mathbf{p} + (J^\top J)^{-1} J^\top \mathbf{r}",
             ",\\ ".join(rf"{tex(q)} = {approx(v)}" for q, v in zip(ps, p))]
    return Result(value, steps)


def _chi2_gradient(model, dmodel, xs, sub, x, y, s) -> list:
    """d chi^2 / dp_j = -2 sum_i (y_i - m(x_i)) / sigma_i^2 * dm/dp_j (x_i), at 30 digits."""
    grad = [sp.Integer(0)] * len(dmodel)
    for xi, yi, si in zip(x, y, s):
        point = {**sub, xs: xi}
        weight = -2 * (yi - model.xreplace(point).evalf(30)) / si ** 2
        grad = [g + weight * d.xreplace(point).evalf(30) for g, d in zip(grad, dmodel)]
    return [real_number(g) for g in grad]


@operation("fit_gradient_descent", kind="named",
           required=("model", "start", "x", "y", "learning_rate", "steps"), optional=("sigma",))
def fit_gradient_descent(inp):
    model, start = inp["model"], dict(inp["start"])
    ps = _param_symbols(model, [str(k) for k in start])
    x, y, s = _data(inp)
    dmodel = gradient_of(model, ps)           # one symbolic derivative per model shape
    xs = _xsym(model)
    rate, n = sp.N(inp["learning_rate"], 30), int(inp["steps"])
    p = [sp.N(v, 30) for v in start.values()]
    steps = [rf"\chi^2 = \sum_i \left(\frac{{y_i - ({tex(model)})}}{{\sigma_i}}\right)^2",
             r"\mathbf{p}_{k+1} = \mathbf{p}_k - \gamma \nabla_{\mathbf{p}} \chi^2(\mathbf{p}_k)",
             rf"\mathbf{{p}}_0 = {tex(p)}"]
    for k in range(n):
        g = _chi2_gradient(model, dmodel, xs, dict(zip(ps, p)), x, y, s)
        p = [real_number(pi - rate * gi) for pi, gi in zip(p, g)]
        if any(abs(v) > 1e8 for v in p):
            raise Degenerate("gradient descent on chi-squared diverges")
        steps.append(rf"\nabla \chi^2(\mathbf{{p}}_{{{k}}}) = {approx(g)},\quad \mathbf{{p}}_{{{k + 1}}} = {approx(p)}")
    return Result({str(q): v for q, v in zip(ps, p)}, steps)
