"""Regenerate the README's screenshots from the example quiz.

    python docs/screenshots.py

Builds the example quiz (``quizgen build``) into a scratch folder, then with Debian's
Chromium driven by Playwright: the top of the HTML answer key, pages 1 and 2 of the PDF
worksheet (rendered by ``pdftoppm``) side by side, and a practice-check page question answered
with a misconception's value and checked. Writes docs/screenshot-*.png.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

DOCS = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
PRACTICE_TEMPLATE = "chain-rule-two-intermediate"     # a number; forgetting an inner derivative


def build(out: Path) -> None:
    subprocess.run([sys.executable, "-m", "quizgen", "build", "--out", str(out)], check=True)


def key(page, out: Path) -> None:
    page.set_viewport_size({"width": 900, "height": 1400})
    page.goto((out / "example-quiz-key.html").as_uri())
    page.screenshot(path=str(DOCS / "screenshot-key-html.png"))


def worksheet(page, out: Path) -> None:
    prefix = out / "page"
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "2",
                    str(out / "example-quiz-worksheet.pdf"), str(prefix)], check=True)
    pages = sorted(out.glob("page-*.png"))
    images = "".join(f'<img src="{p.as_uri()}" style="border:1px solid #999;margin:8px">' for p in pages)
    (out / "pages.html").write_text(f"<body style='margin:0;background:#eee;display:flex'>{images}</body>")
    page.set_viewport_size({"width": 1230, "height": 860})
    page.goto((out / "pages.html").as_uri())
    page.screenshot(path=str(DOCS / "screenshot-worksheet-pdf-1.png"))


def practice(page, out: Path) -> None:
    """A practice-check page question answered with a misconception's value, then checked."""
    from quizgen.bank import load_bank
    from quizgen.export import Paper, QuizSet
    from quizgen.export.practice import render_practice
    from quizgen.pipeline import generate_questions
    tpl = next(t for t in load_bank() if t.id == PRACTICE_TEMPLATE)
    questions = generate_questions([tpl], 1, 0)
    wrong = questions[0]["answers"][0]["misconceptions"][0]["value"]
    html = out / "practice-check.html"
    html.write_text(render_practice(QuizSet(title="Practice", papers=[Paper("", questions)], seed=0)))
    page.set_viewport_size({"width": 700, "height": 900})
    page.goto(html.as_uri())
    page.wait_for_selector("body[data-ready=true]")
    card = page.locator(f"#t-{PRACTICE_TEMPLATE}")
    card.locator("input.answer-input").first.fill(f"{wrong:.4f}")
    card.locator("button.check").click()
    card.locator(".verdict .mistake").first.wait_for()
    card.screenshot(path=str(DOCS / "screenshot-practice-check.png"))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "example"
        build(out)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()
            for shot in (key, worksheet, practice):
                shot(page, out)
            browser.close()
    print("wrote", ", ".join(sorted(str(p.relative_to(DOCS.parent)) for p in DOCS.glob("screenshot-*.png"))))


if __name__ == "__main__":
    main()
