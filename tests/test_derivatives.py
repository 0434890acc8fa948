"""Derivatives computed once per expression shape (quizgen.engine.derivatives).

The cached derivative must be the derivative (checked against mpmath's numerical
differentiation, also at 0 where a careless shape would leave 0/0), variants of one
template must share their symbolic work, and the cache must never change the output.
"""

import json

import mpmath as mp
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from quizgen.bank import load_bank
from quizgen.engine import derivatives
from quizgen.pipeline import generate_variant
from quizgen.sampling import derive_seed

x, y = sp.symbols("x y", real=True)
coef = st.sampled_from([-3, -2, -1, 1, 2, 3, sp.Rational(1, 2), sp.Rational(-3, 2)])
power = st.integers(min_value=1, max_value=4)
outer = st.sampled_from([sp.sin, sp.cos, sp.exp, sp.tanh, lambda u: sp.log(1 + u ** 2),
                         lambda u: sp.sqrt(4 + u ** 2), lambda u: 1 / (1 + u ** 2)])


@st.composite
def expressions(draw):
    """Sums of products of powers and composed functions of x and y, random numbers in them."""
    terms = []
    for _ in range(draw(st.integers(1, 3))):
        inner = draw(coef) * x ** draw(power) + draw(coef) * y
        term = draw(coef) * x ** draw(st.integers(0, 3)) * draw(outer)(inner)
        terms.append(term)
    return sp.Add(*terms) + draw(coef)


def numeric_partial(f, orders, at):
    fn = sp.lambdify((x, y), f, "mpmath")
    return mp.diff(lambda a, b: fn(a, b), at, orders)


@settings(max_examples=60, deadline=None)
@given(f=expressions(), wrt=st.sampled_from([(x,), (y,), (x, x), (x, y), (y, y), (x, x, x)]),
       at=st.sampled_from([(0, 0), (0.5, -1.25), (-1.5, 0.75)]))
def test_cached_derivative_is_the_derivative(f, wrt, at):
    mp.mp.dps = 30
    got = derivatives.diff(f, *wrt).xreplace({x: sp.Rational(str(at[0])), y: sp.Rational(str(at[1]))})
    value = complex(sp.N(got, 25))
    want = complex(numeric_partial(f, (wrt.count(x), wrt.count(y)), at))
    assert value == pytest.approx(want, rel=1e-10, abs=1e-10)


def test_variants_of_one_shape_share_one_symbolic_derivative():
    f1 = 3 * sp.sin(2 * x) + 2 * sp.cos(x * y) + x ** 2
    f2 = -5 * sp.sin(x) + 7 * sp.cos(-3 * x * y) + 4 * x ** 2    # other numbers, coefficient 1 moved
    assert derivatives.shape(f1)[0] == derivatives.shape(f2)[0]
    assert derivatives.shape(f1)[0] != derivatives.shape(x ** 3 + sp.sin(x))[0]   # exponents stay


def test_bank_variants_reuse_the_cached_derivatives():
    """Across 30 variants of a template, sympy differentiates a handful of shapes, not 30."""
    tpl = next(t for t in load_bank() if t.id == "hessian-at-point")
    derivatives.clear_cache()
    for k in range(1, 31):
        generate_variant(tpl, derive_seed(5, tpl.id, k), k)
    info = derivatives.cache_info()
    assert info["calls"] >= 30 * 3
    assert info["shapes"] <= info["calls"] // 10, info


def test_output_does_not_depend_on_what_the_cache_holds():
    tpl = next(t for t in load_bank() if t.id == "multivariate-taylor-quadratic")
    seed = derive_seed(11, tpl.id, 1)
    derivatives.clear_cache()
    cold = json.dumps(generate_variant(tpl, seed, 1), sort_keys=True)
    for k in range(2, 12):
        generate_variant(tpl, derive_seed(11, tpl.id, k), k)
    warm = json.dumps(generate_variant(tpl, seed, 1), sort_keys=True)
    assert warm == cold


def test_differentiating_needs_a_variable():
    with pytest.raises(ValueError):
        derivatives.diff(x ** 2)


def test_numbers_put_back_are_multiplied_together():
    """-2*(-18*sinh + 18*cosh)*exp is shown as 36*(sinh - cosh)*exp: no number in front of a
    sum whose terms share another number."""
    f = -2 * sp.exp(-3 * x) * sp.sinh(3 * x)
    for k in (2, 3):
        d = derivatives.diff(f, *[x] * k)
        assert sp.simplify(d - sp.diff(f, x, k)) == 0
        for node in sp.preorder_traversal(d):
            if node.is_Add:
                assert node.primitive()[0] == 1, d
