"""Broken TeX in any text of a template is refused before anything is written (quizgen/texcheck.py)."""

import dataclasses
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from quizgen import texcheck
from quizgen.cli import main
from quizgen.export.html import tex_to_mathml

ROOT = Path(__file__).resolve().parent.parent
GRADIENT = ROOT / "question_bank" / "multivariate-calculus" / "gradient.yaml"
TEXT = GRADIENT.read_text()


def run(*args, env=None):
    return CliRunner().invoke(main, list(args), env={"QUIZGEN_BANK": "", **(env or {})}, catch_exceptions=False)


def bank_with(tmp_path, old: str, new: str) -> Path:
    """A course bank holding one copy of the built-in gradient template with ``old`` -> ``new``."""
    assert old in TEXT and old != new
    course = tmp_path / "course"
    course.mkdir()
    (course / "grad.yaml").write_text(TEXT.replace("id: gradient-at-point", "id: my-grad").replace(old, new))
    return course


def line_of(needle: str, text: str = TEXT) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def assert_refused(tmp_path, course: Path, field: str, line: int, *snippets: str):
    """validate and generate both exit 2 naming file, line, field, snippet and the variant; nothing written."""
    out = tmp_path / "out"
    for args in (["validate", "--samples", "2"],
                 ["generate", "--all", "--count", "2", "--format", "html,moodle,json", "--out", str(out)]):
        result = run(*args, "--bank", str(course))
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert f"{course / 'grad.yaml'}: line {line} (" in result.output, result.output
        assert f"broken TeX in {field}" in result.output, result.output
        assert all(s in result.output for s in snippets), result.output
        assert re.search(r"variant \d+: seed \d+, parameters p = -?\d, g = \"\w+\"", result.output), result.output
        assert not out.exists()


# ---- each text field ----------------------------------------------------------------

def test_broken_brace_in_the_prompt(tmp_path):
    course = bank_with(tmp_path, "Let $f(x, y) = {{ f }}$.", "Let $f(x, y) = \\frac{1}{2 {{ f }}$.")
    assert_refused(tmp_path, course, "prompt", line_of("Let $f(x, y)"), "'{' is never closed, at «", "\\frac{1}{2")


def test_unknown_macro_in_the_solution_names_its_line_and_a_close_macro(tmp_path):
    old = "its length $\\lVert \\nabla f \\rVert"
    course = bank_with(tmp_path, old, "its length $\\lVert \\nabbla f \\rVert")
    assert_refused(tmp_path, course, "solution", line_of(old), "unknown macro \\nabbla")
    result = run("validate", "--samples", "1", "--bank", str(course))
    assert "did you mean \\nabla" in result.output


def test_a_jinja_rendered_value_is_checked_after_rendering(tmp_path):
    # the source line balances its braces; the rendered text does not
    old = "at the point $({{ x0 }}, {{ y0 }})$."
    course = bank_with(tmp_path, old, "at the point $({{ x0 }}, {{ y0 ~ '}' }})$.")
    assert_refused(tmp_path, course, "prompt", line_of(old), "'}' closes nothing")


def test_a_step_made_from_a_define(tmp_path):
    # sympy writes a variable named yscr as \mathscr{y}: the LaTeX preamble has no \mathscr
    text = TEXT.replace("variables: [x, y]\n", "variables: [x, yscr]\n", 1)
    text = text.replace("(x + p*y)*g(k*x) + q*y**2", "(x + p*yscr)*g(k*x) + q*yscr**2")
    text = text.replace("variables: [x, y]\n    at: {x: x0, y: y0}", "variables: [x, yscr]\n    at: {x: x0, yscr: y0}")
    course = tmp_path / "course"
    course.mkdir()
    (course / "grad.yaml").write_text(text.replace("id: gradient-at-point", "id: my-grad"))
    assert_refused(tmp_path, course, "steps.grad (step 1)", line_of("  grad:", text), "unknown macro \\mathscr")


