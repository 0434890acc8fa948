"""The TeX of a rendered question, checked before anything is written.

Every text a question carries (prompt, solution, each choice and its feedback, each
answer's label, display and worked steps, each misconception's feedback) is read the
way the exporters read it (:mod:`quizgen.textfmt`: blank-line paragraphs, ``$...$`` and
``$$...$$``). Each maths span must have balanced ``{}``, ``\\left``/``\\right`` and
``\\begin``/``\\end``, use only macros that *both* renderers know, and convert to MathML
with the converter the HTML export uses (:func:`quizgen.export.html.tex_to_mathml`).

The known macros are those latex2mathml converts (its command table and its symbol
file) that the LaTeX preamble (``templates/latex/base.tex``) defines, as listed in
``templates/latex/macros.txt``. That list is made by asking pdflatex through the LaTeX
exporter (``python -m quizgen.texcheck``), never typed by hand; a test asks again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

from .errors import QuizgenError, shorten
from .paths import templates_dir
from .textfmt import _TOKEN as _TEXT_TOKEN       # how every exporter finds $...$ and $$...$$
from .textfmt import paragraphs

MACROS_FILE = "macros.txt"           # in templates/latex: the preamble's macros among latex2mathml's
# macros a template must not use even where both renderers know them: they define macros,
# switch modes, or are environments spelt the plain-TeX way (amsmath refuses \pmatrix)
STRUCTURAL = {r"\def", r"\newcommand", r"\newenvironment", r"\DeclareMathOperator", r"\verb",
              r"\begin", r"\end", r"\cases", r"\matrix", r"\pmatrix", r"\bmatrix", r"\Bmatrix",
              r"\vmatrix", r"\Vmatrix", r"\array", r"\smallmatrix", r"\split", r"\align",
              r"\displaylines", r"\eqalign", r"\eqalignno"}
# amsmath's environments for use *inside* maths (align*, equation, ... start maths themselves)
MATH_ENVIRONMENTS = ("matrix", "pmatrix", "bmatrix", "Bmatrix", "vmatrix", "Vmatrix", "smallmatrix",
                     "cases", "array", "aligned")
DELIMITERS = {"(": r"\(", ")": r"\)", "[": r"\[", "]": r"\]"}
_MATH_TOKEN = re.compile(r"\\([A-Za-z]+)|\\(.)|([{}&#%$])|(\\)\Z", re.S)
_SIGNED_NUMBER = re.compile(r"(?<![\^_\s])\s*(?<![\^_])[+-]?\s*(?<![A-Za-z\d.])(?P<digits>\d+(?:\.\d+)?)")
_SPACES = re.compile(r"\s+")
_ENV_NAME = re.compile(r"\s*\{([A-Za-z]+\*?)\}")


# ---- what the renderers know ---------------------------------------------------------

def mathml_macros() -> set[str]:
    """Every command latex2mathml's tables and symbol file name (``\\frac``, ``\\alpha``, ``\\,``)."""
    from latex2mathml import commands
    from latex2mathml.symbols_parser import SYMBOLS
    names: set[str] = set(SYMBOLS)
    for value in vars(commands).values():
        items = value if isinstance(value, (tuple, list, dict)) else (value,)
        names.update(v for v in items if isinstance(v, str) and v.startswith("\\"))
    return {n.rstrip("*") for n in names if re.fullmatch(r"\\([A-Za-z]+\*?|[^A-Za-z])", n)}


def latex_macros() -> set[str]:
    """The macros of :func:`mathml_macros` that the LaTeX preamble defines (``macros.txt``)."""
    text = (templates_dir() / "latex" / MACROS_FILE).read_text(encoding="utf-8")
    return {line.strip() for line in text.splitlines() if line.startswith("\\")}


