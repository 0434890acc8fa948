"""Figures do not give the answer away: every figure kind has a question figure (only what is
given) and a solution figure (plus what the solution finds), and every exporter uses the
right one. The SVGs are read back; the solution's elements are recomputed by hand."""

from __future__ import annotations

import base64
import dataclasses
import gzip
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from lxml import etree

from quizgen import figure_data, figures
from quizgen.bank import load_bank, load_template
from quizgen.errors import QuizgenError
from quizgen.export import Paper, QuizSet, get
from quizgen.export.html import Formatter
from quizgen.pipeline import generate_variant
from quizgen.sampling import derive_seed

SVG = "{http://www.w3.org/2000/svg}"
SEEDS = (1, 2)
SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")

SYNTHETIC = """\
id: synthetic-{kind}
title: A synthetic {kind} figure
module: functions-and-derivatives
topic: power-rule
difficulty: 1
parameters:
  a: {{int: [2, 4]}}
  x0: {{int: [1, 2]}}
define:
  f: "a*x**3 - 2*x"
answers:
  d:
    op: derivative
    expression: f
    variable: x
    at: {{x: x0}}
    label: "f'(x_0)"
    round: 3
    tolerance: {{abs: 0.001}}
prompt: |
  Let $f(x) = {{{{ f }}}}$. Find $f'({{{{ x0 }}}})$.
figure:
  kind: {kind}
  expression: f
  at: x0
  range: [-2, 2]
{extra}"""


def synthetic(tmp_path: Path, kind: str, extra: str = "") -> object:
    path = tmp_path / f"synthetic-{kind}.yaml"
    path.write_text(SYNTHETIC.format(kind=kind, extra=extra), encoding="utf-8")
    return load_template(path)


@pytest.fixture(scope="module")
def bank() -> dict:
    return {t.id: t for t in load_bank()}


@pytest.fixture(scope="module")
def by_kind(bank, tmp_path_factory) -> dict[str, list]:
    """Every figure kind of figure_data -> the templates using it (a synthetic one when the bank has none)."""
    kinds: dict[str, list] = {kind: [] for kind in figure_data.BUILDERS}
    for tpl in bank.values():
        if tpl.data.get("figure"):
            kinds[tpl.data["figure"]["kind"]].append(tpl)
    for kind, tpls in kinds.items():
        if not tpls:
            tpls.append(synthetic(tmp_path_factory.mktemp(kind), kind))
    return kinds


def variants(tpl) -> list[dict]:
    return [generate_variant(tpl, derive_seed(seed, tpl.id, 1), 1) for seed in SEEDS]


def svg_texts(data: bytes) -> list[str]:
    root = ET.fromstring(data)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def svg_paths(data: bytes) -> int:
    return len(ET.fromstring(data).findall(f".//{SVG}path"))


def is_tick(text: str) -> bool:
    return bool(NUMBER.fullmatch(text.replace("\N{MINUS SIGN}", "-")))


def numbers_in(text: str) -> set[str]:
    return set(NUMBER.findall(text.replace("\N{MINUS SIGN}", "-")))


def answer_numbers(a: dict) -> list[float]:
    """Every number of an answer's value (expression and label answers have none)."""
    def walk(v):
        if isinstance(v, bool) or isinstance(v, str) or v is None:
            return []
        if isinstance(v, (int, float)):
            return [float(v)]
        if isinstance(v, dict):
            return [x for k, w in v.items() if k != "point" for x in walk(w)]
        return [x for w in v for x in walk(w)]
    return walk(a["value"])


def formatted(v: float, digits: int | None) -> set[str]:
    """``v`` written the ways figure labels write numbers (:g, :.3g, fixed decimals)."""
    forms = {f"{v:g}", f"{v:.3g}", f"{v:.2f}", f"{v:.3f}", f"{v:.4f}"}
    if digits is not None:
        forms.add(f"{v:.{digits}f}")
    return {s for s in forms if float(s) != 0 or v == 0}


def leaked_values(q: dict, data: bytes) -> list[str]:
    """Answer values in the figure's labels (ticks excepted) that the prompt does not state."""
    given = numbers_in(q["prompt"])
    shown = set().union(*[numbers_in(t) for t in svg_texts(data) if not is_tick(t)])
    found = {s for a in q["answers"] for v in answer_numbers(a) for s in formatted(v, a.get("round"))}
    return sorted((shown & found) - given)


def solution_texts(tpl) -> list[str]:
    """Labels only the solution figure may carry, from the template's own figure section."""
    spec = tpl.data["figure"]
    kind = spec["kind"]
    if kind in ("tangent", "secant"):
        return [kind]
    if kind == "taylor":
        return [f"T{str(n).translate(SUB)}" for n in spec.get("orders", [1, 2, 3])]
    if kind == "newton":
        return [f"x{str(i).translate(SUB)}" for i in range(1, int(spec.get("steps", 3)) + 1)]
    if kind == "contour_path":
        return [spec.get("label", "iterates")]
    if kind == "data_fit":
        return ["fit", "residual"]
    return []


