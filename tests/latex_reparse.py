"""Read displayed TeX back into sympy (sympy's ANTLR LaTeX parser), for tests that check
that what a key shows is the mathematics the engine computed."""

from __future__ import annotations

import math
import random
import re

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.parsing.latex import parse_latex

# Members naming things rather than expressions (the left of "f'(x) = ..."): not parsed.
_NAMES = (r"\text", r"\vdots", r"\mathbf", r"\nabla", r"\Big", r"\top", r"\partial", "T_", r"\sum",
          r"\lambda", r"\sigma", r"\mathcal", "c_", "^{(", "'", r"\boldsymbol", r"\delta", r"\chi",
          r"\odot", r"\lVert")
SEGMENTS = (r",\quad", r"\qquad", r"\quad", r",\ ", r",\;", r",\,")
RELATIONS = ("=", r"\approx")


def split_top(s: str, seps) -> list[str]:
    """``s`` split at each separator that is outside braces and brackets."""
    out, cur, depth, i = [], "", 0, 0
    while i < len(s):
        ch = s[i]
        depth += ch in "{([" and 1 or 0
        depth -= ch in "})]" and 1 or 0
        sep = next((p for p in seps if s.startswith(p, i)), None) if depth == 0 else None
        if sep:
            out.append(cur.strip())
            cur, i = "", i + len(sep)
        else:
            cur, i = cur + ch, i + 1
    out.append(cur.strip())
    return out


def chains(line: str) -> list[list[str]]:
    """A step line as its chains of members: ``a = b \\approx c,\\quad d = e`` -> [[a, b, c], [d, e]]."""
    return [split_top(seg, RELATIONS) for seg in split_top(line, SEGMENTS) if seg]


def parse(tex: str):
    """The sympy expression (or Matrix) a TeX member shows, or None when it names something."""
    tex = tex.strip().rstrip(".,").strip()
    m = re.fullmatch(r"\\begin\{pmatrix\}(.*)\\end\{pmatrix\}", tex, re.S)
    if m:
        rows = [split_top(r, ["&"]) for r in split_top(m.group(1), [r"\\"])]
        cells = [[parse(c) for c in row] for row in rows]
        if len({len(r) for r in rows}) != 1 or any(c is None for row in cells for c in row):
            return None
        return sp.Matrix(cells)
    if not tex or any(k in tex for k in _NAMES) or r"\begin" in tex:
        return None
    # sympy prints a product x (2 x - 1) with \left( after the letter; a function call never
    # (sin{\left(x\right)}, f(a + h)): without the \cdot the parser reads x(...) as a call
    tex = re.sub(r"([A-Za-z0-9}])\s*\\left\(", r"\1 \\cdot \\left(", tex)
    for a, b in ((r"\left(", "("), (r"\right)", ")"), (r"\left[", "["), (r"\right]", "]"),
                 (r"\tfrac", r"\frac"), (r"\dfrac", r"\frac"), (r"\,", " ")):
        tex = tex.replace(a, b)
    try:
        expr = parse_latex(tex, backend="antlr")
    except Exception:                                  # noqa: BLE001 - the parser raises many kinds
        return None
    if not isinstance(expr, sp.Expr):                  # 12 > 0: a relation, not a value
        return None
    if expr.atoms(AppliedUndef):                       # f(2.2): names a value, not an expression
        return None
    return expr.subs(sp.Symbol("e"), sp.E)


def point(tex: str) -> dict[str, sp.Expr] | None:
    """``x = 1, y = -2`` as {name: value}."""
    out = {}
    for part in split_top(tex, [","]):
        name, _, value = part.partition("=")
        v = parse(value)
        if v is None or not name.strip().isalpha():
            return None
        out[name.strip()] = v
    return out


def agree(a, b, names: set[str], tol: float = 1e-3) -> bool | None:
    """Whether ``a`` and ``b`` (expressions or matrices in the variables ``names``) are equal at
    random points, to the rounding of displayed decimals; None when no point gives both a real
    value (sqrt(-2 x - 3) near 0 and 1 is complex: points from 0.3 to 5 of either sign are tried)."""
    if isinstance(a, sp.MatrixBase) or isinstance(b, sp.MatrixBase):
        a, b = sp.Matrix(a), sp.Matrix(b)
        if a.shape != b.shape:
            return False
        found = [agree(x, y, names, tol) for x, y in zip(a, b)]
        return False if False in found else None if None in found else True
    rng = random.Random(7)
    tried = 0
    for i in range(24):
        scale = 1.0 if i < 12 else 4.0
        at = {n: scale * rng.uniform(0.3, 1.25) * rng.choice((1, -1)) for n in sorted(names)}
        va, vb = _value(a, at), _value(b, at)
        if va is None or vb is None:
            continue
        tried += 1
        if abs(va - vb) > tol * (1 + abs(va) + abs(vb)):
            return False
        if tried == 6:
            break
    return True if tried else None


def _value(e, at: dict) -> float | None:
    subs = {s: at[s.name] for s in e.free_symbols if s.name in at}
    try:
        v = complex(sp.N(e.xreplace(subs)))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if abs(v.imag) > 1e-9 * (1 + abs(v.real)) or not math.isfinite(v.real):
        return None
    return v.real


def names_in(e) -> set[str]:
    return {s.name for s in sp.sympify(e).free_symbols}
