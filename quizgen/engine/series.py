"""Taylor series: coefficients, polynomials (several variables), evaluation."""

from __future__ import annotations

from itertools import product
from math import factorial, prod

import sympy as sp

from . import approx, operation, real_number, Result, tex
from .derivatives import diff


@operation("taylor_coefficients", kind="vector", required=("expression", "variable", "about", "order"))
def taylor_coefficients(inp):
    f, x, a, n = inp["expression"], inp["variable"], inp["about"], int(inp["order"])
    if isinstance(a, dict):
        a = a[x]
    return Result(*_univariate(f, x, a, n))


def _prime(k: int) -> str:
    """The k-th derivative's name: f, f', f'', f''', then f^{(k)}."""
    return "f" + ("'" * k if k <= 3 else f"^{{({k})}}")


def _univariate(f, x, a, n) -> tuple[list, list[str]]:
    """Coefficients c_k = f^(k)(a) / k! with one step per k: the derivative, its value at a
    and the coefficient."""
    coeffs, steps = [], []
    for k in range(n + 1):
        d = diff(f, *[x] * k) if k else f          # each from f: one cached shape per order
        dk = real_number(d.subs(x, a))
        c = real_number(dk / factorial(k))
        coeffs.append(c)
        at = rf"{_prime(k)}({tex(a)})"
        divided = rf"\frac{{{at}}}{{{k}!}}" if k > 1 else at
        steps.append(rf"{_prime(k)}({tex(x)}) = {tex(d)},\quad {at} = {approx(dk)},"
                     rf"\quad c_{{{k}}} = {divided} = {approx(c)}")
    return coeffs, steps


def _multi_indices(nvars: int, order: int):
    """Multi-indices of total degree <= order, by degree then lexicographically descending."""
    out = [m for m in product(range(order + 1), repeat=nvars) if sum(m) <= order]
    return sorted(out, key=lambda m: (sum(m), [-k for k in m]))


def taylor_terms(f, xs, about, order):
    """(multi-index, coefficient, monomial) of the Taylor polynomial of f about ``about``."""
    terms = []
    for m in _multi_indices(len(xs), order):
        order = [v for v, k in zip(xs, m) for _ in range(k)]
        d = diff(f, *order) if order else f
        denom = 1
        for k in m:
            denom *= factorial(k)
        coeff = real_number(d.subs(about) / denom)
        mono = sp.Integer(1)
        for v, k in zip(xs, m):
            mono *= (v - about[v]) ** k
        terms.append((m, coeff, mono))
    return terms


def _factors(xs, m, about) -> str:
    """TeX of prod (x_i - a_i)^k_i with the brackets a student would write."""
    parts = []
    for v, k in zip(xs, m):
        if not k:
            continue
        base = tex(v) if about[v] == 0 else rf"\left({tex(v - about[v])}\right)"
        parts.append(base + (f"^{{{k}}}" if k > 1 else ""))
    return " ".join(parts)


def _polynomial(inp):
    f, xs, n = inp["expression"], list(inp["variables"]), int(inp["order"])
    about = inp["about"]
    if not isinstance(about, dict):
        about = {xs[0]: about}
    if len(xs) == 1:
        x, a = xs[0], about[xs[0]]
        coeffs, steps = _univariate(f, x, a, n)
        terms = [((k,), c, (x - a) ** k) for k, c in enumerate(coeffs)]
    else:
        terms = taylor_terms(f, xs, about, n)
        steps = _multivariate_steps(xs, about, n, terms)
    # kept in powers of (x - a), as a student writes it (sympy would expand 5*(x - 1))
    poly = sp.Add(*[c * mono for _, c, mono in terms])
    display = _powers_tex(terms, xs, about)
    steps.append(rf"T_{{{n}}}({', '.join(tex(v) for v in xs)}) = {display}")
    return poly, steps, display


def _multivariate_steps(xs, about, n, terms) -> list[str]:
    """The formula, then each nonzero term: its derivative at a over the factorials, times
    the powers of (x_i - a_i)."""
    lin = "f(\\mathbf{a}) + \\nabla f(\\mathbf{a})^\\top(\\mathbf{x}-\\mathbf{a})"
    quad = " + \\tfrac12 (\\mathbf{x}-\\mathbf{a})^\\top H(\\mathbf{a}) (\\mathbf{x}-\\mathbf{a})"
    steps = [rf"f(\mathbf{{x}}) \approx {lin}{quad if n == 2 else ''}"] if n <= 2 else []
    for m, c, _ in terms:
        if c == 0:
            continue
        if not any(m):
            steps.append(rf"f(\mathbf{{a}}) = {approx(c)}")
            continue
        scale = prod(factorial(k) for k in m)
        over = rf"\frac{{1}}{{{scale}}}" if scale > 1 else ""
        steps.append(rf"{over}{_partial_name(xs, m)}(\mathbf{{a}})\,{_factors(xs, m, about)}"
                     rf" = {_powers_tex([(m, c, None)], xs, about)}")
    return steps


def _partial_name(xs, m) -> str:
    """TeX of the partial derivative of f for the multi-index m (d^2 f / dx dy)."""
    order = sum(m)
    top = r"\partial f" if order == 1 else rf"\partial^{{{order}}} f"
    bottom = " ".join(rf"\partial {tex(v)}" + (f"^{{{k}}}" if k > 1 else "")
                      for v, k in zip(xs, m) if k)
    return rf"\frac{{{top}}}{{{bottom}}}"


def _coefficient_tex(c) -> str:
    """TeX of a coefficient that multiplies a power: a sum keeps its brackets,
    (e^{-1/2} + 3)(x + 1), never e^{-1/2} + 3 (x + 1)."""
    text = tex(c)
    return rf"\left({text}\right)" if c.is_Add else text


def _powers_tex(terms, xs, about) -> str:
    """The polynomial in powers of (x - a), as a student writes it (sympy would multiply out)."""
    parts = []
    for m, c, _ in terms:
        if c == 0:
            continue
        if not any(m):
            parts.append(tex(c))
            continue
        sign, mag = ("-", -c) if c.could_extract_minus_sign() else ("", c)
        coef = "" if mag == 1 else _coefficient_tex(mag)
        parts.append(f"{sign}{coef} {_factors(xs, m, about)}".strip())
    text = " + ".join(parts) or "0"
    return text.replace("+ -", "- ")


@operation("taylor_polynomial", kind="expression", required=("expression", "variables", "about", "order"))
def taylor_polynomial(inp):
    poly, steps, display = _polynomial(inp)
    return Result(poly, steps, display)


@operation("taylor_evaluate", kind="number", required=("expression", "variables", "about", "order", "at"))
def taylor_evaluate(inp):
    poly, steps, _ = _polynomial(inp)
    at = inp["at"]
    value = real_number(poly.subs(at))
    steps.append(rf"T_{{{int(inp['order'])}}}({', '.join(tex(v) for v in at.values())}) = {approx(value)}")
    return Result(value, steps)