@lru_cache(maxsize=1)
def known_macros() -> frozenset[str]:
    """Macros a template may use in maths: known to both renderers, not structural."""
    both = mathml_macros() & latex_macros()
    # control symbols (\, \; \{ ...); "\ " is TeX's control space, which latex2mathml reads as a space
    controls = {n for n in mathml_macros() if len(n) == 2} - {r"\(", r"\)", r"\[", r"\]"} | {"\\ "}
    return frozenset((both | controls) - STRUCTURAL)


@lru_cache(maxsize=1)
def environments() -> tuple[str, ...]:
    """Environments allowed inside maths: amsmath's inner ones that latex2mathml converts."""
    from latex2mathml.commands import MATRICES
    return tuple(e for e in MATH_ENVIRONMENTS if "\\" + e in MATRICES or e == "aligned")


# ---- one maths span ------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """What is wrong with a piece of text, where (offset in the text), and how to fix it."""

    message: str
    fix: str
    offset: int = 0


@lru_cache(maxsize=8192)
def check_math(tex: str, display: bool = False) -> Problem | None:
    """The first problem of one maths span (without its ``$``), or None."""
    problem = _structure(tex)
    if problem is None:
        reason = _mathml_failure(numbers_as_one(tex), display)
        if reason:
            return Problem(f"does not convert to MathML ({reason})",
                           "give every macro its arguments (\\frac{a}{b}, x^{2}, \\sqrt{x}) and one "
                           "superscript per base: the HTML pages show each formula as MathML")
    return problem


def numbers_as_one(tex: str) -> str:
    """``tex`` with each signed number written ``1``: whether a formula converts does not
    depend on its numbers, and the variants of a template then share one conversion.
    Digits glued to a macro (``\\tfrac12``) and signs right after ``^``/``_`` stay."""
    return _SPACES.sub(" ", _SIGNED_NUMBER.sub(" 1", tex))


def number_spans(tex: str) -> list[tuple[int, int]]:
    """Where the digits of each number :func:`numbers_as_one` rewrites are in ``tex`` (no
    sign, no spaces): the numbers the variants of one formula shape differ in."""
    return [m.span("digits") for m in _SIGNED_NUMBER.finditer(tex)]


@lru_cache(maxsize=8192)
def _mathml_failure(tex: str, display: bool) -> str | None:
    """Why the HTML export's converter refuses ``tex``, or None (see :func:`numbers_as_one`)."""
    from .export.html import MathError, tex_to_mathml
    try:
        tex_to_mathml(tex, display)
    except MathError as err:
        return str(err)
    return None


def _structure(tex: str) -> Problem | None:
    """Braces, \\left/\\right, \\begin/\\end, macros and special characters of ``tex``."""
    stack: list[tuple[str, int]] = []            # ("{", pos) | ("left", pos) | ("env:NAME", pos)
    known = known_macros()
    pos = 0
    while (m := _MATH_TOKEN.search(tex, pos)) is not None:
        pos, at = m.end(), m.start()
        name, symbol, char = m.group(1), m.group(2), m.group(3)
        if m.group(4):
            return Problem("ends with a lone backslash", "remove it, or write \\backslash", at)
        if name in ("begin", "end"):
            env = _ENV_NAME.match(tex, pos)
            if env is None:
                return Problem(f"\\{name} without an {{environment}}", f"write \\{name}{{pmatrix}}", at)
            pos = env.end()
            problem = _environment(name, env.group(1), stack, at)
        elif name in ("left", "right", "middle"):
            problem = _fence(name, stack, at)
        elif name is not None:
            problem = None if "\\" + name in known else _unknown("\\" + name, at)
        elif symbol is not None:
            problem = _delimiter(symbol, at) if symbol in DELIMITERS else \
                None if "\\" + symbol in known else _unknown("\\" + symbol, at)
        else:
            problem = _character(char, stack, at)
        if problem:
            return problem
    if stack:
        what, at = stack[-1]
        opener = {"{": "'{'", "left": "\\left"}.get(what, f"\\begin{{{what[4:]}}}")
        closer = {"{": "}", "left": "\\right)"}.get(what, f"\\end{{{what[4:]}}}")
        return Problem(f"{opener} is never closed", f"close it with {closer}"
                       + (" (write \\{ for a literal brace)" if what == "{" else ""), at)
    return None


