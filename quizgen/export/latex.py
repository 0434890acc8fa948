"""LaTeX exporter: ``<name>-worksheet.tex`` and ``<name>-key.tex``, figures as PDF.

With ``options["pdf"]`` both files are compiled with latexmk/pdflatex (no shell escape)
in the output folder. A TeX error becomes a :class:`QuizgenError` naming the question
being typeset, found through the ``% quizgen-at <tag>`` markers in the ``.tex`` (by the
log's ``l.<line>``) or, failing that, through the matching ``\\typeout`` in the log.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from functools import lru_cache
from itertools import chain, count
from pathlib import Path

import click
import jinja2

from ..errors import QuizgenError
from ..fsutil import atomic_write
from ..paths import templates_dir
from ..textfmt import paragraphs, split_math
from . import QuizSet, register
from .space import Blank, blanks

FIGURE_DIR = "figures"
DOCUMENTS = {"worksheet": "worksheet.tex", "key": "key.tex"}   # file suffix -> template
ENGINES = ("latexmk", "pdflatex")
TIMEOUT = 600   # seconds per document
# templates are shared data: TeX may read and write only inside the output folder
_TEX_ENV = {"openin_any": "p", "openout_any": "p"}

_ESCAPES = str.maketrans({
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&",
    "_": r"\_", "#": r"\#", "$": r"\$", "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}", "<": r"\textless{}", ">": r"\textgreater{}",
    "|": r"\textbar{}",
    # Unicode that pdflatex's default set cannot print, as it appears in titles and prose
    "²": r"\textsuperscript{2}", "³": r"\textsuperscript{3}", "√": r"$\surd$", "·": r"$\cdot$",
    "−": "-", "×": r"$\times$", "≈": r"$\approx$", "≤": r"$\leq$", "≥": r"$\geq$", "→": r"$\to$",
    "∇": r"$\nabla$", "∂": r"$\partial$", "α": r"$\alpha$", "β": r"$\beta$", "γ": r"$\gamma$",
    "δ": r"$\delta$", "Δ": r"$\Delta$", "ε": r"$\varepsilon$", "θ": r"$\theta$", "λ": r"$\lambda$",
    "μ": r"$\mu$", "π": r"$\pi$", "σ": r"$\sigma$", "χ": r"$\chi$", "∑": r"$\sum$",
    "–": "--", "—": "---", "‘": "`", "’": "'", "“": "``", "”": "''", "…": r"\dots{}",
})
_MARKER = "quizgen-at"
_TEX_MARKER = re.compile(rf"^% {_MARKER} (\w+)")
_LOG_MARKER = re.compile(rf"{_MARKER} (\w+)")
_LOG_ERROR = re.compile(r"^! (.*)$", re.M)
_LOG_LINE = re.compile(r"^l\.(\d+) ?(.*)$", re.M)


# --- text -------------------------------------------------------------------------

def escape(text: str) -> str:
    """Plain prose -> TeX source that prints exactly those characters."""
    return str(text).translate(_ESCAPES)


def _display(math: str) -> str:
    """Display maths as ``\\[ ... \\]`` on lines of its own."""
    return f"\n\\[ {math} \\]\n"


_PIECES = {"prose": escape, "inline": lambda m: f"${m}$", "display": _display}


def _paragraph(par: str) -> str:
    """One paragraph; one that opens with display maths continues the previous one."""
    body = "".join(_PIECES[kind](text) for kind, text in split_math(par))
    body = re.sub(r"\n\s*\n", "\n", body).strip("\n")   # a blank line would end it
    return ("\n" if par.lstrip().startswith("$$") else "\n\n") + body


def tex_text(text: str | None) -> str:
    """Template text (prose, ``$..$``, ``$$..$$``, blank-line paragraphs) -> TeX."""
    return "".join(_paragraph(par) for par in paragraphs(text or "")).lstrip("\n")


def _states_itself(display: str) -> bool:
    """True when ``display`` has an ``=`` outside braces (e.g. ``m = 1.96,\\ c = 1.1``)."""
    depth = 0
    for ch in display:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == "=" and depth == 0:
            return True
    return False


def answer_math(answer: dict) -> str:
    """``label = display``; a display that names its own parts is shown alone."""
    display = answer["display"]
    return display if _states_itself(display) else f"{answer['label']} = {display}"


def blank_tex(blank: Blank) -> str:
    """TeX of one answer blank (macros ``\\quizline`` and ``\\quizbox`` of the worksheet)."""
    if blank.shape == "line":
        return rf"\quizline{{{blank.label}}}"
    if blank.shape == "named":
        return "\n".join(rf"\quizline{{\text{{{escape(name)}}}}}" for name in blank.names)
    if blank.shape == "grid":
        width, height = blank.cell_cm
        row = " & ".join([rf"\rule{{0pt}}{{{height}cm}}"] + [""] * (blank.cols - 1)) + r" \\ \hline"
        columns = "|" + "|".join([f"p{{{width}cm}}"] * blank.cols) + "|"
        return (rf"\par\medskip$ {blank.label} = {{}}$ $\vcenter{{\hbox{{\begin{{tabular}}{{{columns}}}\hline" "\n"
                + "\n".join([row] * blank.rows) + "\n" + r"\end{tabular}}}$")
    if blank.shape == "choice":                   # a box to tick beside each label, kept on one line
        ticks = r"\quad ".join(rf"\mbox{{$\square$~{escape(o)}}}" for o in blank.options)
        return rf"\par\medskip${blank.label}$:\quad {ticks}"
    return rf"\quizbox{{{blank.label}}}{{{blank.height_cm}cm}}"


def marks_text(marks) -> str:
    """``1 mark``, ``2 marks``, ``1.5 marks``."""
    n = int(marks) if float(marks).is_integer() else marks
    return f"{n} mark" if n == 1 else f"{n} marks"


# --- view: what the templates see ----------------------------------------------------

class _Figures:
    """Figure file names: ``<template>-v<variant>[-solution].pdf``, suffixed by paper when
    specs differ."""

    def __init__(self) -> None:
        self.specs: dict[str, dict] = {}

    def name(self, q: dict, paper_no: int, key: str = "figure") -> str | None:
        """The file of ``q[key]`` (``figure``: the question's, ``solution_figure``: the key's)."""
        spec = q.get(key)
        if not spec:
            return None
        if key != "figure" and spec == q.get("figure"):      # nothing to add: the same file
            key = "figure"
        part = "-solution" if key == "solution_figure" else ""
        stem = re.sub(r"[^A-Za-z0-9-]+", "-", f"{q['template']}-v{q['variant']}{part}")
        suffixes = chain(["", f"-{paper_no}"], (f"-{paper_no}-{k}" for k in count(2)))
        name = next(n for n in (f"{stem}{s}.pdf" for s in suffixes)
                    if self.specs.setdefault(n, spec) == spec)
        return f"{FIGURE_DIR}/{name}"


def _question_view(q: dict, number: int, tag: str, figure: str | None,
                   solution_figure: str | None = None) -> dict:
    """What the templates see of one question; the worksheet shows ``figure`` (the question
    figure), the key ``solution_figure``."""
    choices = [dict(c, letter=f"({letter})")
               for letter, c in zip("abcdefghijklmnopqrstuvwxyz", q.get("choices") or [])]
    return {"q": q, "number": number, "tag": tag, "figure": figure,
            "solution_figure": solution_figure, "choices": choices,
            "correct": next((c for c in choices if c["correct"]), None), "blanks": blanks(q),
            "marks": marks_text(q.get("marks", 1))}


def _describe(q: dict, number: int, paper_no: int, label: str, several: bool) -> str:
    text = f"question {number} ({q['template']} v{q['variant']}, \"{q['title']}\")"
    return text + (f" of paper {paper_no} ({label or 'no label'})" if several else "")


def build_view(quizset: QuizSet) -> tuple[dict, dict[str, str], dict[str, dict]]:
    """Template context, marker tag -> description, figure name -> spec."""
    figures, where, papers = _Figures(), {}, []
    several = len(quizset.papers) > 1
    tags = (f"q{i}" for i in count(1))
    for p_no, paper in enumerate(quizset.papers, 1):
        where[f"paper{p_no}"] = f"the heading of paper {p_no}"
        items = []
        for number, q in enumerate(paper.questions, 1):
            tag = next(tags)
            where[tag] = _describe(q, number, p_no, paper.label, several)
            items.append(_question_view(q, number, tag, figures.name(q, p_no),
                                        figures.name(q, p_no, "solution_figure")))
        total = sum(q.get("marks", 1) for q in paper.questions)
        papers.append({"paper": paper, "tag": f"paper{p_no}", "questions": items,
                       "total": marks_text(total)})
    context = {"set": quizset, "papers": papers}
    return context, where, figures.specs


# --- rendering ------------------------------------------------------------------------

@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """Jinja with TeX-safe delimiters: ``((* *))``, ``((( )))``, ``((= =))``."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / "latex")),
        block_start_string="((*", block_end_string="*))",
        variable_start_string="(((", variable_end_string=")))",
        comment_start_string="((=", comment_end_string="=))",
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined, autoescape=False)
    env.filters.update(esc=escape, tex=tex_text, answer=answer_math, blank_tex=blank_tex)
    return env


