"""Practice page (issue 12): driven in real headless Chromium with Playwright.

For one bank template of every answer kind the tests type the key in several equivalent
forms, each misconception's value, a wrong value and an unreadable input, and read what the
page says. The equivalence rule itself is unit-tested inside the page. Every page is served
from a routed fake origin: any other request fails the test.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import sympy

from fresh_process import digests_in_fresh_process
from quizgen.bank import load_bank, select
from quizgen.export import Paper, QuizSet
from quizgen.export.practice import render_practice, to_mathjs
from quizgen.pipeline import generate_questions

from playwright import sync_api       # the test extra; Debian's chromium comes from .ci/run

CHROMIUM = "/usr/bin/chromium"

ROOT = Path(__file__).resolve().parent.parent
ORIGIN = "http://practice.invalid/"
KINDS = {                     # answer kind -> a bank template whose first answer has that kind
    "number": "power-and-sum-rule",
    "vector": "gradient-at-point",
    "matrix": "hessian-at-point",
    "named": "weighted-line-fit",
    "expression": "derivative-exp-log-trig",
    "expression-matrix": "jacobian-symbolic",
}
SEED, COUNT = 11, 3


def questions() -> list[dict]:
    templates = select(load_bank(), ids=list(KINDS.values()))
    return generate_questions(templates, COUNT, SEED)


def page_html(qs: list[dict] | None = None) -> str:
    qs = questions() if qs is None else qs
    return render_practice(QuizSet(title="Practice test", papers=[Paper("", qs)], seed=SEED))


def page_digest() -> str:
    return hashlib.sha256(page_html().encode()).hexdigest()


@pytest.fixture(scope="module")
def qs():
    return questions()


@pytest.fixture(scope="module")
def html(qs):
    return page_html(qs)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


class Page:
    """One opened practice page; records console errors and every request."""

    def __init__(self, browser, html: str, width: int = 800):
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def route(r):
            self.requests.append(r.request.url)
            if r.request.url == ORIGIN:
                r.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
            else:
                r.abort()
        self.context.route("**/*", route)
        self.page.goto(ORIGIN)
        self.page.wait_for_selector("body[data-ready=true]", timeout=20000)

    def card(self, template: str):
        return self.page.locator(f"#t-{template}")

    def type(self, template: str, values: list[str]):
        inputs = self.card(template).locator("input.answer-input")
        assert inputs.count() >= len(values)
        for i, v in enumerate(values):
            inputs.nth(i).fill(v)

    def check(self, template: str) -> str:
        card = self.card(template)
        card.locator("button.check").click()
        return card.locator(".verdict").inner_text()

    def close(self):
        assert self.errors == [], self.errors
        assert self.requests and set(self.requests) == {ORIGIN}, self.requests    # reloads ask again
        self.context.close()


@pytest.fixture
def page(browser, html):
    p = Page(browser, html)
    yield p
    p.close()


def first_variant(qs, template):
    return next(q for q in qs if q["template"] == template and q["variant"] == 1)


def entries(value, kind):
    """The values a student types into the fields, in field order."""
    if kind == "named":
        return [value[k] for k in value]
    if isinstance(value, list):
        return [x for v in value for x in entries(v, kind)]
    return [value]


def prose(feedback: str) -> str:
    """The plain-prose start of a feedback text (before its first maths), as the page shows it."""
    return feedback.split("$")[0].strip().rstrip(":,").strip()


def within(x, y, tol):
    return abs(x - y) <= max(tol.get("abs", 0), tol.get("rel", 0) * abs(y))


# ------------------------------------------------------------------ the page, statically

def test_answers_are_not_in_the_visible_text(html, qs):
    """No key in the page text: the data is one gzip+base64 blob that decodes to the answers."""
    blob = re.search(r'<script type="application/octet-stream" id="qg-data">\s*(.*?)\s*</script>', html, re.S)[1]
    data = json.loads(gzip.decompress(base64.b64decode(blob)))
    outside = html.replace(blob, "")
    q = first_variant(qs, KINDS["expression"])
    assert to_mathjs(q["answers"][0]["value"]) not in outside
    assert q["answers"][0]["misconceptions"][0]["feedback"].split("$")[0] not in outside
    pools = {p["id"]: p for p in data["templates"]}
    assert set(pools) == set(KINDS.values())
    assert all(len(p["variants"]) == COUNT for p in pools.values())
    assert pools[q["template"]]["variants"][0]["answers"][0]["value"] == to_mathjs(q["answers"][0]["value"])


def test_same_seed_same_bytes_in_fresh_processes(html):
    digest = hashlib.sha256(html.encode()).hexdigest()
    assert digests_in_fresh_process("test_practice", "page_digest", "1") == digest
    assert digests_in_fresh_process("test_practice", "page_digest", "77") == digest


def test_cli_practice_writes_the_page_and_rejects_no_selection(tmp_path):
    run = [sys.executable, "-m", "quizgen", "practice"]
    ok = subprocess.run(run + ["--template", "hessian-at-point", "--count", "2", "--out", str(tmp_path)],
                        capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "quizgen-practice-check.html").stat().st_size > 600_000   # mathjs is inlined
    bad = subprocess.run(run + ["--out", str(tmp_path / "x")], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "--template" in bad.stderr
    assert not (tmp_path / "x").exists()


def test_wheel_ships_mathjs_and_its_licence(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True, cwd=tmp_path)
    names = zipfile.ZipFile(next(tmp_path.glob("quizgen-*.whl"))).namelist()
    for f in ("math.min.js", "LICENSE", "NOTICE", "THIRD-PARTY-NOTICES.txt"):
        assert f"quizgen/static/vendor/mathjs/{f}" in names
    assert "quizgen/templates/practice/practice.js" in names


# ------------------------------------------------------------------ the checking core, in the page

EQUIVALENCE = [   # (student, key, variables, verdict)
    ("2x(1+x)", "2*x + 2*x^2", ["x"], "equal"),
    ("2x+2x**2", "2*x*(1 + x)", ["x"], "equal"),
    ("2*x + 2*x^2", "2x(1+x)", ["x"], "equal"),
    ("(x+1)(x-1)", "x^2 - 1", ["x"], "equal"),
    ("3xy", "3*x*y", ["x", "y"], "equal"),
    ("sin^2 x + cos^2 x", "1", ["x"], "equal"),
    ("sin 2x", "2*sin(x)*cos(x)", ["x"], "equal"),
    ("e^x", "exp(x)", ["x"], "equal"),
    ("ln(x)", "log(x)", ["x"], "equal"),
    ("1/x", "x^(-1)", ["x"], "equal"),
    ("tan(x)", "sin(x)/cos(x)", ["x"], "equal"),
    ("\u22122\u00d7x", "-2*x", ["x"], "equal"),
    ("sqrt(x-10)", "(x-10)^(1/2)", ["x"], "equal"),          # outside [-3, 3]: the domain widens
    ("x", "x + 0.001", ["x"], "different"),
    ("sqrt(x^2)", "x", ["x"], "different"),
    ("x^2", "x^3", ["x"], "different"),
    ("sqrt(-1 - x^2)", "sqrt(-1 - x^2)", ["x"], "cannot-check"),
]


def test_equivalence_rule_unit_cases(page):
    got = page.page.evaluate(
        "cases => cases.map(([a, b, v]) => QG.equivalent(a, b, {variables: v, seed: 5}).verdict)",
        [list(c[:3]) for c in EQUIVALENCE])
    assert got == [c[3] for c in EQUIVALENCE]


def test_equivalence_points_are_seeded_and_skip_singular_points(page):
    a, b, c = page.page.evaluate("""() => [
        QG.equivalent('1/(x-1)', '1/(x-1)', {variables: ['x'], seed: 9}).points,
        QG.equivalent('1/(x-1)', '1/(x-1)', {variables: ['x'], seed: 9}).points,
        QG.equivalent('1/(x-1)', '1/(x-1)', {variables: ['x'], seed: 10}).points]""")
    assert a == b and a != c and len(a) == 8
    for p in a:
        assert abs(p["a"]) <= 1e6 and p["a"] == pytest.approx(1 / (p["at"]["x"] - 1))


def test_tolerance_rule_is_the_contracts(page):
    got = page.page.evaluate("""() => [
        QG.withinTolerance(3.005, 3, {abs: 0.005}), QG.withinTolerance(3.0051, 3, {abs: 0.005}),
        QG.withinTolerance(101, 100, {rel: 0.01}), QG.withinTolerance(101.5, 100, {rel: 0.01}),
        QG.withinTolerance(NaN, 0, {abs: 1})]""")
    assert got == [True, False, True, False, False]


READINGS = [
    ("2x(1+x)", "2·x·(1 + x)"), ("x(1+x)", "x·(1 + x)"), ("(x+1)(x-1)", "(x + 1)·(x − 1)"),
    ("sin^2 x", "sin(x)^2"), ("cos^2(3x)", "cos(3·x)^2"), ("ln x", "ln(x)"), ("e^x", "e^x"),
    ("2x**2", "2·x^2"), ("1/2x", "(1/2)·x"), ("3xy", "3·x·y"), ("xsin(x)", "x·sin(x)"),
]


def test_readings_of_student_input(page):
    got = page.page.evaluate("cases => cases.map(s => QG.read(s, ['x', 'y']).text)", [r[0] for r in READINGS])
    assert got == [r[1] for r in READINGS]


def test_unreadable_input_messages_point_at_the_place(page):
    got = page.page.evaluate("""cases => cases.map(s => { const r = QG.read(s, ['x']);
        return [r.ok, r.position, r.message]; })""", ["x+)", "(x+1", "2*x+", "2 + q", "1,5", "x == 2"])
    assert [g[0] for g in got] == [False] * 6
    assert [g[1] for g in got[:5]] == [2, 0, 4, 4, 1]
    assert "no matching" in got[0][2] and "never closed" in got[1][2] and "too early" in got[2][2]
    assert "\u201cq\u201d is not known" in got[3][2] and "point for decimals" in got[4][2]


# ------------------------------------------------------------------ typed answers, per kind

def equivalent_forms(expr: str) -> list[str]:
    """The key as sympy prints it, expanded in student style (2x, ^), and factored."""
    e = sympy.sympify(expr)
    student = re.sub(r"(\d)\*([a-z(])", r"\1\2", str(sympy.expand(e))).replace("**", "^")
    return [expr, student, str(sympy.factor(e))]


def typed_value(value, kind):
    return [str(v) for v in entries(value, kind)]


@pytest.mark.parametrize("kind", ["number", "vector", "matrix", "named", "expression", "expression-matrix"])
def test_key_accepted_misconceptions_named_wrong_refused(browser, html, qs, kind):
    template = KINDS[kind]
    q = first_variant(qs, template)
    a = q["answers"][0]
    answer_kind = a["kind"]
    p = Page(browser, html)
    # several equivalent forms of the key (expressions), or the key and a rounding of it (numbers)
    if answer_kind == "expression":
        forms = list(zip(*[equivalent_forms(v) for v in entries(a["value"], answer_kind)]))
    else:
        digits = a["round"]
        forms = [typed_value(a["value"], answer_kind),
                 [f"{v:.{digits}f}" for v in entries(a["value"], answer_kind)]]
    for form in forms:
        p.page.reload()
        p.page.wait_for_selector("body[data-ready=true]")
        p.type(template, list(form) + _rest_of_key(q))
        verdict = p.check(template)
        assert verdict.startswith("\u2713 Correct"), (form, verdict)
        assert p.card(template).locator(".solution").is_visible()
    # each misconception's value -> that misconception's feedback (the first one with that value)
    for m in a["misconceptions"]:
        if _shape(m["value"]) != _shape(a["value"]):
            continue                     # e.g. a 3x2 transpose of a 2x3 Jacobian: no grid to type it in
        p.page.reload()
        p.page.wait_for_selector("body[data-ready=true]")
        first = next(m2 for m2 in a["misconceptions"] if _same(m2["value"], m["value"], a))
        p.type(template, typed_value(m["value"], answer_kind) + _rest_of_key(q))
        verdict = p.check(template)
        assert "Not yet" in verdict and prose(first["feedback"]) in verdict, (m["name"], verdict)
        named = p.card(template).locator(".verdict .mistake").first.get_attribute("data-misconception")
        assert named == first["name"], (m["name"], named)
        assert not p.card(template).locator(".solution").is_visible()
    # a wrong answer: refused, counted, no misconception named
    p.page.reload()
    p.page.wait_for_selector("body[data-ready=true]")
    wrong = _wrong(a) + _rest_of_key(q)
    p.type(template, wrong)
    verdict = p.check(template)
    assert "Not yet \u2014 attempt 1" in verdict
    assert p.card(template).locator(".verdict .mistake").count() == 0, verdict
    assert not any(prose(m["feedback"]) and prose(m["feedback"]) in verdict for m in a["misconceptions"])
    p.type(template, wrong)
    assert "attempt 2" in p.check(template)
    p.close()


def _rest_of_key(q):
    """The keys of the question's other answers (so only the first answer is under test)."""
    out = []
    for a in q["answers"][1:]:
        out += typed_value(a["value"], a["kind"]) if a["kind"] != "expression" else entries(a["value"], "expression")
    return out


