"""Lagrange multipliers: every real critical point of f on the constraint g = 0.

The shapes the bank uses (f and g polynomials of degree <= 2 with rational coefficients: a
quadratic on a linear constraint, a linear function on a centred quadric, a quadratic form
on a centred conic) are solved in closed form (``_closed_form``): the same exact numbers as
``sympy.solve`` (rationals and rationals times a square root, which sympy keeps in one
canonical form), without its cost. Otherwise, first ``sympy.solve`` on grad f = lambda grad g,
g = 0, within a time budget. When it gives up or runs out of time (exp of a quadratic, cosh,
an off-centre ellipse ...), a numerical method of the engine's own finds the points:

* two variables: lambda is eliminated, the points are where the constraint curve g = 0
  meets the curve where the gradients are parallel, h = (f_x g_y - f_y g_x) / (|grad f| |grad g|) = 0.
  Both are sampled on grids over nested boxes; every grid cell where g and h both change
  sign is polished by Newton's method with the exact Jacobian, at 30 digits;
* more variables: deflated Newton on the full system from a Halton set of starts.

The steps say which method was used. A point is kept only when the polished residual
is tiny; the independent check searches on its own (multi-start Newton, ``verify.lagrange_check``).
"""

from __future__ import annotations

from fractions import Fraction
from math import isqrt

import mpmath as mp
import numpy as np
import sympy as sp
from sympy.polys.polyerrors import BasePolynomialError

from ..budget import OutOfTime, time_budget
from ..errors import Degenerate
from . import approx, operation, real_number, Result, tex
from .derivatives import diff

SOLVE_SECONDS = 2.0                 # time budget of sympy.solve before the numerical method
BOXES = (2.5, 10.0, 50.0)           # half-widths of the nested search boxes
GRID = 401                          # points per side of each box
STARTS = 400                        # Halton starts for three or more variables
DPS = 30


@operation("lagrange_critical_points", kind="point_set", required=("expression", "constraint", "variables"))
def lagrange_critical_points(inp):
    f, g, xs = inp["expression"], inp["constraint"], list(inp["variables"])
    lam = sp.Symbol("lambda", real=True)
    eqs = [diff(f, v) - lam * diff(g, v) for v in xs] + [g]
    steps = [r"\nabla f = \lambda \nabla g:\quad " + r",\ ".join(
        rf"{tex(diff(f, v))} = \lambda ({tex(diff(g, v))})" for v in xs), rf"{tex(g)} = 0"]
    points, why = _closed_form(f, g, xs), ""
    if points is None:
        points, why = _symbolic(eqs, xs, lam, f)
    if points is None:
        points, how = _numerical(f, g, xs)
        steps.append(rf"\text{{{why}; {how}}}")
    if not points:
        raise Degenerate("no real constrained critical point")
    points.sort(key=lambda e: [round(float(sp.N(e["point"][str(v)], 30)), 9) for v in xs])   # to_float: all are real
    for e in points:
        pt = ", ".join(tex(e["point"][str(v)]) for v in xs)
        steps.append(rf"({pt}),\ \lambda = {approx(e['multiplier'])},\ f = {approx(e['value'])}")
    return Result(points, steps)


def _symbolic(eqs, xs, lam, f) -> tuple[list[dict] | None, str]:
    """The real solutions from sympy.solve, or None and the reason when it cannot solve in
    time or its answer cannot be trusted: a solution listed twice is how sympy.solve (1.14)
    shows that it lost others (exp(x*y*z) on x^2 + y^2 + z^2 = 3 gives (0, +-sqrt(3), 0)
    twice and not (0, 0, +-sqrt(3)); sympy issue 20210 shows the same on the unit sphere)."""
    late = f"sympy could not solve the system in {SOLVE_SECONDS:g} s"
    try:
        with time_budget(SOLVE_SECONDS, "sympy.solve") as token:
            sols = sp.solve(eqs, xs + [lam], dict=True)
    except NotImplementedError:
        return None, "sympy cannot solve the system"
    except OutOfTime as exc:
        if exc.token is not token:
            raise
        return None, late
    if len({tuple(sorted(s.items(), key=str)) for s in sols}) < len(sols):
        return None, "sympy.solve listed a solution twice, a sign that it lost others"
    points = []
    for s in sols:
        if set(s) != set(xs + [lam]):
            raise Degenerate("the Lagrange system has a continuum of solutions")
        vals = {v: s[v] for v in xs}
        try:
            points.append({"point": {str(v): _real(vals[v]) for v in xs},
                           "multiplier": _real(s[lam]), "value": _real(f.subs(vals))})
        except Degenerate:
            continue          # complex solution: not a real critical point
    return points, ""