def _write_figures(specs: dict[str, dict], out_dir: Path) -> list[Path]:
    if not specs:
        return []
    from .. import figures   # matplotlib: imported only when there is something to draw
    return [atomic_write(out_dir / FIGURE_DIR / name, figures.draw(spec, "pdf"))
            for name, spec in specs.items()]


@register("latex")
def export_latex(quizset: QuizSet, out_dir: Path) -> list[Path]:
    """Write worksheet and key (.tex), their figures, and with ``pdf`` the compiled PDFs."""
    out_dir = Path(out_dir)
    context, where, specs = build_view(quizset)
    written = _write_figures(specs, out_dir)
    texs = [atomic_write(out_dir / f"{quizset.name}-{suffix}.tex",
                         environment().get_template(template).render(context))
            for suffix, template in DOCUMENTS.items()]
    written += texs
    if quizset.options.get("pdf"):
        written += compile_all(texs, where)
    return written


# --- compiling ------------------------------------------------------------------------

def compile_all(texs: list[Path], where: dict[str, str]) -> list[Path]:
    """Compile each .tex to a PDF beside it, or warn (and make none) without TeX."""
    missing = [e for e in ENGINES if shutil.which(e) is None]
    if missing:
        click.echo(f"quizgen: warning: {' and '.join(missing)} not found on PATH; "
                   "wrote the .tex files but made no PDFs (install TeX Live and latexmk)",
                   err=True)
        return []
    return [compile_tex(tex, where) for tex in texs]


