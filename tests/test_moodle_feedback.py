"""Moodle questions that teach: misconception values as 0 % answers with their feedback,
and a choice list per answer, checked against values computed another way."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from quizgen import moodle_lint
from quizgen.bank import load_bank
from quizgen.export import Paper, QuizSet
from quizgen.export import moodle
from quizgen.export.moodle_text import cloze_plain
from quizgen.misconceptions import MISCONCEPTIONS
from quizgen.pipeline import generate_questions

ROOT = Path(__file__).resolve().parent.parent
BLANK = re.compile(r"\{\d*:NUMERICAL:([^}]*)\}")
CHOICE_PART = re.compile(r"<p>(.*?)\{\d*:MULTICHOICE_S:([^}]*)\}</p>")


@pytest.fixture(autouse=True)
def fake_figures(monkeypatch):
    monkeypatch.setattr(moodle, "figure_png", lambda spec: b"\x89PNG fake")
    monkeypatch.setattr(moodle, "figure_svg", lambda spec: b"<svg/>")


def questions(template: str, count: int, seed: int = 11) -> list[dict]:
    [tpl] = [t for t in load_bank() if t.id == template]
    return generate_questions([tpl], count=count, seed=seed)


def exported(qs: list[dict], **options) -> list[etree._Element]:
    xml = moodle.build_xml(QuizSet("t", [Paper("", qs)], options=options))
    assert moodle_lint.problems(xml) == []
    root = etree.fromstring(xml.encode())
    return [q for q in root.findall("question") if q.get("type") != "category"]


def moodle_grade(alternatives, response: float) -> float:
    """Moodle's rule: the first alternative in file order whose tolerance holds the response."""
    for value, tol, fraction, _ in alternatives:
        if abs(response - value) <= tol:
            return fraction / 100
    return 0.0


def numerical_alternatives(xml_q) -> list[tuple[float, float, float, str]]:
    return [(float(a.findtext("text")), float(a.findtext("tolerance")), float(a.get("fraction")),
             a.findtext("feedback/text") or "") for a in xml_q.findall("answer")]


def blank_alternatives(content: str) -> list[tuple[float, float, float, str]]:
    """(value, tolerance, fraction, feedback) of one cloze NUMERICAL blank."""
    out = []
    for alt in content.split("~"):
        answer, _, feedback = alt.partition("#")
        fraction = 100.0 if answer.startswith("=") else float(answer.split("%")[1])
        value, tol = answer.lstrip("=").split("%")[-1].split(":")
        out.append((float(value), float(tol), fraction, feedback))
    return out


def plain(text: str) -> str:
    return re.sub(r"<[^>]+>|\\[()\[\]]|\s", "", html.unescape(text))


# --- a numerical question: chain rule without the inner derivative ---------------------------

def f_power(x, p):
    return (p["p"] * x ** 2 + p["q"] * x + p["r"]) ** p["n"]


def test_missing_inner_derivative_is_a_zero_percent_answer_with_its_feedback():
    qs = questions("chain-rule-power", 8)
    feedback = MISCONCEPTIONS["missing_inner_derivative"].feedback
    seen = 0
    for q, xml_q in zip(qs, exported(qs)):
        p, x0 = q["parameters"], q["parameters"]["x0"]
        u0, du0 = p["p"] * x0 ** 2 + p["q"] * x0 + p["r"], 2 * p["p"] * x0 + p["q"]
        h = 1e-5
        key_fd = (f_power(x0 + h, p) - f_power(x0 - h, p)) / (2 * h)   # finite differences
        key_hand = p["n"] * u0 ** (p["n"] - 1) * du0                      # chain rule by hand
        no_inner = p["n"] * u0 ** (p["n"] - 1)                            # the misconception
        assert xml_q.get("type") == "numerical"
        alternatives = numerical_alternatives(xml_q)
        key, tol, fraction, _ = alternatives[0]
        assert fraction == 100 and key == pytest.approx(key_hand, rel=1e-10)
        assert key == pytest.approx(key_fd, rel=1e-6, abs=1e-6)
        assert moodle_grade(alternatives, key_hand) == 1.0
        assert all(f == 0 for _, _, f, _ in alternatives[1:])
        wrong = [a for a in alternatives[1:] if plain(a[3]) == plain(moodle.html_text(feedback, inline=True))]
        if abs(no_inner - key_hand) > tol:        # present exactly when Moodle can tell it apart
            [(value, wrong_tol, _, _)] = wrong
            assert value == pytest.approx(no_inner, rel=1e-10)
            assert wrong_tol == tol
            assert moodle_grade(alternatives, no_inner) == 0.0
            seen += 1
        else:
            assert wrong == []
    assert seen >= 4, "too few variants exercised the misconception"


# --- cloze NUMERICAL per entry: the transposed Jacobian -------------------------------------

def test_transposed_jacobian_entries_are_zero_percent_alternatives():
    qs = questions("jacobian-at-point", 5)
    text = cloze_plain(MISCONCEPTIONS["transposed_jacobian"].feedback)
    checked = 0
    for q, xml_q in zip(qs, exported(qs, moodle_form="numeric")):
        assert xml_q.get("type") == "cloze"
        [a] = q["answers"]
        J = a["value"]
        blanks = [blank_alternatives(b) for b in BLANK.findall(xml_q.findtext("questiontext/text"))]
        assert len(blanks) == sum(map(len, J))
        width = len(J[0])
        for k, alternatives in enumerate(blanks):
            i, j = divmod(k, width)
            key, tol, fraction, _ = alternatives[0]
            assert fraction == 100 and key == pytest.approx(J[i][j], rel=1e-10, abs=1e-12)
            assert moodle_grade(alternatives, J[i][j]) == 1.0
            transposed = [v for v, _, _, fb in alternatives[1:] if fb == text]
            if i < len(J[0]) and j < len(J) and abs(J[j][i] - J[i][j]) > tol:
                assert transposed == [pytest.approx(J[j][i], rel=1e-10, abs=1e-12)]
                checked += 1
            else:
                assert transposed == []
    assert checked >= 2