def _real(x) -> sp.Expr:
    """A real solution as a real number: a root sympy writes with ``I`` (the cubic's three
    real roots) becomes its real value to ``DPS`` digits; a complex one is Degenerate."""
    x = real_number(x)
    return sp.Float(sp.re(sp.N(x, DPS)), DPS) if x.has(sp.I) else x


# ---- closed forms for quadratic shapes ----------------------------------------------

def _closed_form(f, g, xs) -> list[dict] | None:
    """The critical points when f and g are quadrics (rational coefficients) of a shape solved
    here and every coordinate, multiplier and value is rational or rational * sqrt(integer);
    None otherwise (also for no real point or a continuum: sympy.solve then says which)."""
    F, G = _quadric(f, xs), _quadric(g, xs)
    if F is None or G is None:
        return None
    for shape in (_on_linear_constraint, _linear_on_central_quadric, _form_on_central_conic):
        sols = shape(F, G)
        if sols is not None:
            return [{"point": {str(v): c for v, c in zip(xs, x)}, "multiplier": lam,
                     "value": f.xreplace(dict(zip(xs, x)))} for x, lam in sols]
    return None


def _quadric(expr, xs) -> tuple | None:
    """(H, b, c) with expr = x^T H x / 2 + b^T x + c, as Fractions; None unless expr is a
    polynomial of degree <= 2 in xs with rational coefficients."""
    try:
        poly = sp.Poly(expr, *xs)
    except BasePolynomialError:         # not a polynomial in xs
        return None
    if poly.domain not in (sp.ZZ, sp.QQ) or poly.total_degree() > 2:
        return None
    n = len(xs)
    H, b, c = [[Fraction(0)] * n for _ in range(n)], [Fraction(0)] * n, Fraction(0)
    for monom, coeff in poly.terms():
        q = Fraction(int(coeff.numerator), int(coeff.denominator))
        at = [i for i, e in enumerate(monom) for _ in range(e)]
        if not at:
            c = q
        elif len(at) == 1:
            b[at[0]] = q
        else:
            i, j = at
            H[i][j] += q
            H[j][i] += q
    return H, b, c


def _solve(M: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction] | None:
    """The solution of M v = rhs by exact Gauss-Jordan elimination; None when M is singular."""
    n = len(M)
    A = [list(row) + [r] for row, r in zip(M, rhs)]
    for k in range(n):
        pivot = next((i for i in range(k, n) if A[i][k] != 0), None)
        if pivot is None:
            return None
        A[k], A[pivot] = A[pivot], A[k]
        for i in range(n):
            if i != k and A[i][k] != 0:
                m = A[i][k] / A[k][k]
                A[i] = [a - m * p for a, p in zip(A[i], A[k])]
    return [A[k][n] / A[k][k] for k in range(n)]


def _dot(u, v) -> Fraction:
    return sum((a * b for a, b in zip(u, v)), Fraction(0))


def _mat_vec(M, v) -> list[Fraction]:
    return [_dot(row, v) for row in M]


def _rational(q: Fraction) -> sp.Rational:
    return sp.Rational(q.numerator, q.denominator)


def _scaled(t2: Fraction, v: list[Fraction]) -> list[list]:
    """The two points +-sqrt(t2) v, exactly."""
    t = sp.sqrt(_rational(t2))
    return [[s * t * _rational(c) for c in v] for s in (1, -1)]


def _on_linear_constraint(F, G) -> list | None:
    """A quadratic f on a hyperplane g: grad f = lambda grad g, g = 0 is one linear system."""
    (Hf, bf, _), (Hg, bg, cg) = F, G
    if any(any(row) for row in Hg) or not any(bg):
        return None
    n = len(bf)
    M = [Hf[i] + [-bg[i]] for i in range(n)] + [bg + [Fraction(0)]]
    sol = _solve(M, [-v for v in bf] + [-cg])
    return None if sol is None else [([_rational(v) for v in sol[:n]], _rational(sol[n]))]


def _linear_on_central_quadric(F, G) -> list | None:
    """A linear f on x^T H x / 2 + c = 0: x = mu H^-1 grad f, mu^2 from the constraint, lambda = 1/mu."""
    (Hf, bf, _), (Hg, bg, cg) = F, G
    if any(any(row) for row in Hf) or not any(bf) or any(bg) or cg == 0:
        return None
    u = _solve(Hg, bf)
    if u is None or _dot(bf, u) == 0:
        return None
    mu2 = -2 * cg / _dot(bf, u)
    if mu2 <= 0:
        return None
    return [(x, s / sp.sqrt(_rational(mu2))) for x, s in zip(_scaled(mu2, u), (1, -1))]


