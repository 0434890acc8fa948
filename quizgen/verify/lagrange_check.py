"""The independent check of ``lagrange_critical_points`` (mpmath / numpy, no sympy).

All real solutions of grad f = lambda grad g, g = 0 are searched by Newton's method in
float64, on all starts at once: a fixed grid and the engine's points (a point the engine
gives counts only when the search, started there, converges back to it). The derivatives
come from the expression text alone, one of two ways:

* f and g quadratic (the bank's shapes): a quadratic model of each is read off exact
  evaluations at integer points and accepted only when it reproduces the expression at
  generic test points; the system and its Jacobian are then a few matrix products per
  Newton step, each grid point starts with its least-squares multiplier. Every root must
  also solve the expressions' own system (complex-step gradients, residual below 1e-9),
  or the search is done again the other way;
* otherwise: complex-step gradients, a finite-difference Jacobian, a grid of x times a few
  multipliers, and each root polished with mpmath (finite-difference derivatives, 30 digits).
"""

from __future__ import annotations

from itertools import combinations, product

import mpmath as mp
import numpy as np

from . import check, close
from .numeric import compile_text, gradient as num_gradient
from .numeric import value as evaluate

STARTS = (-2.7, -1.9, -1.1, -0.35, 0.15, 0.45, 1.3, 2.1, 2.9)
LAMBDAS = (-1.7, -0.4, 0.8, 2.3)
NEWTON_STEPS = 60                   # Newton steps at most, any f and g
MODEL_STEPS = 12                    # with quadratic models: each root of the bank's shapes is found within 7
WIDER = (5, 25)                     # the model search also starts from coarser grids this much wider
TESTS = ((0.37, -1.21, 2.03), (-2.6, 0.83, -0.45), (1.73, 2.9, -3.1), (-0.58, -3.3, 1.49))   # generic points


@check("lagrange_critical_points", seeded=True)
def _lagrange(inp, value=None):
    """Every root found, with its multiplier and the value of f there (mpmath)."""
    xs = [str(v) for v in inp["variables"]]
    f, g = inp["expression"], inp["constraint"]
    seeds = [[float(p["point"][x]) for x in xs] + [float(p["multiplier"])] for p in (value or [])
             if isinstance(p, dict) and "point" in p]
    found = _model_search(f, g, xs, seeds)
    if found is None:
        found = _polished(f, g, xs, _newton(_FiniteDifferences(f, g, xs), _starts(len(xs), seeds), NEWTON_STEPS))
    found = _in_order_of(found, seeds)
    return [{"point": dict(zip(xs, s[:-1])), "multiplier": s[-1],
             "value": evaluate(f, dict(zip(xs, s[:-1])))} for s in found]


def _in_order_of(found: list, seeds: list) -> list:
    """The points found, those matching the engine's points first and in its order (a
    point set has no order), then the rest sorted."""
    ordered, rest = [], list(found)
    for seed in seeds:
        match = next((s for s in rest if close([float(v) for v in s], seed, 1e-6, 1e-6)), None)
        if match is not None:
            ordered.append(match)
            rest.remove(match)
    return ordered + sorted(rest, key=lambda s: [float(v) for v in s])


def _grid(n: int, every: int = 1) -> np.ndarray:
    """Starts of x: STARTS (every other one from three variables on; and then every
    ``every``-th) in each coordinate."""
    values = (STARTS if n <= 2 else STARTS[::2])[::every]
    return np.array(list(product(values, repeat=n)), dtype=float)


def _with_seeds(V: np.ndarray, seeds: list) -> np.ndarray:
    return np.vstack([np.array(seeds, dtype=float), V]) if seeds else V


def _starts(n: int, seeds: list) -> np.ndarray:
    """The engine's points, then a grid of x times a few lambdas, as rows (x, lambda)."""
    grid, lams = _grid(n), np.array(LAMBDAS)
    return _with_seeds(np.column_stack([np.repeat(grid, len(lams), axis=0), np.tile(lams, len(grid))]), seeds)


# ---- the quadratic model -------------------------------------------------------------