def _environment(kind: str, env: str, stack: list, at: int) -> Problem | None:
    if env not in environments():
        return Problem(f"unknown environment {env!r} (\\{kind}{{{env}}})",
                       f"inside maths use one of: {', '.join(environments())}", at)
    if kind == "begin":
        stack.append((f"env:{env}", at))
        return None
    if not stack or stack[-1][0] != f"env:{env}":
        open_ = stack[-1][0] if stack else None
        return Problem(f"\\end{{{env}}} without its \\begin{{{env}}}" if open_ is None else
                       f"\\end{{{env}}} closes {_opened(open_)}", "pair every \\begin{X} with \\end{X}, "
                       "innermost first", at)
    stack.pop()
    return None


def _fence(kind: str, stack: list, at: int) -> Problem | None:
    inner = stack[-1][0] if stack else None
    if kind == "left":
        stack.append(("left", at))
        return None
    if inner != "left":
        return Problem(f"\\{kind} without a \\left" if inner is None else f"\\{kind} inside {_opened(inner)}",
                       "pair every \\left( with a \\right) in the same group", at)
    if kind == "right":
        stack.pop()
    return None


def _character(char: str, stack: list, at: int) -> Problem | None:
    if char == "{":
        stack.append(("{", at))
    elif char == "}":
        if not stack or stack[-1][0] != "{":
            return Problem("'}' closes nothing" if not stack else f"'}}' closes {_opened(stack[-1][0])}",
                           "remove it, or write \\} for a literal brace", at)
        stack.pop()
    elif char == "&" and not any(w.startswith("env:") for w, _ in stack):
        return Problem("'&' outside a matrix or array", "write \\& for an ampersand", at)
    elif char in "#%":
        return Problem(f"an unescaped '{char}'", f"write \\{char}", at)
    elif char == "$":
        return Problem("a '$' inside maths (unbalanced $ delimiters)", "close every $ before opening the next", at)
    return None


def _opened(what: str) -> str:
    return {"{": "a '{'", "left": "a \\left"}.get(what, f"\\begin{{{what[4:]}}}")


def _unknown(macro: str, at: int) -> Problem:
    import difflib
    close = difflib.get_close_matches(macro, sorted(known_macros()), n=3)
    return Problem(f"unknown macro {macro} (the HTML and LaTeX renderers do not both know it)",
                   (f"did you mean {' or '.join(close)}? " if close else "")
                   + f"templates/latex/{MACROS_FILE} lists the macros both renderers know", at)


def _delimiter(symbol: str, at: int) -> Problem:
    return Problem(f"{DELIMITERS[symbol]} is not a maths delimiter in quizgen text",
                   "write inline maths as $...$ and display maths as $$...$$", at)


# ---- text with maths -----------------------------------------------------------------

@lru_cache(maxsize=8192)
def check_text(text: str) -> Problem | None:
    """The first problem of template text (prose with ``$...$`` / ``$$...$$``), or None."""
    start = 0
    for par in paragraphs(text or ""):
        offset = text.find(par, start)
        start = offset + len(par)
        problem = _paragraph(par)
        if problem:
            return replace(problem, offset=problem.offset + offset)
    return None


def _paragraph(par: str) -> Problem | None:
    pos = 0
    for m in _TEXT_TOKEN.finditer(par):
        problem = _prose(par[pos:m.start()], pos)
        pos = m.end()
        if problem:
            return problem
        if m.group(0) == "\\$":
            continue
        display = m.group(1) is not None
        math = m.group(1) if display else m.group(2)
        problem = check_math(math.strip(), display)
        if problem:
            lead = len(math) - len(math.lstrip())
            return replace(located(problem, math.strip(), display),
                           offset=m.start(1 if display else 2) + lead + problem.offset)
    return _prose(par[pos:], pos)