def _shape(value):
    return [len(value)] + _shape(value[0]) if isinstance(value, list) and value else []


def _same(u, v, a):
    if a["kind"] == "expression":
        return entries(u, "expression") == entries(v, "expression")
    return all(within(x, y, a["tolerance"]) for x, y in zip(entries(u, a["kind"]), entries(v, a["kind"])))


def _wrong(a):
    """The key with its first entry moved far from the key and from every misconception."""
    vals = entries(a["value"], a["kind"])
    if a["kind"] == "expression":
        return [f"{vals[0]} + 7*x + 3"] + vals[1:]
    return [str(vals[0] + 7.31)] + [str(v) for v in vals[1:]]


def test_unreadable_input_gets_the_message_and_no_attempt(page, qs):
    template = KINDS["expression"]
    page.type(template, ["3*(x+"])
    preview = page.card(template).locator(".preview").first
    assert "never closed" in preview.inner_text()
    page.type(template, ["3*x+"])
    assert "too early" in page.card(template).locator(".preview").first.inner_text()
    verdict = page.check(template)
    assert "too early" in verdict and "attempt" not in verdict
    assert page.card(template).locator(".preview mark").count() == 1


def test_preview_shows_the_reading_as_mathml(page):
    template = KINDS["expression"]
    page.type(template, ["2x(1+x)"])
    preview = page.card(template).locator(".preview").first
    assert preview.get_attribute("aria-live") == "polite"
    assert "read as" in preview.inner_text()
    assert preview.locator("math").count() == 1
    assert preview.locator(".sr-only").inner_text() == "2·x·(1 + x)"
    assert page.card(template).locator(".verdict").get_attribute("aria-live") == "polite"


