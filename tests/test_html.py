"""HTML exporter: self-contained, escaped, deterministic pages whose maths all becomes MathML."""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import lxml.html
import pypdf
import pytest
from fresh_process import digests_in_fresh_process
from PIL import Image

from chromium import Chromium, ChromiumError
from quizgen.export import Paper, QuizSet, get
from quizgen.export.html import PAGES, render_pages, tex_to_mathml
from quizgen.textfmt import split_math

SAMPLE = Path(__file__).parent / "data" / "sample_questions.json"
PHONE = (390, 844)
PLANTED = """<script>alert(1)</script> & "quotes" 'single' </p><b>not bold</b>"""

# Every construct docs/question-format.md promises, as the bank writes them.
TEX = {
    "pmatrix": r"\begin{pmatrix} 6 x y & 3 x^{2} \\ 0 & - 2 \sin{\left(2 y \right)} \end{pmatrix}",
    "aligned": r"\begin{aligned} f'(x) &= 4 x - 1 \\ f'(1) &= 3 \end{aligned}",
    "array": r"\begin{array}{c|ccccc} x & 0 & 1 & 2 & 3 & 4 \\ y & 1.1 & 2.9 & 5.2 & 7.1 & 8.8"
             r" \end{array}",
    "frac-partial": r"\frac{\partial^{2} f}{\partial x \partial y}",
    "nabla": r"\nabla f(\mathbf{x}) = \begin{pmatrix} 2 x \\ 4 y \end{pmatrix}",
    "operatorname": r"\operatorname{sigmoid}\left(w x + b\right)",
    "left-right": r"\left( \frac{1}{2} \right)^{2}",
    "mathbf-top": r"\mathbf{x}^\top H \mathbf{x}",
    "pmatrix-top": r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}^{\top}",
    "chi2-approx": r"\chi^2 \approx 1.234",
    "spacing": r"m = 1.96, \quad c = 1.1 \, \mathrm{s}",
    "sigma-cdot": r"\sigma'(z) = \sigma(z) \cdot (1 - \sigma(z))",
    "prime": r"f'(1) = 3",
    "named": r"m = 1.96,\ c = 1.1",
}


# ------------------------------------------------------------------ fixtures and helpers

def sample_questions() -> list[dict]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def make_set(questions: list[dict], **kw) -> QuizSet:
    """Two papers (versions A and B) of the same questions in different orders."""
    fields = dict(title="Week 3 quiz", subtitle="Multivariate calculus", date="6 October 2025",
                  instructions="Answer all questions. Give $\\gamma$-steps exactly.",
                  name="week3", seed=11)
    fields.update(kw)
    papers = [Paper("Version A", questions), Paper("Version B", questions[::-1])]
    return QuizSet(papers=papers, **fields)


def _page_digests() -> dict[str, str]:
    """sha256 of each rendered page of the sample set (also run in a subprocess)."""
    pages = render_pages(make_set(sample_questions())).pages
    return {kind: hashlib.sha256(html.encode()).hexdigest() for kind, html in pages.items()}


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("html")
    written = get("html")(make_set(sample_questions()), out)
    return {path.stem.rsplit("-", 1)[1]: path for path in written}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    try:
        with Chromium(tmp_path_factory.mktemp("chromium") / "profile") as chromium:
            yield chromium
    except ChromiumError as err:
        pytest.fail(f"headless chromium is required for the HTML tests: {err}")


def parse(path_or_html) -> lxml.html.HtmlElement:
    text = path_or_html.read_text(encoding="utf-8") if isinstance(path_or_html, Path) else path_or_html
    return lxml.html.document_fromstring(text)


def text_nodes(doc) -> list[str]:
    """Every text node of the body, outside <style>."""
    return [t for t in doc.xpath("//body//text()[not(ancestor::style)]") if t.strip()]


def flat(text: str) -> str:
    return " ".join(text.split())


def assert_no_raw_tex(texts: list[str]) -> None:
    """No $...$ / $$ maths and no TeX command left in any single piece of text."""
    for t in texts:
        assert "$$" not in t, t
        assert not re.search(r"\$[^$]+\$", t), t
        assert not re.search(r"\\[A-Za-z]+|\\[,;:!]", t), t


def prose_of(text: str) -> list[str]:
    return [flat(p.text) for p in split_math(text) if p.kind == "prose" and p.text.strip()]


# ------------------------------------------------------------------ files

def test_writes_three_pages(pages):
    assert sorted(pages) == sorted(PAGES)
    for kind, path in pages.items():
        assert path.name == f"week3-{kind}.html"
        assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_same_input_same_bytes(tmp_path, pages):
    again = get("html")(make_set(sample_questions()), tmp_path)
    assert {p.name: p.read_bytes() for p in again} == {p.name: p.read_bytes() for p in pages.values()}


