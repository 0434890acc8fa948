"""Problems nobody here wrote (course quizzes, the MML textbook, careless users): every
answer compared with a value computed another way in the test itself."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from quizgen.solve import solve_item, solve_requests

RNG = np.random.default_rng(7)


def value(op, **inputs):
    item = solve_item({"op": op, "inputs": inputs}, "test")
    assert "error" not in item, item["error"]
    return item


def error(op, **inputs):
    item = solve_item({"op": op, "inputs": inputs}, "test")
    assert "error" in item, item.get("value")
    return item["error"]


def evaluate(text, **env):
    """Evaluate a contract expression string with math functions (test side only)."""
    names = {k: getattr(math, k) for k in ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sinh", "cosh")}
    return eval(text, {"__builtins__": {}}, {**names, "E": math.e, "pi": math.pi, **env})  # noqa: S307 (our own output)


# ---- free parameters in symbolic answers ----------------------------------------------

FREE = [  # (op, inputs, hand-derived value as a function of the names)
    ("hessian", {"expression": "a*x**2*y + k*sin(y)", "variables": ["x", "y"]},
     lambda a, k, x, y: [[2 * a * y, 2 * a * x], [2 * a * x, -k * math.sin(y)]]),
    ("derivative", {"expression": "a*exp(-b*x**2)", "variable": "x"},
     lambda a, b, x: -2 * a * b * x * math.exp(-b * x * x)),
    ("derivative", {"expression": "c*x**3", "variable": "x", "order": 2}, lambda c, x: 6 * c * x),
    ("partial_derivative", {"expression": "c*x**3*y**2 + log(a + y**2)", "variables": ["x", "y"]},
     lambda a, c, x, y: 6 * c * x * x * y),
    ("gradient", {"expression": "(y1 - (m*x1 + c))**2 + (y2 - (m*x2 + c))**2", "variables": ["m", "c"]},
     lambda x1, y1, x2, y2, m, c: [-2 * x1 * (y1 - m * x1 - c) - 2 * x2 * (y2 - m * x2 - c),
                                   -2 * (y1 - m * x1 - c) - 2 * (y2 - m * x2 - c)]),
    ("jacobian", {"expressions": ["r*cos(t)", "w*r*sin(t)"], "variables": ["r", "t"]},
     lambda r, t, w: [[math.cos(t), -r * math.sin(t)], [w * math.sin(t), w * r * math.cos(t)]]),
    ("chain_rule", {"expression": "u**2*v + a*u", "substitutions": {"u": "cos(w*t)", "v": "b*t"}, "variable": "t"},
     lambda a, b, w, t: 2 * math.cos(w * t) * (-w * math.sin(w * t)) * b * t + math.cos(w * t) ** 2 * b
     - a * w * math.sin(w * t)),
    ("taylor_polynomial", {"expression": "exp(a*x)*cos(b*y)", "variables": ["x", "y"], "about": {"x": 0, "y": 0},
                           "order": 2},
     lambda a, b, x, y: 1 + a * x + a * a * x * x / 2 - b * b * y * y / 2),
]


@pytest.mark.parametrize("op, inputs, hand", FREE, ids=[f[0] for f in FREE])
def test_symbolic_answers_keep_free_parameters_as_constants(op, inputs, hand):
    got = value(op, **inputs)["value"]
    names = hand.__code__.co_varnames[:hand.__code__.co_argcount]
    for _ in range(5):
        env = {n: float(RNG.uniform(0.3, 1.7)) for n in names}
        want = hand(**env)
        have = [[evaluate(e, **env) for e in row] for row in got] if isinstance(want, list) and \
            isinstance(want[0], list) else [evaluate(e, **env) for e in got] if isinstance(want, list) \
            else evaluate(got, **env)
        assert np.allclose(have, want, rtol=1e-9, atol=1e-12), (env, got)


def test_a_point_may_fix_constants_too():
    assert value("derivative", expression="x**2*y", variable="x", at={"x": 1, "y": 3})["value"] == pytest.approx(6)
    assert value("derivative", expression="a*x**3 + b", variable="x", at={"x": 2})["value"] == "12*a"
    h = value("hessian", expression="x**2*y*z", variables=["x", "y"], at={"x": 1, "y": 3, "z": 2})["value"]
    assert np.allclose(h, [[12, 4], [4, 0]])


def test_a_wrong_symbolic_answer_with_constants_is_caught():
    from quizgen.errors import VerificationError
    from quizgen.verify import verify_answer
    inputs = {"expression": "a*x**2*y + k*sin(y)", "variables": ["x", "y"]}
    verify_answer("hessian", inputs, [["2*a*y", "2*a*x"], ["2*a*x", "-k*sin(y)"]])
    with pytest.raises(VerificationError):
        verify_answer("hessian", inputs, [["2*a*y", "2*a*x"], ["2*a*x", "k*sin(y)"]])


# ---- Newton-Raphson that travels far --------------------------------------------------

def _newton_by_hand(f, df, x, steps):
    for _ in range(steps):
        x = x - f(x) / df(x)
    return x


def test_newton_far_trip_from_a_turning_point_converges():
    item = value("newton_raphson", expression="x**3 - 3*x + 1", variable="x", start=1.00001, steps=40)
    root = 2 * math.cos(2 * math.pi / 9)                       # the roots of x^3 - 3x + 1 are 2cos(2k pi/9 ...)
    assert item["value"] == pytest.approx(root, rel=1e-12)
    by_hand = _newton_by_hand(lambda x: x ** 3 - 3 * x + 1, lambda x: 3 * x * x - 3, 1.00001, 40)
    assert item["value"] == pytest.approx(by_hand, rel=1e-12)
    first = _newton_by_hand(lambda x: x ** 3 - 3 * x + 1, lambda x: 3 * x * x - 3, 1.00001, 1)
    assert first > 10000                                        # it really travels far first


def test_newton_200_steps_show_first_and_last_iterations():
    item = value("newton_raphson", expression="cos(x) - x", variable="x", start=1, steps=200)
    assert item["value"] == pytest.approx(0.7390851332151607, rel=1e-14)
    assert len(item["steps"]) <= 10
    assert any("more steps" in s for s in item["steps"]) and "x_{200}" in item["steps"][-1]


def test_newton_divergence_is_named_as_divergence():
    msg = error("newton_raphson", expression="atan(x)", variable="x", start=2, steps=20)
    assert "diverges" in msg and "f'" not in msg
    early = value("newton_raphson", expression="atan(x)", variable="x", start=2, steps=3)["value"]
    assert early == pytest.approx(_newton_by_hand(math.atan, lambda x: 1 / (1 + x * x), 2.0, 3), rel=1e-10)
    assert "f'(x_0) = 0" in error("newton_raphson", expression="x**2 - 2", variable="x", start=0, steps=3)


def test_gradient_descent_and_newton_optimise_many_steps_by_hand():
    got = value("gradient_descent", expression="x**2 + 3*y**2 + x*y", variables=["x", "y"], start=[1, -2],
                learning_rate=0.05, steps=150)["value"]
    p = np.array([1.0, -2.0])
    for _ in range(150):
        p = p - 0.05 * np.array([2 * p[0] + p[1], 6 * p[1] + p[0]])
    assert np.allclose(got, p, rtol=1e-10, atol=1e-14)
    got = value("newton_optimise", expression="x**4 + y**2 - x*y", variables=["x", "y"], start=[1, 1],
                steps=30)["value"]
    assert np.allclose(got, [1 / (2 * math.sqrt(2)), 1 / (4 * math.sqrt(2))], rtol=1e-12)   # x^3 = 1/8 ... by hand


# ---- Lagrange beyond sympy.solve ------------------------------------------------------

def _critical_on_curve(f, curve, ts):
    """Points of a parametrised constraint curve where d f(curve(t))/dt changes sign, refined by bisection."""
    def dfdt(t, h=1e-6):
        return (f(*curve(t + h)) - f(*curve(t - h))) / (2 * h)
    values = [dfdt(t) for t in ts]
    found = []
    for a, b, fa, fb in zip(ts, ts[1:], values, values[1:]):
        if fa == 0 or fa * fb < 0:
            for _ in range(60):
                m = (a + b) / 2
                if dfdt(a) * dfdt(m) <= 0:
                    b = m
                else:
                    a = m
            found.append(curve((a + b) / 2))
    return found


def _same_points(got, want, tol=1e-5):
    pts = sorted(tuple(p["point"].values()) for p in got)
    want = sorted(want)
    assert len(pts) == len(want), (pts, want)
    for p, w in zip(pts, want):
        assert np.allclose(p, w, atol=tol), (p, w)


def test_lagrange_exp_of_quadratic_on_an_ellipse():
    item = value("lagrange_critical_points", expression="exp(-(2*x**2 + y**2 - x*y)/2)",
                 constraint="x**2 + 3*(y + 1)**2 - 1", variables=["x", "y"])
    f = lambda x, y: math.exp(-(2 * x * x + y * y - x * y) / 2)  # noqa: E731
    want = _critical_on_curve(f, lambda t: (math.cos(t), -1 + math.sin(t) / math.sqrt(3)),
                              np.linspace(0, 2 * math.pi, 2001))
    _same_points(item["value"], want)
    assert "numerically" in " ".join(item["steps"])


def test_lagrange_cosh_constraint():
    item = value("lagrange_critical_points", expression="-exp(x - y**2 + x*y)", constraint="cosh(y) + x - 2",
                 variables=["x", "y"])
    exponent = lambda x, y: x - y * y + x * y  # noqa: E731  (-exp(u) is critical exactly where u is)
    want = _critical_on_curve(exponent, lambda t: (2 - math.cosh(t), t), np.linspace(-8, 8, 4001))
    _same_points(item["value"], want)


def test_lagrange_off_centre_ellipse():
    item = value("lagrange_critical_points", expression="x*y", constraint="(x - 1)**2/4 + (y - 2)**2 - 1",
                 variables=["x", "y"])
    want = _critical_on_curve(lambda x, y: x * y, lambda t: (1 + 2 * math.cos(t), 2 + math.sin(t)),
                              np.linspace(0, 2 * math.pi, 4001))
    _same_points(item["value"], want)
    for p in item["value"]:
        x, y = p["point"]["x"], p["point"]["y"]
        assert [y, x] == pytest.approx([p["multiplier"] * (x - 1) / 2, p["multiplier"] * 2 * (y - 2)], abs=1e-9)


def test_lagrange_all_eight_points_of_x4_y4_on_the_circle():
    item = value("lagrange_critical_points", expression="x**4 + y**4", constraint="x**2 + y**2 - 1",
                 variables=["x", "y"])
    _same_points(item["value"], [(math.cos(k * math.pi / 4), math.sin(k * math.pi / 4)) for k in range(8)])


@pytest.mark.parametrize("sympy_seconds", [None, 120])
def test_lagrange_three_variables_numerically(sympy_seconds, monkeypatch):
    """14 points: the 8 corners (+-1, +-1, +-1) and the 6 axis points. Given time, sympy.solve
    (1.14) lists (0, +-sqrt(3), 0) twice and loses (0, 0, +-sqrt(3)); the engine must not
    pass that on, whether or not sympy finishes within the engine's budget."""
    if sympy_seconds:
        monkeypatch.setattr("quizgen.engine.lagrange.SOLVE_SECONDS", sympy_seconds)
    item = value("lagrange_critical_points", expression="exp(x*y*z)", constraint="x**2 + y**2 + z**2 - 3",
                 variables=["x", "y", "z"])
    s = math.sqrt(3)
    want = [(a, b, c) for a in (-1, 1) for b in (-1, 1) for c in (-1, 1)] + \
        [(s * (i == 0) * sg, s * (i == 1) * sg, s * (i == 2) * sg) for i in range(3) for sg in (-1, 1)]
    _same_points(item["value"], want)


