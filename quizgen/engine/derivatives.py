"""Symbolic derivatives computed once per expression *shape*, not once per variant.

Every variant of a template has the same expression with other numbers in it:
``3*x**2 - 5*sin(2*x)`` and ``7*x**2 - 4*sin(3*x)`` share the shape
``#0*x**2 + #1*sin(#2*x)``. :func:`diff` replaces each number of an expression by a
placeholder symbol, differentiates that shape once (cached for the process), and puts
the variant's numbers back into the cached derivative. The placeholders are real
symbols, so the shape's derivative is valid for every real value put back.

The result is a function of the expression alone (the cache changes only the time),
so output stays byte-identical whatever was generated before.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache

import sympy as sp

_PLACEHOLDERS: list[sp.Symbol] = []
_stats = {"calls": 0}
_enabled = [True]


def _placeholder(i: int) -> sp.Symbol:
    while len(_PLACEHOLDERS) <= i:      # "#k" can never be a template name (not an identifier)
        _PLACEHOLDERS.append(sp.Symbol(f"#{len(_PLACEHOLDERS)}", real=True))
    return _PLACEHOLDERS[i]


def _is_number(node) -> bool:
    return isinstance(node, (sp.Rational, sp.Float))


def _order_key(node) -> str:
    """A form of ``node`` without its numbers (exponents aside) and coefficients.

    Terms are placed in this order, so ``3*sin(x) + 2*cos(x)`` and ``2*sin(x) + 3*cos(x)``
    (which sympy orders differently) get the same shape.
    """
    if _is_number(node):
        return "#"
    if node.is_Symbol or not node.args:
        return str(node)
    if node.is_Pow and _is_number(node.exp):
        return f"Pow({_order_key(node.base)},{node.exp})"
    parts = [_order_key(a) for a in node.args if not (node.is_Mul and _is_number(a))]
    if node.is_Add or node.is_Mul:
        parts.sort()
        if len(parts) == 1:
            return parts[0]
    return f"{node.func.__name__}({','.join(parts)})"


def shape(expr: sp.Expr) -> tuple[sp.Expr, dict[sp.Symbol, sp.Expr]]:
    """``expr`` with its numbers replaced by placeholders, and the placeholder values.

    Each term and function argument gets a coefficient, 1 if it had none, so ``x + 3*sin(y)``
    and ``2*x - sin(5*y)`` share the shape ``#0*x + #1*sin(#2*y)``. Numeric exponents stay
    in the shape: with a placeholder exponent, sympy leaves forms such as ``x**#/x`` that
    are 0/0 at ``x = 0`` once the number is put back.
    """
    values: dict[sp.Symbol, sp.Expr] = {}

    def new(value) -> sp.Symbol:
        ph = _placeholder(len(values))
        values[ph] = value
        return ph

    def term(node):
        """A summand or function argument: placeholder coefficient times its factors."""
        if _is_number(node):
            return new(node)
        if not isinstance(node, sp.Expr) or node.is_Add:
            return walk(node)
        factors = node.args if node.is_Mul else (node,)
        coeff = sp.Mul(*[a for a in factors if _is_number(a)])
        rest = sorted((a for a in factors if not _is_number(a)), key=_order_key)
        return sp.Mul(new(coeff), *[walk(a) for a in rest])

    def walk(node):
        if _is_number(node):
            return new(node)
        if node.is_Symbol or not node.args:
            return node
        if node.is_Add:
            return sp.Add(*[term(a) for a in sorted(node.args, key=_order_key)])
        if node.is_Mul:
            return term(node)
        if node.is_Pow and _is_number(node.exp):
            return sp.Pow(walk(node.base), node.exp)
        if isinstance(node, sp.Function):
            return node.func(*[term(a) for a in node.args])
        return node.func(*[walk(a) for a in node.args])

    expr = sp.sympify(expr)
    return (walk(expr) if expr.is_Add else term(expr)), values


@lru_cache(maxsize=8192)
def _shape_diff(skeleton: sp.Expr, variables: tuple) -> sp.Expr:
    return sp.diff(skeleton, *variables)


def diff(expr: sp.Expr, *variables) -> sp.Expr:
    """``sp.diff(expr, *variables)``, symbolic work shared by all expressions of one shape.

    ``variables`` as ``sp.diff`` takes them: symbols, a symbol repeated or followed by a count.
    """
    if not variables:
        raise ValueError("differentiate with respect to at least one variable")
    _stats["calls"] += 1
    if not _enabled[0]:
        return sp.diff(expr, *variables)
    return _diff(sp.sympify(expr), tuple(variables))


@lru_cache(maxsize=4096)
def _diff(expr: sp.Expr, variables: tuple) -> sp.Expr:
    """The derivative of this very expression: a variant asks for the same one several times
    (its answer, the Hessian after the gradient, its misconceptions, its figures)."""
    skeleton, values = _shape_of(expr)
    return tidy_numbers(_shape_diff(skeleton, variables).xreplace(values))


@lru_cache(maxsize=4096)
def _shape_of(expr: sp.Expr) -> tuple[sp.Expr, dict[sp.Symbol, sp.Expr]]:
    """:func:`shape` once per expression: a gradient, a Hessian or Taylor coefficients ask
    for several derivatives of the same expression (the values are only read)."""
    return shape(expr)


def _sum_with_content(node) -> bool:
    """A product with one sum in it whose terms share a number (``c*(18*a - 18*b)*g``)."""
    if not node.is_Mul:
        return False
    sums = [a for a in node.args if a.is_Add]
    return len(sums) == 1 and sums[0].primitive()[0] != 1


def _pull_content(node):
    content, primitive = next(a for a in node.args if a.is_Add).primitive()
    if node.as_coeff_Mul()[0] < 0 and primitive.could_extract_minus_sign():
        content, primitive = -content, -primitive     # 36*(sinh - cosh), not -36*(-sinh + cosh)
    return sp.Mul(content, *[primitive if a.is_Add else a for a in node.args])


def tidy_numbers(expr: sp.Expr) -> sp.Expr:
    """``-2*(-18*sinh(3*x) + 18*cosh(3*x))*exp(-3*x)`` -> ``36*(sinh(3*x) - cosh(3*x))*exp(-3*x)``.

    Putting numbers back into a shape's derivative can leave a number in front of a sum
    whose terms share another; they are multiplied together, as sympy does when it
    differentiates the concrete expression.
    """
    return expr.replace(_sum_with_content, _pull_content)


def gradient(expr: sp.Expr, variables) -> list[sp.Expr]:
    """First partial derivatives, in the order of ``variables``."""
    return [diff(expr, v) for v in variables]


def hessian(expr: sp.Expr, variables) -> sp.Matrix:
    """The matrix of second partial derivatives (symmetric by construction)."""
    xs = list(variables)
    rows = [[None] * len(xs) for _ in xs]
    for i, a in enumerate(xs):
        for j, b in enumerate(xs[i:], i):
            rows[i][j] = rows[j][i] = diff(expr, a, b)
    return sp.Matrix(rows)


def cache_info() -> dict:
    """Derivatives asked for and distinct shapes differentiated, since the process started."""
    info = _shape_diff.cache_info()
    return {"calls": _stats["calls"], "shapes": info.misses, "hits": info.hits}


def clear_cache() -> None:
    _shape_diff.cache_clear()
    _shape_of.cache_clear()
    _diff.cache_clear()
    _stats["calls"] = 0


@contextmanager
def per_variant():
    """Differentiate every expression afresh, as without this module (for the benchmark)."""
    _enabled[0] = False
    try:
        yield
    finally:
        _enabled[0] = True
