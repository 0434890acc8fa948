"""Categorical answers (kind ``label``): the engine operations against hand-computed and
numpy values, their independent checks, and the label on paper, in Moodle and on the
practice page."""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp
from lxml import etree
from pypdf import PdfReader

from quizgen import engine
from quizgen.bank import load_bank, select
from quizgen.engine import classify
from quizgen.errors import VerificationError
from quizgen.export import Paper, QuizSet, moodle
from quizgen.export.html import render_pages
from quizgen.export.latex import export_latex
from quizgen.export.practice import render_practice
from quizgen.export.space import blanks
from quizgen import moodle_lint
from quizgen.pipeline import generate_questions
from quizgen.solve import RequestError, solve_one
from quizgen.verify import checks, verify_answer

MIN, MAX, SADDLE, NONE = "local minimum", "local maximum", "saddle point", "test inconclusive"


def answer(op, **inputs):
    """The value through the public path: engine, then the independent check."""
    return solve_one({"op": op, "inputs": inputs})["value"]


def by_eigenvalues(H) -> str:
    """The textbook rule on a hand-written Hessian, with numpy's eigenvalues."""
    eig = np.linalg.eigvalsh(np.array(H, dtype=float))
    if np.any(np.abs(eig) < 1e-12):
        return NONE
    return MIN if eig.min() > 0 else MAX if eig.max() < 0 else SADDLE


# --- the operations ------------------------------------------------------------------------

@pytest.mark.parametrize("x0", [-1, 1, 0.5, -2])
def test_concavity_of_a_cubic(x0):
    # f = x^3 - 3x: f'' = 6x by hand
    got = answer("concavity", expression="x**3 - 3*x", variable="x", at={"x": x0})
    assert got == ("concave up" if 6 * x0 > 0 else "concave down")


def test_concavity_by_second_differences_of_transcendental_functions():
    for expr, fn, x0 in [("sin(x)", np.sin, 1.0), ("exp(-x**2)", lambda t: np.exp(-t ** 2), 0.2),
                         ("exp(-x**2)", lambda t: np.exp(-t ** 2), 1.5), ("log(x)", np.log, 2.0)]:
        h = 1e-3
        d2 = (fn(x0 + h) - 2 * fn(x0) + fn(x0 - h)) / h ** 2
        got = answer("concavity", expression=expr, variable="x", at={"x": x0})
        assert got == ("concave up" if d2 > 0 else "concave down"), (expr, x0, d2)


def test_concavity_where_the_second_derivative_vanishes():
    assert answer("concavity", expression="x**3 - 3*x", variable="x", at={"x": 0}) == NONE
    assert answer("concavity", expression="x**4", variable="x", at={"x": 0}) == NONE


@pytest.mark.parametrize("expr, variables, at, hessian", [
    ("x**3 - 3*x", ["x"], {"x": 1}, [[6]]),
    ("x**3 - 3*x", ["x"], {"x": -1}, [[-6]]),
    ("x**2 - y**2", ["x", "y"], {"x": 0, "y": 0}, [[2, 0], [0, -2]]),
    ("x**2 + y**2", ["x", "y"], {"x": 0, "y": 0}, [[2, 0], [0, 2]]),
    ("-(x**2 + y**2)", ["x", "y"], {"x": 0, "y": 0}, [[-2, 0], [0, -2]]),
    ("x*y", ["x", "y"], {"x": 0, "y": 0}, [[0, 1], [1, 0]]),
    ("(x - 1)**2 + 3*(x - 1)*(y + 2) + 5*(y + 2)**2", ["x", "y"], {"x": 1, "y": -2}, [[2, 3], [3, 10]]),
    ("x**2 + 3*x*y + y**2 + z**2", ["x", "y", "z"], {"x": 0, "y": 0, "z": 0},
     [[2, 3, 0], [3, 2, 0], [0, 0, 2]]),
    ("-x**2 - y**2 - 2*z**2 + x*y + y*z", ["x", "y", "z"], {"x": 0, "y": 0, "z": 0},
     [[-2, 1, 0], [1, -2, 1], [0, 1, -4]]),
    ("cos(x) + cos(y)", ["x", "y"], {"x": "pi", "y": 0}, [[1, 0], [0, -1]]),
])
def test_classify_stationary_point_against_numpy_eigenvalues(expr, variables, at, hessian):
    assert answer("classify_stationary_point", expression=expr, variables=variables, at=at) \
        == by_eigenvalues(hessian)


def test_classification_inconclusive_when_an_eigenvalue_is_zero():
    assert answer("classify_stationary_point", expression="x**4", variables=["x"], at={"x": 0}) == NONE
    assert answer("classify_stationary_point", expression="x**4 + y**4", variables=["x", "y"],
                  at={"x": 0, "y": 0}) == NONE
    assert answer("classify_stationary_point", expression="x**2*y**2 + z**2", variables=["x", "y", "z"],
                  at={"x": 0, "y": 0, "z": 0}) == NONE


