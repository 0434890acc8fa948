"""The cheap paths of the slow engine operations (speed issue 14) give the old results.

``directional_derivative`` and ``steepest_ascent`` used to call ``sympy.simplify`` on every
value; they now keep a value that is already in the form simplify returns and simplify the
rest (memoised). Oracles: ``sympy.simplify`` itself (same expression, same printed form), the
old operation (simplify forced back in), and plain-float finite differences. The derivative
module now works out each expression's shape once; hit and miss must agree, and expressions
sympy tells apart (real x and plain x, 2 and 2.0) must not share a shape.
"""

import json
import math
import random

import pytest
import sympy as sp

from quizgen import engine
from quizgen.bank import load_bank
from quizgen.engine import derivatives, directional
from quizgen.engine.directional import _settled, simplified
from quizgen.pipeline import generate_variant
from quizgen.sampling import derive_seed

x, y, z = sp.symbols("x y z", real=True)
rng = random.Random(14)

RATIONALS = [sp.Rational(n, d) for n in (-9, -4, -3, -2, -1, 1, 2, 3, 5, 8, 12, 40) for d in (1, 2, 3, 5, 13, 17)]
ROOTS = [sp.sqrt(n) for n in (2, 3, 5, 8, 10, 13, 17, 18, 34, 45, 985, 1001)]
CONSTANTS = [f(sp.Integer(k)) for f in (sp.sin, sp.cos, sp.exp) for k in (-4, -2, -1, 1, 2, 3, 4, 7)]


def settled_samples(n=40):
    """Random numbers of each settled form: r, r*sqrt(n), r*sqrt(n)*c, r*c, n0 + r*c."""
    pick = rng.choice
    makers = [lambda: pick(RATIONALS), lambda: pick(RATIONALS) * pick(ROOTS),
              lambda: pick(RATIONALS) * pick(ROOTS) * pick(CONSTANTS), lambda: pick(RATIONALS) * pick(CONSTANTS),
              lambda: sp.Integer(rng.randint(-20, 20) or 7) + pick(RATIONALS) * pick(CONSTANTS)]
    return [make() for make in makers for _ in range(n)]


def same(a, b) -> bool:
    """One expression: equal, the same tree and the same printed form."""
    return a == b and sp.srepr(a) == sp.srepr(b) and sp.sstr(a) == sp.sstr(b)


def test_settled_values_are_what_simplify_returns():
    samples = settled_samples()
    for value in samples:
        assert _settled(value), value
        assert simplified(value) is value                        # no simplify on this path
        assert same(sp.simplify(value), value), value


OTHERS = [
    # the bank's directional derivatives that simplify does rewrite
    -2 * sp.sqrt(2) - sp.sqrt(2) * (2 * sp.cos(4) + 1) / 2,
    sp.sqrt(2) * (2 * sp.exp(-4) + 8) / 2 + 8 * sp.sqrt(2),
    -16 * sp.sqrt(5) / 5 - sp.sqrt(5) * (sp.E + 8) / 5,
    -3 * sp.sqrt(10) * (3 + 2 * sp.exp(2)) / 10 - 3 * sp.sqrt(10) / 5,
    # outside the bank: two constants, a root in a sum, logs, floats, symbols
    sp.sin(2) * sp.cos(2), 1 + sp.sqrt(2), 3 * sp.sqrt(2 ** 31 + 11), 3 + sp.sqrt(2) * sp.sin(1), sp.log(2) * sp.sqrt(5),
    sp.sin(2) + sp.cos(3) + 1, sp.Float("0.5") * sp.sqrt(2), sp.Rational(1, 2) * sp.sqrt(sp.Rational(3, 7)) * sp.pi,
    (2 * x * y + x ** 2) / sp.sqrt(2), sp.sin(x) ** 2 + sp.cos(x) ** 2, (x ** 2 - 1) / (x - 1) / sp.sqrt(5),
    sp.exp(x) * sp.exp(-x) * sp.sqrt(3) / 3 + sp.sin(y),
]