def test_misconception_feedback(tmp_path, monkeypatch):
    from quizgen import misconceptions
    broken = dataclasses.replace(misconceptions.MISCONCEPTIONS["sign_error"], feedback="A sign slipped: $-\\sin x.")
    monkeypatch.setitem(misconceptions.MISCONCEPTIONS, "sign_error", broken)
    course = bank_with(tmp_path, "options: 4", "options: 4\n")
    assert_refused(tmp_path, course, "the feedback of misconception sign_error", line_of("misconceptions: [product"),
                   "a '$' that is never closed", "$-\\sin x.")


def test_each_choice_and_its_feedback_is_a_field():
    """check_question reads every choice; a broken one is named by its number and misconception."""
    from quizgen.bank import load_template
    from quizgen.pipeline import generate_variant
    tpl = load_template(GRADIENT)
    q = next(q for q in (generate_variant(tpl, seed) for seed in range(1, 50))
             if any(c.get("misconception") == "sign_error" for c in q["choices"]))
    names = [f.name for f in texcheck.fields(tpl, q)]
    assert ["prompt", "solution"] == [n for n in names if n in ("prompt", "solution")]
    assert sum(n.startswith("choice ") for n in names) == len(q["choices"]) >= 3
    assert sum(n.startswith("the feedback of choice") for n in names) == len(q["choices"])
    k = next(i for i, c in enumerate(q["choices"]) if c.get("misconception") == "sign_error")
    q["choices"][k]["text"] = "$\\begin{pmatrix} 1 \\\\ 2 \\end{matrix}$"
    with pytest.raises(Exception) as info:
        texcheck.check_question(tpl, q)
    message = str(info.value)
    assert f"broken TeX in choice {k + 1} (sign_error)" in message
    assert "\\end{matrix} closes \\begin{pmatrix}" in message
    index = tpl.data["multiple_choice"]["misconceptions"].index("sign_error")
    assert f"line {line_of('misconceptions: [product')} (multiple_choice.misconceptions.{index})" in message


# ---- the maths rules ----------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("$\\frac{1}{2$", "'{' is never closed"),
    ("$x}$", "'}' closes nothing"),
    ("$\\left( x$", "\\left is never closed"),
    ("$x \\right)$", "\\right without a \\left"),
    ("${\\left( x } \\right)$", "'}' closes a \\left"),
    ("$\\begin{pmatrix} 1 & 2$", "\\begin{pmatrix} is never closed"),
    ("$\\begin{pmatrix} 1 \\end{bmatrix}$", "\\end{bmatrix} closes \\begin{pmatrix}"),
    ("$$\\begin{align*} x \\end{align*}$$", "unknown environment 'align*'"),
    ("$x$ and $y", "a '$' that is never closed"),
    ("\\( x \\)", "\\( is not a maths delimiter"),
    ("$$ x \\] $$", "\\] is not a maths delimiter"),
    ("see \\alpha here", "the TeX command \\alpha is outside $...$"),
    ("A = \\begin{pmatrix} 1 \\end{pmatrix}", "the TeX command \\begin is outside $...$"),
    ("$\\fraq{1}{2}$", "unknown macro \\fraq"),
    ("$\\mathscr{L}$", "unknown macro \\mathscr"),           # latex2mathml has it, the preamble has not
    ("$a & b$", "'&' outside a matrix or array"),
    ("$50% of x$", "an unescaped '%'"),
    ("$x^2^3$", "does not convert to MathML"),
])
def test_refused(text, message):
    problem = texcheck.check_text(text)
    assert problem is not None and message in problem.message, problem


@pytest.mark.parametrize("text", [
    "costs \\$5, which is $5$ dollars",
    "$$\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix} \\quad \\left\\{ x \\right.$$",
    "$\\lVert \\nabla f \\rVert \\approx 1.5,\\ \\tfrac12 \\mathbf{x}^\\top$",
    "$\\begin{aligned} x &= 1 \\\\ y &= 2 \\end{aligned}$",
])
def test_accepted(text):
    assert texcheck.check_text(text) is None


def test_the_unbalanced_formulas_refused_here_are_ones_latex2mathml_would_swallow():
    """Why braces are counted by hand: the converter alone renders \\frac{1}{2 as if it were closed."""
    assert "<mfrac>" in tex_to_mathml("\\frac{1}{2")
    assert texcheck.check_math("\\frac{1}{2") is not None


