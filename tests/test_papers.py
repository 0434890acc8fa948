"""Papers that work on a desk and in a printer: room to answer shaped like each answer, a
question never split from its choices, every student's paper on its own sheets (duplex).

PDFs are compiled with the real TeX engine and read back with pypdf; the HTML worksheet is
opened in headless Chromium.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest
from pypdf import PdfReader

from quizgen.bank import load_bank, select
from quizgen.export.space import blanks
from quizgen.pipeline import generate_questions

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
KIND_TEMPLATES = ["power-and-sum-rule", "gradient-at-point", "hessian-at-point", "weighted-line-fit",
                  "derivative-exp-log-trig", "jacobian-symbolic", "lagrange-quadratic-on-circle"]


def quizgen(*args, timeout=900):
    done = subprocess.run([sys.executable, "-m", "quizgen", *args], capture_output=True, text=True,
                          timeout=timeout, env=ENV)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def numeric_questions():
    qs = generate_questions(select(load_bank(), ids=KIND_TEMPLATES), 1, 4)
    return [dict(q, choices=None) for q in qs]          # as a numeric quiz section prints them


def test_a_blank_shaped_like_each_answer(numeric_questions):
    seen = set()
    for q in numeric_questions:
        for a, b in zip(q["answers"], blanks(q)):
            value, kind = a["value"], a["kind"]
            seen.add(b.shape)
            if kind == "number":
                assert b.shape == "line"
            elif kind == "named":
                assert b.shape == "named" and b.names == list(value)
            elif kind == "point_set":                     # several points with multipliers: a box
                assert b.shape == "box" and b.height_cm >= 4
            elif isinstance(value, list) and value and isinstance(value[0], list):
                assert (b.shape, b.rows, b.cols) == ("grid", len(value), len(value[0]))
            elif isinstance(value, list):
                assert (b.shape, b.rows, b.cols) == ("grid", len(value), 1)
            else:
                assert b.shape == "box" and b.height_cm >= 2
        assert len(blanks(q)) == len(q["answers"])
    assert seen == {"line", "grid", "named", "box"}


def test_answer_space_override_and_multiple_choice(numeric_questions):
    q = numeric_questions[1]
    assert blanks(dict(q, answer_space="none")) == []
    assert {b.shape for b in blanks(dict(q, answer_space="line"))} == {"line"}
    assert [b.height_cm for b in blanks(dict(q, answer_space=6))] == [6.0] * len(q["answers"])
    assert blanks(dict(q, choices=[{"text": "1", "correct": True}])) == []


def _papers(reader: PdfReader) -> list[list[int]]:
    """Page indices of each paper: a paper starts on the page that prints its total."""
    starts = [i for i, p in enumerate(reader.pages) if "Total:" in (p.extract_text() or "")]
    ends = starts[1:] + [len(reader.pages)]
    return [list(range(s, e)) for s, e in zip(starts, ends)]


@pytest.fixture(scope="module")
def roster_builds(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("papers")
    roster = tmp / "class.csv"
    roster.write_text("id,name\ns1,Ada Lovelace\ns2,Bob Babbage\ns3,Cy Hopper\ns4,Di Noether\n"
                      "s5,Ed Euler\ns6,Flo Fermat\n")          # s5 has an odd page count (fair example quiz)
    builds = {}
    for flag in ("--duplex", "--no-duplex"):
        out = tmp / flag.strip("-")
        quizgen("build", "--roster", str(roster), "--format", "latex,json", "--out", str(out), flag)
        builds[flag] = PdfReader(str(out / "example-quiz-worksheet.pdf"))
    return builds


def test_duplex_papers_start_on_a_new_sheet(roster_builds):
    papers = _papers(roster_builds["--duplex"])
    assert len(papers) == 6
    for pages in papers:
        assert pages[0] % 2 == 0 and len(pages) % 2 == 0, [len(p) for p in papers]
    # the padding is what makes it so: without it the same papers have an odd length
    plain = _papers(roster_builds["--no-duplex"])
    assert [len(p) + len(p) % 2 for p in plain] == [len(p) for p in papers]
    assert any(len(p) % 2 for p in plain)
    for pages in papers:                   # a pad page is blank: no header, no question
        last = roster_builds["--duplex"].pages[pages[-1]].extract_text() or ""
        assert "Question" in last or last.strip() == ""


def test_roster_worksheet_has_room_to_answer(roster_builds, tmp_path):
    text = "\n".join(p.extract_text() or "" for p in roster_builds["--duplex"].pages)
    assert text.count(" =") >= 4 * 9     # at least one labelled blank per question of each paper


@pytest.fixture(scope="module")
def choice_pdf(tmp_path_factory):
    """Every multiple-choice template once, compiled: choices must stay with their question."""
    out = tmp_path_factory.mktemp("mc")
    ids = [t.id for t in load_bank() if t.data.get("multiple_choice")]
    args = sum((["--template", i] for i in ids), [])
    quizgen("generate", *args, "--count", "1", "--seed", "3", "--format", "json,latex", "--pdf", "--out", str(out))
    return json.loads((out / "quizgen.json").read_text()), PdfReader(str(out / "quizgen-worksheet.pdf"))


def test_no_question_is_split_from_its_choices(choice_pdf):
    questions, reader = choice_pdf
    pages = [p.extract_text() or "" for p in reader.pages]
    assert len(questions) >= 25 and len(pages) >= 8
    for number, q in enumerate(questions, 1):
        on = [i for i, t in enumerate(pages) if re.search(rf"Question {number}\.", t)]
        assert len(on) == 1, (number, on)
        page = pages[on[0]]
        after = page[page.index(f"Question {number}."):]
        nxt = after.find(f"Question {number + 1}.")
        body = after if nxt < 0 else after[:nxt]
        letters = [f"({chr(97 + k)})" for k in range(len(q["choices"]))]
        assert all(letter in body for letter in letters), (number, q["template"], body[-300:])


def test_html_worksheet_blanks_in_the_browser(tmp_path, numeric_questions):
    from playwright.sync_api import sync_playwright
    from quizgen.export import Paper, QuizSet
    from quizgen.export.html import render_pages
    html = render_pages(QuizSet("Blanks", [Paper("", numeric_questions)])).pages["worksheet"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page()
        page.set_content(html)
        page.emulate_media(media="print")
        items = page.locator("li.question")
        assert items.count() == len(numeric_questions)
        for i, q in enumerate(numeric_questions):
            item = items.nth(i)
            assert item.evaluate("el => getComputedStyle(el).breakInside") == "avoid-page"
            for b, el in zip(blanks(q), item.locator(".blank").all()):
                box = el.bounding_box()
                assert box and box["width"] > 50 and box["height"] > 10
                if b.shape == "grid":
                    assert el.locator("td").count() == b.rows * b.cols
                    cell = el.locator("td").first.bounding_box()
                    assert cell["width"] > 40 and cell["height"] > 20      # room to write a number
                if b.shape == "box":
                    assert box["height"] >= b.height_cm * 37.8 * 0.95     # CSS cm at 96 dpi
        browser.close()


def test_choices_of_a_question_with_several_answers_say_which_answer_they_are_for(tmp_path):
    """The letters answer the first answer only; the others keep their blanks, so the worksheet
    says which answer the choices are for (HTML and a compiled PDF)."""
    from quizgen.export import Paper, QuizSet
    from quizgen.export.html import render_pages
    tpl = select(load_bank(), ids=["jacobian-symbolic"])
    q = generate_questions(tpl, 1, 5)[0]
    assert q["choices"] and len(q["answers"]) > 1
    quizset = QuizSet(title="Choices", papers=[Paper("", [q])], seed=5)
    page = lxml.html.fromstring(render_pages(quizset).pages["worksheet"])
    caption = page.xpath("//li[@class='question']//p[@class='choices-for']")
    assert len(caption) == 1 and caption[0].getnext().get("class") == "choices"
    assert caption[0].text_content().strip().rstrip(":").strip() in \
        lxml.html.fromstring(f"<p>{render_pages(quizset).pages['key']}</p>").text_content()
    (tmp_path / "spec.yaml").write_text(
        "name: choices\ntitle: Choices\nseed: 5\nformats: [latex]\nsections:\n"
        "  - templates: [jacobian-symbolic]\n    questions: 1\n    form: multiple_choice\n")
    quizgen("build", str(tmp_path / "spec.yaml"), "--out", str(tmp_path / "out"))
    text = PdfReader(str(next((tmp_path / "out").glob("*-worksheet.pdf")))).pages[0].extract_text()
    assert re.search(r"\nJ\s*:\s*\n\s*\(a\)\s*\n", text), text       # the caption, then choice (a)
