"""Figure specs (numbers only) for the kinds a template can ask for.

Sampling curves is maths, so it happens here, before rendering; the drawing itself
(matplotlib) is ``figures.py``, called by the exporters.
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


def build_figure(tpl, scope: dict, symbols: dict, answers: dict) -> dict:
    spec = tpl.data["figure"]
    builder = BUILDERS.get(spec["kind"])
    try:
        return builder(tpl, spec, scope, symbols, answers)
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        raise Degenerate(f"figure: {exc}") from None


def _fx(tpl, spec, scope, symbols):
    var = symbols[spec.get("variable", tpl.variables[0])]
    return _get(tpl, spec, "expression", scope, symbols), var


def _names(spec, var):
    """(curve label, axis label) from the figure's ``name`` (default f) and its variable."""
    name = spec.get("name", "f")
    return f"${name}({var})$", f"${var}$"


def _tangent(tpl, spec, scope, symbols, answers):
    f, x = _fx(tpl, spec, scope, symbols)
    a = float(_get(tpl, spec, "at", scope, symbols))
    lo, hi = _range(tpl, spec, scope, a)
    fn = _array_fn(f, [str(x)])                 # compiled once: curve, f(a) and f(a + h)
    fa = _finite(fn(np.array([a]))[0])
    flabel, xlabel = _names(spec, x)
    xs = np.linspace(lo, hi, N)
    curves = [_curve_values(xs, fn(xs), flabel)]
    points = [{"x": a, "y": fa, "label": f"$({a:g}, {fa:.3g})$"}]
    if spec["kind"] == "secant":
        h = float(_get(tpl, spec, "h", scope, symbols))
        fb = _finite(fn(np.array([a + h]))[0])
        slope = (fb - fa) / h
        points.append({"x": a + h, "y": fb, "label": f"${x} = {a + h:g}$"})
        label = "secant"
    else:
        slope = _finite(_array_fn(diff(f, x), [str(x)])(np.array([a]))[0])
        label = "tangent"
    curves.append(_curve_values(xs, fa + slope * (xs - a), label, "dashed"))
    return {"kind": spec["kind"], "title": spec.get("title", f"{flabel} and its {label} at ${x} = {a:g}$"),
            "xlabel": xlabel, "ylabel": "", "curves": curves, "points": points, "segments": []}


def _function(tpl, spec, scope, symbols, answers):
    f, x = _fx(tpl, spec, scope, symbols)
    lo, hi = _range(tpl, spec, scope, 0.0)
    flabel, xlabel = _names(spec, x)
    return {"kind": "function", "title": spec.get("title", flabel), "xlabel": xlabel, "ylabel": "",
            "curves": [_curve(f, x, lo, hi, flabel)], "points": [], "segments": []}


def _taylor(tpl, spec, scope, symbols, answers):
    f, x = _fx(tpl, spec, scope, symbols)
    a = float(_get(tpl, spec, "about", scope, symbols))
    lo, hi = _range(tpl, spec, scope, a)
    flabel, xlabel = _names(spec, x)
    curves = [_curve(f, x, lo, hi, flabel)]
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
    return {"kind": "taylor", "title": spec.get("title", f"Taylor approximations about ${x} = {a:g}$"),
            "xlabel": xlabel, "ylabel": "", "curves": curves,
            "points": [{"x": a, "y": float(f.subs(x, a)), "label": ""}], "segments": []}


def _newton(tpl, spec, scope, symbols, answers):
    f, x = _fx(tpl, spec, scope, symbols)
    x0 = float(_get(tpl, spec, "start", scope, symbols))
    steps = int(spec.get("steps", 3))
    fx, dfx = _f(f, x), _f(diff(f, x), x)
    xs = [x0]
    for _ in range(steps):
        xs.append(xs[-1] - fx(xs[-1]) / dfx(xs[-1]))
    lo, hi = min(xs) - 1.0, max(xs) + 1.0
    segments = []
    for a, b in zip(xs, xs[1:]):
        segments.append({"x": [a, a], "y": [0.0, fx(a)], "style": "dotted"})
        segments.append({"x": [a, b], "y": [fx(a), 0.0], "style": "dashed"})
    points = [{"x": v, "y": 0.0, "label": f"$x_{{{i}}}$"} for i, v in enumerate(xs)]
    flabel, xlabel = _names(spec, x)
    return {"kind": "newton", "title": spec.get("title", "Newton-Raphson iterations"), "xlabel": xlabel,
            "ylabel": flabel, "curves": [_curve(f, x, lo, hi, flabel)], "points": points,
            "segments": segments}


def _contour_path(tpl, spec, scope, symbols, answers):
    f = _get(tpl, spec, "expression", scope, symbols)
    xv, yv = (symbols[v] for v in spec.get("variables", tpl.variables[:2]))
    path = [[float(v) for v in p] for p in _path(tpl, spec, scope, symbols, f, xv, yv)]
    px, py = [p[0] for p in path], [p[1] for p in path]
    pad = 1.0
    gx = np.linspace(min(px) - pad, max(px) + pad, 41)
    gy = np.linspace(min(py) - pad, max(py) + pad, 41)
    GX, GY = np.meshgrid(gx, gy)
    z = [[round(float(v), 6) for v in r] for r in _array_fn(f, [str(xv), str(yv)])(GX, GY)]
    return {"kind": "contour_path", "title": spec.get("title", "Contours of $f$ and the iterates"),
            "xlabel": f"${xv}$", "ylabel": f"${yv}$", "curves": [], "points": [], "segments": [],
            "contour": {"x": [round(float(v), 6) for v in gx], "y": [round(float(v), 6) for v in gy],
                        "z": z, "levels": 15},
            "path": {"x": px, "y": py, "label": spec.get("label", "iterates")}}


def _path(tpl, spec, scope, symbols, f, xv, yv):
    start = [float(_get_value(tpl, v, scope, symbols)) for v in spec["start"]]
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


def _data_fit(tpl, spec, scope, symbols, answers):
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
    f = _f(curve_expr, x)
    res = [float(yv) - f(xv) for xv, yv in zip(xs, data["y"])]
    lo, hi = min(xs), max(xs)
    pad = 0.05 * (hi - lo)
    return {"kind": "data_fit", "title": spec.get("title", "Data, best fit and residuals"),
            "xlabel": "$x$", "ylabel": "$y$", "curves": [_curve(curve_expr, x, lo - pad, hi + pad, "fit")],
            "points": [], "segments": [],
            "errorbars": {"x": xs, "y": [float(v) for v in data["y"]],
                          "sigma": [float(s) for s in data["sigma"]] if data.get("sigma") else None,
                          "label": "data"},
            "residuals": {"x": xs, "r": [round(r, 6) for r in res]}}


BUILDERS: dict[str, Any] = {"tangent": _tangent, "secant": _tangent, "function": _function,
                            "taylor": _taylor, "newton": _newton, "contour_path": _contour_path,
                            "data_fit": _data_fit}
