"""The independent checks, one per engine operation (mpmath / numpy, no sympy)."""

from __future__ import annotations

from collections import Counter
from itertools import product
from math import factorial

import mpmath as mp
import numpy as np

from . import check, close, lagrange_check  # noqa: F401  (lagrange_check registers its check)
from ..errors import VerificationError
from ..exprs import names_in
from .numeric import compile_text, function, gradient as num_gradient, hessian as num_hessian, partial
from .numeric import value as evaluate


def _n(v) -> mp.mpf:
    """A number from the contract: a JSON number or an exact-constant string such as 'pi/4'."""
    return mp.mpf(evaluate(v)) if isinstance(v, str) else mp.mpf(repr(v) if isinstance(v, float) else v)


def _point(inputs, variables, key="at"):
    at = inputs[key]
    if isinstance(at, dict):
        return [_n(at[v]) for v in variables]
    return [_n(v) for v in at] if isinstance(at, (list, tuple)) else [_n(at)]


def _vars(inputs):
    return [str(v) for v in (inputs.get("variables") or [inputs["variable"]])]


@check("evaluate")
def _evaluate(inp):
    return evaluate(inp["expression"], {k: _n(v) for k, v in inp["at"].items()})


@check("difference_quotient")
def _difference_quotient(inp):
    x = str(inp["variable"])
    f = function(inp["expression"], [x])
    a, h = _point(inp, [x])[0], _n(inp["h"])
    return (f(a + h) - f(a)) / h


@check("derivative", symbolic=True)
def _derivative(inp):
    x = str(inp["variable"])
    names = [x] + sorted(str(k) for k in inp["at"] if str(k) != x)      # the others are held constant
    return partial(inp["expression"], names, _point(inp, names), [int(inp.get("order") or 1)] + [0] * (len(names) - 1))


@check("partial_derivative", symbolic=True)
def _partial_derivative(inp):
    seq = [str(v) for v in inp["variables"]]
    names = sorted(set(seq) | set(str(k) for k in inp["at"]))
    counts = Counter(seq)
    return partial(inp["expression"], names, _point(inp, names), [counts[v] for v in names])


def _with_constants(inp):
    """Differentiation variables first, then the other names the point fixes (constants)."""
    xs = _vars(inp)
    return xs, xs + sorted(str(k) for k in inp["at"] if str(k) not in xs)


@check("gradient", symbolic=True)
def _gradient(inp):
    xs, names = _with_constants(inp)
    return num_gradient(inp["expression"], names, _point(inp, names))[:len(xs)]


@check("jacobian", symbolic=True)
def _jacobian(inp):
    xs, names = _with_constants(inp)
    return [num_gradient(e, names, _point(inp, names))[:len(xs)] for e in inp["expressions"]]


@check("hessian", symbolic=True)
def _hessian(inp):
    xs, names = _with_constants(inp)
    return [row[:len(xs)] for row in num_hessian(inp["expression"], names, _point(inp, names))[:len(xs)]]


@check("chain_rule", symbolic=True)
def _chain_rule(inp):
    outer = _vars(inp)
    inner = {str(k): compile_text(str(v)) for k, v in inp["substitutions"].items()}
    outer_f = compile_text(inp["expression"])

    def composed(*vals):
        env = dict(zip(outer, vals))
        return outer_f({**env, **{u: g(env) for u, g in inner.items()}})

    pt = _point(inp, outer)
    grads = [mp.diff(composed, pt if len(pt) > 1 else pt[0],
                     tuple(int(i == j) for j in range(len(pt))) if len(pt) > 1 else 1)
             for i in range(len(pt))]
    return grads if inp.get("variables") else grads[0]


# ---- networks ---------------------------------------------------------------------

def _act(name):
    return {"sigmoid": lambda z: 1 / (1 + mp.exp(-z)), "tanh": mp.tanh,
            "linear": lambda z: z, "relu": lambda z: max(z, 0)}[name]


