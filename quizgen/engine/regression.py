"""Regression: chi-squared, (weighted) linear regression, least squares, gradient descent on chi^2.

Chi-squared, its gradient and the fits work numerically on vectors (numpy float64): the
model and its parameter derivatives are differentiated once (per shape) by sympy and
compiled once per expression, then evaluated on all data points at once, so a fit to
hundreds of points over many steps takes milliseconds. The straight-line fit is exact.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from ..errors import Degenerate
from . import approx, elided_steps, exact_number, operation, real_number, Result, step_lines, tex
from .derivatives import gradient as gradient_of

X = sp.Symbol("x", real=True)
SHOWN_POINTS = 6                  # residuals listed in the steps before "..."


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


def _arrays(inp):
    """x, y, sigma as float arrays (checked like ``_data``)."""
    x, y, s = _data(inp)
    return (np.array([float(v) for v in x]), np.array([float(v) for v in y]), np.array([float(v) for v in s]))


@lru_cache(maxsize=1024)
def _compiled(exprs: tuple, symbols: tuple):
    """numpy functions of ``symbols`` (x first) for sympy ``exprs``, compiled once per expression."""
    fns = [sp.lambdify(symbols, e, modules="numpy") for e in exprs]

    def call(xv, *params):
        with np.errstate(all="ignore"):
            return [np.broadcast_to(np.asarray(f(xv, *params), dtype=float), xv.shape) for f in fns]
    return call


def _model_fns(model, ps):
    """m(x, p) and its gradient in p, as numpy functions of (x array, *p)."""
    xs = _xsym(model)
    dmodel = gradient_of(model, ps)           # one symbolic derivative per model shape
    return _compiled(tuple([model] + list(dmodel)), tuple([xs] + list(ps)))


def _finite(values, what: str):
    if not np.all(np.isfinite(values)):
        raise Degenerate(f"{what} is not finite for some data point")
    return values


def _residual_steps(res) -> str:
    shown = ",\\ ".join(approx(sp.Float(float(r), 15)) for r in res[:SHOWN_POINTS])
    more = rf",\ \ldots\ (\text{{{len(res)} points}})" if len(res) > SHOWN_POINTS else ""
    return r"r_i = y_i - y(x_i):\ " + shown + more


def _xsym(model):
    return next((s for s in model.free_symbols if s.name == "x"), X)


@operation("chi_squared", kind="number", required=("model", "parameters", "x", "y"), optional=("sigma",))
def chi_squared(inp):
    model, params = inp["model"], dict(inp["parameters"])
    x, y, s = _arrays(inp)
    fitted = model.subs(params)
    xs = _xsym(model)
    (m,) = _compiled((fitted,), (xs,))(x)
    res = _finite(y - m, "the model")
    value = float(np.sum((res / s) ** 2))
    steps = step_lines(lambda: [
        rf"y(x) = {tex(fitted)}", _residual_steps(res),
        rf"\chi^2 = \sum_i \left(\frac{{r_i}}{{\sigma_i}}\right)^2 = {approx(sp.Float(value, 15))}"])
    return Result(sp.Float(value, 17), steps)


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
    steps = step_lines(lambda: [
        rf"S = {wname} = {approx(S)},\ S_x = {approx(Sx)},\ S_y = {approx(Sy)},\ "
        rf"S_{{xx}} = {approx(Sxx)},\ S_{{xy}} = {approx(Sxy)}",
        rf"m = \frac{{S S_{{xy}} - S_x S_y}}{{S S_{{xx}} - S_x^2}} = {approx(m)}",
        rf"c = \frac{{S_{{xx}} S_y - S_x S_{{xy}}}}{{S S_{{xx}} - S_x^2}} = {approx(c)}"])
    return Result({"slope": real_number(m), "intercept": real_number(c)}, steps)


def _param_symbols(model, names):
    by_name = {s.name: s for s in model.free_symbols}
    return [by_name.get(str(n), sp.Symbol(str(n), real=True)) for n in names]


@operation("least_squares", kind="named", required=("model", "parameters", "x", "y"), optional=("sigma", "start"))
def least_squares(inp):
    model = inp["model"]
    ps = _param_symbols(model, inp["parameters"])
    x, y, s = _arrays(inp)
    fns = _model_fns(model, ps)
    dmodel = gradient_of(model, ps)
    if any(d.free_symbols & set(ps) for d in dmodel):
        return _levenberg_marquardt(inp, model, ps, fns, x, y, s)
    zero = [0.0] * len(ps)
    offset, *columns = fns(x, *zero)
    A = _finite(np.column_stack(columns) / s[:, None], "the model's derivative")
    b = _finite((y - offset) / s, "the model")
    if np.linalg.matrix_rank(A) < len(ps):
        raise Degenerate("the normal equations are singular: the data cannot determine every parameter")
    normal, rhs = A.T @ A, A.T @ b
    sol = np.linalg.solve(normal, rhs)
    value = {str(p): sp.Float(float(v), 17) for p, v in zip(ps, sol)}
    steps = step_lines(lambda: [
        rf"\chi^2(\mathbf{{p}}) = \sum_i \left(\frac{{y_i - ({tex(model)})}}{{\sigma_i}}\right)^2",
        r"\nabla_{\mathbf{p}} \chi^2 = 0 \iff A^\top A\, \mathbf{p} = A^\top \mathbf{b}",
        rf"A^\top A = {approx(_floats(normal))},\quad A^\top \mathbf{{b}} = {approx(_floats(rhs[:, None]))}",
        ",\\ ".join(rf"{tex(p)} = {approx(value[str(p)])}" for p in ps)])
    return Result(value, steps)


def _floats(a: np.ndarray) -> list:
    return [[sp.Float(float(v), 15) for v in row] for row in a]


def _chi2(fns, x, y, s, p) -> float:
    m, *_ = fns(x, *p)
    return float(np.sum(((y - m) / s) ** 2))


def _levenberg_marquardt(inp, model, ps, fns, x, y, s):
    """A model nonlinear in its parameters: Levenberg-Marquardt from ``start`` (default 1s)."""
    start = inp.get("start") or {}
    p = np.array([float(sp.N(start.get(q, start.get(str(q), 1)))) for q in ps])
    damping, chi2 = 1e-3, _chi2(fns, x, y, s, p)
    if not np.isfinite(chi2):
        raise Degenerate("chi-squared is not finite at the start values: give start values closer to the fit")
    for _ in range(500):
        m, *cols = fns(x, *p)
        r, J = (y - m) / s, np.column_stack(cols) / s[:, None]
        JtJ, g = J.T @ J, J.T @ r
        while True:
            try:
                dp = np.linalg.solve(JtJ + damping * np.diag(np.diag(JtJ) + 1e-12), g)
            except np.linalg.LinAlgError:
                raise Degenerate("singular fit: the parameters cannot all be determined from the data") from None
            trial = _chi2(fns, x, y, s, p + dp)
            if np.isfinite(trial) and trial <= chi2:
                p, chi2, damping = p + dp, trial, max(damping / 10, 1e-12)
                break
            damping *= 10
            if damping > 1e12:
                break
        if np.max(np.abs(dp)) < 1e-13 * (1 + np.max(np.abs(p))) or damping > 1e12:
            break
    else:
        raise Degenerate("the fit did not converge: give start values closer to the best fit")
    m, *cols = fns(x, *p)
    grad = 2 * (np.column_stack(cols) / s[:, None]).T @ ((y - m) / s)
    if np.max(np.abs(grad)) > 1e-6 * (1 + chi2):
        raise Degenerate("the fit did not converge: give start values closer to the best fit")
    value = {str(q): sp.Float(float(v), 17) for q, v in zip(ps, p)}
    steps = step_lines(lambda: [
        rf"\chi^2(\mathbf{{p}}) = \sum_i \left(\frac{{y_i - ({tex(model)})}}{{\sigma_i}}\right)^2",
        r"\text{Levenberg--Marquardt: } \mathbf{p} \leftarrow \mathbf{p} + "
        r"(J^\top J + \mu\, \operatorname{diag} J^\top J)^{-1} J^\top \mathbf{r}",
        ",\\ ".join(rf"{tex(q)} = {approx(value[str(q)])}" for q in ps),
        rf"\chi^2_{{\min}} = {approx(sp.Float(chi2, 15))}"])
    return Result(value, steps)


@operation("fit_gradient_descent", kind="named",
           required=("model", "start", "x", "y", "learning_rate", "steps"), optional=("sigma",))
def fit_gradient_descent(inp):
    model, start = inp["model"], dict(inp["start"])
    ps = _param_symbols(model, [str(k) for k in start])
    x, y, s = _arrays(inp)
    fns = _model_fns(model, ps)
    rate, n = float(sp.N(inp["learning_rate"])), int(inp["steps"])
    p = np.array([float(sp.N(v)) for v in start.values()])
    steps = step_lines(lambda: [
        rf"\chi^2 = \sum_i \left(\frac{{y_i - ({tex(model)})}}{{\sigma_i}}\right)^2",
        r"\mathbf{p}_{k+1} = \mathbf{p}_k - \gamma \nabla_{\mathbf{p}} \chi^2(\mathbf{p}_k)",
        rf"\mathbf{{p}}_0 = {tex([sp.Float(v, 15) for v in p])}"])
    seen, w = [], 1 / s ** 2
    for k in range(n):
        m, *cols = fns(x, *p)
        g = _finite(-2 * np.column_stack(cols).T @ ((y - m) * w), "the gradient of chi-squared")
        p = p - rate * g
        if np.max(np.abs(p)) > 1e8:
            raise Degenerate("gradient descent on chi-squared diverges")
        seen.append((g, p))

    def line(k):
        g, pk = seen[k]
        return (rf"\nabla \chi^2(\mathbf{{p}}_{{{k}}}) = {approx([sp.Float(v, 15) for v in g])},\quad "
                rf"\mathbf{{p}}_{{{k + 1}}} = {approx([sp.Float(v, 15) for v in pk])}")
    return Result({str(q): sp.Float(float(v), 17) for q, v in zip(ps, p)}, steps + elided_steps(n, line))
