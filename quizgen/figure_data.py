"""Figure specs (numbers only) for the kinds a template can ask for.

Sampling curves is maths, so it happens here, before rendering; the drawing itself
(matplotlib) is ``figures.py``, called by the exporters. Each kind gives two specs: the
question figure (only what is given) and the solution figure (plus what the solution finds),
sharing their sampled curves and their frame.
"""

from __future__ import annotations

from typing import Any

import mpmath as mp
import numpy as np
import sympy as sp

from .engine.derivatives import diff, hessian
from .errors import Degenerate
from .exprs import ExprError, to_sympy
from .verify.numeric import compile_text
from .exprs import to_text
from .figure_spec import frame

N = 161


def _array_fn(expr, names):
    """Evaluate ``expr`` on numpy arrays bound to ``names``; undefined points become NaN."""
    fn = compile_text(to_text(expr), "numpy")

    def call(*arrays):
        with np.errstate(all="ignore"):
            out = fn(dict(zip(names, (np.asarray(a, dtype=float) for a in arrays))))
        return np.broadcast_to(np.asarray(out, dtype=float), np.shape(arrays[0]))
    return call


def _f(expr, var):
    g = _array_fn(expr, [str(var)])
    return lambda x: float(g(np.array([float(x)]))[0])


def _finite(v) -> float:
    """``v`` as a float; ValueError (a degenerate variant) when it is not finite."""
    v = float(v)
    if not np.isfinite(v):
        raise ValueError("the figure's function is undefined at its point")
    return v


def _break_poles(ys: np.ndarray) -> np.ndarray:
    """Blank out values far outside the curve's typical range (poles), so plots show a gap."""
    finite = ys[np.isfinite(ys)]
    if finite.size < 4:
        return ys
    q1, med, q3 = np.percentile(finite, [10, 50, 90])
    span = max(q3 - q1, 1e-9)
    out = ys.copy()
    out[np.abs(ys - med) > 6 * span] = np.nan
    return out


def _curve(expr, var, lo, hi, label, style="solid"):
    xs = np.linspace(lo, hi, N)
    return _curve_values(xs, _array_fn(expr, [str(var)])(xs), label, style)


def _curve_values(xs, ys, label, style="solid"):
    ys = _break_poles(ys)
    return {"x": [round(float(x), 6) for x in xs],
            "y": [None if not np.isfinite(y) else round(float(y), 6) for y in ys],
            "label": label, "style": style}


def _get(tpl, spec, key, scope, symbols):
    try:
        return to_sympy(spec[key], scope, symbols)
    except (ExprError, KeyError) as exc:
        raise tpl.error(["figure", key], f"figure needs a valid {key!r}: {exc}") from None


def _range(tpl, spec, scope, around: float):
    if "range" in spec:
        lo, hi = (float(to_sympy(v, scope, {})) for v in spec["range"])
    else:
        lo, hi = around - 2.5, around + 2.5
    return lo, hi


def build_figures(tpl, scope: dict, symbols: dict, answers: dict) -> tuple[dict | None, dict]:
    """(question figure, solution figure) of the template's ``figure``.

    The question figure shows only what is given; the solution figure adds what the
    solution finds. Both have the same ``frame`` (the data range the axes show), taken
    from the question figure, so they look alike and the axes give nothing away. With
    ``solution_only: true`` there is no question figure (None).
    """
    spec = tpl.data["figure"]
    builder = BUILDERS.get(spec["kind"])
    try:
        question, solution = builder(tpl, spec, scope, symbols, answers)
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        raise Degenerate(f"figure: {exc}") from None
    question["title"] = spec.get("question_title", question["title"])
    solution["title"] = spec.get("title", solution["title"])
    question["frame"] = solution["frame"] = question.get("frame") or frame(question)
    return (None if spec.get("solution_only") else question), solution


def _spec(kind: str, title: str, xlabel: str, ylabel: str = "", **layers) -> dict:
    """A figure spec: the documented keys, then optional layers (contour, errorbars, ...)."""
    return {"kind": kind, "title": title, "xlabel": xlabel, "ylabel": ylabel,
            "curves": layers.pop("curves", []), "points": layers.pop("points", []),
            "segments": layers.pop("segments", []), **layers}