def test_known_macros_come_from_both_renderers():
    known = texcheck.known_macros()
    assert {"\\frac", "\\partial", "\\nabla", "\\mathbf", "\\left", "\\to", "\\lVert", "\\,", "\\\\"} <= known
    assert known <= texcheck.mathml_macros() | {"\\ "}
    assert "\\mathscr" in texcheck.mathml_macros() and "\\mathscr" not in known
    assert "\\newcommand" not in known and "\\pmatrix" not in known


def test_every_known_macro_is_defined_by_the_latex_preamble():
    """macros.txt is true: pdflatex, through the LaTeX exporter, defines every letter macro we allow."""
    from quizgen.bank import load_template
    from quizgen.pipeline import generate_variant
    letters = {m for m in texcheck.known_macros() if re.fullmatch(r"\\[A-Za-z]+", m)}
    q = generate_variant(load_template(GRADIENT), 1)
    assert texcheck.probe_latex(letters | {"\\mathscr", "\\nosuchmacro"}, q) == letters


# ---- the whole bank, and --tex ------------------------------------------------------

@pytest.mark.bank
def test_the_whole_bank_passes():
    result = run("validate", "--samples", "3")
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output and re.search(r"all \d+ templates valid", result.output)


def test_validate_tex_compiles_a_small_bank(tmp_path):
    course = bank_with(tmp_path, "options: 4", "options: 4\n")
    result = run("validate", "--samples", "2", "--tex", "--bank", str(course))
    assert result.exit_code == 0, result.output
    assert "LaTeX: worksheet and key of 2 variants of 1 templates compile" in result.output


def test_validate_tex_refuses_tex_that_only_latex_rejects(tmp_path):
    # balanced, known macros, converts to MathML -- but the array has two columns and three entries
    old = "Let $f(x, y) = {{ f }}$."
    course = bank_with(tmp_path, old, old + " $\\begin{array}{cc} 1 & 2 & 3 \\end{array}$")
    assert run("validate", "--samples", "1", "--bank", str(course)).exit_code == 0
    result = run("validate", "--samples", "2", "--tex", "--bank", str(course))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "LaTeX error in template my-grad" in result.output and str(course / "grad.yaml") in result.output
    assert re.search(r"variant 1: seed \d+, parameters p = ", result.output)
    assert "Extra alignment tab" in result.output


def test_validate_tex_without_latexmk_says_so(tmp_path):
    course = bank_with(tmp_path, "options: 4", "options: 4\n")
    result = run("validate", "--samples", "1", "--tex", "--bank", str(course), env={"PATH": str(tmp_path)})
    assert result.exit_code == 2, result.output
    assert "validate --tex needs latexmk and pdflatex, not found on PATH" in result.output


def test_writing_numbers_as_one_never_changes_whether_a_formula_converts():
    """The MathML check converts formulas with their numbers written 1 (one conversion per shape):
    over the maths of real variants, and formulas that fail, the outcome is the same as converting
    the formula itself."""
    from quizgen.bank import load_bank
    from quizgen.export.html import MathError
    from quizgen.pipeline import generate_variant
    spans = {"\\tfrac12 x^-2", "x^2^3", "x_-", "\\frac{1}", "x^{-2.5} - 10", "\\\\[2pt] a_1", "\\sqrt[3]{8}"}
    for tpl in load_bank()[::4]:
        q = generate_variant(tpl, 11)
        spans |= {f.text for f in texcheck.fields(tpl, q) if f.math}
        spans |= {m.group(1) or m.group(2) for f in texcheck.fields(tpl, q) if not f.math
                  for m in texcheck._TEXT_TOKEN.finditer(f.text) if m.group(0) != "\\$"}

    def converts(tex):
        try:
            tex_to_mathml(tex.strip(), True)
            return True
        except MathError:
            return False
    assert len(spans) > 100
    changed = [s for s in spans if texcheck.numbers_as_one(s) != s]
    assert len(changed) > 50
    assert [s for s in changed if converts(s) != converts(texcheck.numbers_as_one(s))] == []