def main_ticks(data: bytes) -> list[str]:
    """Tick labels of the first axes (the main plot)."""
    axes = next(g for g in ET.fromstring(data).iter(f"{SVG}g") if g.get("id") == "axes_1")
    return [t for t in ("".join(e.itertext()) for e in axes.iter(f"{SVG}text")) if is_tick(t)]


# --- every kind: the question figure shows only what is given -------------------------------

def test_every_kind_is_covered(by_kind):
    assert set(by_kind) == set(figure_data.BUILDERS) and all(by_kind.values())


@pytest.mark.parametrize("kind", sorted(figure_data.BUILDERS))
def test_question_figure_has_no_answer_element_or_value(by_kind, kind):
    for tpl in by_kind[kind]:
        for q in variants(tpl):
            question, solution = q["figure"], q["solution_figure"]
            q_svg, s_svg = figures.draw(question, "svg"), figures.draw(solution, "svg")
            q_text, s_text = " ".join(svg_texts(q_svg)), " ".join(svg_texts(s_svg))
            for label in solution_texts(tpl):
                assert label not in q_text, (tpl.id, label, q_text)
                assert label in s_text, (tpl.id, label, s_text)
            assert leaked_values(q, q_svg) == [], tpl.id
            if kind == "function":                     # nothing to find: the same figure
                assert q_svg == s_svg
                continue
            assert svg_paths(q_svg) < svg_paths(s_svg), tpl.id
            assert question["frame"] == solution["frame"]
            ticks_q, ticks_s = main_ticks(q_svg), main_ticks(s_svg)
            if solution.get("residuals"):              # the main plot shows no x ticks then
                assert ticks_q[-len(ticks_s):] == ticks_s
            else:
                assert ticks_q == ticks_s, tpl.id


def test_leak_check_can_fail(bank):
    """The value check finds an answer written into a label."""
    q = variants(bank["newton-raphson-steps"])[0]
    x2 = q["answers"][0]["value"]
    spec = {**q["figure"], "title": f"$x_2 = {x2:.4f}$"}
    assert leaked_values(q, figures.draw(spec, "svg")) == [f"{x2:.4f}"]


# --- the solution's elements, recomputed by hand ---------------------------------------------

FAMILIES = {"exp": sp.exp, "sinh": sp.sinh, "tanh": sp.tanh, "cosh": sp.cosh, "sin": sp.sin,
            "cos": sp.cos, "sigmoid": lambda z: 1 / (1 + sp.exp(-z))}


def given(tpl, q: dict, name: str, *variables: str):
    """A defined function of the template with this variant's parameters, as a float function."""
    local = {k: FAMILIES[v] if isinstance(v, str) else v for k, v in q["parameters"].items()
             if not isinstance(v, (dict, list))}
    for key, text in (tpl.data.get("define") or {}).items():
        local[key] = sp.sympify(str(text), locals=local)
    return sp.lambdify([sp.Symbol(v) for v in variables], local[name], "math")


def value(tpl, q: dict, key: str) -> float:
    text = str(tpl.data["figure"][key])
    return float(q["parameters"][text]) if text in q["parameters"] else float(sp.sympify(text))


H = 1e-5


def test_newton_iterates_only_in_the_solution(by_kind):
    for tpl in by_kind["newton"]:
        for q in variants(tpl):
            f = given(tpl, q, tpl.data["figure"]["expression"], "x")
            xs = [value(tpl, q, "start")]
            for _ in range(int(tpl.data["figure"].get("steps", 3))):
                x = xs[-1]
                xs.append(x - f(x) / ((f(x + H) - f(x - H)) / (2 * H)))
            shown = lambda spec: [p["x"] for p in spec["points"]]
            assert shown(q["solution_figure"]) == pytest.approx(xs, abs=1e-6)
            assert shown(q["figure"]) == pytest.approx(xs[:1])
            assert not q["figure"]["segments"]


def test_tangent_and_secant_lines_only_in_the_solution(by_kind):
    for kind in ("tangent", "secant"):
        for tpl in by_kind[kind]:
            for q in variants(tpl):
                f = given(tpl, q, tpl.data["figure"]["expression"], tpl.variables[0])
                a = value(tpl, q, "at")
                if kind == "tangent":
                    slope = (f(a + H) - f(a - H)) / (2 * H)
                else:
                    h = value(tpl, q, "h")
                    slope = (f(a + h) - f(a)) / h
                [curve] = q["figure"]["curves"]                     # the function alone
                xs = np.array(curve["x"])
                ys = np.array([np.nan if y is None else y for y in curve["y"]])
                ok = np.isfinite(ys)
                assert ys[ok] == pytest.approx([f(x) for x in xs[ok]], rel=1e-5, abs=1e-5)
                line = q["solution_figure"]["curves"][1]
                lx, ly = np.array(line["x"]), np.array(line["y"], dtype=float)
                assert ly == pytest.approx(f(a) + slope * (lx - a), rel=1e-4, abs=1e-4), tpl.id


