"""Distractors: at least four options for every multiple-choice template of the bank, each
wrong value computed another way (by hand, numpy, mpmath finite differences), feedback that
explains the mistake and names only functions the question has, validate's warning."""

import math
import re
from collections import defaultdict

import mpmath as mp
import numpy as np
import pytest
from click.testing import CliRunner

from quizgen import engine
from quizgen.bank import load_bank
from quizgen.cli import main
from quizgen.exprs import AutoSymbols, FUNCTIONS, names_in
from quizgen.inputs import json_value, resolve
from quizgen.misconceptions import MISCONCEPTIONS, feedback_text
from quizgen.pipeline import generate_tasks

SEEDS = 5
MC = [t for t in load_bank() if t.data.get("multiple_choice")]


def run(*args):
    return CliRunner().invoke(main, list(args), env={"QUIZGEN_BANK": ""}, catch_exceptions=False)


@pytest.fixture(scope="module")
def generated():
    """SEEDS verified variants of every multiple-choice template (different seeds from test_bank)."""
    questions = generate_tasks([(t, 31, k, ()) for t in MC for k in range(1, SEEDS + 1)])
    by_template = defaultdict(list)
    for q in questions:
        by_template[q["template"]].append(q)
    return by_template


# ---- bank policy: four distinct options, none within tolerance of the key ---------------

def _flat(v):
    if isinstance(v, dict):
        return [x for k in sorted(v) for x in _flat(v[k])]
    if isinstance(v, list):
        return [x for e in v for x in _flat(e)]
    return [v]


def _tolerance(answer):
    tol = answer["tolerance"] or {}
    size = max([abs(x) for x in _flat(answer["value"]) if isinstance(x, float)] + [0.0])
    return max(tol.get("abs", 0.0), tol.get("rel", 0.0) * size)


@pytest.mark.parametrize("tpl", MC, ids=lambda t: t.id)
def test_every_multiple_choice_variant_has_four_distinct_options(generated, tpl):
    for q in generated[tpl.id]:
        choices, key = q["choices"], q["answers"][0]
        assert len(choices) >= 4, (tpl.id, q["seed"], [c["misconception"] for c in choices])
        assert len({c["text"] for c in choices}) == len(choices)          # distinct as printed (rounded)
        assert sum(c["correct"] for c in choices) == 1
        wrong = {m["name"]: m for m in key["misconceptions"]}
        for c in choices:
            if c["correct"]:
                continue
            assert c["misconception"] in tpl.data["multiple_choice"]["misconceptions"]
            value = wrong[c["misconception"]]["value"]
            if key["kind"] != "expression":
                gap = max(abs(a - b) for a, b in zip(_flat(value), _flat(key["value"])))
                assert gap > _tolerance(key), (tpl.id, c["misconception"], value, key["value"])


def test_validate_reports_at_least_four_options_over_the_bank():
    from quizgen.validation import few_options_warning, validate_template
    for tpl in MC:
        stats = validate_template(tpl, samples=3, seed=5)
        assert stats["options"] >= 4 and stats["few"] == 0, (tpl.id, stats)
        assert few_options_warning(tpl, stats) is None


# ---- feedback: present, specific, and about the question's own functions ----------------

TEX_NAMES = {
    "sin": r"\\sin\b", "cos": r"\\cos\b", "tan": r"\\tan\b", "sinh": r"\\sinh\b", "cosh": r"\\cosh\b",
    "tanh": r"\\tanh\b", "exp": r"e\^|\\exp\b", "log": r"\\ln\b|\\log\b",
    "sigmoid": r"\\sigma\s*(\(|'|\\left|\\!)",
}


def named_functions(tex: str) -> set[str]:
    return {name for name, pattern in TEX_NAMES.items() if re.search(pattern, tex)}


def question_functions(q: dict) -> set[str]:
    """The functions the question's expressions (provenance), prompt and worked solution contain
    (the solution has the derivatives: -sin x in a question about cos x)."""
    found = named_functions(q["prompt"]) | named_functions(q["solution"])

    def walk(v):
        if isinstance(v, dict):
            if "activation" in v:
                found.add(str(v["activation"]))
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str):
            try:
                found.update(n for n in names_in(v) if n in FUNCTIONS)
            except ValueError:
                pass
    for a in q["answers"]:
        walk(a["provenance"]["inputs"])
    return found