@pytest.mark.parametrize("hashseed", ["0", "777"])
def test_same_bytes_in_another_process(hashseed):
    assert digests_in_fresh_process("test_html", "_page_digests", hashseed) == _page_digests()


@pytest.mark.parametrize("kind", sorted(PAGES))
def test_page_is_self_contained(pages, kind):
    doc = parse(pages[kind])
    assert not doc.xpath("//script | //link | //iframe | //object | //embed | //img | //base")
    for el in doc.iter():
        for name, value in el.attrib.items():
            assert not name.startswith("on"), name
            if name.rpartition(":")[2] in ("src", "href", "action", "srcset"):
                assert value.startswith("#"), value
    assert "url(http" not in pages[kind].read_text(encoding="utf-8")
    assert len(doc.xpath("//style[not(ancestor::svg)]")) == 1


# ------------------------------------------------------------------ maths

def test_sample_converts_without_fallback():
    assert render_pages(make_set(sample_questions())).fallbacks == []


@pytest.mark.parametrize("name", sorted(TEX))
def test_tex_construct_converts(name):
    mathml = tex_to_mathml(TEX[name], True)
    root = lxml.html.fragment_fromstring(mathml)
    assert root.tag == "math" and root.get("display") == "block"
    assert "\\" not in root.text_content() and "merror" not in mathml


def test_array_column_rule_and_aligned_columns():
    assert mathml_cells(TEX["array"], "rule-right") == 2          # one rule per row, after column 1
    aligned = lxml.html.fragment_fromstring(tex_to_mathml(TEX["aligned"]))
    assert [td.get("columnalign") for td in aligned.iter("mtd")] == ["right", "left"] * 2


def mathml_cells(tex: str, cls: str) -> int:
    return len(lxml.html.fragment_fromstring(tex_to_mathml(tex)).xpath(f"//mtd[@class='{cls}']"))


def test_superscript_binds_to_whole_matrix():
    msup = lxml.html.fragment_fromstring(tex_to_mathml(TEX["pmatrix-top"])).xpath("//msup")[0]
    assert len(msup) == 2 and msup[0].xpath(".//mtable")


def test_unconvertible_maths_falls_back_to_code_and_is_recorded():
    q = sample_questions()[1]
    q["prompt"] = r"Broken: $\left( x$ and unknown $\foo{x}$ and fine $x^2$."
    rendered = render_pages(make_set([q]))
    assert [tex for tex, _ in rendered.fallbacks] == [r"\left( x", r"\foo{x}"]
    codes = parse(rendered.pages["worksheet"]).xpath("//code[@class='tex-fallback']/text()")
    assert codes[:2] == [r"\left( x", r"\foo{x}"]


def test_maths_cannot_smuggle_markup():
    smuggled = [r"\text{<script>alert(2)</script>}", r"\text{<b>x</b>}", r"\text{a & b}"]
    q = sample_questions()[1]
    q["prompt"] = " and ".join(f"${tex}$" for tex in smuggled)
    rendered = render_pages(make_set([q]))
    doc = parse(rendered.pages["worksheet"])
    assert not doc.xpath("//script | //b")
    assert doc.xpath("//code[@class='tex-fallback']/text()")[:3] == smuggled
    assert [tex for tex, _ in rendered.fallbacks] == smuggled


# ------------------------------------------------------------------ escaping and content

@pytest.fixture(scope="module")
def planted_pages() -> dict[str, str]:
    questions = sample_questions()
    mc = questions[0]
    mc["prompt"] = PLANTED + " Then find $J$."
    mc["title"] = PLANTED
    mc["choices"][0]["feedback"] = PLANTED
    mc["solution"] = PLANTED + "\n\n$$x < y$$"
    qs = make_set(questions, title=PLANTED, subtitle=PLANTED, instructions=PLANTED)
    qs.papers[0].label = PLANTED
    return render_pages(qs).pages


# where PLANTED shows: set title, subtitle, paper label, and per paper the question title and
# prompt; instructions on worksheet and practice; feedback and solution on key and practice
PLANTED_COUNT = {"worksheet": 3 + 1 + 2 * 2, "key": 3 + 2 * 4, "practice": 3 + 1 + 2 * 4}


@pytest.mark.parametrize("kind", sorted(PAGES))
def test_prose_is_escaped(planted_pages, kind):
    html = planted_pages[kind]
    doc = parse(html)
    assert not doc.xpath("//script | //b")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34;" in html
    assert doc.findtext(".//title").startswith(PLANTED)
    assert flat(doc.body.text_content()).count(flat(PLANTED)) == PLANTED_COUNT[kind]