def test_a_point_that_is_not_stationary_is_refused():
    with pytest.raises(RequestError, match=r"not a stationary point.*gradient there is \(2, 0\)"):
        solve_one({"op": "classify_stationary_point",
                   "inputs": {"expression": "x**2 + y**2", "variables": ["x", "y"], "at": {"x": 1, "y": 0}}})


def test_steps_say_what_they_do():
    steps = solve_one({"op": "concavity", "inputs": {"expression": "x**3", "variable": "x",
                                                      "at": {"x": 2}}})["steps"]
    assert steps[-1] == r"f''(2) = 12 > 0,\quad \text{so } f \text{ is concave up at } x = 2"
    steps = solve_one({"op": "classify_stationary_point", "inputs": {
        "expression": "x**2 - y**2", "variables": ["x", "y"], "at": {"x": 0, "y": 0}}})["steps"]
    assert r"\nabla f(0, 0) = \mathbf{0}\text{: a stationary point}" in steps[0]
    assert steps[-1].startswith(r"\det H = -4 < 0") and steps[-1].endswith(r"(0, 0) \text{ is a saddle point}")


def test_labels_are_the_fixed_lists_and_the_checks_speak_the_same_words():
    result = engine.run("classify_stationary_point", {"expression": sp.sympify("x**2 + y**2"),
                        "variables": list(sp.symbols("x y")), "at": dict.fromkeys(sp.symbols("x y"), 0)})
    assert result.labels == [MIN, MAX, SADDLE, NONE]
    assert classify.CONCAVITY_LABELS == (checks.CONCAVE_UP, checks.CONCAVE_DOWN, checks.INCONCLUSIVE)
    assert set(classify.STATIONARY_LABELS) == {checks.MINIMUM, checks.MAXIMUM, checks.SADDLE, checks.INCONCLUSIVE}


@pytest.mark.parametrize("op, inputs, wrong", [
    ("concavity", {"expression": "x**3 - 3*x", "variable": "x", "at": {"x": 1}}, "concave down"),
    ("concavity", {"expression": "x**4", "variable": "x", "at": {"x": 0}}, "concave up"),
    ("classify_stationary_point", {"expression": "x**2 - y**2", "variables": ["x", "y"],
                                   "at": {"x": 0, "y": 0}}, "local minimum"),
    ("classify_stationary_point", {"expression": "x**2 + y**2", "variables": ["x", "y"],
                                   "at": {"x": 1, "y": 0}}, "local minimum"),      # not stationary
    ("jacobian_size", {"expressions": ["x*y", "y*z"], "variables": ["x", "y", "z"]},
     {"rows": 3.0, "columns": 2.0}),
    ("best_model", {"models": {"A": "2*x", "B": "x + 1"}, "x": [0, 1, 2], "y": [0, 2.1, 3.9]}, "B"),
])
def test_a_planted_wrong_label_is_a_verification_error(op, inputs, wrong):
    with pytest.raises(VerificationError):
        verify_answer(op, inputs, wrong)


def test_sampling_confirms_the_eigenvalues():
    """A Hessian read wrongly would be caught by the samples of f around the point."""
    names, at = ["x", "y"], [0, 0]
    assert set(checks._sampled_rises("x**2 + y**2", names, at, list(np.eye(2)))) == {True}
    assert set(checks._sampled_rises("x**2 - y**2", names, at, list(np.eye(2)))) == {True, False}


def test_jacobian_size_is_the_shape_of_the_jacobian():
    [q] = generate_questions(select(load_bank(), ids=["jacobian-symbolic"]), 1, 5)
    J, size = (next(a for a in q["answers"] if a["name"] == n) for n in ("J", "size"))
    assert size["value"] == {"rows": len(J["value"]), "columns": len(J["value"][0])}
    assert size["provenance"] == {"op": "jacobian_size", "inputs": {
        "expressions": J["provenance"]["inputs"]["expressions"], "variables": ["x", "y", "z"]}}


def test_best_model_has_the_smallest_chi_squared_by_numpy():
    qs = generate_questions(select(load_bank(), ids=["chi-squared-compare-models"]), 6, 2)
    for q in qs:
        [better] = [a for a in q["answers"] if a["kind"] == "label"]
        inputs = better["provenance"]["inputs"]
        x, y, s = (np.array(inputs[k], dtype=float) for k in ("x", "y", "sigma"))
        chi2 = {name: float(np.sum(((y - sp.lambdify("x", sp.sympify(m))(x)) / s) ** 2))
                for name, m in inputs["models"].items()}
        assert better["value"] == min(chi2, key=chi2.get)
        assert better["labels"] == ["model A", "model B"]


# --- the answer object and the exports --------------------------------------------------

@pytest.fixture(scope="module")
def label_questions():
    """Bank questions with label answers, as a numeric section prints them (no choices)."""
    ids = ["second-derivative-at-point", "classify-stationary-points-cubic"]
    return [dict(q, choices=None) for q in generate_questions(select(load_bank(), ids=ids), 2, 9)]


def labels_of(q):
    return [a for a in q["answers"] if a["kind"] == "label"]