def test_named_functions_reader_sees_the_functions():
    assert named_functions(r"$\frac{d}{dx}\cos x = -\sin x$") == {"cos", "sin"}
    assert named_functions(r"$e^{u}\, u'$ and $\sinh$") == {"exp", "sinh"}
    assert named_functions(r"weights $1/\sigma_i^2$") == set()          # a standard deviation, not the sigmoid
    assert named_functions(r"$\sigma'(z) = \sigma(z)(1 - \sigma(z))$") == {"sigmoid"}


@pytest.mark.parametrize("tpl", MC, ids=lambda t: t.id)
def test_feedback_names_only_functions_of_the_question(generated, tpl):
    for q in generated[tpl.id]:
        own = question_functions(q)
        texts = [c["feedback"] for c in q["choices"] if not c["correct"]]
        texts += [m["feedback"] for a in q["answers"] for m in a["misconceptions"]]
        for text in texts:
            assert named_functions(text) <= own, (tpl.id, q["seed"], text, own)


def test_every_misconception_explains_itself_in_its_own_words():
    texts = [m.feedback for m in MISCONCEPTIONS.values()]
    assert len(set(texts)) == len(texts)                                 # no shared boilerplate
    for m in MISCONCEPTIONS.values():
        assert len(m.feedback) >= 60 and m.feedback.count("$") % 2 == 0, m.name
        assert m.description and m.description in " ".join(m.feedback.split())
        assert set(m.ops) <= set(engine.load_all()), (m.name, m.ops)     # the listing names real operations


def test_sign_feedback_takes_its_example_from_the_question():
    sign = MISCONCEPTIONS["sign_error"]
    with_cos = resolve({"expression": "x*cos(x)", "variable": "x", "at": {"x": 1}}, {}, AutoSymbols())
    with_exp = resolve({"expression": "x*exp(x)", "variable": "x", "at": {"x": 1}}, {}, AutoSymbols())
    assert "\\cos" in feedback_text(sign, "derivative", with_cos)
    assert named_functions(feedback_text(sign, "derivative", with_exp)) == set()
    tanh_net = {"layers": [{"weights": [[1]], "biases": [0], "activation": "tanh"}], "input": [1]}
    text = feedback_text(MISCONCEPTIONS["forward_without_activation"], "forward", tanh_net)
    assert "\\tanh" in text and "\\sigma" not in text


def test_list_misconceptions_shows_the_new_ones_with_their_operations():
    result = run("list", "--misconceptions")
    assert result.exit_code == 0
    for name in ("gradient_ascent", "sigma_prime_as_sigma", "squared_error_factor_missing", "forgotten_factorial",
                 "newton_inverted", "steepest_descent_for_ascent", "path_velocity_normalised",
                 "hessian_mixed_as_product"):
        line = next(line for line in result.stdout.splitlines() if line.split()[:1] == [name])
        assert line.split(None, 1)[1].split(", ") == list(MISCONCEPTIONS[name].ops)
    assert f"{len(MISCONCEPTIONS)} misconceptions" in result.stdout


# ---- each wrong value, computed another way ---------------------------------------------

def wrong(name, op, **raw):
    """The misconception's value for these inputs, as JSON numbers."""
    inputs = resolve(raw, {}, AutoSymbols())
    value = engine.run(op, inputs).value
    return json_value(MISCONCEPTIONS[name].fn(op, inputs, value))