def test_new_variant_changes_the_question(page, qs):
    template = KINDS["matrix"]
    card = page.card(template)
    prompts = [card.locator(".prompt").inner_html()]
    for k in range(2, COUNT + 1):
        card.locator("button.new-variant").click()
        assert card.locator(".counter").inner_text() == f"Variant {k} of {COUNT}"
        prompts.append(card.locator(".prompt").inner_html())
    assert len(set(prompts)) == COUNT
    q2 = next(q for q in qs if q["template"] == template and q["variant"] == COUNT)
    page.type(template, typed_value(q2["answers"][0]["value"], "matrix"))
    assert page.check(template).startswith("\u2713 Correct")


def test_multiple_choice_is_clickable_with_feedback(page, qs):
    template = KINDS["vector"]
    q = first_variant(qs, template)
    card = page.card(template)
    assert not card.locator(".choices").is_visible()        # typed first: choices would give it away
    card.locator("button.mode").click()
    buttons = card.locator("button.choice")
    assert buttons.count() == len(q["choices"])
    for i, c in enumerate(q["choices"]):
        if not c["correct"]:
            buttons.nth(i).click()
            verdict = card.locator(".verdict").inner_text()
            assert "Not yet" in verdict and prose(c["feedback"]) in verdict
    buttons.nth(next(i for i, c in enumerate(q["choices"]) if c["correct"])).click()
    assert card.locator(".verdict").inner_text().startswith("\u2713 Correct")