def _latexmk(tex: Path, build: Path) -> subprocess.CompletedProcess:
    cmd = ["latexmk", "-norc", "-pdf", "-interaction=nonstopmode", "-halt-on-error",
           "-no-shell-escape", f"-outdir={build.name}", tex.name]
    try:
        return subprocess.run(cmd, cwd=tex.parent, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, errors="replace",
                              env=dict(os.environ) | _TEX_ENV, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise QuizgenError(f"latexmk did not finish within {TIMEOUT} s", file=str(tex),
                           fix="compile the file by hand to see where TeX loops") from None


def compile_tex(tex: Path, where: dict[str, str]) -> Path:
    """latexmk in a scratch folder; move the PDF beside ``tex`` or keep the log and raise."""
    pdf, log = tex.with_suffix(".pdf"), tex.with_suffix(".log")
    build = Path(tempfile.mkdtemp(prefix=f".{tex.stem}.build.", dir=tex.parent))
    try:
        proc = _latexmk(tex, build)
        built = build / pdf.name
        if proc.returncode == 0 and built.exists():
            os.replace(built, pdf)
            log.unlink(missing_ok=True)
            return pdf
        pdf.unlink(missing_ok=True)
        if (build / log.name).exists():
            os.replace(build / log.name, log)
        raise compile_error(tex, log, where, proc.stdout + proc.stderr)
    finally:
        shutil.rmtree(build, ignore_errors=True)


def _tag_at_line(tex: Path, line_no: int) -> str | None:
    """The tag of the last ``% quizgen-at`` marker at or above ``line_no`` of ``tex``."""
    tags = [m.group(1) for line in tex.read_text(encoding="utf-8").split("\n")[:line_no]
            if (m := _TEX_MARKER.match(line))]
    return tags[-1] if tags else None


def _locate(tex: Path, log_text: str, error: re.Match) -> tuple[str | None, re.Match | None]:
    """(marker tag, ``l.<n>`` match) of a TeX error: by line, else by the last \\typeout."""
    line = _LOG_LINE.search(log_text, error.end())
    tag = _tag_at_line(tex, int(line.group(1))) if line else None
    if tag is None:
        tags = _LOG_MARKER.findall(log_text, 0, error.start())
        tag = tags[-1] if tags else None
    return tag, line


def compile_error(tex: Path, log: Path, where: dict[str, str], output: str) -> QuizgenError:
    """A QuizgenError naming the question that TeX failed on and the kept log."""
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    error = _LOG_ERROR.search(text)
    if error is None:
        tail = "\n".join(output.strip().split("\n")[-15:])
        return QuizgenError(f"latexmk failed without a TeX error message:\n{tail}",
                            file=str(tex), fix=f"see the log {log}" if log.exists() else None)
    tag, line = _locate(tex, text, error)
    source = line.group(2).strip() if line else ""
    culprit = ("correct the TeX of that question's template (prompt, solution, answers or "
               "choices)" if (tag or "").startswith("q")
               else "check the set's title and instructions, and the TeX installation")
    return QuizgenError(
        f"LaTeX error in {where.get(tag, 'the document preamble')}: {error.group(1)}"
        + (f"\n  TeX input: {source}" if source else ""),
        file=str(tex), where=f"line {line.group(1)}" if line else None,
        fix=f"{culprit}; full log kept at {log}")
