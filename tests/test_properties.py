"""Property tests (hypothesis): the engine against numpy on random inputs, and
generation + verification never disagreeing on random seeds."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quizgen import engine
from quizgen.exprs import AutoSymbols
from quizgen.inputs import json_value, resolve

small = st.integers(min_value=-5, max_value=5)
point = st.floats(min_value=-2, max_value=2, allow_nan=False).map(lambda v: round(v, 3))


def raw(op, **inputs):
    return json_value(engine.run(op, resolve(inputs, {}, AutoSymbols())).value)


@settings(max_examples=40, deadline=None)
@given(a=small, b=small, c=small, d=small, x=point, y=point)
def test_gradient_and_hessian_of_random_polynomials(a, b, c, d, x, y):
    f = f"{a}*x**3*y + {b}*x*y**2 + {c}*y**3 + {d}*x"
    grad = [3 * a * x * x * y + b * y * y + d, a * x ** 3 + 2 * b * x * y + 3 * c * y * y]
    hess = [[6 * a * x * y, 3 * a * x * x + 2 * b * y], [3 * a * x * x + 2 * b * y, 2 * b * x + 6 * c * y]]
    assert raw("gradient", expression=f, variables=["x", "y"], at={"x": x, "y": y}) == pytest.approx(grad, abs=1e-9)
    assert raw("hessian", expression=f, variables=["x", "y"], at={"x": x, "y": y}) == pytest.approx(
        np.array(hess), abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(ys=st.lists(st.floats(min_value=-10, max_value=10, allow_nan=False).map(lambda v: round(v, 2)),
                   min_size=4, max_size=8),
       sig=st.floats(min_value=0.1, max_value=2).map(lambda v: round(v, 2)))
def test_weighted_regression_matches_lstsq(ys, sig):
    x = np.arange(len(ys), dtype=float)
    s = np.array([sig * (1 + (i % 3)) for i in range(len(ys))])
    A = np.column_stack([x, np.ones_like(x)]) / s[:, None]
    (m, c), *_ = np.linalg.lstsq(A, np.array(ys) / s, rcond=None)
    got = raw("linear_regression", x=x.tolist(), y=ys, sigma=s.round(6).tolist())
    assert [got["slope"], got["intercept"]] == pytest.approx([m, c], abs=1e-8)


@settings(max_examples=25, deadline=None)
@given(start=st.floats(min_value=0.5, max_value=4).map(lambda v: round(v, 2)), steps=st.integers(1, 6),
       k=st.integers(2, 9))
def test_newton_raphson_matches_plain_iteration(start, steps, k):
    x = start
    for _ in range(steps):
        x = x - (x ** 3 - k) / (3 * x ** 2)
    assert raw("newton_raphson", expression=f"x**3 - {k}", variable="x", start=start, steps=steps) == \
        pytest.approx(x, rel=1e-10)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2 ** 40))
def test_generation_and_verification_agree_on_random_seeds(seed):
    """Any seed gives a verified variant (a disagreement would raise VerificationError)."""
    from quizgen.bank import load_bank
    from quizgen.pipeline import generate_variant
    bank = load_bank()
    tpl = bank[seed % len(bank)]
    q = generate_variant(tpl, seed, 1)
    assert q["seed"] == seed and q["answers"]