@pytest.mark.parametrize("kind", sorted(PAGES))
def test_no_raw_tex_in_text(pages, kind):
    doc = parse(pages[kind])
    assert_no_raw_tex(text_nodes(doc))
    assert doc.xpath("//math") and not doc.xpath("//code[@class='tex-fallback']")


def test_literal_dollar_and_prose_characters_survive(pages):
    text = flat(parse(pages["worksheet"]).body.text_content())
    assert "A literal dollar: $5 and an underscore a_b # 100%." in text
    assert "Give entries to 3 decimal places & note 50% of <marks>." in text


@pytest.mark.parametrize("kind", sorted(PAGES))
def test_papers_numbered_questions_marks(pages, kind):
    doc = parse(pages[kind])
    papers = doc.xpath("//section[@class='paper']")
    assert [p.xpath("string(.//h2)") for p in papers] == ["Version A", "Version B"]
    for paper, questions in zip(papers, (sample_questions(), sample_questions()[::-1])):
        items = paper.xpath(".//li[@class='question']")
        assert len(items) == len(questions)
        for n, (li, q) in enumerate(zip(items, questions), 1):
            assert li.xpath("string(.//*[@class='qnum'])") == f"Question {n}"
            assert li.xpath("string(.//*[@class='qtitle'])") == q["title"]
            marks = f"{q['marks']} mark" + ("s" if q["marks"] != 1 else "")
            assert li.xpath("string(.//*[@class='marks'])") == f"[{marks}]"
            assert bool(li.xpath(".//svg")) == bool(q["figure"])
    head = flat(doc.xpath("string(//header[@class='set'])"))
    assert "Week 3 quiz" in head and "Multivariate calculus" in head and "6 October 2025" in head
    css = doc.xpath("string(//style)")
    assert re.search(r"\.paper \+ \.paper \{[^}]*break-before: page", css)


def test_worksheet_has_choices_but_no_answers(pages):
    doc = parse(pages["worksheet"])
    mc = doc.xpath("//li[@class='question']")[0]
    assert mc.xpath(".//ol[@class='choices']/li/span[@class='letter']/text()") == ["A.", "B.", "C."]
    assert not doc.xpath("//*[@class='key'] | //details")
    assert "holds the derivatives" not in doc.body.text_content()


def test_key_has_answers_correct_letter_and_feedback(pages):
    doc = parse(pages["key"])
    questions = sample_questions()
    first_paper = doc.xpath("//section[@class='paper']")[0]
    for li, q in zip(first_paper.xpath(".//li[@class='question']"), questions):
        assert len(li.xpath(".//p[@class='answer']/math")) == len(q["answers"])
        assert li.xpath(".//div[@class='solution']//math")
    mc = first_paper.xpath(".//li[@class='question']")[0]
    correct = "ABC"[[c["correct"] for c in questions[0]["choices"]].index(True)]
    assert flat(mc.xpath("string(.//p[@class='correct-choice'])")) == f"Correct choice: {correct}"
    feedback = [flat(li.text_content()) for li in mc.xpath(".//ul[@class='feedback']/li")]
    for letter, choice, line in zip("ABC", questions[0]["choices"], feedback):
        assert line.startswith(f"{letter}. {'✓' if choice['correct'] else '✗'}")
        for prose in prose_of(choice["feedback"]):
            assert prose in line


def test_answer_line_is_label_equals_display():
    fit, descent = sample_questions()[2:4]
    key = render_pages(make_set([fit, descent])).pages["key"]
    for a in descent["answers"]:
        assert f'<p class="answer">{tex_to_mathml(a["label"] + " = " + a["display"])} ' in key
    assert f'<p class="answer">{tex_to_mathml(fit["answers"][0]["display"])} ' in key  # m = .., c = ..
    assert "(±0.005)" in key and "(±0.001, ±0.1 % relative)" not in key


def test_practice_folds_each_solution(pages):
    doc = parse(pages["practice"])
    for li in doc.xpath("//li[@class='question']"):
        (details,) = li.xpath("./details")
        assert details.xpath("./summary") and details.xpath(".//div[@class='solution']//math")
        assert not li.xpath("./div[@class='key']")


# ------------------------------------------------------------------ in a real browser

VISIBLE_TEXT_NODES = """(() => {
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), out = [];
  while (walk.nextNode()) {
    const node = walk.currentNode;
    if (node.data.trim() && node.parentElement.checkVisibility()) out.push(node.data);
  }
  return out;
})()"""
MATHML_LAID_OUT = """[...document.querySelectorAll('math')].every(
  m => m instanceof MathMLElement && m.getBoundingClientRect().width > 0)"""