def _net(layers, x):
    a = [_n(v) for v in (x if isinstance(x, list) else [x])]
    for layer in layers:
        W = layer["weights"] if isinstance(layer["weights"][0], list) else [layer["weights"]]
        b = layer["biases"] if isinstance(layer["biases"], list) else [layer["biases"]]
        g = _act(layer.get("activation", "sigmoid"))
        a = [g(sum(_n(w) * ai for w, ai in zip(row, a)) + _n(bi)) for row, bi in zip(W, b)]
    return a


@check("forward")
def _forward(inp):
    return _net(inp["layers"], inp["input"])


@check("backprop")
def _backprop(inp):
    layers, k, param = inp["layers"], int(inp["wrt"]["layer"]) - 1, inp["wrt"]["param"]
    target = inp["target"] if isinstance(inp["target"], list) else [inp["target"]]
    half = inp.get("cost") == "half_squared_error"

    def cost_with(path, v):
        copy = [dict(layer) for layer in layers]
        entry = copy[k][param]
        entry = [list(r) if isinstance(r, list) else r for r in entry] if isinstance(entry, list) else [entry]
        if len(path) == 2 and isinstance(entry[0], list):
            entry[path[0]][path[1]] = v
        else:
            entry[path[-1]] = v
        copy[k][param] = entry
        out = _net(copy, inp["input"])
        c = sum((a - _n(y)) ** 2 for a, y in zip(out, target))
        return c / 2 if half else c

    entry = layers[k][param]
    if isinstance(entry, list) and entry and isinstance(entry[0], list):
        return [[mp.diff(lambda v: cost_with((i, j), v), _n(w)) for j, w in enumerate(row)]
                for i, row in enumerate(entry)]
    entry = entry if isinstance(entry, list) else [entry]
    return [mp.diff(lambda v: cost_with((i,), v), _n(w)) for i, w in enumerate(entry)]


# ---- Taylor -----------------------------------------------------------------------

@check("taylor_coefficients")
def _taylor_coefficients(inp):
    x = str(inp["variable"])
    about = inp["about"][x] if isinstance(inp["about"], dict) else inp["about"]
    return mp.taylor(function(inp["expression"], [x]), _n(about), int(inp["order"]))


def _taylor_sum(inp):
    xs = _vars(inp)
    about = _point(inp, xs, "about")
    at = _point(inp, xs)
    total = mp.mpf(0)
    for m in product(range(int(inp["order"]) + 1), repeat=len(xs)):
        if sum(m) > int(inp["order"]):
            continue
        d = partial(inp["expression"], xs, about, m) if sum(m) else evaluate(
            inp["expression"], dict(zip(xs, about)))
        term = mp.mpf(d)
        for k, a, p in zip(m, about, at):
            term *= (p - a) ** k / factorial(k)
        total += term
    return total


check("taylor_evaluate")(_taylor_sum)
check("taylor_polynomial", symbolic=True)(_taylor_sum)


# ---- optimisation -----------------------------------------------------------------

@check("newton_raphson")
def _newton_raphson(inp):
    x = str(inp["variable"])
    f = function(inp["expression"], [x])
    xn = _point(inp, [x], "start")[0]
    for _ in range(int(inp["steps"])):
        xn = xn - f(xn) / mp.diff(f, xn)
    return xn


@check("gradient_descent")
def _gradient_descent(inp):
    xs, rate = _vars(inp), _n(inp["learning_rate"])
    p = _point(inp, xs, "start")
    for _ in range(int(inp["steps"])):
        g = num_gradient(inp["expression"], xs, p)
        p = [pi - rate * gi for pi, gi in zip(p, g)]
    return p


@check("newton_optimise")
def _newton_optimise(inp):
    xs = _vars(inp)
    p = mp.matrix(_point(inp, xs, "start"))
    for _ in range(int(inp["steps"])):
        g = mp.matrix(num_gradient(inp["expression"], xs, list(p)))
        H = mp.matrix(num_hessian(inp["expression"], xs, list(p)))
        p = p - mp.lu_solve(H, g)
    return list(p)