@pytest.mark.parametrize("value", OTHERS, ids=[str(v) for v in OTHERS])
def test_other_values_are_simplified_by_sympy(value):
    assert not _settled(value)
    assert same(simplified(value), sp.simplify(value))


def test_simplify_memo_hit_is_the_miss_and_symbols_stay_apart():
    directional._simplify.cache_clear()
    value = (2 * x * y + x ** 2) / sp.sqrt(2)
    miss = simplified(value)
    hit = simplified(value)
    assert directional._simplify.cache_info().hits == 1 and hit is miss
    assert same(miss, sp.simplify(value))
    px, py = sp.symbols("x y")                                  # no assumptions: another expression
    plain = simplified((2 * px * py + px ** 2) / sp.sqrt(2))
    assert plain.free_symbols == {px, py} and miss.free_symbols == {x, y}
    assert directional._simplify.cache_info().misses == 2
    as_float = simplified(sp.Float(2.0) * x * sp.sqrt(2) + x)   # 2.0 and 2 are not shared either
    assert same(as_float, sp.simplify(sp.Float(2.0) * x * sp.sqrt(2) + x))
    assert not same(as_float, simplified(2 * x * sp.sqrt(2) + x))


def old_way(op, inputs):
    """The operation as it was: sympy.simplify on every value."""
    saved = directional.simplified
    directional.simplified = sp.simplify
    try:
        return engine.run(op, inputs)
    finally:
        directional.simplified = saved


def unit(v):
    n = math.sqrt(sum(c * c for c in v))
    return [c / n for c in v]


def fd_gradient(fn, at, h=1e-5):
    """Plain-float five-point differences, one variable at a time."""
    out = []
    for i in range(len(at)):
        def g(t):
            return fn(*[a + (t if j == i else 0) for j, a in enumerate(at)])
        out.append((-g(2 * h) + 8 * g(h) - 8 * g(-h) + g(-2 * h)) / (12 * h))
    return out


FUNCTIONS = [   # (expression, variables, float function): bank shapes, then others
    (3 * x ** 2 * y + sp.sin(2 * y), [x, y], lambda a, b: 3 * a * a * b + math.sin(2 * b)),
    (-2 * x ** 2 * y + sp.exp(y), [x, y], lambda a, b: -2 * a * a * b + math.exp(b)),
    (x ** 2 * y + sp.cos(y), [x, y], lambda a, b: a * a * b + math.cos(b)),
    (2 * x ** 2 * y - 3 * x + y ** 2, [x, y], lambda a, b: 2 * a * a * b - 3 * a + b * b),
    (sp.exp(x * y) - z ** 3, [x, y, z], lambda a, b, c: math.exp(a * b) - c ** 3),
    (sp.log(x ** 2 + y ** 2 + 1) * x, [x, y], lambda a, b: math.log(a * a + b * b + 1) * a),
    (sp.sqrt(x ** 2 + 4 * y ** 2 + 1) + sp.atan(x - y), [x, y],
     lambda a, b: math.sqrt(a * a + 4 * b * b + 1) + math.atan(a - b)),
]


def random_point(xs):
    return {v: sp.Rational(rng.randint(-8, 8), rng.choice([1, 1, 2, 4])) for v in xs}


def random_direction(n):
    while True:
        v = [rng.randint(-3, 3) for _ in range(n)]
        if any(v):
            return v


@pytest.mark.parametrize("k", range(len(FUNCTIONS)))
def test_directional_derivative_is_the_old_one_and_the_rate_along_u(k):
    f, xs, fn = FUNCTIONS[k]
    for _ in range(6):
        at, v = random_point(xs), random_direction(len(xs))
        inputs = {"expression": f, "variables": xs, "direction": [sp.Integer(c) for c in v], "at": at}
        new, old = engine.run("directional_derivative", inputs), old_way("directional_derivative", inputs)
        assert same(new.value, old.value) and new.steps == old.steps
        g = fd_gradient(fn, [float(c) for c in at.values()])
        assert float(new.value) == pytest.approx(sum(a * b for a, b in zip(g, unit(v))), rel=1e-7, abs=1e-6)