# --- several answers, several choices --------------------------------------------------------

def test_each_answer_of_a_multiple_choice_question_gets_its_choices():
    qs = questions("classify-stationary-points-cubic", 3)
    cross_missing = cloze_plain(MISCONCEPTIONS["hessian_cross_term_missing"].feedback)
    for q, xml_q in zip(qs, exported(qs, moodle_form="multichoice")):
        assert xml_q.get("type") == "cloze"
        parts = CHOICE_PART.findall(xml_q.findtext("questiontext/text"))
        matrices = [a for a in q["answers"] if a["kind"] == "matrix"]
        assert len(parts) == len(q["answers"]) >= 2
        for a, (_, content) in zip(q["answers"], parts):
            options = [alt.partition("#") for alt in content.split("~")]
            right = [t[1:] for t, _, _ in options if t.startswith("=")]
            assert len(right) == 1 and len(options) >= 2
            if a not in matrices:
                continue
            H = a["value"]
            numbers = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", right[0])]
            assert numbers == pytest.approx([v for row in H for v in row])
            no_cross = "[" + "; ".join(", ".join(moodle.number(v if r == c else 0)
                                                  for c, v in enumerate(row))
                                       for r, row in enumerate(H)) + "]"
            wrong = {t[3:]: fb for t, _, fb in options if t.startswith("%0%")}
            if any(H[r][c] for r in range(len(H)) for c in range(len(H)) if r != c):
                assert wrong[no_cross] == cross_missing


# --- the feedback inside blanks ------------------------------------------------------------

def test_blank_feedback_is_plain_and_safe_for_every_misconception():
    for m in MISCONCEPTIONS.values():
        text = cloze_plain(m.feedback)
        assert text and not set(text) & set("{}~#<>&\\$"), (m.name, text)
    assert cloze_plain(r"by the chain rule, $\frac{d}{dx} f(g(x)) = f'(g(x))\, g'(x)$.") == \
        "by the chain rule, d/dx f(g(x)) = f'(g(x)) g'(x)."
    assert cloze_plain(r"$\sigma(z) = \frac{1}{1 + e^{-z}}$") == "σ(z) = 1/(1 + e^(-z))"


# --- the whole bank, through the CLI --------------------------------------------------------

def test_whole_bank_count_two_passes_the_linter(tmp_path):
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "quizgen", "generate", "--all", "--count", "2",
                          "--format", "moodle", "--out", str(out), "--name", "bank"],
                         cwd=ROOT, capture_output=True, text=True, timeout=900,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert run.returncode == 0, run.stderr
    data = (out / "bank-moodle.xml").read_bytes()
    assert moodle_lint.problems(data) == []
    root = etree.fromstring(data)
    wrong = root.xpath("//question[@type='numerical']/answer[@fraction='0']")
    assert wrong and all((a.findtext("feedback/text") or "").strip() for a in wrong)
    assert "~%0%" in data.decode()


def test_expression_check_carries_misconception_values_at_its_point():
    """A symbolic answer asked as a value at a point: each misconception expression's value
    there (sympy, not the exporter's evaluator) is a 0 % alternative with its feedback."""
    import sympy as sp
    qs = questions("chain-rule-symbolic", 4)
    checked = 0
    for q, xml_q in zip(qs, exported(qs, moodle_form="numeric")):
        text = xml_q.findtext("questiontext/text")
        point = dict((n, float(v)) for n, v in
                     re.findall(r"([A-Za-z]\w*) = (-?[\d.]+)",
                                re.search(r"Enter the value of .*? at \\\( (.*?) \\\)", text).group(1)))
        [a] = q["answers"]

        def at(expression):
            return float(sp.sympify(expression).subs({sp.Symbol(n): v for n, v in point.items()}))
        [alternatives] = [blank_alternatives(b) for b in BLANK.findall(text)]
        key, tol, _, _ = alternatives[0]
        assert key == pytest.approx(at(a["value"]), rel=1e-9)
        assert moodle_grade(alternatives, at(a["value"])) == 1.0
        wrong = {fb: v for v, _, _, fb in alternatives[1:]}
        for m in a["misconceptions"]:
            if abs(at(m["value"]) - key) > tol:
                fb = cloze_plain(m["feedback"])        # the feedback for this question
                assert wrong[fb] == pytest.approx(at(m["value"]), rel=1e-9)
                assert moodle_grade(alternatives, at(m["value"])) == 0.0
                checked += 1
    assert checked >= 2


def test_categorical_answer_is_a_choice_part_of_its_cloze():
    """A ``label`` answer (concave up / down) next to a number: a MULTICHOICE part offering
    every label, the right one at 100 %, and the number still a graded blank."""
    [q] = questions("chain-rule-power", 1)
    q = {**q, "choices": None, "answers": q["answers"] + [
        {"name": "shape", "label": "shape", "kind": "label", "value": "concave down",
         "labels": ["concave up", "concave down"], "display": "concave down", "round": None,
         "tolerance": None, "misconceptions": [], "provenance": {}, "steps": []}]}
    [xml_q] = exported([q])
    text = xml_q.findtext("questiontext/text")
    assert xml_q.get("type") == "cloze"
    [(_, content)] = CHOICE_PART.findall(text)
    assert sorted(content.split("~")) == ["%0%concave up#", "=concave down#Correct."]
    [blank] = BLANK.findall(text)
    assert blank_alternatives(blank)[0][0] == pytest.approx(q["answers"][0]["value"])