def _form_on_central_conic(F, G) -> list | None:
    """A quadratic form f (two variables) on x^T Q x / 2 + c = 0: (P - lambda Q) x = 0, so the
    multipliers are the roots of det(P - lambda Q), here two distinct rationals, and the points
    the null vectors scaled to the conic."""
    (P, bf, _), (Q, bg, cg) = F, G
    if len(P) != 2 or any(bf) or any(bg) or cg == 0:
        return None
    a2 = Q[0][0] * Q[1][1] - Q[0][1] * Q[1][0]
    a1 = -(P[0][0] * Q[1][1] + P[1][1] * Q[0][0] - P[0][1] * Q[1][0] - P[1][0] * Q[0][1])
    a0 = P[0][0] * P[1][1] - P[0][1] * P[1][0]
    root = _rational_sqrt(a1 * a1 - 4 * a2 * a0)
    if a2 == 0 or root is None or root == 0:          # not two distinct rational multipliers
        return None
    sols = []
    for lam in ((-a1 - root) / (2 * a2), (-a1 + root) / (2 * a2)):
        row = max(([P[i][0] - lam * Q[i][0], P[i][1] - lam * Q[i][1]] for i in range(2)),
                  key=lambda r: abs(r[0]) + abs(r[1]))
        v = [-row[1], row[0]]
        vQv = _dot(v, _mat_vec(Q, v))
        if vQv == 0 or -2 * cg / vQv <= 0:
            return None
        sols += [(x, _rational(lam)) for x in _scaled(-2 * cg / vQv, v)]
    return sols


def _rational_sqrt(q: Fraction) -> Fraction | None:
    """The rational square root of q >= 0, None when q < 0 or not a rational square."""
    if q < 0:
        return None
    num, den = isqrt(q.numerator), isqrt(q.denominator)
    return Fraction(num, den) if num * num == q.numerator and den * den == q.denominator else None


# ---- the numerical method ------------------------------------------------------------

def _numerical(f, g, xs) -> tuple[list[dict], str]:
    if len(xs) == 2:
        roots = _curve_intersections(f, g, xs)
        how = ("points found numerically where "
               f"g = 0 meets the curve of parallel gradients (|x|, |y| <= {BOXES[-1]:g}), refined by Newton's method")
    else:
        roots = _deflated_newton(f, g, xs)
        how = ("points found numerically by "
               f"deflated Newton's method from {STARTS} starts")
    points = [_entry(f, g, xs, r) for r in roots]
    return [p for p in points if p is not None], how


def _np(expr, xs):
    fn = sp.lambdify(xs, expr, modules="numpy")

    def call(*arrays):
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(fn(*arrays), dtype=float), np.shape(arrays[0]))
    return call


def _curve_intersections(f, g, xs) -> list[list]:
    """Roots of (g, h) from sign changes on nested grids, polished at 30 digits."""
    fx, fy, gx, gy = (diff(e, v) for e in (f, g) for v in xs)
    cross = fx * gy - fy * gx
    h = cross / (sp.sqrt(fx ** 2 + fy ** 2) * sp.sqrt(gx ** 2 + gy ** 2))
    gn, hn, crossn = _np(g, xs), _np(h, xs), _np(cross, xs)
    system = [g, cross]
    lam = sp.Symbol("lambda", real=True)
    lagrange = [fx - lam * gx, fy - lam * gy, g]       # regular also where grad f = 0 (lambda = 0)
    multiplier = sp.lambdify(xs, (fx * gx + fy * gy) / (gx ** 2 + gy ** 2), modules="mpmath")
    roots: list[list] = []
    for box in BOXES:
        t = np.linspace(-box, box, GRID)
        X, Y = np.meshgrid(t, t)
        G, H = gn(X, Y), hn(X, Y)
        H = np.where(np.isfinite(H), H, crossn(X, Y))    # 0/0 where grad f = 0: the cross product's sign
        cell = 2 * box / (GRID - 1)
        for i, j in zip(*np.nonzero(_changes(G) & _changes(H))):
            start = [float(X[i, j] + X[i, j + 1]) / 2, float(Y[i, j] + Y[i + 1, j]) / 2]
            if any(max(abs(float(r[0]) - start[0]), abs(float(r[1]) - start[1])) < 3 * cell for r in roots):
                continue
            root = _polish(system, xs, start)
            if root is None:              # (g, cross) is singular where grad f = 0: the full system
                root = _polish(lagrange, xs + [lam], start + [_lambda_at(multiplier, start)])
                root = root and root[:-1]
            if root is not None and not any(_same(root, r) for r in roots):
                roots.append(root)
    return roots


def _lambda_at(multiplier, start) -> float:
    """The least-squares multiplier (grad f . grad g) / |grad g|^2 at a start, 0 if undefined."""
    try:
        return float(multiplier(*start))
    except (ZeroDivisionError, ValueError, TypeError):
        return 0.0