def test_lagrange_a_repeated_sympy_solution_means_the_numerical_method(monkeypatch):
    """sympy.solve listing a solution twice is taken as a sign of lost solutions."""
    import sympy
    solve = sympy.solve
    monkeypatch.setattr(sympy, "solve", lambda *a, **k: (lambda r: r[:1] + r)(solve(*a, **k)))
    item = value("lagrange_critical_points", expression="x*y + x", constraint="x**2 + y**2 - 1",
                 variables=["x", "y"])
    steps = " ".join(item["steps"])
    assert "listed a solution twice" in steps and "numerically" in steps
    # f = x(y + 1) on the unit circle: f' = 0 along (-sin t, cos t) gives 2y^2 + y - 1 = 0
    want = [(math.sqrt(3) / 2, 0.5), (-math.sqrt(3) / 2, 0.5), (0.0, -1.0)]
    _same_points(item["value"], want)


# ---- regression on real data ----------------------------------------------------------

GAUSS = "exp(-(x - mu)**2/(2*sig**2))/(sqrt(2*pi)*sig)"


def _heights(noise):
    x = np.round(np.linspace(150, 190, 120), 3)
    y = np.exp(-(x - 171.3) ** 2 / (2 * 7.2 ** 2)) / (math.sqrt(2 * math.pi) * 7.2)
    return [round(float(v), 3) for v in x], [float(v) for v in y + noise * RNG.standard_normal(x.size)]