def test_taylor_coefficient_misconceptions_against_mpmath_derivatives():
    f = lambda x: mp.exp(2 * x) * mp.cos(x)  # noqa: E731
    d = [mp.diff(f, 0, n) for n in range(5)]                      # numerical derivatives, not sympy
    kw = dict(expression="exp(2*x)*cos(x)", variable="x", about=0, order=4)
    assert wrong("forgotten_factorial", "taylor_coefficients", **kw) == pytest.approx([float(v) for v in d])
    assert wrong("taylor_divided_by_n", "taylor_coefficients", **kw) == \
        pytest.approx([float(d[0])] + [float(d[n] / n) for n in range(1, 5)])
    assert wrong("taylor_alternating_sign", "taylor_coefficients", **kw) == \
        pytest.approx([float(c) for c in mp.taylor(lambda x: f(-x), 0, 4)])
    # 3 sin(2x): without the chain rule each derivative lacks its 2^n, so c_n = 3 sin^(n)(0) / n!
    inner = wrong("taylor_inner_derivative_missing", "taylor_coefficients", expression="3*sin(2*x)", variable="x",
                  about=0, order=5)
    assert inner == pytest.approx([float(mp.diff(lambda u: 3 * mp.sin(u), 0, n) / math.factorial(n))
                                   for n in range(6)], abs=1e-12)
    # about a = 1, the coefficients about 0 instead
    at_zero = wrong("taylor_derivatives_at_zero", "taylor_coefficients", expression="x**2*exp(x)", variable="x",
                    about=1, order=3)
    assert at_zero == pytest.approx([float(c) for c in mp.taylor(lambda x: x ** 2 * mp.exp(x), 0, 3)], abs=1e-12)


def test_derivative_rule_misconceptions_by_hand():
    # f = 5x^4 - 2x^3 + x at 2: f(2), and x^(n-1) without the factor n
    kw = dict(expression="5*x**4 - 2*x**3 + x", variable="x", at={"x": 2})
    assert wrong("function_value_for_derivative", "derivative", **kw) == pytest.approx(5 * 16 - 2 * 8 + 2)
    assert wrong("power_rule_coefficient_missing", "derivative", **kw) == pytest.approx(5 * 8 - 2 * 4 + 1)
    # d/dx 3 e^{2x} taken as 3 (2x) e^{2x}, at 0.5
    assert wrong("exp_exponent_brought_down", "derivative", expression="3*exp(2*x)", variable="x",
                 at={"x": 0.5}) == pytest.approx(3 * 1.0 * math.e)
    # 3/x^2 - x: the exponent -2 brought down as +2
    assert wrong("negative_exponent_sign_lost", "derivative", expression="3/x**2 - x", variable="x",
                 at={"x": 2}) == pytest.approx(3 * 2 * 2 ** -3 - 1)
    g = lambda t: 50 * math.exp(0.2 * t)  # noqa: E731
    assert wrong("average_rate_for_instantaneous", "derivative", expression="50*exp(t/5)", variable="t",
                 at={"t": 3}) == pytest.approx(g(4) - g(3))
    # f = x^2 y + y^3 at (1, 2): f_x + f_y = 2xy + (x^2 + 3y^2)
    assert wrong("partial_others_not_held_constant", "partial_derivative", expression="x**2*y + y**3",
                 variables=["x"], at={"x": 1, "y": 2}) == pytest.approx(2 * 1 * 2 + 1 + 3 * 4)
    # (f(1.1) - f(1)) / 0.2 and f(0.1) / 0.1 for f = x^3 + 2
    f = lambda x: x ** 3 + 2  # noqa: E731
    kw = dict(expression="x**3 + 2", variable="x", at={"x": 1}, h=0.1)
    assert wrong("difference_divided_by_2h", "difference_quotient", **kw) == pytest.approx((f(1.1) - f(1)) / 0.2)
    assert wrong("difference_as_if_linear", "difference_quotient", **kw) == pytest.approx(f(0.1) / 0.1)


def _grad(fn, p):
    return np.array([float(mp.diff(lambda t: fn(*[v + (t if j == i else 0) for j, v in enumerate(p)]), 0))
                     for i in range(len(p))])


def _hess(fn, p):
    n = len(p)
    return np.array([[float(mp.diff(lambda s, t: fn(*[v + (s if j == i else 0) + (t if j == k else 0)
                                                       for j, v in enumerate(p)]), (0, 0), (1, 1)))
                      if i != k else float(mp.diff(lambda t: fn(*[v + (t if j == i else 0) for j, v in enumerate(p)]),
                                                   0, 2))
                      for k in range(n)] for i in range(n)])


