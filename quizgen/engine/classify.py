"""Categorical answers: what f'' or the Hessian says about a point, which model fits better.

A categorical operation's value is one label of a list returned in ``Result.labels``
(fixed words, or the model names given), so that every exporter can offer the list as
choices (answer kind ``label``). A curvature too close to 0 to trust its sign, or two
models too close to call, is degenerate (the variant is resampled). ``jacobian_size``
answers "what is its size?" with two numbers, rows and columns.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import sympy as sp

from ..errors import Degenerate
from . import approx, at_point, defined_at, operation, Result, tex, tex_col
from .derivatives import diff, gradient as gradient_of, hessian as hessian_of
from .regression import _arrays, _compiled, _finite, _xsym

CONCAVE_UP, CONCAVE_DOWN, INCONCLUSIVE = "concave up", "concave down", "test inconclusive"
CONCAVITY_LABELS = (CONCAVE_UP, CONCAVE_DOWN, INCONCLUSIVE)
MINIMUM, MAXIMUM, SADDLE = "local minimum", "local maximum", "saddle point"
STATIONARY_LABELS = (MINIMUM, MAXIMUM, SADDLE, INCONCLUSIVE)
ONE_VARIABLE_LABELS = (MINIMUM, MAXIMUM, INCONCLUSIVE)    # no saddle on a curve

ZERO = 1e-7          # |value| below ZERO * scale, yet not exactly 0: its sign is not trustworthy
STATIONARY = 1e-12   # a gradient entry this small (relative) is rounding noise of an exact 0


def sign(value: sp.Expr, scale: float = 1.0) -> int:
    """-1, 0 or 1: the sign of a number, 0 only when it is exactly zero."""
    if value == 0 or value.is_zero:
        return 0
    v = float(sp.N(value, 30))
    if abs(v) < ZERO * (1.0 + abs(scale)):
        raise Degenerate(f"{v:.3g} is too close to 0 to tell its sign")
    return 1 if v > 0 else -1


def _relation(s: int) -> str:
    """What follows a value shown: its sign (a 0 speaks for itself)."""
    return {1: " > 0", -1: " < 0", 0: ""}[s]


def _coords(at: dict) -> str:
    return ", ".join(tex(v) for v in at.values())


def _point_shown(at: dict) -> str:
    """``x = 1`` for one variable, ``(1, 2)`` for several."""
    return ", ".join(f"{tex(k)} = {tex(v)}" for k, v in at.items()) if len(at) == 1 else f"({_coords(at)})"


@operation("concavity", kind="label", required=("expression", "variable", "at"))
def concavity(inp):
    """Concave up / down at ``at`` from the sign of f''; f'' = 0 there is inconclusive."""
    f, x, at = inp["expression"], inp["variable"], inp["at"]
    defined_at(f, at)
    d2 = diff(f, x, x)
    value = at_point(d2, at)
    s = sign(value, float(sp.N(f.xreplace(at), 20)))
    label = {1: CONCAVE_UP, -1: CONCAVE_DOWN, 0: INCONCLUSIVE}[s]
    what = {1: r"\text{so } f \text{ is concave up at } ",
            -1: r"\text{so } f \text{ is concave down at } ",
            0: r"\text{so } f'' \text{ alone does not decide the concavity at } "}[s]
    steps = [rf"f''({tex(x)}) = {tex(d2)}",
             rf"f''({_coords(at)}) = {approx(value)}{_relation(s)},\quad {what}{_point_shown(at)}"]
    return Result(label, steps, labels=list(CONCAVITY_LABELS))


@operation("classify_stationary_point", kind="label", required=("expression", "variables", "at"))
def classify_stationary_point(inp):
    """Local minimum / maximum / saddle point / inconclusive at a stationary point, from
    f'' (one variable), det H and H11 (two) or the eigenvalues of H (more)."""
    f, xs, at = inp["expression"], list(inp["variables"]), inp["at"]
    defined_at(f, at)
    steps = _stationary_steps(f, xs, at)
    rows = hessian_of(f, xs).tolist()
    H = sp.Matrix([[at_point(c, at) for c in row] for row in rows])
    if len(xs) == 1:
        steps.append(rf"f''({tex(xs[0])}) = {tex(rows[0][0])}")
        label, line = _by_second_derivative(H[0, 0], at)
    else:
        steps.append(rf"H({_coords(at)}) = {approx(H.tolist())}")
        label, line = (_by_determinant if len(xs) == 2 else _by_eigenvalues)(H, at)
    steps.append(line)
    return Result(label, steps, labels=list(ONE_VARIABLE_LABELS if len(xs) == 1 else STATIONARY_LABELS))


def _stationary_steps(f, xs, at) -> list[str]:
    """The gradient and its value at the point, which must be the zero vector."""
    g = gradient_of(f, xs)
    values = [at_point(c, at) for c in g]
    scale = max([1.0] + [abs(float(sp.N(c, 20))) for c in values])
    if any(c != 0 and abs(float(sp.N(c, 30))) > STATIONARY * scale for c in values):
        raise ValueError(f"({', '.join(str(v) for v in at.values())}) is not a stationary point: the gradient "
                         f"there is ({', '.join(str(v) for v in values)}), not 0; give a point where grad f = 0")
    if len(xs) == 1:
        return [rf"f'({tex(xs[0])}) = {tex(g[0])},\quad f'({_coords(at)}) = 0 \text{{: a stationary point}}"]
    return [rf"\nabla f = {tex_col(g)},\quad \nabla f({_coords(at)}) = \mathbf{{0}}"
            r"\text{: a stationary point}"]


def _verdict(label: str, at: dict) -> str:
    if label == INCONCLUSIVE:
        return r"\text{the second-derivative test is inconclusive at } " + _point_shown(at)
    return rf"\text{{so }} {_point_shown(at)} \text{{ is a {label}}}"


def _by_second_derivative(d2, at) -> tuple[str, str]:
    s = sign(d2)
    label = {1: MINIMUM, -1: MAXIMUM, 0: INCONCLUSIVE}[s]
    return label, rf"f''({_coords(at)}) = {approx(d2)}{_relation(s)},\quad {_verdict(label, at)}"


def _by_determinant(H, at) -> tuple[str, str]:
    """det H < 0 saddle; det H > 0 min or max by the sign of H11; det H = 0 inconclusive."""
    scale = max(abs(float(sp.N(c, 20))) for c in H) ** 2
    det = sp.expand(H.det())
    s = sign(det, scale)
    line = rf"\det H = {approx(det)}{_relation(s)}"
    if s < 0:
        return SADDLE, line + r"\text{: eigenvalues of opposite signs, }" + _verdict(SADDLE, at)
    if s == 0:
        return INCONCLUSIVE, line + r"\text{: an eigenvalue is 0, }" + _verdict(INCONCLUSIVE, at)
    s11 = sign(H[0, 0])
    label = MINIMUM if s11 > 0 else MAXIMUM
    both = "positive" if s11 > 0 else "negative"
    return label, (line + rf",\quad H_{{11}} = {approx(H[0, 0])}{_relation(s11)}"
                   rf"\text{{: both eigenvalues {both}, }}" + _verdict(label, at))


def _by_eigenvalues(H, at) -> tuple[str, str]:
    """The signs of the eigenvalues of the symmetric matrix H (30 digits, mpmath)."""
    if all(c.is_Rational for c in H) and H.det() == 0:
        return INCONCLUSIVE, r"\det H = 0\text{: an eigenvalue is 0, }" + _verdict(INCONCLUSIVE, at)
    scale = max(abs(float(sp.N(c, 20))) for c in H)
    with mp.workdps(30):
        eig = [sp.Float(str(v), 30) for v in sorted(mp.eigsy(
            mp.matrix([[mp.mpf(str(sp.N(c, 30))) for c in row] for row in H.tolist()]), eigvals_only=True))]
    signs = [sign(v, scale) for v in eig]
    if 0 in signs:
        label = INCONCLUSIVE
    elif all(s > 0 for s in signs):
        label = MINIMUM
    elif all(s < 0 for s in signs):
        label = MAXIMUM
    else:
        label = SADDLE
    reason = {MINIMUM: "all positive", MAXIMUM: "all negative", SADDLE: "of both signs",
              INCONCLUSIVE: "one is 0"}[label]
    return label, (r"\text{eigenvalues of } H\text{: } " + ", ".join(approx(v) for v in eig)
                   + rf"\text{{ ({reason}): }}" + _verdict(label, at))


@operation("jacobian_size", kind="named", required=("expressions", "variables"))
def jacobian_size(inp):
    """{rows, columns} of the Jacobian: one row per component, one column per variable."""
    m, n = len(inp["expressions"]), len(inp["variables"])
    steps = [rf"\mathbf{{f}} \text{{ has }} {m} \text{{ components (the rows of }} J \text{{) and }} {n}"
             rf"\text{{ input variables (its columns), so }} J \text{{ is a }} {m} \times {n} \text{{ matrix}}"]
    return Result({"rows": sp.Integer(m), "columns": sp.Integer(n)}, steps)


CLOSE_FITS = 0.01     # chi-squared values within 1 % (or 0.01) of each other: neither model is better


@operation("best_model", kind="label", required=("models", "x", "y"), optional=("sigma",))
def best_model(inp):
    """The name of the model (an expression in x) with the smallest chi-squared on the data."""
    models = dict(inp["models"])
    if len(models) < 2:
        raise ValueError("models needs at least two {name: expression in x} entries to compare")
    x, y, s = _arrays(inp)
    chi2 = {}
    for name, model in models.items():
        (m,) = _compiled((model,), (_xsym(model),))(x)
        chi2[name] = float(np.sum((_finite(y - m, f"model {name}") / s) ** 2))
    ranked = sorted(chi2, key=chi2.get)
    low, next_ = chi2[ranked[0]], chi2[ranked[1]]
    if next_ - low < CLOSE_FITS * max(1.0, low):
        raise Degenerate(f"chi-squared of {ranked[0]} and {ranked[1]} are too close ({low:.4g}, {next_:.4g}) "
                         "to call one model better")
    steps = [rf"\text{{{name}: }} y(x) = {tex(model)},\quad \chi^2 = \sum_i \left(\frac{{y_i - y(x_i)}}{{\sigma_i}}\right)^2"
             rf" = {approx(sp.Float(chi2[name], 15))}" for name, model in models.items()]
    steps.append(rf"\text{{the smallest }} \chi^2 \text{{ is that of {ranked[0]}: it describes the data better}}")
    return Result(ranked[0], steps, labels=list(models))
