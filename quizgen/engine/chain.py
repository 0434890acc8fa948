"""The multivariate chain rule through intermediate variables."""

from __future__ import annotations

import sympy as sp

from . import approx, maybe_at, operation, point_tex, Result, tex
from .derivatives import diff


def _d(top: str, bottom, partial: bool) -> str:
    d = r"\partial " if partial else "d"
    return rf"\frac{{{d}{top}}}{{{d}{tex(bottom)}}}"


@operation("chain_rule", kind="number", required=("expression", "substitutions"),
           optional=("variable", "variables", "at"))
def chain_rule(inp):
    """df/dt = sum_i (df/du_i)(du_i/dt) (+ df/dt when f also depends on t directly)."""
    f, subs, at = inp["expression"], dict(inp["substitutions"]), inp.get("at")
    outer = list(inp.get("variables") or [inp["variable"]])
    several = len(outer) > 1 or "variables" in inp
    inner = list(subs)
    df = [diff(f, u) for u in inner]
    steps = [rf"{_d('f', u, True)} = {tex(d)}" for u, d in zip(inner, df)]
    totals = []
    for t in outer:
        du = [diff(subs[u], t) for u in inner]
        steps += [rf"{_d(tex(u), t, several)} = {tex(d)}" for u, d in zip(inner, du)]
        terms = [rf"{_d('f', u, True)}{_d(tex(u), t, several)}" for u in inner]
        total = sum((a * b for a, b in zip(df, du)), sp.Integer(0))
        if t in f.free_symbols and t not in inner:          # f depends on t directly too
            total += diff(f, t)
            terms.append(_d("f", t, True))
        total = total.subs(subs)
        lhs = _d("f", t, several)
        steps.append(rf"{lhs} = " + " + ".join(terms))
        totals.append(maybe_at(total, at))
        if at:
            steps.append(rf"{lhs}\Big|_{{{point_tex(at)}}} = {approx(totals[-1])}")
        else:
            steps.append(rf"{lhs} = {tex(totals[-1])}")
    return Result(totals if several else totals[0], steps)
