"""LaTeX exporter: escaping, real pdflatex compiles, error mapping, determinism.

These tests need TeX Live and latexmk; without them they fail (never skip).
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader

from quizgen.errors import QuizgenError
from quizgen.export import Paper, QuizSet, get
from quizgen.export.latex import escape, tex_text

SAMPLE = Path(__file__).parent / "data" / "sample_questions.json"
SPECIALS = r"% & _ # $ ^ ~ \ { } < > |"


def sample_questions() -> list[dict]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def quiz(questions: list[dict], *, papers: int = 1, pdf: bool = True, **kw) -> QuizSet:
    """A set of ``papers`` papers (the later ones reversed) holding ``questions``."""
    kw = {"title": "Week 3 quiz", "subtitle": "Multivariate calculus",
          "date": "3 March 2025", "name": "w3", **kw}
    versions = [Paper(f"Version {chr(65 + i)}", questions[::-1] if i else list(questions))
                for i in range(papers)]
    return QuizSet(papers=versions, options={"pdf": pdf}, **kw)


def export(quizset: QuizSet, out: Path) -> list[Path]:
    return get("latex")(quizset, out)


def pdf_text(path: Path) -> str:
    """All text of a PDF, ligatures decomposed and whitespace collapsed."""
    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "`")
    return " ".join(text.split())


def with_prompt(prompt: str) -> dict:
    q = copy.deepcopy(sample_questions()[1])   # tangent-slope: no choices
    q.update(prompt=prompt, figure=None)
    return q


def test_tex_engine_installed():
    assert shutil.which("latexmk") and shutil.which("pdflatex"), \
        "TeX Live and latexmk are required for the LaTeX exporter tests"


# --- text conversion -----------------------------------------------------------------

def test_escape_every_special_character():
    assert escape(SPECIALS) == (
        r"\% \& \_ \# \$ \textasciicircum{} \textasciitilde{} \textbackslash{} "
        r"\{ \} \textless{} \textgreater{} \textbar{}")


def test_maths_passes_through_and_prose_is_escaped():
    text = "Cost 5% of $x_1^2$:\n$$\\frac{a}{b}\n\n= c$$\n\nNext_para \\$3"
    assert tex_text(text) == ("Cost 5\\% of $x_1^2$:\n\\[ \\frac{a}{b}\n= c \\]\n\n"
                              "Next\\_para \\$3")
    assert tex_text("A\n\n$$x$$\n\nB") == "A\n\\[ x \\]\n\nB"  # no empty paragraph


# --- compiled output -----------------------------------------------------------------

def test_special_characters_compile_and_print(tmp_path):
    prose = SPECIALS.replace("$", "\\$")                 # a literal dollar is written \$
    export(quiz([with_prompt(f"Type these: {prose} and $x_1^2 < 3$.")]), tmp_path)
    text = pdf_text(tmp_path / "w3-worksheet.pdf")
    assert f"Type these: {SPECIALS} and" in text


def test_unicode_in_prose_compiles(tmp_path):
    export(quiz([with_prompt("Fit y = a √x + b x² with γ ≈ 0.1 – see ∇f.")]), tmp_path)
    text = pdf_text(tmp_path / "w3-worksheet.pdf")
    assert "Fit y = a" in text and "0.1" in text


def test_sample_worksheet_and_key(tmp_path):
    questions = sample_questions()
    written = export(quiz(questions, papers=2), tmp_path)
    names = {p.relative_to(tmp_path).as_posix() for p in written}
    figures = {f"figures/{q['template']}-v{q['variant']}.pdf" for q in questions if q["figure"]}
    assert names == {"w3-worksheet.tex", "w3-key.tex", "w3-worksheet.pdf", "w3-key.pdf"} | figures
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["figures", "w3-worksheet.tex", "w3-key.tex", "w3-worksheet.pdf", "w3-key.pdf"])
    for doc in ("worksheet", "key"):
        pdf = tmp_path / f"w3-{doc}.pdf"
        assert len(PdfReader(pdf).pages) >= 2           # one paper per page at least
        text = pdf_text(pdf)
        for q in questions:
            assert q["title"] in text
        assert "Version A" in text and "Version B" in text
        assert (tmp_path / f"w3-{doc}.tex").read_text().count("\\clearpage") == 1


def test_worksheet_shows_choices_and_figures(tmp_path):
    export(quiz(sample_questions()), tmp_path)
    tex = (tmp_path / "w3-worksheet.tex").read_text()
    assert tex.count("\\includegraphics") == 3
    assert re.findall(r"\\item\[(\([a-z]\))\]", tex) == ["(a)", "(b)", "(c)"]
    text = pdf_text(tmp_path / "w3-worksheet.pdf")
    assert "Question 1. Jacobian of a map at a point [2 marks]" in text
    assert "Question 2. Slope of a tangent [1 mark]" in text


def test_key_has_answers_correct_letter_and_feedback(tmp_path):
    export(quiz(sample_questions()), tmp_path)
    tex = (tmp_path / "w3-key.tex").read_text()
    assert "\\[ J = \\begin{pmatrix} 3 & 3 \\\\ 0 & -1.683 \\end{pmatrix} \\]" in tex
    assert "\\[ f'(1) = 3 \\]" in tex
    assert "\\[ m = 1.96,\\ c = 1.1 \\]" in tex          # a display naming its own parts
    text = pdf_text(tmp_path / "w3-key.pdf")
    assert "Correct choice. (b)" in text
    assert "This is J" in text and "The inner derivative of cos(2y) is missing" in text
    assert "Worked solution." in text


@pytest.mark.parametrize("field, doc", [("prompt", "worksheet"), ("solution", "key")])
def test_tex_error_names_the_question_and_keeps_the_log(tmp_path, field, doc):
    questions = sample_questions()
    questions[2][field] = "Broken: $\\frac{1}{2} \\undefinedmacro x$ here."
    with pytest.raises(QuizgenError) as err:
        export(quiz(questions), tmp_path)
    message = str(err.value)
    log = tmp_path / f"w3-{doc}.log"
    assert "question 3 (linear-fit v1" in message
    assert "Undefined control sequence" in message
    assert str(log) in message and log.exists()
    assert not (tmp_path / f"w3-{doc}.pdf").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]   # no build clutter


def test_error_in_second_paper_names_that_paper(tmp_path):
    questions = sample_questions()
    questions[0]["prompt"] += " $\\oops$"
    with pytest.raises(QuizgenError, match=r"question 1 \(jacobian-at-point v1.*paper 1"):
        export(quiz(questions, papers=2), tmp_path)


def test_unbalanced_maths_is_blamed_on_its_question(tmp_path):
    questions = sample_questions()
    questions[1]["prompt"] = "Unclosed $$\\left( x$$ display."
    with pytest.raises(QuizgenError, match=r"question 2 \(tangent-slope v1"):
        export(quiz(questions), tmp_path)


def test_tex_cannot_read_files_outside_the_output_folder(tmp_path):
    (tmp_path / "secret.tex").write_text("SECRET")
    with pytest.raises(QuizgenError, match=r"question 1 \(tangent-slope v1"):
        export(quiz([with_prompt("Leak: $\\input{../secret}$")]), tmp_path / "out")


def test_successful_build_removes_a_stale_log(tmp_path):
    (tmp_path / "w3-worksheet.log").write_text("old failure")
    export(quiz([with_prompt("Fine.")]), tmp_path)
    assert not (tmp_path / "w3-worksheet.log").exists()


def test_without_tex_engine_warns_and_writes_tex(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    written = export(quiz([with_prompt("Fine.")]), tmp_path / "out")
    assert [p.name for p in written] == ["w3-worksheet.tex", "w3-key.tex"]
    err = capsys.readouterr().err
    assert "latexmk" in err and "no PDFs" in err


# --- determinism ---------------------------------------------------------------------

def test_same_set_gives_identical_bytes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        export(quiz(sample_questions(), papers=2), out)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert len(files) == 7                              # 2 .tex, 2 .pdf, 3 figures
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


# --- the whole bank ------------------------------------------------------------------

def test_one_variant_of_every_template_compiles(tmp_path):
    from quizgen.pipeline import generate_questions

    questions = generate_questions(count=1, seed=1)
    assert questions
    export(quiz(questions, name="bank"), tmp_path)
    for doc in ("worksheet", "key"):
        pdf = tmp_path / f"bank-{doc}.pdf"
        assert len(PdfReader(pdf).pages) >= 1
        text = pdf_text(pdf)
        missing = [q["template"] for q in questions if " ".join(q["title"].split()) not in text]
        assert not missing, f"titles missing from the {doc}: {missing}"
