"""The shape cache of TeX / text printing gives exactly sympy's text, and does fill from forms."""

from __future__ import annotations

import random

import pytest
import sympy as sp

from quizgen import texcache

x, y, z = sp.symbols("x y z", real=True)
MATRIX = {"mat_str": "pmatrix", "mat_delim": ""}


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    monkeypatch.delenv("QUIZGEN_TEXCACHE", raising=False)
    texcache.clear_cache()
    yield
    texcache.clear_cache()


def _number(rng: random.Random):
    """Mostly small integers (so shapes repeat), with 1, -1, 0, rationals and some floats."""
    k = rng.random()
    if k < 0.12:
        return sp.Integer(rng.choice([1, -1]))
    if k < 0.25:
        return sp.Rational(rng.randint(-9, 9), rng.randint(2, 7))
    if k < 0.28:
        return sp.Float(rng.choice([0.5, -2.25, 1e-7, 3.14159]))
    if k < 0.30:
        return sp.Integer(0)
    return sp.Integer(rng.randint(-9, 9))


SHAPES = [
    lambda a, b, c, d: a * x**2 + b * x + c,                           # "+ -3" is written "- 3"
    lambda a, b, c, d: a * x**2 + b * sp.sin(c * x) + d,
    lambda a, b, c, d: a * sp.exp(b * x) * sp.cos(c * y) + d * x * y,
    lambda a, b, c, d: (a * x + b) / (c * y + d),
    lambda a, b, c, d: a * x**b + c * x**3 - d,                        # numeric exponents
    lambda a, b, c, d: a * x**sp.Rational(1, 2) + b * x**-2 + c * x ** sp.Rational(-3, 2),
    lambda a, b, c, d: sp.sqrt(a * x**2 + b) + c,
    lambda a, b, c, d: a * sp.exp(c * x) + b * sp.exp(d * x),          # terms ordered by numbers inside
    lambda a, b, c, d: a * sp.sin(b * x) + c * sp.sin(d * x),
    lambda a, b, c, d: a * sp.log(b * x**2 + c) - d * x * y,
    lambda a, b, c, d: 1 / (1 + sp.exp(-(a * x + b))),
    lambda a, b, c, d: a + b * sp.sin(c) + d * sp.pi,                  # numbers ordered by value
    lambda a, b, c, d: a * x * y * z + b * x**2 * y + c * z**2 + d,
    lambda a, b, c, d: (a * x + b) ** 2 * (c * x + d) ** 3,
    lambda a, b, c, d: a / x + b / x**2 + c * sp.tanh(d * x),
    lambda a, b, c, d: a * sp.Abs(x - b) + sp.Max(c, d * x),
]


def _expressions(seed: int, per_shape: int):
    rng = random.Random(seed)
    out = []
    for _ in range(per_shape):
        for shape in SHAPES:
            out.append(shape(*(_number(rng) for _ in range(4))))
    rng.shuffle(out)
    return out


def _matrices(seed: int, count: int):
    rng = random.Random(seed)
    return [sp.Matrix(2, 2, [_number(rng) * x ** rng.randint(0, 2) for _ in range(4)]) for _ in range(count)] + \
        [sp.Matrix(3, 1, [_number(rng) for _ in range(3)]) for _ in range(count)]


@pytest.mark.parametrize("seed", [1, 2])
def test_latex_is_sympys_on_random_expressions(seed):
    exprs = _expressions(seed, 60)
    for e in exprs:
        assert texcache.latex(e) == sp.latex(e), e
    info = texcache.cache_info()
    assert info["calls"] == len(exprs) and info["filled"] > 0, info


def test_latex_with_matrix_settings_and_matrices():
    items = _expressions(3, 25) + _matrices(3, 150)
    for e in items:
        assert texcache.latex(e, **MATRIX) == sp.latex(e, **MATRIX), e
    assert texcache.cache_info()["filled"] > 0.3 * len(items)      # the matrices' entries repeat shapes