# lagrange_critical_points: in lagrange_check (imported above)


# ---- regression -------------------------------------------------------------------

def _data(inp):
    x = np.array([float(_n(v)) for v in inp["x"]])
    y = np.array([float(_n(v)) for v in inp["y"]])
    s = np.array([float(_n(v)) for v in inp["sigma"]]) if inp.get("sigma") is not None else np.ones_like(x)
    return x, y, s


def _model(inp, params: dict):
    fn = compile_text(inp["model"])
    return lambda xv: fn({**params, "x": mp.mpf(float(xv))})


@check("chi_squared")
def _chi_squared(inp):
    x, y, s = _data(inp)
    m = _model(inp, {k: _n(v) for k, v in inp["parameters"].items()})
    return sum(((yi - float(m(xi))) / si) ** 2 for xi, yi, si in zip(x, y, s))


@check("linear_regression")
def _linear_regression(inp):
    x, y, s = _data(inp)
    A = np.column_stack([x, np.ones_like(x)]) / s[:, None]
    (m, c), *_ = np.linalg.lstsq(A, y / s, rcond=None)
    return {"slope": m, "intercept": c}


def _chi2_fn(inp, names):
    x, y = [_n(v) for v in inp["x"]], [_n(v) for v in inp["y"]]
    s = [_n(v) for v in inp["sigma"]] if inp.get("sigma") is not None else [mp.mpf(1)] * len(x)
    fn = compile_text(inp["model"])

    def chi2(*p):
        env = dict(zip(names, p))
        return sum(((yi - fn({**env, "x": xi})) / si) ** 2 for xi, yi, si in zip(x, y, s))
    return chi2


@check("least_squares", seeded=True)
def _least_squares(inp, value=None):
    names = [str(n) for n in inp["parameters"]]
    x, y, s = _data(inp)
    fn = compile_text(inp["model"], "numpy")

    def model(p):
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(fn({**dict(zip(names, p)), "x": x}), dtype=float), x.shape)

    base = model([0.0] * len(names))
    A = np.column_stack([model([float(i == j) for j in range(len(names))]) - base
                         for i in range(len(names))])
    probe = np.linspace(0.3, 1.7, len(names))
    if np.all(np.isfinite(A)) and np.allclose(A @ probe + base, model(list(probe)), rtol=1e-9, atol=1e-9):
        p, *_ = np.linalg.lstsq(A / s[:, None], (y - base) / s, rcond=None)       # linear in p
        return dict(zip(names, p))
    start = inp.get("start") or {}
    seeds = [[float(_n(start.get(n, 1))) for n in names]]
    if isinstance(value, dict) and set(value) == set(names):
        seeds.insert(0, [float(value[n]) for n in names])
    return dict(zip(names, _nonlinear_minimum(model, x, y, s, seeds)))


def _nonlinear_minimum(model, x, y, s, seeds) -> list[float]:
    """The lowest chi-squared minimum reached from the seeds (and rescaled copies of the
    last one) by damped Gauss-Newton with a finite-difference Jacobian."""
    def residuals(p):
        return (y - model(p)) / s

    best, best_chi2 = None, np.inf
    starts = [np.array(p, dtype=float) for p in seeds] + [np.array(seeds[-1], dtype=float) * f for f in (0.5, 2.0)]
    for p in starts:
        p = _gauss_newton_fd(residuals, p)
        if p is not None:
            r = residuals(p)
            if float(r @ r) < best_chi2 * (1 - 1e-9):
                best, best_chi2 = p, float(r @ r)
    if best is None:
        raise VerificationError("least_squares: the independent fit did not converge from any start")
    return list(best)