def test_hessian_and_partial_misconceptions_against_finite_differences():
    fn = lambda x, y: x ** 3 * y + mp.sin(x * y)  # noqa: E731
    p, expr = [0.5, 1.5], "x**3*y + sin(x*y)"
    g, H = _grad(fn, p), _hess(fn, p)
    kw = dict(expression=expr, variables=["x", "y"], at={"x": p[0], "y": p[1]})
    product = H.copy()
    product[0, 1] = product[1, 0] = g[0] * g[1]
    assert np.allclose(wrong("hessian_mixed_as_product", "hessian", **kw), product, atol=1e-9)
    squared = H.copy()
    np.fill_diagonal(squared, g ** 2)
    assert np.allclose(wrong("hessian_diagonal_squared", "hessian", **kw), squared, atol=1e-9)
    assert wrong("partial_wrong_variable", "partial_derivative", expression=expr, variables=["x"],
                 at={"x": p[0], "y": p[1]}) == pytest.approx(g[1])
    assert wrong("gradient_components_swapped", "gradient", **kw) == pytest.approx(list(g[::-1]))


def test_chain_rule_path_misconceptions_against_finite_differences():
    # f(x, y) = x^2 y along x = cos t, y = t^2 + 1, at t = 0.7
    t0 = 0.7
    fx, fy = _grad(lambda x, y: x ** 2 * y, [math.cos(t0), t0 ** 2 + 1])
    dx, dy = -math.sin(t0), 2 * t0
    kw = dict(expression="x**2*y", substitutions={"x": "cos(t)", "y": "t**2 + 1"}, variable="t", at={"t": t0})
    assert wrong("chain_rule_paths_multiplied", "chain_rule", **kw) == pytest.approx(fx * dx * fy * dy)
    assert wrong("chain_rule_path_missing", "chain_rule", **kw) == pytest.approx(fx * dx)
    assert wrong("path_velocity_normalised", "chain_rule", **kw) == \
        pytest.approx((fx * dx + fy * dy) / math.hypot(dx, dy))


def test_iteration_misconceptions_by_hand():
    f, df = (lambda x: x ** 3 - 2 * x - 5), (lambda x: 3 * x ** 2 - 2)
    kw = dict(expression="x**3 - 2*x - 5", variable="x", start=2, steps=3)
    x = 2.0
    for _ in range(3):
        x = x - df(x) / f(x)                                       # f'/f instead of f/f'
    assert wrong("newton_inverted", "newton_raphson", **kw) == pytest.approx(x)
    x = 2.0
    for _ in range(3):
        x = x - f(x) / df(2.0)                                     # the slope of the start kept
    assert wrong("newton_derivative_not_reevaluated", "newton_raphson", **kw) == pytest.approx(x)
    x = 2.0
    for _ in range(2):
        x = x - f(x) / df(x)
    assert wrong("one_iteration_too_few", "newton_raphson", **kw) == pytest.approx(x)

    # f = x^2 + 3y^2 + xy - x: gradient A p + b
    A, b = np.array([[2.0, 1.0], [1.0, 6.0]]), np.array([-1.0, 0.0])
    kw = dict(expression="x**2 + 3*y**2 + x*y - x", variables=["x", "y"], start={"x": 1, "y": 1},
              learning_rate=0.1, steps=2)

    def descend(rate, steps):
        p = np.array([1.0, 1.0])
        for _ in range(steps):
            p = p - rate * (A @ p + b)
        return list(p)
    assert wrong("gradient_ascent", "gradient_descent", **kw) == pytest.approx(descend(-0.1, 2))
    assert wrong("learning_rate_omitted", "gradient_descent", **kw) == pytest.approx(descend(1.0, 2))
    assert wrong("one_iteration_too_few", "gradient_descent", **kw) == pytest.approx(descend(0.1, 1))
    kw = dict(expression="x**2 + 3*y**2 + x*y - x", variables=["x", "y"], start={"x": 1, "y": 1}, steps=1)
    p = np.array([1.0, 1.0])
    assert wrong("newton_hessian_omitted", "newton_optimise", **kw) == pytest.approx(list(p - (A @ p + b)))
    assert wrong("newton_hessian_diagonal_only", "newton_optimise", **kw) == \
        pytest.approx(list(p - (A @ p + b) / np.diag(A)))