def _fx(tpl, spec, scope, symbols):
    var = symbols[spec.get("variable", tpl.variables[0])]
    return _get(tpl, spec, "expression", scope, symbols), var


def _names(spec, var):
    """(curve label, axis label) from the figure's ``name`` (default f) and its variable."""
    name = spec.get("name", "f")
    return f"${name}({var})$", f"${var}$"


def _tangent(tpl, spec, scope, symbols, answers):
    """Given: f and the point(s) on it. Found: the tangent (slope f'(a)) or the secant."""
    f, x = _fx(tpl, spec, scope, symbols)
    a = float(_get(tpl, spec, "at", scope, symbols))
    lo, hi = _range(tpl, spec, scope, a)
    fn = _array_fn(f, [str(x)])                 # compiled once: curve, f(a) and f(a + h)
    fa = _finite(fn(np.array([a]))[0])
    flabel, xlabel = _names(spec, x)
    xs = np.linspace(lo, hi, N)
    curve = _curve_values(xs, fn(xs), flabel)
    given = [{"x": a, "y": fa, "label": f"${x} = {a:g}$"}]
    found = [{"x": a, "y": fa, "label": f"$({a:g}, {fa:.3g})$"}]
    if spec["kind"] == "secant":
        h = float(_get(tpl, spec, "h", scope, symbols))
        fb = _finite(fn(np.array([a + h]))[0])
        slope = (fb - fa) / h
        given.append({"x": a + h, "y": fb, "label": f"${x} = {a + h:g}$"})
        found.append(given[-1])
        label, shown = "secant", f"{flabel} between ${x} = {a:g}$ and ${x} = {a + h:g}$"
    else:
        slope = _finite(_array_fn(diff(f, x), [str(x)])(np.array([a]))[0])
        label, shown = "tangent", f"{flabel} near ${x} = {a:g}$"
    question = _spec(spec["kind"], shown, xlabel, curves=[curve], points=given)
    line = _curve_values(xs, fa + slope * (xs - a), label, "dashed")
    return question, {**question, "title": f"{flabel} and its {label} at ${x} = {a:g}$",
                      "curves": [curve, line], "points": found}


def _function(tpl, spec, scope, symbols, answers):
    """Only given: the function (both figures are the same)."""
    f, x = _fx(tpl, spec, scope, symbols)
    lo, hi = _range(tpl, spec, scope, 0.0)
    flabel, xlabel = _names(spec, x)
    question = _spec("function", flabel, xlabel, curves=[_curve(f, x, lo, hi, flabel)])
    return question, dict(question)


def _taylor(tpl, spec, scope, symbols, answers):
    """Given: f and the expansion point. Found: the Taylor polynomials T_n."""
    f, x = _fx(tpl, spec, scope, symbols)
    a = float(_get(tpl, spec, "about", scope, symbols))
    lo, hi = _range(tpl, spec, scope, a)
    flabel, xlabel = _names(spec, x)
    curves = [_curve(f, x, lo, hi, flabel)]
    question = _spec("taylor", f"{flabel} about ${x} = {a:g}$", xlabel, curves=list(curves),
                     points=[{"x": a, "y": float(f.subs(x, a)), "label": ""}])
    orders = [int(n) for n in spec.get("orders", [1, 2, 3])]
    fn = compile_text(to_text(f))
    with mp.workdps(20):
        coeffs = [float(c) for c in mp.taylor(lambda t: fn({str(x): t}), mp.mpf(a), max(orders))]
    xs = np.linspace(lo, hi, N)
    styles = ["dashed", "dotted", "dashdot", "dashed"]
    ys = np.array([y for y in curves[0]["y"] if y is not None])
    span = (ys.max() - ys.min()) or 1.0
    for i, n in enumerate(orders):
        poly = sum(c * (xs - a) ** k for k, c in enumerate(coeffs[:n + 1]))
        keep = (poly >= ys.min() - span) & (poly <= ys.max() + span)
        curves.append({"x": [round(float(v), 6) for v in xs],
                       "y": [round(float(v), 6) if k else None for v, k in zip(poly, keep)],
                       "label": f"$T_{{{n}}}$", "style": styles[i % 4]})
    return question, {**question, "title": f"Taylor approximations about ${x} = {a:g}$",
                      "curves": curves}


