"""The multivariate chain rule through intermediate variables."""

from __future__ import annotations

import sympy as sp

from . import approx, maybe_at, operation, point_tex, Result, tex


@operation("chain_rule", kind="number", required=("expression", "substitutions"),
           optional=("variable", "variables", "at"))
def chain_rule(inp):
    f, subs, at = inp["expression"], dict(inp["substitutions"]), inp.get("at")
    outer = list(inp.get("variables") or [inp["variable"]])
    inner = list(subs)
    df = [sp.diff(f, u) for u in inner]
    composed = {u: e for u, e in subs.items()}
    steps = []
    for u, d in zip(inner, df):
        steps.append(rf"\frac{{\partial f}}{{\partial {tex(u)}}} = {tex(d)}")
    totals = []
    for t in outer:
        du = [sp.diff(subs[u], t) for u in inner]
        for u, d in zip(inner, du):
            steps.append(rf"\frac{{\partial {tex(u)}}}{{\partial {tex(t)}}} = {tex(d)}")
        total = sum((a.subs(composed) * b for a, b in zip(df, du)), sp.Integer(0))
        terms = " + ".join(rf"\frac{{\partial f}}{{\partial {tex(u)}}}\frac{{\partial {tex(u)}}}"
                           rf"{{\partial {tex(t)}}}" for u in inner)
        steps.append(rf"\frac{{d f}}{{d {tex(t)}}} = {terms}")
        totals.append(maybe_at(total, at))
        if at:
            steps.append(rf"\frac{{d f}}{{d {tex(t)}}}\Big|_{{{point_tex(at)}}} = {approx(totals[-1])}")
        else:
            steps.append(rf"\frac{{d f}}{{d {tex(t)}}} = {tex(totals[-1])}")
    return Result(totals[0] if len(outer) == 1 and "variables" not in inp else totals, steps)