def located(problem: Problem, math: str, display: bool) -> Problem:
    """The problem of ``math`` with the formula, and its place in it, in the message."""
    delim = "$$" if display else "$"
    near = math[max(0, problem.offset - 20):problem.offset + 20]
    return replace(problem, message=f"{problem.message}, at «{near}» in {delim}{shorten(math)}{delim}")


def _prose(prose: str, offset: int) -> Problem | None:
    """Prose must not hold a lone ``$`` or TeX commands (they would print as plain text)."""
    m = re.search(r"\$|\\[A-Za-z]+|\\[()\[\]]", prose)
    if m is None:
        return None
    word = m.group(0)
    if word == "$":
        return Problem(f"a '$' that is never closed, at «{shorten(prose[m.start():].strip(), 60)}»",
                       "close every $...$ and $$...$$ in the same paragraph; write \\$ for a dollar sign",
                       offset + m.start())
    if word[1] in DELIMITERS:
        return _delimiter(word[1], offset + m.start())
    return Problem(f"the TeX command {word} is outside $...$ (it would print as plain text)",
                   f"put it inside maths: ${word} ...$", offset + m.start())


# ---- a whole question ----------------------------------------------------------------

@dataclass(frozen=True)
class Field:
    """One text of a question: its name in messages, its YAML path, and how to read it."""

    name: str                    # "prompt", "choice 2", "steps.J", ...
    path: tuple                  # where in the template it comes from (for the line)
    text: str
    math: bool = False           # one maths span (steps, displays) rather than text with $...$
    source: str | None = None    # the template text field it was rendered from


def check_question(tpl, q: dict) -> None:
    """Raise a :class:`QuizgenError` for the first text of ``q`` whose TeX is broken."""
    for f in fields(tpl, q):
        problem = check_math(f.text, True) if f.math else check_text(f.text)
        if problem is not None and f.math:
            problem = located(problem, f.text, True)
        if problem is not None:
            raise question_error(tpl, q, f, problem)


def fields(tpl, q: dict) -> Iterator[Field]:
    """Every text of ``q``: answers (steps, label, display, misconceptions) first, since the
    prompt and solution often show them, then prompt, solution and choices."""
    for a in q["answers"]:
        path = ("answers", a["name"])
        for i, step in enumerate(a.get("steps") or [], 1):
            yield Field(f"steps.{a['name']} (step {i})", path, step, True)
        yield Field(f"the label of answer {a['name']}", path + ("label",), a["label"], True)
        yield Field(f"the value of answer {a['name']}", path, a["display"], True)
        for w in a.get("misconceptions") or []:
            where = _misconception_path(tpl, a["name"], w["name"])
            yield Field(f"misconception {w['name']} of answer {a['name']}", where, w["display"], True)
            yield Field(f"the feedback of misconception {w['name']}", where, w["feedback"])
    yield Field("prompt", ("prompt",), q["prompt"], source="prompt")
    if tpl.data.get("solution"):
        yield Field("solution", ("solution",), q["solution"], source="solution")
    first = next(iter(tpl.answers))
    answer = (tpl.data.get("multiple_choice") or {}).get("answer", first)
    for i, c in enumerate(q.get("choices") or [], 1):
        name = c.get("misconception")
        where = _misconception_path(tpl, answer, name) if name else ("multiple_choice",)
        label = f"choice {i}" + (f" ({name})" if name else " (the correct one)")
        yield Field(label, where, c["text"])
        yield Field(f"the feedback of {label}", where, c.get("feedback") or "")


