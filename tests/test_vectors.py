"""Vectors in template maths (dot, norm, u/norm(u), components), the steepest_ascent operation,
and the bank templates that use them, checked against plain-float finite differences."""

import json
import math

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner

from quizgen.cli import main
from quizgen.errors import VerificationError
from quizgen.exprs import ExprError, to_sympy
from quizgen.verify import verify_answer


def run(*args):
    return CliRunner().invoke(main, list(args), env={"QUIZGEN_BANK": ""}, catch_exceptions=False)


X, Y = sp.symbols("x y", real=True)
SCOPE = {"u": [sp.Integer(3), sp.Integer(-4)], "v": [sp.Integer(2), sp.Integer(5)],
         "W": [[sp.Integer(1), sp.Integer(2)], [sp.Integer(0), sp.Integer(-1)]]}


def value(text):
    out = to_sympy(text, SCOPE, {"x": X, "y": Y})
    return [float(c) for c in out] if isinstance(out, sp.MatrixBase) else out


# ---- the expression helpers, against numpy --------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("dot(u, v)", float(np.dot([3, -4], [2, 5]))),
    ("norm(u)", float(np.linalg.norm([3, -4]))),
    ("u/norm(u)", list(np.array([3, -4]) / np.linalg.norm([3, -4]))),
    ("2*u - v", list(2 * np.array([3, -4]) - np.array([2, 5]))),
    ("W*v", list(np.array([[1, 2], [0, -1]]) @ np.array([2, 5]))),
    ("u[1]", -4.0),
    ("norm([1, 2, 2])", 3.0),
    ("-u", [-3.0, 4.0]),
])
def test_vector_expressions_match_numpy(text, expected):
    got = value(text)
    assert (got == pytest.approx(expected)) if isinstance(expected, list) else float(got) == pytest.approx(expected)


def test_vector_expressions_in_the_variables_stay_symbolic():
    assert sp.expand(value("dot([x, y], v)") - (2 * X + 5 * Y)) == 0
    assert sp.simplify(value("norm([x, y])") - sp.sqrt(X ** 2 + Y ** 2)) == 0


@pytest.mark.parametrize("text, words", [
    ("u + 1", "vector + number is not defined"),
    ("u*v", "dot(u, v)"),
    ("sin(u)", "sin() takes numbers, not a vector"),
    ("u[2]", "numbered from 0 to 1"),
    ("u[x]", "whole number"),
    ("u < v", "cannot be compared"),
    ("dot(u, [1, 2, 3])", "different lengths (2 and 3)"),
    ("norm(3)", "norm takes a vector"),
    ("[u, v]", "components"),
])
def test_vector_mistakes_get_a_plain_message(text, words):
    with pytest.raises(ExprError, match=None) as exc:
        to_sympy(text, SCOPE, {"x": X, "y": Y})
    assert words in str(exc.value)


@pytest.mark.parametrize("text", ["u[0:1]", "u.T", "u[-1]", "[1, 2][0].__class__", "u['a']"])
def test_only_whole_number_components_are_parsed(text):
    with pytest.raises(ExprError):
        to_sympy(text, SCOPE, {})


# ---- steepest_ascent ------------------------------------------------------------------

def _fd_gradient(fn, point, h=1e-5):
    """Plain-float five-point central differences."""
    g = []
    for i in range(len(point)):
        def along(t):
            p = list(point)
            p[i] += t
            return fn(*p)
        g.append((-along(2 * h) + 8 * along(h) - 8 * along(-h) + along(-2 * h)) / (12 * h))
    return np.array(g)


ASCENT = [
    ("x**2*y + exp(y)", ["x", "y"], {"x": 1, "y": 0.5}, lambda x, y: x ** 2 * y + math.exp(y)),
    ("sin(x*y) - z**2", ["x", "y", "z"], {"x": 0.3, "y": -1, "z": 2}, lambda x, y, z: math.sin(x * y) - z ** 2),
]