def _changes(A: np.ndarray) -> np.ndarray:
    """Cells (i, j)..(i+1, j+1) of a grid where the finite values of A change sign."""
    corners = np.stack([A[:-1, :-1], A[1:, :-1], A[:-1, 1:], A[1:, 1:]])
    finite = np.isfinite(corners).all(axis=0)
    with np.errstate(invalid="ignore"):
        return finite & (corners.min(axis=0) <= 0) & (corners.max(axis=0) >= 0)


def _polish(system, xs, start) -> list | None:
    """Newton's method with the exact Jacobian at 30 digits; None when it does not converge."""
    F = sp.lambdify(xs, system, modules="mpmath")
    J = sp.lambdify(xs, [[diff(e, v) for v in xs] for e in system], modules="mpmath")
    with mp.workdps(DPS):
        try:
            root = mp.findroot(lambda *v: F(*v), [mp.mpf(s) for s in start],
                               J=lambda *v: J(*v), tol=mp.mpf(10) ** -25, maxsteps=50)
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            return None
        root = [mp.re(v) for v in (root if len(start) > 1 else [root])]
        if max(abs(mp.mpmathify(r)) for r in F(*root)) > mp.mpf(10) ** -20:
            return None
    return root


def _same(a, b) -> bool:
    return max(abs(p - q) for p, q in zip(a, b)) < 1e-8 * (1 + max(abs(p) for p in a))


def _deflated_newton(f, g, xs) -> list[list]:
    """Roots of the full system (x, lambda) from Halton starts in float64, each found root
    deflated (divided out) so that later runs converge to new ones; then polished at 30 digits."""
    lam = sp.Symbol("lambda", real=True)
    unknowns = xs + [lam]
    system = [diff(f, v) - lam * diff(g, v) for v in xs] + [g]
    jac = [[diff(e, v) for v in unknowns] for e in system]
    F, J = sp.lambdify(unknowns, system, modules="numpy"), sp.lambdify(unknowns, jac, modules="numpy")
    found: list[np.ndarray] = []
    for start in _halton(STARTS, len(unknowns)):
        root = _deflated_run(F, J, np.array([4.0 * s - 2.0 for s in start]), found)
        if root is not None and not any(np.allclose(root, r, rtol=1e-7, atol=1e-7) for r in found):
            found.append(root)
    roots: list[list] = []
    for r in found:
        polished = _polish(system, unknowns, [float(v) for v in r])
        if polished is not None and not any(_same(polished, q) for q in roots):
            roots.append(polished)
    return [r[:-1] for r in roots]


def _deflated_run(F, J, v: np.ndarray, roots: list[np.ndarray]) -> np.ndarray | None:
    """Newton's method on m(v) F(v), m = prod 1/|v - r|^2 over the known roots r."""
    with np.errstate(all="ignore"):
        for _ in range(60):
            Fv = np.asarray(F(*v), dtype=float)
            Jv = np.asarray(J(*v), dtype=float)
            grad_log_m = np.zeros_like(v)
            for r in roots:
                d = v - r
                grad_log_m -= 2 * d / d.dot(d)
            A = Jv + np.outer(Fv, grad_log_m)       # (m F)' / m = J + F (grad log m)^T
            if not (np.isfinite(A).all() and np.isfinite(Fv).all()):
                return None
            try:
                step = np.linalg.solve(A, -Fv)
            except np.linalg.LinAlgError:
                return None
            v = v + step
            if np.linalg.norm(step) < 1e-13 * (1 + np.linalg.norm(v)):
                break
            if np.linalg.norm(v) > 1e6:
                return None
        Fv = np.asarray(F(*v), dtype=float)
    return v if np.isfinite(Fv).all() and np.abs(Fv).max() < 1e-9 else None


def _halton(n: int, dim: int) -> list[list[float]]:
    primes = [2, 3, 5, 7, 11, 13, 17, 19][:dim]

    def radical(k, base):
        out, f = 0.0, 1.0 / base
        while k:
            out += f * (k % base)
            k //= base
            f /= base
        return out
    return [[radical(k, p) for p in primes] for k in range(1, n + 1)]


def _entry(f, g, xs, root) -> dict | None:
    """A point with its multiplier (from the larger component of grad g) and value."""
    at = {v: sp.Float(mp.nstr(r, DPS), DPS) if abs(r) > 1e-20 else sp.Integer(0) for v, r in zip(xs, root)}
    grad_f = [diff(f, v).xreplace(at).evalf(DPS) for v in xs]
    grad_g = [diff(g, v).xreplace(at).evalf(DPS) for v in xs]
    k = max(range(len(xs)), key=lambda i: abs(grad_g[i]))
    if abs(grad_g[k]) < 1e-12:
        return None                   # grad g = 0: the constraint is singular there
    try:
        return {"point": {str(v): real_number(at[v]) for v in xs},
                "multiplier": real_number(grad_f[k] / grad_g[k]), "value": real_number(f.xreplace(at).evalf(DPS))}
    except Degenerate:
        return None