def _chi2(mu, sig, x, y):
    x, y = np.array(x), np.array(y)
    return float(np.sum((y - np.exp(-(x - mu) ** 2 / (2 * sig ** 2)) / (math.sqrt(2 * math.pi) * sig)) ** 2))


def test_least_squares_gaussian_on_120_points():
    x, y = _heights(0.0)
    fit = value("least_squares", model=GAUSS, parameters=["mu", "sig"], x=x, y=y, start={"mu": 165, "sig": 10})
    assert fit["value"]["mu"] == pytest.approx(171.3, rel=1e-9) and fit["value"]["sig"] == pytest.approx(7.2, rel=1e-9)
    x, y = _heights(0.002)
    fit = value("least_squares", model=GAUSS, parameters=["mu", "sig"], x=x, y=y, start={"mu": 165, "sig": 10})["value"]
    best = _chi2(fit["mu"], fit["sig"], x, y)
    for dmu, dsig in ((1e-3, 0), (-1e-3, 0), (0, 1e-3), (0, -1e-3)):   # a minimum: every neighbour is worse
        assert _chi2(fit["mu"] + dmu, fit["sig"] + dsig, x, y) > best


def test_fit_gradient_descent_gaussian_50_steps_by_hand():
    x, y = _heights(0.002)
    got = value("fit_gradient_descent", model=GAUSS, start={"mu": 168, "sig": 9}, x=x, y=y, learning_rate=300,
                steps=50)["value"]
    p, h = np.array([168.0, 9.0]), 1e-6
    for _ in range(50):
        g = [(_chi2(*(p + h * e), x, y) - _chi2(*(p - h * e), x, y)) / (2 * h) for e in np.eye(2)]
        p = p - 300 * np.array(g)
    assert [got["mu"], got["sig"]] == pytest.approx(list(p), rel=1e-6)