def _gauss_newton_fd(residuals, p):
    """Levenberg-damped Gauss-Newton on ``residuals(p)``; None when it cannot proceed."""
    lam, r = 1e-3, residuals(p)
    if not np.all(np.isfinite(r)):
        return None
    c = float(r @ r)
    for _ in range(400):
        h = 1e-7 * (1 + np.abs(p))
        J = np.column_stack([(residuals(p - h[i] * e) - residuals(p + h[i] * e)) / (2 * h[i])
                             for i, e in enumerate(np.eye(len(p)))])
        if not np.all(np.isfinite(J)):
            return None
        JtJ, g = J.T @ J, J.T @ r
        try:
            dp = np.linalg.solve(JtJ + lam * np.diag(np.diag(JtJ) + 1e-12), g)
        except np.linalg.LinAlgError:
            return None
        trial_r = residuals(p + dp)
        trial = float(trial_r @ trial_r) if np.all(np.isfinite(trial_r)) else np.inf
        if trial <= c:
            p, r, c, lam = p + dp, trial_r, trial, max(lam / 10, 1e-12)
            if np.max(np.abs(dp)) < 1e-12 * (1 + np.max(np.abs(p))):
                return p
        else:
            lam *= 10
            if lam > 1e12:
                return p
    return p


@check("fit_gradient_descent")
def _fit_gradient_descent(inp):
    names = [str(k) for k in inp["start"]]
    if not NON_ANALYTIC & set(names_in(inp["model"])) and "%" not in inp["model"]:
        p = _complex_step_descent(inp, names)
        if p is not None:
            return dict(zip(names, p))
    chi2 = _chi2_fn(inp, names)
    rate = _n(inp["learning_rate"])
    p = [_n(v) for v in inp["start"].values()]
    for _ in range(int(inp["steps"])):
        g = [mp.diff(chi2, p, tuple(int(i == j) for j in range(len(p)))) for i in range(len(p))] \
            if len(p) > 1 else [mp.diff(chi2, p[0])]
        p = [pi - rate * gi for pi, gi in zip(p, g)]
    return dict(zip(names, p))


NON_ANALYTIC = frozenset({"abs", "Abs", "min", "max"})
COMPLEX_STEP = 1e-30


def _complex_step_descent(inp, names):
    """Descent on chi-squared over numpy arrays, each gradient by the complex-step derivative
    Im chi2(p + ih e_k) / h (exact to rounding for an analytic model, no subtraction).
    None when the model does not evaluate to finite numbers along the way."""
    x, y, s = _data(inp)
    fn = compile_text(inp["model"], "numpy")
    rate = float(_n(inp["learning_rate"]))
    p = np.array([float(_n(v)) for v in inp["start"].values()])

    def chi2(q):
        with np.errstate(all="ignore"):
            return np.sum(((y - fn({**dict(zip(names, q)), "x": x})) / s) ** 2)
    for _ in range(int(inp["steps"])):
        g = np.array([chi2(p + 1j * COMPLEX_STEP * e).imag / COMPLEX_STEP for e in np.eye(len(p))])
        if not np.all(np.isfinite(g)):
            return None
        p = p - rate * g
    return [float(v) for v in p]


@check("directional_derivative", symbolic=True)
def _directional_derivative(inp):
    """Central difference of f along the unit direction: (f(a + h u) - f(a - h u)) / 2h."""
    xs, names = _with_constants(inp)
    f = function(inp["expression"], names)
    a = _point(inp, names)
    v = [_n(c[0] if isinstance(c, list) else c) for c in inp["direction"]]
    norm = mp.sqrt(mp.fsum(c ** 2 for c in v))
    if norm == 0:
        raise VerificationError("directional_derivative: the direction is the zero vector")
    u = [c / norm for c in v] + [mp.mpf(0)] * (len(names) - len(xs))     # constants do not move
    h = mp.mpf("1e-12")
    return (f(*[p + h * c for p, c in zip(a, u)]) - f(*[p - h * c for p, c in zip(a, u)])) / (2 * h)


@check("steepest_ascent")
def _steepest_ascent(inp):
    """The numerical gradient (complex step / central differences in mpmath) divided by its length."""
    xs, names = _with_constants(inp)
    g = num_gradient(inp["expression"], names, _point(inp, names))[:len(xs)]
    norm = mp.sqrt(mp.fsum(mp.mpf(c) ** 2 for c in g))
    if norm == 0:
        raise VerificationError("steepest_ascent: the gradient is zero at the point")
    return [mp.mpf(c) / norm for c in g]