def test_descent_path_only_in_the_solution(by_kind):
    for tpl in by_kind["contour_path"]:
        spec = tpl.data["figure"]
        for q in variants(tpl):
            names = spec.get("variables", tpl.variables[:2])
            f = given(tpl, q, spec["expression"], *names)
            p = np.array([float(q["parameters"][s]) for s in spec["start"]])
            path = [p]
            for _ in range(int(spec.get("steps", 3))):
                x, y = path[-1]
                g = np.array([(f(x + H, y) - f(x - H, y)) / (2 * H), (f(x, y + H) - f(x, y - H)) / (2 * H)])
                if "learning_rate" in spec:
                    step = value(tpl, q, "learning_rate") * g
                else:                                           # Newton: finite-difference Hessian
                    k = 1e-3
                    hxx = (f(x + k, y) - 2 * f(x, y) + f(x - k, y)) / k ** 2
                    hyy = (f(x, y + k) - 2 * f(x, y) + f(x, y - k)) / k ** 2
                    hxy = (f(x + k, y + k) - f(x + k, y - k) - f(x - k, y + k) + f(x - k, y - k)) / (4 * k * k)
                    step = np.linalg.solve([[hxx, hxy], [hxy, hyy]], g)
                path.append(path[-1] - step)
            drawn = q["solution_figure"]["path"]
            assert np.column_stack([drawn["x"], drawn["y"]]) == pytest.approx(np.array(path), abs=1e-3)
            assert "path" not in q["figure"]
            assert [(pt["x"], pt["y"]) for pt in q["figure"]["points"]] == [tuple(path[0])]


def test_fit_and_residuals_only_in_the_solution(bank):
    for q in variants(bank["weighted-line-fit"]):
        data = q["parameters"]["data"]
        x, y, s = (np.array(data[k], float) for k in ("x", "y", "sigma"))
        slope, intercept = np.polyfit(x, y, 1, w=1 / s)               # numpy's weighted fit
        solution = q["solution_figure"]
        assert solution["residuals"]["r"] == pytest.approx(y - (slope * x + intercept), abs=1e-5)
        [fit] = solution["curves"]
        assert np.array(fit["y"]) == pytest.approx(slope * np.array(fit["x"]) + intercept, abs=1e-5)
        assert q["figure"]["curves"] == [] and "residuals" not in q["figure"]
        assert q["figure"]["errorbars"]["y"] == pytest.approx(y)


def test_taylor_polynomials_only_in_the_solution(by_kind):
    for tpl in by_kind["taylor"]:
        orders = tpl.data["figure"].get("orders", [1, 2, 3])
        for q in variants(tpl):
            assert len(q["figure"]["curves"]) == 1
            assert len(q["solution_figure"]["curves"]) == 1 + len(orders)


def test_question_figure_does_not_depend_on_the_answers(bank, monkeypatch):
    """A fit answer changed after the fact changes the solution figure only."""
    from quizgen import pipeline
    tpl = bank["line-fit-unweighted"]
    q = generate_variant(tpl, 7, 1)
    real = figure_data.build_figures

    def with_other_fit(tpl_, scope, symbols, answers):
        name = tpl_.data["figure"]["fit"]
        fake = dataclasses.replace(answers[name], value={k: v + 1.0 for k, v in answers[name].value.items()})
        return real(tpl_, scope, symbols, {**answers, name: fake})
    monkeypatch.setattr(figure_data, "build_figures", with_other_fit)
    changed = pipeline.generate_variant(tpl, 7, 1)
    assert changed["figure"] == q["figure"]
    assert changed["solution_figure"] != q["solution_figure"]


# --- exporters: question figure with the question, solution figure with the solution ----------

def quizset(questions, **options) -> QuizSet:
    return QuizSet(title="Figures", papers=[Paper("", questions)], name="f", options=options)


@pytest.fixture(scope="module")
def pair(bank) -> list[dict]:
    """Two figure questions whose figures differ, and one without a figure."""
    return [generate_variant(bank[t], 3, 1) for t in ("newton-raphson-steps", "weighted-line-fit", "jacobian-at-point")]