def test_least_squares_exponential_on_exact_data():
    x = [0, 1, 2, 3, 4, 5]
    got = value("least_squares", model="A*exp(k*x)", parameters=["A", "k"], x=x,
                y=[2 * math.exp(0.3 * v) for v in x])["value"]
    assert got == pytest.approx({"A": 2, "k": 0.3}, rel=1e-9)


def test_quadratic_least_squares_on_100_points_matches_polyfit():
    x = list(range(100))
    y = [0.5 * i * i - 3 * i + 2 + ((-1) ** i) * 0.1 for i in x]
    got = value("least_squares", model="a*x**2 + b*x + c", parameters=["a", "b", "c"], x=x, y=y)["value"]
    a, b, c = np.polyfit(x, y, 2)
    assert [got["a"], got["b"], got["c"]] == pytest.approx([a, b, c], rel=1e-8, abs=1e-8)


# ---- non-differentiable points and undefined functions --------------------------------

@pytest.mark.parametrize("expression, at", [("abs(x)", 0), ("sqrt(x**2)", 0), ("abs(x - 1)*x", 1), ("max(x, 2*x)", 0)])
def test_kinks_are_refused(expression, at):
    assert "not differentiable" in error("derivative", expression=expression, variable="x", at={"x": at})


def test_smooth_through_a_kink_and_away_from_it():
    assert value("derivative", expression="x*abs(x)", variable="x", at={"x": 0})["value"] == 0
    assert value("derivative", expression="abs(x)", variable="x", at={"x": -2})["value"] == -1
    assert "not defined" in error("derivative", expression="log(x)", variable="x", at={"x": -1})