def _newton(tpl, spec, scope, symbols, answers):
    """Given: f and the start x_0. Found: the iterates x_1, x_2, ... and their tangents."""
    f, x = _fx(tpl, spec, scope, symbols)
    x0 = float(_get(tpl, spec, "start", scope, symbols))
    fn = _array_fn(f, [str(x)])
    lo, hi = _range(tpl, spec, scope, x0) if "range" in spec else _root_window(fn, x0)
    flabel, xlabel = _names(spec, x)
    question = _spec("newton", f"{flabel} and the start $x_{{0}} = {x0:g}$", xlabel, flabel,
                     curves=[_curve(f, x, lo, hi, flabel)],
                     points=[{"x": x0, "y": 0.0, "label": "$x_{0}$"}])
    fx, dfx = _f(f, x), _f(diff(f, x), x)
    xs = [x0]
    for _ in range(int(spec.get("steps", 3))):
        xs.append(xs[-1] - fx(xs[-1]) / dfx(xs[-1]))
    segments = []
    for a, b in zip(xs, xs[1:]):
        segments.append({"x": [a, a], "y": [0.0, fx(a)], "style": "dotted"})
        segments.append({"x": [a, b], "y": [fx(a), 0.0], "style": "dashed"})
    points = [{"x": v, "y": 0.0, "label": f"$x_{{{i}}}$"} for i, v in enumerate(xs)]
    return question, {**question, "title": "Newton-Raphson iterations", "points": points,
                      "segments": segments}


SCAN = 10.0         # how far from the start the given function is searched for a zero / minimum


def _root_window(fn, x0: float) -> tuple[float, float]:
    """An x range from the given data only: the start and the zero of f nearest to it
    (where the plotted curve crosses the axis anyway), padded, on half units."""
    grid = x0 + np.linspace(-SCAN, SCAN, 2001)
    ys = fn(grid)
    ok = np.isfinite(ys)
    cross = np.flatnonzero(ok[:-1] & ok[1:] & (np.sign(ys[:-1]) * np.sign(ys[1:]) <= 0))
    if not cross.size:
        return x0 - 2.5, x0 + 2.5
    root = float(grid[cross[np.argmin(np.abs(grid[cross] - x0))]])
    return _padded([x0, root])


def _padded(values, least: float = 1.0) -> tuple[float, float]:
    """The range of ``values`` widened by half on each side (at least ``least``), out to
    half units."""
    lo, hi = min(values), max(values)
    pad = max(least, 0.5 * (hi - lo))
    return float(np.floor(2 * (lo - pad)) / 2), float(np.ceil(2 * (hi + pad)) / 2)


def _contour_path(tpl, spec, scope, symbols, answers):
    """Given: the contours of f and the start. Found: the iterates' path."""
    f = _get(tpl, spec, "expression", scope, symbols)
    xv, yv = (symbols[v] for v in spec.get("variables", tpl.variables[:2]))
    start = [float(_get_value(tpl, v, scope, symbols)) for v in spec["start"]]
    fz = _array_fn(f, [str(xv), str(yv)])
    (x_lo, x_hi), (y_lo, y_hi) = _minimum_window(fz, start)
    gx, gy = np.linspace(x_lo, x_hi, 41), np.linspace(y_lo, y_hi, 41)
    GX, GY = np.meshgrid(gx, gy)
    z = [[round(float(v), 6) for v in r] for r in fz(GX, GY)]
    contour = {"x": [round(float(v), 6) for v in gx], "y": [round(float(v), 6) for v in gy],
               "z": z, "levels": 15}
    name = spec.get("name", "f")
    question = _spec("contour_path", f"Contours of ${name}$ and the start point", f"${xv}$", f"${yv}$",
                     points=[{"x": start[0], "y": start[1], "label": ""}], contour=contour)
    path = [[float(v) for v in p] for p in _path(tpl, spec, scope, symbols, f, xv, yv, start)]
    return question, {**question, "title": f"Contours of ${name}$ and the iterates", "points": [],
                      "path": {"x": [p[0] for p in path], "y": [p[1] for p in path],
                               "label": spec.get("label", "iterates")}}