def test_hint_give_up_and_progress_with_reset(page, qs):
    template = KINDS["named"]
    card = page.card(template)
    q = first_variant(qs, template)
    assert not card.locator(".hint").is_visible()
    card.locator("button.hint-button").click()
    assert card.locator(".hint").is_visible() and card.locator(".hint math").count() >= 1
    card.locator("button.give-up").click()
    solution = card.locator(".solution")
    assert solution.is_visible() and "best-fit" in solution.inner_text()
    other = KINDS["number"]
    page.type(other, typed_value(first_variant(qs, other)["answers"][0]["value"], "number"))
    page.check(other)
    stored = page.page.evaluate("JSON.parse(localStorage.getItem('quizgen-practice:' + document.title))")
    assert stored["attempts"] == {other: 1}
    assert stored["solved"] == {other: [str(first_variant(qs, other)["seed"])]}
    page.page.locator(".progress-box summary").click()
    assert "1 attempt so far" in page.page.locator("#progress").inner_text()
    page.page.reload()
    page.page.wait_for_selector("body[data-ready=true]")
    page.page.locator(".progress-box summary").click()          # kept across a reload
    assert "Sum and power rules: 1 of 1 solved" in page.page.locator("#progress").inner_text()
    page.page.locator("#reset").click()
    assert "0 attempts so far" in page.page.locator("#progress").inner_text()