# ---- solve as a batch tool ------------------------------------------------------------

def test_batch_with_bad_items_answers_the_good_ones():
    items, failed = solve_requests([
        {"op": "derivative", "inputs": {"expression": "x**3", "variable": "x", "at": {"x": 2}}},
        {"op": "nope", "inputs": {}},
        {"op": "derivative", "inputs": {"expression": "x**", "variable": "x"}},
        7,
        {"op": "gradient", "inputs": {"expression": "x*y", "variables": ["x", "y"], "at": {"x": 1, "y": 2}}},
    ])
    assert failed == 3
    assert items[0]["value"] == 12 and items[4]["value"] == [2, 1]
    assert "unknown operation" in items[1]["error"] and "inputs.expression" in items[2]["error"]
    assert all(i["error"].startswith(f"request {k}:") for k, i in enumerate(items, 1) if "error" in i)


def test_solve_cli_exit_code_and_timeout(tmp_path):
    requests = [{"op": "derivative", "inputs": {"expression": "x**2", "variable": "x", "at": {"x": 1}}},
                {"op": "taylor_polynomial", "inputs": {"expression": "exp(sin(x*y + z))*log(2 + cos(x*z))",
                                                       "variables": ["x", "y", "z"],
                                                       "about": {"x": 0, "y": 0, "z": 0}, "order": 12}},
                {"op": "taylor_polynomial", "inputs": {"expression": "exp(x)", "variables": ["x"],
                                                       "about": {"x": 0}, "order": 30}}]
    path = tmp_path / "r.json"
    path.write_text(json.dumps(requests))
    run = subprocess.run([sys.executable, "-m", "quizgen.cli", "solve", str(path), "--timeout", "1"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    out = json.loads(run.stdout)
    assert out[0]["value"] == 2 and "time budget of 1 s" in out[1]["error"]
    assert "inputs.order" in out[2]["error"] and "between 1 and 12" in out[2]["error"]


@pytest.mark.parametrize("model, start, rate", [
    (GAUSS, {"mu": 168, "sig": 9}, 300),                  # analytic: the complex-step check
    ("a*abs(x - 170) + b", {"a": 0.001, "b": 0.01}, 1e-6),  # abs: the high-precision mpmath check
])
def test_fit_descent_check_rejects_a_wrong_key(model, start, rate):
    from quizgen.errors import VerificationError
    from quizgen.verify import verify_answer
    x, y = _heights(0.002)
    inputs = {"model": model, "start": start, "x": x, "y": y, "learning_rate": rate, "steps": 20}
    got = value("fit_gradient_descent", **inputs)["value"]
    verify_answer("fit_gradient_descent", inputs, got)
    for name in got:
        wrong = dict(got, **{name: got[name] * (1 + 1e-4)})
        with pytest.raises(VerificationError):
            verify_answer("fit_gradient_descent", inputs, wrong)