def test_the_json_answer_carries_its_labels_and_provenance(label_questions):
    for q in label_questions:
        for a in labels_of(q):
            assert a["value"] in a["labels"] and a["tolerance"] is None
            assert a["display"] == rf"\text{{{a['value']}}}"
            assert a["provenance"]["op"] in ("concavity", "classify_stationary_point")
            assert a["provenance"]["inputs"]["expression"] and a["provenance"]["inputs"]["at"]
    q = label_questions[0]
    [d2] = [a for a in q["answers"] if a["name"] == "d2"]
    [shape] = labels_of(q)
    assert shape["value"] == ("concave up" if d2["value"] > 0 else "concave down")   # the sign of f''


def test_moodle_choice_part_with_the_right_label_at_100(label_questions):
    xml = moodle.build_xml(QuizSet("t", [Paper("", label_questions)]))
    assert moodle_lint.problems(xml) == []
    root = etree.fromstring(xml.encode())
    graded = [q for q in root.findall("question") if q.get("type") != "category"]
    assert len(graded) == len(label_questions)
    for xml_q, q in zip(graded, label_questions):
        assert xml_q.get("type") == "cloze"
        parts = re.findall(r"\{\d+:MULTICHOICE_S:([^}]*)\}", xml_q.findtext("questiontext/text"))
        assert len(parts) == len(labels_of(q))
        for part, a in zip(parts, labels_of(q)):
            options = [alt.split("#", 1)[0] for alt in part.split("~")]
            right = [o[1:] for o in options if o.startswith("=")]          # "=" is 100 %
            wrong = [o[3:] for o in options if o.startswith("%0%")]
            assert right == [a["value"]] and sorted(right + wrong) == sorted(a["labels"])
        assert "NUMERICAL" in xml_q.findtext("questiontext/text")        # the numbers stay graded


def test_worksheet_prints_the_labels_with_boxes_and_the_key_the_label(label_questions, tmp_path):
    q = label_questions[0]
    [b] = [b for b in blanks(q) if b.shape == "choice"]
    assert b.options == ["concave up", "concave down", "test inconclusive"]
    with_choices = dict(q, choices=[{"text": "$1$", "correct": True}])
    assert [b.shape for b in blanks(with_choices)] == ["choice"]     # the first answer is the choices'
    pages = render_pages(QuizSet("t", [Paper("", label_questions)])).pages
    sheet = etree.HTML(pages["worksheet"])
    groups = sheet.xpath("//div[contains(@class, 'blank') and contains(@class, 'choice')]")
    assert len(groups) == sum(len(labels_of(q)) for q in label_questions)
    for group, a in zip(groups, [a for q in label_questions for a in labels_of(q)]):
        items = group.xpath(".//li")
        assert [li.xpath("string()").strip() for li in items] == a["labels"]
        assert all(li.xpath("span[@class='tick']") for li in items)
    key = etree.HTML(pages["key"])
    shown = " ".join(key.xpath("//p[@class='answer']//text()")).replace("\xa0", " ")   # MathML mtext
    for a in labels_of(label_questions[0]):
        assert a["value"] in shown
    export_latex(QuizSet("t", [Paper("", label_questions[:2])], name="t", options={"pdf": True}), tmp_path)
    tex = (tmp_path / "t-worksheet.tex").read_text()
    assert tex.count(r"$\square$~concave up") == 2
    text = " ".join(p.extract_text() for p in PdfReader(str(tmp_path / "t-worksheet.pdf")).pages)
    assert text.count("\u25a1 concave up \u25a1 concave down \u25a1 test inconclusive") == 2    # the ticks
    key_tex = (tmp_path / "t-key.tex").read_text()
    for q in label_questions[:2]:
        assert rf"\text{{{labels_of(q)[0]['value']}}}" in key_tex


def test_practice_page_chooses_the_label_by_radio_buttons(label_questions):
    from playwright import sync_api
    html = render_practice(QuizSet(title="Practice", papers=[Paper("", label_questions[:1])], seed=1))
    q = label_questions[0]
    right = labels_of(q)[0]["value"]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page()
        page.route("**/*", lambda r: r.fulfill(status=200, content_type="text/html", body=html)
                   if r.request.url == "http://practice.invalid/" else r.abort())
        page.goto("http://practice.invalid/")
        page.wait_for_selector("body[data-ready=true]", timeout=20000)
        card = page.locator(f"#t-{q['template']}")
        radios = card.locator("[role=radiogroup] input[type=radio]")
        assert radios.count() == 3
        d2 = next(a for a in q["answers"] if a["name"] == "d2")
        card.locator("input.answer-input").first.fill(repr(d2["value"]))
        wrong = next(lb for lb in labels_of(q)[0]["labels"] if lb != right)
        card.locator("[role=radiogroup] label", has_text=wrong).click()
        card.locator("button.check").click()
        assert "Not yet" in card.locator(".verdict").inner_text()
        card.locator("[role=radiogroup] label", has_text=right).click()
        card.locator("button.check").click()
        assert card.locator(".verdict").inner_text().startswith("\u2713 Correct")
        browser.close()