def _tab_to(page, selector: str, limit: int = 200):
    """Press Tab until the focused element matches ``selector`` (keyboard only)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_only(page, qs):
    template = KINDS["expression"]
    q = first_variant(qs, template)
    kb = page.page.keyboard
    _tab_to(page.page, f"#t-{template} input.answer-input")
    kb.type("x +* 2")
    kb.press("Enter")
    assert "missing here" in page.card(template).locator(".verdict").inner_text()   # "+*": nothing between
    kb.press("Control+A")
    kb.type(equivalent_forms(q["answers"][0]["value"])[1])
    kb.press("Enter")
    assert page.card(template).locator(".verdict").inner_text().startswith("\u2713 Correct")
    # multiple choice by keyboard on another card
    mc = KINDS["number"]
    _tab_to(page.page, f"#t-{mc} button.mode")
    kb.press("Enter")
    correct = next(i for i, c in enumerate(first_variant(qs, mc)["choices"]) if c["correct"])
    _tab_to(page.page, f"#t-{mc} button.choice[data-index='{correct}']")
    kb.press("Space")
    assert page.card(mc).locator(".verdict").inner_text().startswith("\u2713 Correct")


def test_phone_width_nothing_cut_off_and_wide_matrices_scroll(browser, html):
    p = Page(browser, html, width=390)
    pg = p.page
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    for t in KINDS.values():
        for b in p.card(t).locator("button:visible, input:visible").all():
            box = b.bounding_box()
            inside = b.evaluate("el => !!el.closest('.grid-scroll')")
            assert inside or (box["x"] >= 0 and box["x"] + box["width"] <= 390 + 0.5), (t, box)
    wide = p.card(KINDS["expression-matrix"]).locator(".grid-scroll").first       # the Jacobian's grid
    assert wide.evaluate("el => el.scrollWidth > el.clientWidth")
    assert p.card(KINDS["expression-matrix"]).locator(".scroll-cue").first.is_visible()
    alts = [fig.get_attribute("aria-label") for t in KINDS.values()      # every figure has its alt text
            for fig in p.card(t).locator("[role=img]").all()]
    assert alts and all(len(a) > 10 for a in alts)
    assert any(re.search(r"x from -?[\d.]+ to -?[\d.]+; marked: \(", a) for a in alts), alts
    p.close()


def _label_question(qs):
    """A bank question whose first answer is replaced by a categorical (label) answer, as the
    contract's `kind: "label"` describes it (the bank has no label answers yet)."""
    q = json.loads(json.dumps(first_variant(qs, KINDS["number"])))
    q["template"], q["title"], q["choices"] = "label-kind", "Concavity", None
    q["answers"] = [{"name": "c", "label": r"\text{concavity}", "kind": "label", "value": "concave up",
                     "labels": ["concave up", "concave down"], "tolerance": None, "display": "concave up",
                     "round": 0, "provenance": {"op": "concavity", "inputs": {}}, "steps": [],
                     "misconceptions": [{"name": "concavity_sign_flipped", "value": "concave down",
                                         "display": "concave down",
                                         "feedback": "A positive second derivative means concave up."}]}]
    return q