# ---- categorical answers (labels) --------------------------------------------------
# The label words are the contract's vocabulary (tests tie them to the engine's lists).

CONCAVE_UP, CONCAVE_DOWN, INCONCLUSIVE = "concave up", "concave down", "test inconclusive"
MINIMUM, MAXIMUM, SADDLE = "local minimum", "local maximum", "saddle point"
LABEL_ZERO = 1e-10        # relative size below which a numerical curvature counts as 0 (the engine
                          # refuses, as too close to call, every nonzero value below 1e-7)
STATIONARY = 1e-9         # relative size of a numerical gradient that counts as 0
SAMPLE_STEP = mp.mpf("1e-6")


@check("concavity")
def _concavity(inp):
    """The sign of the central second difference (f(a+h) - 2 f(a) + f(a-h)) / h^2."""
    x = str(inp["variable"])
    names = [x] + sorted(str(k) for k in inp["at"] if str(k) != x)      # the others are held constant
    f = function(inp["expression"], names)
    a = _point(inp, names)
    h = mp.mpf("1e-8")
    d2 = (f(a[0] + h, *a[1:]) - 2 * f(*a) + f(a[0] - h, *a[1:])) / h ** 2
    if abs(d2) <= LABEL_ZERO * (1 + abs(f(*a))):
        return INCONCLUSIVE
    return CONCAVE_UP if d2 > 0 else CONCAVE_DOWN


@check("classify_stationary_point")
def _classify_stationary_point(inp):
    """Signs of the eigenvalues (numpy) of the numerical Hessian at a point where the numerical
    gradient is 0, confirmed by sampling f at a +- h v (v: eigenvectors and axes)."""
    xs, names = _with_constants(inp)
    n, a = len(xs), _point(inp, names)
    H = np.array([[float(c) for c in row[:n]] for row in num_hessian(inp["expression"], names, a)[:n]])
    scale = 1.0 + float(np.max(np.abs(H)))
    if max(abs(float(g)) for g in num_gradient(inp["expression"], names, a)[:n]) > STATIONARY * scale:
        return "not a stationary point"
    eig, vectors = np.linalg.eigh(H)
    if np.min(np.abs(eig)) <= LABEL_ZERO * scale:
        return INCONCLUSIVE
    label = MINIMUM if eig.min() > 0 else MAXIMUM if eig.max() < 0 else SADDLE
    rises = set(_sampled_rises(inp["expression"], names, a, list(vectors.T) + list(np.eye(n))))
    agrees = {MINIMUM: {True}, MAXIMUM: {False}, SADDLE: {True, False}}[label] == rises
    return label if agrees else f"{label} by the eigenvalues, but sampling f around the point disagrees"


def _sampled_rises(expression, names, a, directions):
    """For each direction v and -v: does f rise from a to a + h v?"""
    f = function(expression, names)
    base = f(*a)
    for v in directions:
        for s in (1, -1):
            step = [s * SAMPLE_STEP * mp.mpf(float(c)) for c in v] + [mp.mpf(0)] * (len(names) - len(v))
            yield f(*[p + d for p, d in zip(a, step)]) > base


@check("jacobian_size")
def _jacobian_size(inp):
    """Rows: one per component expression; columns: one per distinct input variable."""
    return {"rows": len(inp["expressions"]), "columns": len(dict.fromkeys(str(v) for v in inp["variables"]))}


@check("best_model")
def _best_model(inp):
    """The model with the smallest chi-squared, each summed in mpmath from its text."""
    x, y, s = _data(inp)

    def chi2(text):
        m = _model({"model": text}, {})
        return mp.fsum(((yi - m(xi)) / si) ** 2 for xi, yi, si in zip(x, y, s))
    values = {name: chi2(text) for name, text in inp["models"].items()}
    return min(values, key=values.get)
