"""Every engine operation against values computed another way (by hand, finite
differences, numpy). Cases include worked examples of the course and of the
*Mathematics for Machine Learning* textbook (Deisenroth, Faisal, Ong)."""

import math

import numpy as np
import pytest

from quizgen import engine
from quizgen.exprs import AutoSymbols
from quizgen.inputs import json_value, resolve


def raw(op, **inputs):
    """The engine alone (no verification), as JSON values."""
    return json_value(engine.run(op, resolve(inputs, {}, AutoSymbols())).value)


def fd(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_evaluate_and_difference_quotient():
    assert raw("evaluate", expression="x**2*exp(y)", at={"x": 3, "y": 0}) == pytest.approx(9.0)
    # (f(1.1) - f(1)) / 0.1 for f = x^3: (1.331 - 1) / 0.1
    assert raw("difference_quotient", expression="x**3", variable="x", at={"x": 1}, h=0.1) == pytest.approx(3.31)


def test_derivative_rules_against_finite_differences():
    cases = [("x**3*sin(x)", lambda x: x ** 3 * math.sin(x)),
             ("exp(2*x)/(1 + x**2)", lambda x: math.exp(2 * x) / (1 + x * x)),
             ("log(3*x + 1)*cos(x)", lambda x: math.log(3 * x + 1) * math.cos(x))]
    for text, f in cases:
        assert raw("derivative", expression=text, variable="x", at={"x": 0.7}) == pytest.approx(fd(f, 0.7), rel=1e-7)


def test_second_derivative():
    # d2/dx2 x^4 = 12 x^2 -> 12 at x = 1;  d2/dx2 sin(2x) = -4 sin(2x)
    assert raw("derivative", expression="x**4", variable="x", order=2, at={"x": 1}) == pytest.approx(12)
    assert raw("derivative", expression="sin(2*x)", variable="x", order=2, at={"x": 0.3}) == \
        pytest.approx(-4 * math.sin(0.6))


def test_symbolic_derivative_is_an_expression_string():
    value = raw("derivative", expression="x**3", variable="x")
    assert value == "3*x**2"


def test_mml_partial_derivatives_example():
    # MML book, Example 5.6: f = x1^2 x2 + x1 x2^3, df/dx1 = 2 x1 x2 + x2^3, df/dx2 = x1^2 + 3 x1 x2^2
    f = "x1**2*x2 + x1*x2**3"
    x1, x2 = 2.0, -1.5
    g = raw("gradient", expression=f, variables=["x1", "x2"], at={"x1": x1, "x2": x2})
    assert g == pytest.approx([2 * x1 * x2 + x2 ** 3, x1 ** 2 + 3 * x1 * x2 ** 2])
    assert raw("partial_derivative", expression=f, variables=["x1", "x2"], at={"x1": x1, "x2": x2}) == \
        pytest.approx(2 * x1 + 3 * x2 ** 2)


def test_directional_derivative_is_gradient_dot_unit_direction():
    # same f as above: grad f(2, -1.5) = (2*2*(-1.5) + (-1.5)**3, 4 + 3*2*2.25), direction (3, 4) / 5
    f, x1, x2 = "x1**2*x2 + x1*x2**3", 2.0, -1.5
    g = [2 * x1 * x2 + x2 ** 3, x1 ** 2 + 3 * x1 * x2 ** 2]
    got = raw("directional_derivative", expression=f, variables=["x1", "x2"], direction=[3, 4],
              at={"x1": x1, "x2": x2})
    assert got == pytest.approx((3 * g[0] + 4 * g[1]) / 5)


def test_steepest_ascent_is_the_gradient_over_its_length():
    # same f: grad f(2, -1.5) by hand, divided by its Euclidean length
    f, x1, x2 = "x1**2*x2 + x1*x2**3", 2.0, -1.5
    g = np.array([2 * x1 * x2 + x2 ** 3, x1 ** 2 + 3 * x1 * x2 ** 2])
    got = raw("steepest_ascent", expression=f, variables=["x1", "x2"], at={"x1": x1, "x2": x2})
    assert got == pytest.approx(list(g / math.hypot(*g)))


def test_categorical_operations_engine_alone():
    """The engine's labels, before any check (tests/test_classify.py has the rest)."""
    # f = x e^x: f'' = (x + 2) e^x, negative at x = -3, positive at x = 0
    assert raw("concavity", expression="x*exp(x)", variable="x", at={"x": -3}) == "concave down"
    assert raw("concavity", expression="x*exp(x)", variable="x", at={"x": 0}) == "concave up"
    # f = x^3 - 12x + y^2: stationary at (+-2, 0), H = diag(6x, 2)
    f = "x**3 - 12*x + y**2"
    assert raw("classify_stationary_point", expression=f, variables=["x", "y"], at={"x": 2, "y": 0}) == \
        "local minimum"
    assert raw("classify_stationary_point", expression=f, variables=["x", "y"], at={"x": -2, "y": 0}) == \
        "saddle point"
    assert raw("jacobian_size", expressions=["x*y*z", "x + y", "z"], variables=["x", "y", "z", "w"]) == \
        {"rows": 3.0, "columns": 4.0}
    # y = (1, 2.9, 5.1): chi2 of 2x + 1 is 0.02, of 3x + 1 is 4.82 (x = 0, 1, 2)
    assert raw("best_model", models={"line": "2*x + 1", "steep": "3*x + 1"}, x=[0, 1, 2], y=[1, 2.9, 5.1]) == "line"


def test_jacobian_of_design_contract_example():
    # DESIGN.md: f = (3 x^2 y, cos 2y) at (1, 0.5) -> [[6xy, 3x^2], [0, -2 sin 2y]]
    J = raw("jacobian", expressions=["3*x**2*y", "cos(2*y)"], variables=["x", "y"], at={"x": 1, "y": 0.5})
    assert J == pytest.approx(np.array([[3.0, 3.0], [0.0, -2 * math.sin(1.0)]]))


def test_jacobian_polar_coordinates_determinant():
    # MML book, Example 5.9 style: x = r cos t, y = r sin t has det J = r
    J = np.array(raw("jacobian", expressions=["r*cos(t)", "r*sin(t)"], variables=["r", "t"],
                     at={"r": 2.5, "t": 0.4}))
    assert np.linalg.det(J) == pytest.approx(2.5)


def test_hessian_mml_taylor_example():
    # MML book, Example 5.15: f = x^2 + 2xy + y^3 at (1, 2): H = [[2, 2], [2, 6y]] = [[2, 2], [2, 12]]
    H = raw("hessian", expression="x**2 + 2*x*y + y**3", variables=["x", "y"], at={"x": 1, "y": 2})
    assert H == [[2.0, 2.0], [2.0, 12.0]]


def test_chain_rule_mml_example():
    # MML book, Example 5.10: f = x1^2 + 2 x2, x1 = sin t, x2 = cos t: df/dt = 2 sin t cos t - 2 sin t
    t = 0.8
    value = raw("chain_rule", expression="x1**2 + 2*x2", substitutions={"x1": "sin(t)", "x2": "cos(t)"},
                variable="t", at={"t": t})
    assert value == pytest.approx(2 * math.sin(t) * math.cos(t) - 2 * math.sin(t))


def test_chain_rule_two_outer_variables_matches_finite_differences():
    def F(s, t):
        x, y = s * t, s + t ** 2
        return x ** 2 * y
    value = raw("chain_rule", expression="x**2*y", substitutions={"x": "s*t", "y": "s + t**2"},
                variables=["s", "t"], at={"s": 1.2, "t": -0.7})
    assert value == pytest.approx([fd(lambda s: F(s, -0.7), 1.2), fd(lambda t: F(1.2, t), -0.7)], rel=1e-6)


def _sig(z):
    return 1 / (1 + np.exp(-z))


def test_single_neuron_forward():
    # a = sigma(w x + b) with w = 2, b = -1, x = 0.5: sigma(0) = 0.5
    assert raw("forward", layers=[{"weights": [[2]], "biases": [-1], "activation": "sigmoid"}], input=[0.5]) \
        == pytest.approx([0.5])


def _cost(W1, b1, W2, b2, x, y):
    a1 = _sig(W1 @ x + b1)
    a2 = _sig(W2 @ a1 + b2)
    return float(np.sum((a2 - y) ** 2))


def test_backprop_matches_numpy_finite_differences():
    W1 = np.array([[0.5, -1.0], [1.5, 0.25]])
    b1 = np.array([0.1, -0.2])
    W2 = np.array([[1.0, -2.0]])
    b2 = np.array([0.3])
    x, y = np.array([1.0, 2.0]), np.array([1.0])
    layers = [{"weights": W1.tolist(), "biases": b1.tolist(), "activation": "sigmoid"},
              {"weights": W2.tolist(), "biases": b2.tolist(), "activation": "sigmoid"}]
    got = np.array(raw("backprop", layers=layers, input=x.tolist(), target=y.tolist(),
                       wrt={"layer": 1, "param": "weights"}))
    expected = np.zeros_like(W1)
    h = 1e-6
    for i in range(2):
        for j in range(2):
            Wp, Wm = W1.copy(), W1.copy()
            Wp[i, j] += h
            Wm[i, j] -= h
            expected[i, j] = (_cost(Wp, b1, W2, b2, x, y) - _cost(Wm, b1, W2, b2, x, y)) / (2 * h)
    assert got == pytest.approx(expected, rel=1e-5, abs=1e-9)
    gb2 = raw("backprop", layers=layers, input=x.tolist(), target=y.tolist(), wrt={"layer": 2, "param": "biases"})
    num = (_cost(W1, b1, W2, b2 + h, x, y) - _cost(W1, b1, W2, b2 - h, x, y)) / (2 * h)
    assert gb2 == pytest.approx([num], rel=1e-5)


def test_taylor_coefficients_known_series():
    assert raw("taylor_coefficients", expression="log(1 + x)", variable="x", about=0, order=4) == \
        pytest.approx([0, 1, -1 / 2, 1 / 3, -1 / 4])
    # e^x about 1: e / k!
    assert raw("taylor_coefficients", expression="exp(x)", variable="x", about=1, order=3) == \
        pytest.approx([math.e / math.factorial(k) for k in range(4)])


def test_taylor_second_order_two_variables_mml_example():
    # MML Example 5.15: f = x^2 + 2xy + y^3 about (1, 2); second-order Taylor at (1.1, 2.1)
    dx, dy = 0.1, 0.1
    expected = 13 + 6 * dx + 14 * dy + 0.5 * (2 * dx * dx + 2 * 2 * dx * dy + 12 * dy * dy)
    assert raw("taylor_evaluate", expression="x**2 + 2*x*y + y**3", variables=["x", "y"],
               about={"x": 1, "y": 2}, order=2, at={"x": 1.1, "y": 2.1}) == pytest.approx(expected)
    poly = raw("taylor_polynomial", expression="exp(x)*cos(y)", variables=["x", "y"], about={"x": 0, "y": 0}, order=2)
    assert poly.replace(" ", "") in ("x**2/2+x-y**2/2+1",)


def test_newton_raphson_sqrt2_by_hand():
    x = 1.0
    for _ in range(3):
        x = x - (x * x - 2) / (2 * x)
    assert raw("newton_raphson", expression="x**2 - 2", variable="x", start=1, steps=3) == pytest.approx(x)


def test_gradient_descent_mml_example():
    # MML book, Example 7.1: f = 1/2 x^T A x - b^T x, A = [[2, 1], [1, 20]], b = [5, 3], x0 = (-3, -1), gamma 0.085
    A, b = np.array([[2.0, 1.0], [1.0, 20.0]]), np.array([5.0, 3.0])
    x = np.array([-3.0, -1.0])
    for _ in range(5):
        x = x - 0.085 * (A @ x - b)
    got = raw("gradient_descent", expression="(2*x**2 + 2*x*y + 20*y**2)/2 - 5*x - 3*y", variables=["x", "y"],
              start=[-3, -1], learning_rate=0.085, steps=5)
    assert got == pytest.approx(x.tolist())


def test_newton_optimise_quadratic_in_one_step():
    # for a quadratic, one Newton step lands on the minimum A^-1 b
    A, b = np.array([[2.0, 1.0], [1.0, 20.0]]), np.array([5.0, 3.0])
    got = raw("newton_optimise", expression="(2*x**2 + 2*x*y + 20*y**2)/2 - 5*x - 3*y", variables=["x", "y"],
              start=[-3, -1], steps=1)
    assert got == pytest.approx(np.linalg.solve(A, b).tolist())


def test_lagrange_points_of_xy_on_circle():
    pts = raw("lagrange_critical_points", expression="x*y", constraint="x**2 + y**2 - 2", variables=["x", "y"])
    got = sorted((p["point"]["x"], p["point"]["y"], p["multiplier"], p["value"]) for p in pts)
    want = sorted([(1, 1, 0.5, 1), (-1, -1, 0.5, 1), (1, -1, -0.5, -1), (-1, 1, -0.5, -1)])
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g == pytest.approx(w)


def test_chi_squared_by_hand():
    # residuals 0.1, -0.1, 0.2 with sigma 0.1, 0.1, 0.2 -> 1 + 1 + 1
    assert raw("chi_squared", model="m*x + c", parameters={"m": 2, "c": 1}, x=[0, 1, 2], y=[1.1, 2.9, 5.2],
               sigma=[0.1, 0.1, 0.2]) == pytest.approx(3.0)


def test_linear_regression_against_lstsq_weighted_and_not():
    x = np.array([0, 1, 2, 3, 4.0])
    y = np.array([1.1, 2.8, 5.3, 6.9, 9.2])
    s = np.array([0.1, 0.3, 0.2, 0.5, 0.1])
    m, c = np.polyfit(x, y, 1)
    got = raw("linear_regression", x=x.tolist(), y=y.tolist())
    assert [got["slope"], got["intercept"]] == pytest.approx([m, c])
    A = np.column_stack([x, np.ones_like(x)]) / s[:, None]
    (mw, cw), *_ = np.linalg.lstsq(A, y / s, rcond=None)
    got = raw("linear_regression", x=x.tolist(), y=y.tolist(), sigma=s.tolist())
    assert [got["slope"], got["intercept"]] == pytest.approx([mw, cw])


def test_least_squares_linear_in_parameters():
    x = np.array([0, 1, 2, 3.0])
    y = np.array([1, 2, 5, 10.5])
    A = np.column_stack([np.ones_like(x), x ** 2])
    (a, b), *_ = np.linalg.lstsq(A, y, rcond=None)
    got = raw("least_squares", model="a + b*x**2", parameters=["a", "b"], x=x.tolist(), y=y.tolist())
    assert [got["a"], got["b"]] == pytest.approx([a, b])


def test_fit_gradient_descent_by_hand():
    x, y = np.array([0, 1, 2.0]), np.array([2, 1.2, 0.8])
    A, k, rate = 2.0, 0.5, 0.01
    for _ in range(3):
        e = np.exp(-k * x)
        r = y - A * e
        gA = np.sum(-2 * r * e)
        gk = np.sum(2 * r * A * x * e)
        A, k = A - rate * gA, k - rate * gk
    got = raw("fit_gradient_descent", model="A*exp(-k*x)", start={"A": 2, "k": 0.5}, x=x.tolist(), y=y.tolist(),
              learning_rate=0.01, steps=3)
    assert [got["A"], got["k"]] == pytest.approx([A, k])


def test_every_operation_has_a_test_and_a_check():
    from quizgen.verify import CHECKS
    from quizgen.verify import checks  # noqa: F401
    assert set(engine.load_all()) == set(CHECKS)
    source = open(__file__).read()
    for name in engine.load_all():
        assert f'"{name}"' in source, f"no engine test for {name}"


@pytest.mark.parametrize("op, inputs", [
    ("chi_squared", dict(model="a + b*x", parameters={"a": 1, "b": 2}, x=[0, 1, 2], y=[1.2, 2.9, 5.1])),
    ("linear_regression", dict(x=[0, 1, 2, 3], y=[1, 2.9, 5.2, 7.1])),
    ("least_squares", dict(model="a + b*x**2", parameters=["a", "b"], x=[0, 1, 2, 3], y=[1, 2, 5, 10.5])),
    ("least_squares", dict(model="a*exp(-b*x)", parameters=["a", "b"], x=[0, 1, 2, 3], y=[2, 1.2, 0.75, 0.44],
                           start={"a": 2, "b": 0.5})),
])
def test_a_value_only_rerun_gives_the_same_value_without_steps(op, inputs):
    """A misconception reruns an operation for its value alone (steps=False): same value, no
    worked solution built; the full run's value still agrees with numpy."""
    full = engine.run(op, resolve(inputs, {}, AutoSymbols()))
    bare = engine.run(op, resolve(inputs, {}, AutoSymbols()), steps=False)
    assert full.steps and bare.steps == []
    assert json_value(bare.value) == json_value(full.value)
    x, y = np.array(inputs["x"], float), np.array(inputs["y"], float)
    if op == "chi_squared":
        assert json_value(full.value) == pytest.approx(float(np.sum((y - (1 + 2 * x)) ** 2)))
    elif op == "linear_regression" or "b*x**2" in inputs.get("model", ""):
        A = np.column_stack([np.ones_like(x), x if op == "linear_regression" else x ** 2])
        (c0, c1), *_ = np.linalg.lstsq(A, y, rcond=None)
        got = json_value(full.value)
        assert list(got.values()) == pytest.approx([c1, c0] if op == "linear_regression" else [c0, c1])