def test_network_misconceptions_by_hand():
    w, b, x, y = 0.8, -0.3, 1.5, 0.2
    z = w * x + b
    a = 1 / (1 + math.exp(-z))
    layers = [{"weights": [[w]], "biases": [b], "activation": "sigmoid"}]
    kw = dict(layers=layers, input=[x], target=[y], wrt={"layer": 1, "param": "weights"})
    entry = lambda name: wrong(name, "backprop", **kw)[0][0]  # noqa: E731   dC/dw as a 1x1 matrix
    assert entry("sigma_prime_as_sigma") == pytest.approx(2 * (a - y) * a * x)
    assert entry("squared_error_factor_missing") == pytest.approx((a - y) * a * (1 - a) * x)
    assert entry("sign_error") == pytest.approx(2 * (y - a) * a * (1 - a) * x)
    W, bias, inp = np.array([[0.5, -1.0]]), np.array([0.4]), np.array([1.0, 2.0])
    got = wrong("activation_after_bias", "forward", input=[1, 2],
                layers=[{"weights": [[0.5, -1]], "biases": [0.4], "activation": "tanh"}])
    assert got == pytest.approx(list(np.tanh(W @ inp) + bias))
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    got = wrong("activation_confused", "forward", input=[1, 2],
                layers=[{"weights": [[0.5, -1]], "biases": [0.4], "activation": "tanh"}])
    assert got == pytest.approx(list(sig(W @ inp + bias)))
    got = wrong("weighted_sum_term_missing", "forward", input=[1, 2],
                layers=[{"weights": [[0.5, -1]], "biases": [0.4], "activation": "tanh"}])
    assert got == pytest.approx([math.tanh(0.5 * 1 + 0.4)])


def test_regression_misconceptions_against_numpy():
    x, y, s = [0.0, 1.0, 2.0, 3.0, 4.0], [1.1, 2.9, 5.2, 7.1, 8.8], [0.5, 1.0, 0.5, 2.0, 1.0]
    X, Y, S = map(np.array, (x, y, s))
    kw = dict(model="m*x + c", parameters={"m": 2, "c": 1}, x=x, y=y, sigma=s)
    r = Y - (2 * X + 1)
    assert wrong("chi2_averaged", "chi_squared", **kw) == pytest.approx(np.sum((r / S) ** 2) / 5)
    assert wrong("chi2_weights_inverted", "chi_squared", **kw) == pytest.approx(np.sum((r * S) ** 2))
    m_xy, c_xy = np.polyfit(Y, X, 1)                               # x regressed on y, turned round
    got = wrong("regression_x_on_y", "linear_regression", x=x, y=y)
    assert [got["slope"], got["intercept"]] == pytest.approx([1 / m_xy, -c_xy / m_xy])
    slope = np.linalg.lstsq(X[:, None], Y, rcond=None)[0][0]       # through the origin
    got = wrong("line_through_origin", "linear_regression", x=x, y=y)
    assert [got["slope"], got["intercept"]] == pytest.approx([slope, 0.0])


def test_direction_misconceptions_against_finite_differences():
    fn = lambda x, y: x ** 2 * y + mp.exp(y)  # noqa: E731
    p = [1.0, 0.5]
    g = _grad(fn, p)
    kw = dict(expression="x**2*y + exp(y)", variables=["x", "y"], at={"x": 1, "y": 0.5})
    assert wrong("steepest_ascent_not_normalised", "steepest_ascent", **kw) == pytest.approx(list(g))
    assert wrong("steepest_descent_for_ascent", "steepest_ascent", **kw) == pytest.approx(list(-g / np.linalg.norm(g)))
    assert wrong("length_as_component_sum", "steepest_ascent", **kw) == pytest.approx(list(g / np.abs(g).sum()))
    v = np.array([3.0, -4.0])
    kw = dict(kw, direction=[3, -4])
    assert wrong("direction_not_normalised", "directional_derivative", **kw) == pytest.approx(g @ v)
    assert wrong("directional_as_gradient_length", "directional_derivative", **kw) == pytest.approx(np.linalg.norm(g))