def test_text_is_sympys_on_random_expressions():
    exprs = _expressions(4, 50)
    for e in exprs:
        assert texcache.sstr(e, order="lex") == sp.sstr(e, order="lex"), e
        assert texcache.sstr(e) == sp.sstr(e), e
    assert texcache.cache_info()["filled"] > 0


def test_a_form_made_from_one_expression_prints_another():
    """Coincidences in the first expression (two 2s) do not tie a marker to the wrong number."""
    pairs = [(2 * x + sp.sin(2 * x), 3 * x + sp.sin(2 * x)),
             (2 * x + sp.sin(2 * x), 2 * x + sp.sin(5 * x)),
             (3 * x**2 - 5 * x + 2, 7 * x**2 - 1 * x + 4),           # -1 x is written "- x"
             (-16 - 8 * sp.sin(2), -2 - 8 * sp.sin(2)),               # order by value
             (sp.exp(2 * x) + sp.exp(3 * x), sp.exp(4 * x) + sp.exp(3 * x))]
    for first, second in pairs:
        for _ in range(3):
            for e in (first, second, first + y, second + y):
                assert texcache.latex(e) == sp.latex(e), e
                assert texcache.sstr(e, order="lex") == sp.sstr(e, order="lex"), e


def test_variants_of_a_template_are_mostly_filled():
    """Numbers drawn as a template draws them (a in [2, 6], b in [-4, 4] without 0, c in [1, 3])."""
    rng = random.Random(6)
    shapes = SHAPES[:3] + SHAPES[7:9]
    for _ in range(100):
        for shape in shapes:
            a, b, c = rng.randint(2, 6), rng.choice([-4, -3, -2, -1, 1, 2, 3, 4]), rng.randint(1, 3)
            e = shape(sp.Integer(a), sp.Integer(b), sp.Integer(c), sp.Integer(a + c))
            assert texcache.latex(e) == sp.latex(e), e
    info = texcache.cache_info()
    assert info["filled"] > 0.6 * info["calls"], info


def test_same_shape_other_numbers_is_filled_not_printed():
    for k in range(2, 30):
        e = k * x**2 - (k + 1) * sp.sin(3 * x)
        assert texcache.latex(e) == sp.latex(e)
    info = texcache.cache_info()
    assert info["filled"] >= 25 and info["printed"] <= 3, info


def test_floats_and_integers_are_never_confused():
    for e in (2 * x, sp.Float(2.0) * x, sp.Float(2.5) * x, sp.Rational(5, 2) * x, 2 * x):
        assert texcache.latex(e) == sp.latex(e)
        assert texcache.sstr(e) == sp.sstr(e)


def test_check_mode_compares_every_fill(monkeypatch):
    monkeypatch.setenv("QUIZGEN_TEXCACHE", "check")
    for e in _expressions(5, 10):
        assert texcache.latex(e) == sp.latex(e)
    assert texcache.cache_info()["filled"] == 0            # every text was printed and compared


def test_check_mode_on_matrices_and_text(monkeypatch):
    monkeypatch.setenv("QUIZGEN_TEXCACHE", "check")
    for e in _expressions(7, 15) + _matrices(7, 30):
        assert texcache.latex(e, **MATRIX) == sp.latex(e, **MATRIX)
        if not isinstance(e, sp.MatrixBase):
            assert texcache.sstr(e, order="lex") == sp.sstr(e, order="lex")


def test_the_bank_is_the_same_with_and_without_the_cache(monkeypatch):
    """Every template's variants (prompts, steps, distractors, JSON text) as without the cache."""
    from quizgen.bank import load_bank
    from quizgen.pipeline import generate_variant
    from quizgen.sampling import derive_seed
    templates = load_bank()

    def generate():
        return [generate_variant(t, derive_seed(3, t.id, k), k) for t in templates for k in (1, 2, 3)]

    monkeypatch.setenv("QUIZGEN_TEXCACHE", "off")
    without = generate()
    monkeypatch.setenv("QUIZGEN_TEXCACHE", "check")             # also: every fill compared with sympy
    checked = generate()
    monkeypatch.delenv("QUIZGEN_TEXCACHE")
    cached = generate()
    assert texcache.cache_info()["filled"] > 0
    assert checked == without and cached == without