def test_html_worksheet_has_question_figures_key_solution_figures(pair):
    from quizgen.export.html import render_pages
    pages = render_pages(quizset(pair)).pages
    fmt = Formatter()
    for i, q in enumerate(pair[:2], 1):
        ident = f"p1-q{i}"
        question, solution = str(fmt.figure(q["figure"], ident)), str(fmt.figure(q["solution_figure"], ident))
        assert question in pages["worksheet"] and solution not in pages["worksheet"]
        assert solution in pages["key"] and question not in pages["key"]
        assert question in pages["practice"]                    # with the prompt
        assert str(fmt.figure(q["solution_figure"], ident + "-s")) in pages["practice"]   # in the reveal


def test_latex_worksheet_and_key_figures(pair, tmp_path):
    get("latex")(quizset(pair), tmp_path)
    worksheet = (tmp_path / "f-worksheet.tex").read_text()
    key = (tmp_path / "f-key.tex").read_text()
    for q in pair[:2]:
        stem = f"figures/{q['template']}-v1"
        assert (tmp_path / f"{stem}.pdf").read_bytes() == figures.draw(q["figure"], "pdf")
        assert (tmp_path / f"{stem}-solution.pdf").read_bytes() == figures.draw(q["solution_figure"], "pdf")
        assert f"{{{stem}.pdf}}" in worksheet and "-solution" not in worksheet
        assert f"{{{stem}-solution.pdf}}" in key and f"{{{stem}.pdf}}" not in key


def moodle_files(root, q: dict, where: str) -> list[bytes]:
    [question] = [e for e in root.iter("question") if e.findtext("idnumber") == f"{q['template']}:{q['seed']}"]
    element = question.find(where)
    refs = re.findall(r"@@PLUGINFILE@@/([^\"]+)", element.findtext("text"))
    files = {f.get("name"): base64.b64decode(f.text) for f in element.findall("file")}
    assert sorted(refs) == sorted(files)
    return list(files.values())


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_moodle_question_text_and_general_feedback_figures(pair, tmp_path, fmt):
    [path] = get("moodle")(quizset(pair, moodle_figures=fmt), tmp_path)
    root = etree.parse(str(path)).getroot()
    for q in pair[:2]:
        assert moodle_files(root, q, "questiontext") == [figures.draw(q["figure"], fmt)]
        assert moodle_files(root, q, "generalfeedback") == [figures.draw(q["solution_figure"], fmt)]
    assert moodle_files(root, pair[2], "questiontext") == moodle_files(root, pair[2], "generalfeedback") == []


def test_practice_prompt_has_question_figure(pair):
    from quizgen.export.practice import render_practice
    page = render_practice(quizset(pair))
    blob = re.search(r'<script type="application/octet-stream" id="qg-data">\s*(.*?)\s*</script>', page, re.S)[1]
    pools = {p["id"]: p for p in json.loads(gzip.decompress(base64.b64decode(blob)))["templates"]}
    fmt = Formatter()
    for q in pair[:2]:
        [v] = pools[q["template"]]["variants"]
        prefix = f"{q['template']}-{q['seed']}"
        assert v["figure"]["svg"] == str(fmt.figure(q["figure"], prefix + "-q"))
        assert v["solution_figure"]["svg"] == str(fmt.figure(q["solution_figure"], prefix + "-s"))


# --- solution_only, schema, determinism ------------------------------------------------------

def test_solution_only_figure_is_in_the_key_only(tmp_path):
    tpl = synthetic(tmp_path, "tangent", "  solution_only: true\n")
    q = generate_variant(tpl, 5, 1)
    assert q["figure"] is None and q["solution_figure"]["curves"][1]["label"] == "tangent"
    [path] = get("moodle")(quizset([q]), tmp_path)
    root = etree.parse(str(path)).getroot()
    assert moodle_files(root, q, "questiontext") == []
    assert moodle_files(root, q, "generalfeedback") == [figures.draw(q["solution_figure"], "svg")]
    from quizgen.export.html import render_pages
    pages = render_pages(quizset([q])).pages
    assert "<svg" not in pages["worksheet"] and "<svg" in pages["key"]
    get("latex")(quizset([q]), tmp_path)
    assert "includegraphics" not in (tmp_path / "f-worksheet.tex").read_text()
    assert "-solution.pdf" in (tmp_path / "f-key.tex").read_text()


def test_solution_only_must_be_true_or_false(tmp_path):
    with pytest.raises(QuizgenError) as err:
        synthetic(tmp_path, "tangent", "  solution_only: sometimes\n")
    assert "solution_only" in str(err.value) and "synthetic-tangent.yaml" in str(err.value)


def test_same_seed_same_figures(bank):
    tpl = bank["gradient-descent-two-steps"]
    a, b = generate_variant(tpl, 11, 1), generate_variant(tpl, 11, 1)
    for key in ("figure", "solution_figure"):
        assert json.dumps(a[key], sort_keys=True) == json.dumps(b[key], sort_keys=True)
        assert figures.draw(a[key], "svg") == figures.draw(b[key], "svg")