# ---- validate: too few options is a warning, an exact count that cannot be met an error -------

def _template(tmp_path, misconceptions, options=None):
    from pathlib import Path
    src = Path(__file__).resolve().parent.parent / "question_bank" / "functions-and-derivatives" / "power-rule.yaml"
    text = src.read_text()
    block = re.search(r"^multiple_choice:\n(?:  .*\n)+", text, re.M)
    mc = f"multiple_choice:\n  misconceptions: [{', '.join(misconceptions)}]\n"
    if options:
        mc += f"  options: {options}\n"
    path = tmp_path / "power.yaml"
    path.write_text((text[:block.start()] + mc + text[block.end():]).replace("id: power-and-sum-rule",
                                                                             "id: my-power-rule"))
    return path


def test_validate_warns_about_too_few_options_and_names_what_would_add_more(tmp_path):
    path = _template(tmp_path, ["sign_error"])
    result = run("validate", str(path), "--samples", "3")
    assert result.exit_code == 0
    warning = next(line for line in result.output.splitlines() if line.startswith("warning:"))
    assert "my-power-rule" in warning and "only 2 options in 3 of 3 samples" in warning
    assert "line " in warning and "multiple_choice.misconceptions" in warning
    applicable = [m.name for m in MISCONCEPTIONS.values() if "derivative" in m.ops and m.name != "sign_error"]
    assert all(name in warning for name in applicable)
    assert "gradient_ascent" not in warning                          # not one of the derivative's
    ok = run("validate", str(_template(tmp_path, ["power_rule_exponent_kept", "power_rule_coefficient_missing",
                                                  "function_value_for_derivative", "sign_error"], 4)), "--samples", "3")
    assert ok.exit_code == 0 and "warning" not in ok.output and "at least 4 options" in ok.output


def test_an_options_count_that_cannot_be_met_is_an_error_saying_what_to_do(tmp_path):
    result = run("validate", str(_template(tmp_path, ["sign_error", "cos_derivative_sign"], 3)), "--samples", "2")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "fewer than 3 distinct options" in result.output and "list more multiple_choice misconceptions" in result.output


def test_question_specific_feedback_is_safe_inside_a_moodle_blank(generated):
    from quizgen.export.moodle_text import cloze_plain
    texts = {m["feedback"] for qs in generated.values() for q in qs for a in q["answers"] for m in a["misconceptions"]}
    assert any("\\tanh" in t for t in texts) and any("\\cos" in t for t in texts)   # specific ones are among them
    for t in texts:
        plain = cloze_plain(t)
        assert plain and not set(plain) & set("{}~#<>&\\$"), (t, plain)


# ---- the caches behind wrong_answers: a hit gives what a miss gives, nothing is shared by mistake ----

def test_json_values_are_the_30_digit_evaluation_to_the_last_bit():
    """json_value gives integers and 53-bit floats without sympy's evaluation: the same floats
    as ``float(N(v, 30))``, the same texts for expressions."""
    import sympy as sp
    from quizgen.exprs import to_text

    def evaluated(v):                                          # the rule, written out
        if isinstance(v, dict):
            return {str(k): evaluated(w) for k, w in v.items()}
        if isinstance(v, (list, tuple)):
            return [evaluated(w) for w in v]
        if isinstance(v, sp.Basic):
            return to_text(v) if v.free_symbols else float(sp.N(v, 30))
        return float(v) if isinstance(v, (int, float)) else v
    x = sp.Symbol("x", real=True)
    values = [sp.Integer(0), sp.Integer(-7), sp.Integer(2 ** 53), sp.Integer(2 ** 53 + 1), sp.Integer(-(2 ** 53) - 3),
              sp.Integer(10 ** 30 + 1), sp.Float(0.1), sp.Float(-2.5), sp.Float(1e300), sp.Float(5e-324),
              sp.Float("0.1", 30), sp.Float("1.2345678901234567890123456789", 30), sp.Float("3.7", 50),
              sp.Float(0), sp.Rational(1, 3), sp.Rational(-22, 7), sp.sqrt(2) / 2, sp.sin(3) - 1,
              2 * x + 1, x, 3, 0.25,
              {"slope": sp.Rational(2, 3), "intercept": sp.Float(1.5)}, [[sp.Integer(1), x ** 2], [sp.pi, -x]]]
    for v in values:
        got, want = json_value(v), evaluated(v)
        assert repr(got) == repr(want), v                     # the same floats to the last bit, the same texts
    assert json_value(sp.Integer(2 ** 53 + 1)) == float(2 ** 53)    # rounded the way sympy's evaluation rounds it