@pytest.mark.parametrize("expr, xs, at, fn", ASCENT)
def test_steepest_ascent_is_the_unit_gradient(solve, expr, xs, at, fn):
    got = solve("steepest_ascent", expression=expr, variables=xs, at=at)
    g = _fd_gradient(fn, list(at.values()))
    assert got == pytest.approx(list(g / np.linalg.norm(g)), abs=1e-8)
    assert float(np.linalg.norm(got)) == pytest.approx(1.0)
    inputs = {"expression": expr, "variables": xs, "at": at}
    verify_answer("steepest_ascent", inputs, got)
    with pytest.raises(VerificationError):
        verify_answer("steepest_ascent", inputs, [c + 1e-3 for c in got])


def test_steepest_ascent_steps_say_what_they_do_and_a_stationary_point_is_refused():
    from quizgen.errors import QuizgenError
    from quizgen.solve import solve_request
    out = solve_request({"op": "steepest_ascent", "inputs": {"expression": "x**2 + 3*y", "variables": ["x", "y"],
                                                             "at": {"x": 2, "y": 0}}}, "t", "t")
    words = " ".join(out["steps"])
    assert "gradient" in words and "length" in words and "unit vector" in words
    with pytest.raises(QuizgenError, match="gradient is zero"):
        solve_request({"op": "steepest_ascent", "inputs": {"expression": "x**2 + y**2", "variables": ["x", "y"],
                                                           "at": {"x": 0, "y": 0}}}, "t", "t")


# ---- the bank templates that use vectors ----------------------------------------------

def _generate(tmp_path, template, count=6):
    out = tmp_path / template
    result = run("generate", "--template", template, "--count", str(count), "--out", str(out))
    assert result.exit_code == 0, result.output
    return json.loads((out / "quizgen.json").read_text())


def _compiled(text, names):
    return sp.lambdify(sp.symbols(names), sp.sympify(text), "math")


def test_steepest_ascent_template_keys_match_finite_differences(tmp_path):
    for q in _generate(tmp_path, "steepest-ascent-direction"):
        p, a = q["parameters"], q["answers"][0]
        fn = lambda x, y: p["a"] * x ** 2 * y + p["b"] * x + p["c"] * y ** 2  # noqa: E731
        g = _fd_gradient(fn, p["P"])
        assert a["value"] == pytest.approx(list(g / np.linalg.norm(g)), abs=1e-7), p
        assert a["provenance"]["inputs"]["at"] == {"x": p["P"][0], "y": p["P"][1]}
        assert len(q["choices"]) >= 4


def test_rate_along_path_template_keys_match_finite_differences(tmp_path):
    for q in _generate(tmp_path, "rate-of-change-along-path"):
        p, a = q["parameters"], q["answers"][0]
        g = getattr(math, p["g"])
        path = lambda t: (p["p"] * t ** 2 + 1, g(p["q"] * t / 2))  # noqa: E731
        f = lambda x, y: p["a"] * x ** 2 * y + p["b"] * y ** 2  # noqa: E731
        composite = lambda t: f(*path(t))  # noqa: E731
        expected = _fd_gradient(composite, [p["t0"]])[0]
        assert a["value"] == pytest.approx(expected, abs=1e-6), p
        subs = a["provenance"]["inputs"]["substitutions"]
        assert set(subs) == {"x", "y"} and all(isinstance(s, str) for s in subs.values())
        assert "\\begin{pmatrix}" in q["prompt"]                 # r(t) printed as a column vector
        assert "chain rule" in q["solution"] and "\\frac{dx}{dt}" in q["solution"]


def test_a_template_with_a_bad_vector_expression_is_refused_with_its_line(tmp_path):
    from pathlib import Path
    src = Path(__file__).resolve().parent.parent / "question_bank" / "multivariate-calculus" / "rate-along-path.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text(src.read_text().replace('r: "[p*t**2 + 1, g(q*t/2)]"', 'r: "[p*t**2 + 1, g(q*t/2)] + 1"'))
    result = run("validate", str(bad), "--samples", "1")
    assert result.exit_code == 2
    line = next(i for i, text in enumerate(bad.read_text().splitlines(), 1) if text.strip().startswith("r:"))
    assert f"line {line}" in result.output and "define.r" in result.output
    assert "vector + number is not defined" in result.output and "Traceback" not in result.output