def _quadratic_model(text: str, xs: list[str]) -> tuple | None:
    """(c, b, H) with text = c + b.x + x.H.x / 2, from its values at 0, +-e_i and e_i + e_j;
    None unless that model reproduces the expression at the generic test points."""
    n = len(xs)
    eye = np.eye(n)
    pairs = list(combinations(range(n), 2))
    tests = np.array([t[:n] for t in TESTS])
    pts = np.vstack([np.zeros((1, n)), eye, -eye] + [eye[[i]] + eye[[j]] for i, j in pairs] + [tests])
    vals = _values(text, xs, pts)
    if not np.isfinite(vals).all():
        return None
    c, plus, minus = vals[0], vals[1:n + 1], vals[n + 1:2 * n + 1]
    b, diag = (plus - minus) / 2, plus + minus - 2 * c
    H = np.diag(diag)
    for k, (i, j) in enumerate(pairs):
        H[i, j] = H[j, i] = vals[2 * n + 1 + k] - c - b[i] - b[j] - (diag[i] + diag[j]) / 2
    model = c + tests @ b + np.einsum("ki,ij,kj->k", tests, H, tests) / 2
    exact = vals[-len(tests):]
    scale = 1 + np.abs(exact).max() + np.abs(b).sum() + np.abs(H).sum()
    return (c, b, H) if np.abs(model - exact).max() <= 1e-9 * scale else None


def _values(text: str, xs: list[str], pts: np.ndarray) -> np.ndarray:
    """The expression at each row of pts (float64; nan where it has no real value)."""
    with np.errstate(all="ignore"):
        out = compile_text(text, "numpy")({x: pts[:, j] for j, x in enumerate(xs)})
    return np.broadcast_to(np.asarray(out, dtype=float), pts.shape[:1])


class _Quadratic:
    """F(x, lambda) and its exact Jacobian for quadratic f and g, on rows of V."""

    def __init__(self, fm, gm):
        (_, self.bf, self.Hf), (self.cg, self.bg, self.Hg) = fm, gm

    def starts(self, n: int, seeds: list) -> np.ndarray:
        """The engine's points, then the grid and coarser ones WIDER times wider, each x with
        the multiplier that best fits grad f = lambda grad g there (least squares)."""
        X = np.vstack([_grid(n)] + [k * _grid(n, every=2) for k in WIDER])
        gf, gg = X @ self.Hf + self.bf, X @ self.Hg + self.bg
        with np.errstate(all="ignore"):
            lam = (gf * gg).sum(axis=1) / (gg * gg).sum(axis=1)
        V = np.column_stack([X, lam])
        return _with_seeds(V[np.isfinite(lam)], seeds)

    def __call__(self, V):
        n = V.shape[1] - 1
        x, lam = V[:, :n], V[:, n]
        gg = x @ self.Hg + self.bg
        F = np.column_stack([x @ self.Hf + self.bf - lam[:, None] * gg,
                             self.cg + x @ self.bg + np.einsum("ki,ij,kj->k", x, self.Hg, x) / 2])
        J = np.zeros((len(V), n + 1, n + 1))
        J[:, :n, :n] = self.Hf - lam[:, None, None] * self.Hg
        J[:, :n, n], J[:, n, :n] = -gg, gg
        return F, J


def _model_search(f: str, g: str, xs: list[str], seeds: list) -> list[list] | None:
    """The roots found with quadratic models of f and g; None when either is not quadratic,
    when a root does not solve the system of the expressions themselves (residual 1e-9), or
    when one is singular (Newton is slow there: the mpmath polish of the general search)."""
    models = _quadratic_model(f, xs), _quadratic_model(g, xs)
    if None in models:
        return None
    system = _Quadratic(*models)
    V = np.array(_newton(system, system.starts(len(xs), seeds), MODEL_STEPS)).reshape(-1, len(xs) + 1)
    if not len(V):
        return []
    residual = np.abs(_complex_step_system(f, g, xs)(V)).max(axis=1)
    if (residual > 1e-9 * (1 + np.abs(V).max(axis=1))).any() or (np.linalg.cond(system(V)[1]) > 1e4).any():
        return None
    return [list(map(mp.mpf, v)) for v in V]


# ---- Newton's method on all starts at once ---------------------------------------------