def _minimum_window(fz, start) -> tuple[tuple[float, float], tuple[float, float]]:
    """x and y ranges from the given data only: the start and the lowest point of f near
    it (the centre the contours show anyway), padded, on half units."""
    g = np.linspace(-2 * SCAN, 2 * SCAN, 81)
    GX, GY = np.meshgrid(start[0] + g, start[1] + g)
    z = fz(GX, GY)
    if not np.isfinite(z).any():
        raise ValueError("the figure's function is undefined around its start point")
    i, j = np.unravel_index(np.nanargmin(np.where(np.isfinite(z), z, np.nan)), z.shape)
    low = (float(GX[i, j]), float(GY[i, j]))
    if i in (0, len(g) - 1) or j in (0, len(g) - 1):      # no minimum in reach: around the start
        low = tuple(start)
    return _padded([start[0], low[0]]), _padded([start[1], low[1]])


def _path(tpl, spec, scope, symbols, f, xv, yv, start):
    rate = float(_get(tpl, spec, "learning_rate", scope, symbols)) if "learning_rate" in spec else None
    grad = [diff(f, xv), diff(f, yv)]
    hess = hessian(f, [xv, yv])
    p = np.array(start)
    out = [p.copy()]
    for _ in range(int(spec.get("steps", 3))):
        sub = {xv: p[0], yv: p[1]}
        g = np.array([float(c.subs(sub)) for c in grad])
        if rate is None:
            H = np.array(hess.subs(sub), dtype=float)
            p = p - np.linalg.solve(H, g)
        else:
            p = p - rate * g
        out.append(p.copy())
    return out


def _get_value(tpl, v, scope, symbols):
    return to_sympy(v, scope, symbols)


HEADROOM = 0.15     # of the data's y span, above and below: a model between the points shows


def _data_fit(tpl, spec, scope, symbols, answers):
    """Given: the data (with error bars). Found: the fitted curve and its residuals."""
    data = scope[spec["data"]]
    fit = answers[spec["fit"]]
    model = spec.get("model")
    x = sp.Symbol("x", real=True)
    if model:
        params = {sp.Symbol(k, real=True): v for k, v in fit.value.items()}
        names = {str(k) for k in params} | {"x"}
        local = {k: v for k, v in scope.items() if k not in names}
        curve_expr = to_sympy(model, local, {**{str(k): k for k in params}, "x": x}).subs(params)
    else:
        curve_expr = fit.value["slope"] * x + fit.value["intercept"]
    xs = [float(v) for v in data["x"]]
    sigma = [float(s) for s in data["sigma"]] if data.get("sigma") else None
    question = _spec("data_fit", "Data with their error bars" if sigma else "Data", "$x$", "$y$",
                     errorbars={"x": xs, "y": [float(v) for v in data["y"]], "sigma": sigma,
                                "label": "data"})
    shown = frame(question)                      # room above and below the data for a model
    lo_y, hi_y = shown["y"]
    question["frame"] = {**shown, "y": [lo_y - HEADROOM * (hi_y - lo_y), hi_y + HEADROOM * (hi_y - lo_y)]}
    f = _f(curve_expr, x)
    res = [float(yv) - f(xv) for xv, yv in zip(xs, data["y"])]
    lo, hi = min(xs), max(xs)
    pad = 0.05 * (hi - lo)
    return question, {**question, "title": "Data, best fit and residuals",
                      "curves": [_curve(curve_expr, x, lo - pad, hi + pad, "fit")],
                      "residuals": {"x": xs, "r": [round(r, 6) for r in res]}}


BUILDERS: dict[str, Any] = {"tangent": _tangent, "secant": _tangent, "function": _function,
                            "taylor": _taylor, "newton": _newton, "contour_path": _contour_path,
                            "data_fit": _data_fit}