@pytest.mark.parametrize("k", range(len(FUNCTIONS)))
def test_steepest_ascent_is_the_old_one_and_the_unit_gradient(k):
    f, xs, fn = FUNCTIONS[k]
    for _ in range(6):
        at = random_point(xs)
        g = fd_gradient(fn, [float(c) for c in at.values()])
        if max(abs(c) for c in g) < 1e-3:
            continue
        inputs = {"expression": f, "variables": xs, "at": at}
        new, old = engine.run("steepest_ascent", inputs), old_way("steepest_ascent", inputs)
        assert all(same(a, b) for a, b in zip(new.value, old.value)) and new.steps == old.steps
        assert [float(c) for c in new.value] == pytest.approx(unit(g), abs=1e-6)


@pytest.mark.parametrize("tid", ["directional-derivative", "steepest-ascent-direction"])
def test_bank_variants_are_byte_identical_to_the_old_way(tid, monkeypatch):
    tpl = next(t for t in load_bank() if t.id == tid)
    seeds = [derive_seed(3, tid, k) for k in range(1, 16)]
    new = [json.dumps(generate_variant(tpl, s, k), sort_keys=True) for k, s in enumerate(seeds, 1)]
    monkeypatch.setattr(directional, "simplified", sp.simplify)
    old = [json.dumps(generate_variant(tpl, s, k), sort_keys=True) for k, s in enumerate(seeds, 1)]
    assert new == old


def test_shape_once_per_expression_hit_is_the_miss():
    f = 3 * x ** 2 * y - 5 * sp.sin(2 * x * y) + sp.exp(-y)
    derivatives.clear_cache()
    grad = derivatives.gradient(f, [x, y])
    assert derivatives._shape_of.cache_info().misses == 1 and derivatives._shape_of.cache_info().hits == 1
    hess = derivatives.hessian(f, [x, y])
    assert derivatives._shape_of.cache_info().misses == 1
    assert [sp.expand(g - sp.diff(f, v)) for g, v in zip(grad, [x, y])] == [0, 0]
    assert sp.expand(hess - sp.hessian(f, (x, y))) == sp.zeros(2, 2)
    derivatives.clear_cache()
    assert all(same(a, b) for a, b in zip(derivatives.gradient(f, [x, y]), grad))   # cold == warm


def test_expressions_sympy_tells_apart_do_not_share_a_shape():
    px = sp.Symbol("x")
    d_real, d_plain = derivatives.diff(3 * x ** 2, x), derivatives.diff(3 * px ** 2, px)
    assert d_real.free_symbols == {x} and d_plain.free_symbols == {px}
    d_int, d_float = derivatives.diff(2 * x ** 3, x), derivatives.diff(sp.Float(2.0) * x ** 3, x)
    assert same(d_int, 6 * x ** 2) and d_float.has(sp.Float) and not d_int.has(sp.Float)


def test_float30_is_float_of_the_30_digit_value_bit_for_bit():
    """inputs.float30 skips sympy's evalf for fractions: the same double as float(sp.N(x, 30))
    for fractions of every size (ties of the double rounding included by the random sweep),
    and for integers, constants and expressions (which still go through sp.N)."""
    from quizgen.inputs import float30
    rng = random.Random(14)
    cases = [sp.Rational(1, 3), sp.Rational(-2, 7), sp.S.Half, sp.Integer(-7), sp.Integer(3) ** 60,
             sp.Rational(10 ** 40 + 1, 3), sp.Rational(1, 10 ** 40 + 7), sp.Rational(-5, 10 ** 330),
             sp.pi / 4, sp.sqrt(2), sp.exp(sp.Rational(1, 3))]
    for _ in range(20000):
        size = rng.choice([3, 8, 20, 60])
        cases.append(sp.Rational(rng.randint(-10 ** size, 10 ** size), rng.randint(1, 10 ** rng.choice([1, 3, 8, 20]))))
    for x in cases:
        want = float(sp.N(x, 30))
        got = float30(x)
        assert got == want and math.copysign(1, got) == math.copysign(1, want), x