def _newton(system, V: np.ndarray, steps: int) -> list[np.ndarray]:
    """Distinct float64 roots of ``system`` (V -> (F, J)) from the rows of V. A row leaves the
    iteration when its step is negligible (or after ``steps``); rows with a singular Jacobian
    or leaving |v| < 1e6 are dropped; at the end every row with a residual below 1e-6 counts."""
    done = []
    for _ in range(steps):
        Fv, J = system(V)
        with np.errstate(all="ignore"):
            ok = np.abs(np.linalg.det(J)) > 1e-12          # also False where J is not finite
            if not ok.all():
                Fv, J, V = Fv[ok], J[ok], V[ok]
            step = np.linalg.solve(J, Fv[..., None])[..., 0]
            V = V - step
            size = np.abs(V)
            settled = (np.abs(step) <= 1e-13 * (1 + size)).all(axis=1) | (np.abs(Fv) < 1e-13).all(axis=1)
            going = ~settled & (size < 1e6).all(axis=1)    # also False where V is not finite
        done.append(V[settled])
        V = V[going]
        if len(V) == 0:
            break
    R = np.vstack(done + [V])
    if len(R):
        Fr, _ = system(R)
        R = R[np.isfinite(Fr).all(axis=1) & (np.abs(Fr).max(axis=1) < 1e-6)]
    return _distinct(R)


def _distinct(R: np.ndarray) -> list[np.ndarray]:
    """Rows of R, each dropped when close (1e-6) to an earlier row kept."""
    roots = []
    while len(R):
        r = R[0]
        roots.append(r)
        R = R[~(np.abs(R - r) <= 1e-6 + 1e-6 * np.abs(r)).all(axis=1)]
    return roots


# ---- any f and g: finite differences, then mpmath ---------------------------------------

def _complex_step_system(f: str, g: str, xs: list[str]):
    """V -> F(V) = (grad f - lambda grad g, g) on rows of V, gradients by complex step."""
    fn, gn = compile_text(f, "numpy"), compile_text(g, "numpy")
    n = len(xs)

    def grad(fun, P):
        h = 1e-30
        out = []
        for i in range(n):
            env = {x: P[:, j].astype(complex) + (1j * h if j == i else 0) for j, x in enumerate(xs)}
            with np.errstate(all="ignore"):
                out.append(np.imag(np.broadcast_to(fun(env), P.shape[:1])) / h)
        return np.stack(out, axis=1)

    def F(V):
        P, lam = V[:, :n], V[:, n:]
        with np.errstate(all="ignore"):
            gv = np.broadcast_to(np.real(gn({x: P[:, j].astype(complex) for j, x in enumerate(xs)})), P.shape[:1])
        return np.column_stack([grad(fn, P) - lam * grad(gn, P), gv])
    return F


class _FiniteDifferences:
    """F by complex-step gradients and its Jacobian by central differences, on rows of V."""

    def __init__(self, f, g, xs):
        self.F = _complex_step_system(f, g, xs)

    def __call__(self, V):
        Fv = self.F(V)
        J = np.empty((len(V), V.shape[1], V.shape[1]))
        for k in range(V.shape[1]):
            e = np.zeros(V.shape[1])
            e[k] = 1e-6
            with np.errstate(all="ignore"):
                J[:, :, k] = (self.F(V + e) - self.F(V - e)) / 2e-6
        return Fv, J


def _polished(f: str, g: str, xs: list[str], guesses: list[np.ndarray]) -> list[list]:
    """Each guess polished by mpmath's findroot (finite-difference gradients at 30 digits),
    kept when the residual is below 1e-12; distinct roots only."""
    def system(*vals):
        pt, lam = list(vals[:-1]), vals[-1]
        gf, gg = num_gradient(f, xs, pt), num_gradient(g, xs, pt)
        return [a - lam * b for a, b in zip(gf, gg)] + [evaluate(g, dict(zip(xs, pt)))]

    found = []
    for guess in guesses:
        try:
            sol = mp.findroot(system, [mp.mpf(float(v)) for v in guess], tol=1e-24, maxsteps=20)
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            continue
        sol = [mp.re(v) for v in (sol if len(guess) > 1 else [sol])]
        if max(abs(r) for r in system(*sol)) > 1e-12:
            continue
        if not any(close(sol, other, 1e-6, 1e-6) for other in found):
            found.append(sol)
    return found