def test_expression_distinctness_cache_gives_the_uncached_values_and_keeps_points_and_texts_apart():
    from quizgen.misconceptions import _same_function, _sampled, _value_at
    from quizgen.verify.symbolic import _evaluate
    at1, at2 = (("x", 0.37), ("y", -0.61)), (("x", -0.61), ("y", 0.37))
    _value_at.cache_clear()
    first = _sampled(["x**2*y", "exp(x) - y"], at1)                      # misses
    assert _value_at.cache_info().misses == 2
    assert _sampled(["x**2*y", "exp(x) - y"], at1) == first               # hits
    assert _value_at.cache_info().hits == 2
    assert first == _evaluate(["x**2*y", "exp(x) - y"], dict(at1))
    assert _sampled("x**2*y", at2) == _evaluate("x**2*y", dict(at2)) != first[0]   # another point: not shared
    assert _sampled("x*y**2", at1) != first[0]                           # another text at the same point
    assert _sampled("x**2*y", (("x", 0.37), ("y", -0.61), ("z", 1.0))) == first[0]
    for _ in range(2):                                                   # an error is raised each time, never kept
        with pytest.raises(ZeroDivisionError):
            _sampled("1/(x - x)", at1)
    assert _same_function("2*x*(x + 1)", "2*x**2 + 2*x") and not _same_function("2*x*(x + 1)", "2*x**2 + x")
    assert _same_function(["x*y", "2*x"], ["y*x", "x + x"]) and not _same_function(["x*y", "2*x"], ["x*y", "2*y"])
    assert not _same_function(["x"], "x")                                # a vector is not a scalar


def test_quotient_rule_misconceptions_share_the_fraction_without_mixing_up_functions():
    from quizgen.misconceptions import _fraction
    _fraction.cache_clear()
    a = wrong("quotient_of_derivatives", "derivative", expression="(x**2 + 1)/(x - 3)", variable="x", at={"x": 2})
    b = wrong("quotient_rule_denominator_not_squared", "derivative", expression="(x**2 + 1)/(x - 3)",
              variable="x", at={"x": 2})
    assert _fraction.cache_info().hits >= 1                          # the second misconception reused the first's
    assert a == pytest.approx(2 * 2 / 1)                             # u'/v' = 2x / 1
    assert b == pytest.approx((2 * 2 * (2 - 3) - (2 ** 2 + 1)) / (2 - 3))   # (u'v - uv')/v
    other = wrong("quotient_of_derivatives", "derivative", expression="(x**2 + 1)/(x**2 - 3)", variable="x",
                  at={"x": 2})
    assert other == pytest.approx(1.0)                               # 2x / 2x: not the cached (x - 3) one


def test_wrong_answers_are_the_same_from_cold_and_warm_caches():
    from quizgen import misconceptions as M
    from quizgen.pipeline import generate_variant
    tpls = {t.id: t for t in load_bank()}
    picks = [tpls[i] for i in ("derivative-exp-log-trig", "quotient-rule-at-point", "hessian-three-variables",
                               "chain-rule-symbolic")]
    warm = [generate_variant(t, 4, k) for t in picks for k in (1, 2)]
    again = [generate_variant(t, 4, k) for t in picks for k in (1, 2)]          # every cache hit
    for cache in (M._value_at, M._fraction, M._parse_text, M._wrong_diff):
        cache.cache_clear()
    cold = [generate_variant(t, 4, k) for t in picks for k in (1, 2)]           # every cache missed
    assert warm == again == cold
    assert any(m["name"] == "cos_derivative_sign" for q in warm for a in q["answers"] for m in a["misconceptions"])