def _misconception_path(tpl, answer: str, name: str) -> tuple:
    """Where a misconception is named: the answer's list, the multiple-choice list, or the answer."""
    for path in (("answers", answer, "misconceptions"), ("multiple_choice", "misconceptions")):
        listed = tpl.data.get(path[0]) or {}
        for key in path[1:]:
            listed = listed.get(key) if isinstance(listed, dict) else None
        if isinstance(listed, list) and name in listed:
            return path + (listed.index(name),)
    return ("answers", answer)


def question_error(tpl, q: dict, f: Field, problem: Problem) -> QuizgenError:
    """One message: template file, line and field, what is wrong, the variant's parameters."""
    line = source_line(tpl.data.get(f.source) or "", f.text, problem.offset) if f.source else None
    return tpl.error(list(f.path), f"broken TeX in {f.name}: {problem.message}\n  {describe_variant(q)}",
                     problem.fix, line)


def describe_variant(q: dict) -> str:
    """``variant 3: seed 123, parameters a = 2, b = -1`` (long values shortened)."""
    params = ", ".join(f"{k} = {shorten(json.dumps(v), 40)}" for k, v in (q.get("parameters") or {}).items())
    return f"variant {q.get('variant', 1)}: seed {q['seed']}, parameters {shorten(params or 'none', 300)}"


_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}")


def source_line(source: str, rendered: str, offset: int) -> int | None:
    """The line (1-based) of template text ``source`` that rendered to the line holding
    ``offset`` of ``rendered``: the line whose literal parts match it (most literal text
    first, then the one nearest in position), or None."""
    index = rendered.count("\n", 0, offset)
    target = rendered.split("\n")[index].strip()
    best = None
    for i, line in enumerate(source.split("\n")):
        parts = _JINJA.split(line.strip())
        if re.fullmatch(".*?".join(map(re.escape, parts)), target, re.S):
            score = (sum(map(len, parts)), -abs(i - index))
            best = max(best or (score, i), (score, i))
    return best[1] + 1 if best else None


# ---- the LaTeX side: asked of pdflatex, through the LaTeX exporter ---------------------

def probe_latex(names: Iterable[str], sample: dict) -> set[str]:
    """Which of ``names`` (letter macros) the preamble of the LaTeX exporter defines.

    ``sample`` is any question object; its solution is replaced by ``\\typeout`` lines, the
    LaTeX exporter writes the key and latexmk compiles it (needs TeX).
    """
    import tempfile
    from .export import Paper, QuizSet
    from .export.latex import _latexmk, export_latex
    names = sorted({n for n in names if re.fullmatch(r"\\[A-Za-z]+", n)})
    probes = "\n".join(rf"\typeout{{QGPROBE {n[1:]} \ifdefined{n} Y\else N\fi}}" for n in names)
    q = dict(sample, prompt="", solution=f"$${probes}$$", choices=None, figure=None)
    with tempfile.TemporaryDirectory(prefix="quizgen-probe-") as tmp:
        export_latex(QuizSet("probe", [Paper("", [q])], name="probe"), Path(tmp))
        build = Path(tmp) / "build"
        build.mkdir()
        _latexmk(Path(tmp) / "probe-key.tex", build)
        log = (build / "probe-key.log").read_text(encoding="utf-8", errors="replace")
    return {"\\" + n for n, yes in re.findall(r"^QGPROBE (\w+) ([YN])$", log, re.M) if yes == "Y"}


def write_macros_file() -> Path:
    """Regenerate ``templates/latex/macros.txt`` from latex2mathml's list and pdflatex."""
    from .bank import load_bank
    from .pipeline import generate_variant
    tpl = load_bank()[0]
    defined = probe_latex(mathml_macros(), generate_variant(tpl, 1))
    path = templates_dir() / "latex" / MACROS_FILE
    head = ("# Macros that latex2mathml converts and the LaTeX preamble (base.tex) defines:\n"
            "# the TeX a template may use (quizgen/texcheck.py). Made by asking pdflatex:\n"
            "#   python -m quizgen.texcheck\n")
    path.write_text(head + "".join(f"{n}\n" for n in sorted(defined)), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_macros_file())