def test_label_answer_is_chosen_and_judged(browser, qs):
    q = _label_question(qs)
    p = Page(browser, page_html([q]))
    card = p.card("label-kind")
    radios = card.locator("input[type=radio]")
    assert radios.count() == 2
    assert card.locator("[role=radiogroup]").get_attribute("aria-label")
    card.locator("button.check").click()
    assert "Choose one" in card.locator(".verdict").inner_text()
    card.locator("label", has_text="concave down").click()
    card.locator("button.check").click()
    verdict = card.locator(".verdict").inner_text()
    assert "Not yet" in verdict and "positive second derivative" in verdict
    assert card.locator(".verdict .mistake").get_attribute("data-misconception") == "concavity_sign_flipped"
    card.locator("label", has_text="concave up").click()
    card.locator("button.check").click()
    assert card.locator(".verdict").inner_text().startswith("\u2713 Correct")
    p.close()


# --- the page is written piece by piece ----------------------------------------------------

def test_streamed_page_holds_the_one_shot_packing_of_its_data():
    """The data written one variant at a time is, byte for byte, gzip.compress + base64 of the
    whole sorted JSON; several papers sharing variants give each (template, seed) once."""
    from quizgen.export.html import Formatter
    from quizgen.export.practice import _pool_head, _pools, _variant
    bank = {t.id: t for t in load_bank()}
    qs = generate_questions([bank["product-rule-at-point"], bank["jacobian-at-point"]], 3, 4)
    quizset = QuizSet(title="Week 2 · «practice»", papers=[Paper("A", qs[:4]), Paper("B", qs[2:])], name="p")
    page = render_practice(quizset)
    fmt = Formatter(keep_figures=False)
    templates = [{**_pool_head(quizset.papers[pool[0][0]].questions[pool[0][1]]),
                  "variants": [_variant(quizset.papers[p].questions[k], fmt) for p, k in pool]}
                 for pool in _pools(quizset)]
    assert [len(t["variants"]) for t in templates] == [3, 3]
    raw = json.dumps({"title": quizset.title, "templates": templates}, sort_keys=True, separators=(",", ":"),
                     ensure_ascii=False).encode("utf-8")
    packed = base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).decode("ascii")
    assert page.count(packed) == 1 and "\x00" not in page


def test_packing_in_pieces_is_packing_at_once():
    import random
    from quizgen.export.practice import _packed
    rng = random.Random(5)
    text = "".join(rng.choice("ab{}:,\"π∇ 0123456789") for _ in range(200_000))
    cuts = sorted(rng.sample(range(len(text)), 300))
    pieces = [text[a:b] for a, b in zip([0] + cuts, cuts + [len(text)])]
    expected = base64.b64encode(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)).decode("ascii")
    assert "".join(_packed(pieces)) == expected == "".join(_packed([text]))