WIDER_THAN_SCREEN = """(() => {
  const scrolled = e => e.closest('svg') || [...function* () {
    for (let a = e.parentElement; a; a = a.parentElement) yield a; }()]
    .some(a => getComputedStyle(a).overflowX !== 'visible');
  return [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
    .filter(e => !scrolled(e))
    .map(e => e.closest('p, li, div, section').textContent.trim().slice(0, 120));
})()"""


def check_in_browser(browser, path: Path, shot: Path, full_page: bool = True) -> str:
    """Open ``path`` on a phone-sized screen; assert it renders cleanly; return its innerText."""
    page = browser.open(path, viewport=PHONE)
    assert page.problems() == []
    assert page.evaluate("document.scripts.length") == 0
    assert page.evaluate(MATHML_LAID_OUT)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0], \
        page.evaluate(WIDER_THAN_SCREEN)
    assert_no_raw_tex(page.evaluate(VISIBLE_TEXT_NODES))
    shot.write_bytes(page.screenshot(full_page))
    assert_nontrivial_png(shot.read_bytes())
    return flat(page.evaluate("document.body.innerText"))


def assert_nontrivial_png(data: bytes) -> None:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(data)) as img:
        assert img.width == PHONE[0] and img.height >= PHONE[1]
        assert len(img.convert("RGB").getcolors(1 << 20)) > 50


def assert_questions_shown(text: str, quizset: QuizSet) -> None:
    for paper in quizset.papers:
        assert flat(paper.label) in text
        for n, q in enumerate(paper.questions, 1):
            assert f"Question {n} {flat(q['title'])}" in text
            for prose in prose_of(q["prompt"]):
                assert prose in text


@pytest.mark.parametrize("kind", ["worksheet", "key", "practice"])
def test_renders_in_chromium(browser, pages, tmp_path, kind):
    text = check_in_browser(browser, pages[kind], tmp_path / f"{kind}.png")
    assert_questions_shown(text, make_set(sample_questions()))
    if kind == "key":
        assert "Correct choice: B" in text and "The inner derivative of" in text


@pytest.mark.parametrize("kind", ["worksheet", "key"])
def test_each_paper_prints_from_a_new_page(browser, pages, kind):
    printed = pypdf.PdfReader(io.BytesIO(browser.open(pages[kind]).pdf()))
    starts = [page.extract_text().lstrip() for page in printed.pages]
    assert starts[0].startswith("Week 3 quiz") and "Version A" in starts[0]
    assert sum(text.startswith("Version B") for text in starts) == 1


def test_planted_markup_shows_as_text_in_chromium(browser, planted_pages, tmp_path):
    path = tmp_path / "planted.html"
    path.write_text(planted_pages["key"], encoding="utf-8")
    text = check_in_browser(browser, path, tmp_path / "planted.png")
    assert flat(PLANTED) in text


# ------------------------------------------------------------------ the whole bank

@pytest.mark.bank
def test_whole_bank_renders(browser, tmp_path):
    from quizgen.pipeline import generate_questions

    questions = generate_questions(count=1, seed=1)
    assert questions, "the question bank is empty"
    quizset = QuizSet(title="Whole bank", papers=[Paper("", questions)], name="bank")
    rendered = render_pages(quizset)
    assert rendered.fallbacks == []
    for kind, html in rendered.pages.items():
        assert_no_raw_tex(text_nodes(parse(html)))
        if kind != "practice":
            path = tmp_path / f"bank-{kind}.html"
            path.write_text(html, encoding="utf-8")
            text = check_in_browser(browser, path, path.with_suffix(".png"), full_page=False)
            assert_questions_shown(text, quizset)


def test_key_tolerances_are_plain_decimals_and_symbolic_answers_have_none():
    from quizgen.export.html import tolerance
    assert tolerance({"abs": 1e-06}) == "±0.000001"
    assert tolerance({"abs": 2.5e-7, "rel": 1e-5}) == "±0.00000025, ±0.001 % relative"
    assert float(tolerance({"abs": 0.005})[1:]) == 0.005
    from quizgen.bank import load_bank, select
    from quizgen.export import Paper, QuizSet
    from quizgen.export.html import render_pages
    from quizgen.pipeline import generate_questions
    qs = generate_questions(select(load_bank(), ids=["derivative-exp-log-trig"]), 1, 2)
    assert qs[0]["answers"][0]["kind"] == "expression"
    key = render_pages(QuizSet("t", [Paper("", qs)])).pages["key"]
    assert 'class="tolerance"' not in key and "±" not in key.split('class="key"')[1].split("<h4>Solution")[0]
