"""Optimisation: Newton-Raphson, gradient descent, Newton with the Hessian (Lagrange: ``lagrange``).

Iterations run in mpmath at ``DPS`` digits on functions compiled once from the sympy
derivatives (``lambdify`` of the engine's own expression trees, never of template
text), so hundreds of steps cost milliseconds. An iteration *diverges* when an iterate
is not finite, exceeds ``LIMIT``, or grows by a factor of at least 2 for ``GROWING``
steps in a row up to a large size; a large ``f`` on the way is fine (Newton may travel
far from a turning point and come back).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import mpmath as mp
import sympy as sp

from ..errors import Degenerate
from . import approx, elided_steps, operation, real_number, Result, tex
from .derivatives import diff, gradient as gradient_of, hessian as hessian_of

DPS = 30
LIMIT = mp.mpf(10) ** 60          # an iterate beyond this has overflowed for any purpose
GROWING = 5                       # steps of doubling in a row (and beyond 1e6) = growing without bound


def _at_dps(fn):
    """Run ``fn`` at ``DPS`` digits whatever mpmath's global precision is (results must not
    depend on what else the process has imported or run)."""
    import functools

    @functools.wraps(fn)
    def run(inp):
        with mp.workdps(DPS):
            return fn(inp)
    return run


def _float(x) -> sp.Float:
    return sp.N(real_number(x), DPS)


def _point(start, xs) -> list:
    if isinstance(start, dict):
        return [start[v] for v in xs]
    return list(start) if isinstance(start, (list, tuple)) else [start]


def compiled(exprs, xs):
    """mpmath functions of ``xs`` for sympy ``exprs`` (a list), compiled once."""
    fn = _lambdified(tuple(exprs), tuple(xs))

    def call(*values):
        with mp.workdps(DPS):
            out = fn(*values)
        return [_real(v) for v in out]
    return call


@lru_cache(maxsize=256)
def _lambdified(exprs: tuple, xs: tuple):
    """``lambdify`` of exactly these expressions: the engine and the misconceptions of one
    variant compile the same derivatives (Newton's f and f', a gradient) several times."""
    return sp.lambdify(list(xs), list(exprs), modules="mpmath", docstring_limit=0)


def _real(v):
    v = mp.mpmathify(v)
    if isinstance(v, mp.mpc):
        if abs(v.imag) > mp.mpf(10) ** (-20) * max(1, abs(v.real)):
            raise Degenerate("the iteration reaches a point where the function has no real value")
        v = v.real
    if not mp.isfinite(v):
        raise Degenerate("the iteration reaches a point where the function is not finite")
    return v


class _Watch:
    """Divergence detection over the sizes of successive iterates."""

    def __init__(self, what: str):
        self.what, self.sizes = what, []

    def see(self, k: int, size) -> None:
        if not mp.isfinite(size) or size > LIMIT:
            raise Degenerate(f"{self.what} diverges: the iterates grow without bound (|x_{k}| > 1e60)")
        self.sizes.append(size)
        last = self.sizes[-(GROWING + 1):]
        if len(last) == GROWING + 1 and last[-1] > 1e6 and all(b >= 2 * a for a, b in zip(last, last[1:])):
            raise Degenerate(f"{self.what} diverges: the iterates grow without bound "
                             f"(|x_{k}| = {mp.nstr(size, 3)}, doubling or more at each step)")


def _sf(v) -> sp.Float:
    return sp.Float(mp.nstr(v, DPS, strip_zeros=False), DPS)


@operation("newton_raphson", kind="number", required=("expression", "variable", "start", "steps"))
@_at_dps
def newton_raphson(inp):
    f, x, n = inp["expression"], inp["variable"], _count(inp["steps"])
    df = diff(f, x)
    both = compiled([f, df], [x])
    xn = mp.mpf(str(_float(_point(inp["start"], [x])[0])))
    watch, seen = _Watch("Newton-Raphson"), []
    with mp.workdps(DPS):
        for k in range(n):
            fx, dfx = both(xn)
            if dfx == 0:
                raise Degenerate(f"f'(x_{k}) = 0 at x_{k} = {mp.nstr(xn, 6)}: the Newton step is undefined")
            nxt = xn - fx / dfx
            watch.see(k + 1, abs(nxt))
            seen.append((xn, fx, dfx, nxt))
            xn = nxt

    def line(k):
        x0, fx, dfx, x1 = seen[k]
        return (rf"x_{{{k + 1}}} = x_{{{k}}} - \frac{{f(x_{{{k}}})}}{{f'(x_{{{k}}})}} = {approx(_sf(x0))} - "
                rf"\frac{{{approx(_sf(fx))}}}{{{approx(_sf(dfx))}}} = {approx(_sf(x1))}")
    steps = [rf"f'({tex(x)}) = {tex(df)}", rf"x_0 = {approx(_float(_point(inp['start'], [x])[0]))}"]
    return Result(_sf(xn), steps + elided_steps(n, line))


def _count(steps) -> int:
    n = sp.sympify(steps)
    if not (n.is_integer and n >= 0):
        raise ValueError(f"steps must be a whole number of steps, not {steps}")
    return int(n)


def _rate(rate) -> mp.mpf:
    value = mp.mpf(str(_float(rate)))
    if value <= 0:
        raise ValueError(f"the learning rate must be positive, not {mp.nstr(value, 6)}")
    return value


@operation("gradient_descent", kind="vector", required=("expression", "variables", "start", "learning_rate", "steps"))
@_at_dps
def gradient_descent(inp):
    f, xs, n = inp["expression"], list(inp["variables"]), _count(inp["steps"])
    grad = gradient_of(f, xs)
    g_at = compiled(grad, xs)
    rate = mp.mpf(str(_float(inp["learning_rate"])))       # a negative rate is gradient ascent (a misconception)
    p = [mp.mpf(str(_float(v))) for v in _point(inp["start"], xs)]
    steps = [rf"\nabla f = {tex(grad)}", rf"\mathbf{{x}}_0 = {tex([_sf(v) for v in p])}"]
    watch, seen = _Watch("gradient descent"), []
    with mp.workdps(DPS):
        for k in range(n):
            g = g_at(*p)
            p = [pi - rate * gi for pi, gi in zip(p, g)]
            watch.see(k + 1, max(abs(v) for v in p))
            seen.append(p)
    line = _iterate_line(r"\gamma \nabla f", seen)
    return Result([_sf(v) for v in p], steps + elided_steps(n, line))


@operation("newton_optimise", kind="vector", required=("expression", "variables", "start", "steps"))
@_at_dps
def newton_optimise(inp):
    f, xs, n = inp["expression"], list(inp["variables"]), _count(inp["steps"])
    grad = sp.Matrix(gradient_of(f, xs))
    hess = hessian_of(f, xs)
    m = len(xs)
    parts = compiled(list(grad) + list(hess), xs)
    p = [mp.mpf(str(_float(v))) for v in _point(inp["start"], xs)]
    steps = [rf"\nabla f = {tex(grad)},\quad H = {tex(hess)}", rf"\mathbf{{x}}_0 = {tex([_sf(v) for v in p])}"]
    watch, seen = _Watch("Newton's method"), []
    with mp.workdps(DPS):
        for k in range(n):
            values = parts(*p)
            g, H = mp.matrix(values[:m]), mp.matrix(m, m)
            for i in range(m):
                for j in range(m):
                    H[i, j] = values[m + i * m + j]
            if abs(mp.det(H)) < mp.mpf("1e-9"):
                raise Degenerate(f"singular Hessian at x_{k}: Newton's step is undefined")
            p = list(mp.matrix(p) - mp.lu_solve(H, g))
            watch.see(k + 1, max(abs(v) for v in p))
            seen.append(p)
    line = _iterate_line(r"H^{-1}\nabla f", seen)
    return Result([_sf(v) for v in p], steps + elided_steps(n, line))


def _iterate_line(update: str, seen: list) -> Callable[[int], str]:
    """Step ``k`` of a vector iteration ``x_{k+1} = x_k - update(x_k)``, from the recorded iterates."""
    def line(k: int) -> str:
        return (rf"\mathbf{{x}}_{{{k + 1}}} = \mathbf{{x}}_{{{k}}} - {update}(\mathbf{{x}}_{{{k}}}) = "
                rf"{approx([_sf(v) for v in seen[k]])}")
    return line
