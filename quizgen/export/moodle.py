"""Moodle XML exporter (``--format moodle``): ``<name>-moodle.xml`` for the question bank.

Layout. Every variant of a template goes into that template's own category,
``$course$/top/<Module title>/<Topic title>/<template id>`` (a ``/`` inside a title is
written ``//``, Moodle's escape), so a quiz can draw "a random question from category"
for each student. A variant is one question named ``<template> · v<k>``
(``<template> · <paper label> · v<k>`` when the set has several papers) with idnumber
``<template>:<seed>``. A variant found in several papers (same template and seed) is
written once.

Question type, from the answers and ``options["moodle_form"]`` (``auto``, the default;
``numeric``; ``multichoice``). Under ``auto`` a question whose quiz section asks it as
multiple choice (``q["form"] == "multiple_choice"``) takes the ``multichoice`` form.

- ``multichoice`` when the question has choices and either the form is ``multichoice``,
  or the form is ``auto`` and its only answer is not plainly numeric (an expression, a
  point set of several points). Single answer, shuffled, 100 for the correct choice and
  0 for the others, each with its feedback. With several answers it is a ``cloze``
  with a ``MULTICHOICE_S`` part per answer instead (:mod:`.moodle_choices`).
- otherwise, when every answer can be blanks: a lone ``number`` -> ``numerical``;
  anything else -> ``cloze``, one ``{w:NUMERICAL:=value:tolerance}`` blank per entry,
  laid out as an HTML table (vector: a column; matrix: its rows; named numbers and point
  sets: labelled rows). Points are listed by increasing coordinates and the text says so.
- an ``expression`` answer cannot be graded by Moodle as a formula. Without choices (or
  next to other answers) it becomes a numeric check: the student enters the value of
  the expression at a stated point (the first point of a fixed list where it is finite,
  variables in alphabetical order), tolerance ``max(0.001, 0.001*|value|)``, and the
  text asks for 4 significant figures. The value comes from a small whitelisted float
  evaluator of the contract's expression syntax (``ast`` only: no sympy, no ``eval``).
- what cannot be blanks (an expression using something the evaluator lacks, an empty
  point set) is a multichoice when choices exist (with several answers: a cloze with that
  answer's choice part beside the others' parts), else a QuizgenError names the question.
- a categorical (``label``) answer is always a ``MULTICHOICE_S`` part offering its labels,
  in a cloze beside the other answers' blanks.

Misconceptions: each numeric blank (and a numerical question) lists, after its 100 %
key, the answer's misconception values for that entry (for an expression's numeric check:
the misconception expressions' values at its point) at 0 % with their feedback
(plain text inside a cloze blank, :mod:`.moodle_text`), each only when it is further than
the Moodle tolerance from the key and from the wrong values before it.

Tolerance: Moodle accepts ``|x - v| <= tol``. ``abs`` is used as is, ``rel`` becomes
``rel*|v|``, and with both the larger (the template accepts an answer meeting either).
Without a tolerance: half a unit in the last of the answer's ``round`` decimals, else 0.

Marks: ``defaultgrade`` is ``marks``. Moodle sets a cloze question's mark to the sum of
its blank weights, so each blank weighs ``marks / blanks`` when that is a whole number
and 1 otherwise (then set the mark in the quiz).

Numbers are written to 12 significant figures (float noise such as 0.6000000000000001
dropped), with ``.``, no exponent, no grouping. Text is HTML in CDATA: prose escaped,
maths as ``\\( \\)`` / ``\\[ \\]`` for MathJax; general feedback is the worked solution.
A figure is drawn by :func:`quizgen.figures.draw` as SVG (default; Moodle 4.5 shows an SVG
``<img>`` in question text like a PNG, sharp at any zoom, and it is drawn several times
faster) or PNG (``options["moodle_figures"]``), embedded as ``@@PLUGINFILE@@`` plus its
base64 ``<file>`` in the same element: the question figure (only what is given) in
``<questiontext>``, the solution figure in ``<generalfeedback>``.
The text is checked by :mod:`quizgen.moodle_lint` before it is written (atomically).
"""

from __future__ import annotations

import ast
import base64
import html
import math
import operator
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Iterator
from typing import Callable

from .. import moodle_lint
from ..errors import QuizgenError
from ..fsutil import atomic_writer
from ..textfmt import paragraphs, split_math
from . import QuizSet, register
from .moodle_choices import choice_list, multichoice_part
from .moodle_text import cloze_plain

FORMS = ("auto", "numeric", "multichoice")
FIGURE_FORMATS = ("svg", "png")                  # --moodle-figures; the first is the default
PENALTY = "0.3333333"
SIGNIFICANT = 12                                 # digits written (float noise dropped)
CHECK_TOLERANCE = {"abs": 0.001, "rel": 0.001}   # numeric check of an expression
CHECK_FIGURES = 4                                # significant figures asked for it
CHECK_POINTS = (0.4, 1.3, 0.7, 1.6, 0.9, 2.2)    # coordinates tried, shifted per attempt
_PLAIN_KINDS = ("number", "vector", "matrix", "named")
_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "lambda", "mu",
          "sigma", "tau", "phi", "omega"}


class Unexportable(Exception):
    """A question this exporter cannot express in Moodle; ``fix`` says what to change."""

    def __init__(self, message: str, fix: str | None = None):
        super().__init__(message)
        self.fix = fix


# --- text and numbers -------------------------------------------------------------------

def cdata(text: str) -> str:
    """``text`` as CDATA; a literal ``]]>`` is split across two sections."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _math(tex: str, display: bool = False) -> str:
    body = html.escape(tex.strip(), quote=False)
    return rf"\[ {body} \]" if display else rf"\( {body} \)"


_PIECES = {"prose": html.escape, "inline": _math, "display": lambda m: _math(m, True)}


def html_text(text: str | None, inline: bool = False) -> str:
    """Template text -> HTML paragraphs (``inline``: a lone paragraph without ``<p>``)."""
    pars = ["".join(_PIECES[kind](body) for kind, body in split_math(par))
            for par in paragraphs(text or "")]
    if inline and len(pars) == 1:
        return pars[0]
    return "\n".join(f"<p>{par}</p>" for par in pars)


def number(x) -> str:
    """``x`` for Moodle: 12 significant figures, ``.``, no exponent or grouping, finite."""
    x = float(x)
    if not math.isfinite(x):
        raise Unexportable(f"the non-finite number {x!r} cannot be a Moodle answer")
    text = format(Decimal(f"{x:.{SIGNIFICANT}g}"), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def moodle_tolerance(tolerance: dict | None, value: float, digits: int | None = None) -> float:
    """The template tolerance as Moodle's absolute one (see the module docstring)."""
    tolerance = tolerance or {}
    bounds = []
    if tolerance.get("abs") is not None:
        bounds.append(float(tolerance["abs"]))
    if tolerance.get("rel") is not None:
        bounds.append(float(tolerance["rel"]) * abs(float(value)))
    if not bounds and digits is not None:
        bounds.append(0.5 * 10.0 ** -digits)
    return max(bounds, default=0.0)


def _tex_symbol(name: str) -> str:
    """TeX for a variable name: ``x``, ``\\lambda``, ``\\mathit{rate}``, ``x_{1}``."""
    base, _, sub = name.partition("_")
    tex = "\\" + base if base in _GREEK else base if len(base) == 1 else rf"\mathit{{{base}}}"
    return tex + (f"_{{{_tex_symbol(sub)}}}" if sub else "")


# --- numeric check of an expression -------------------------------------------------------

_FUNCTIONS: dict[str, Callable[..., float]] = {
    "exp": math.exp, "log": lambda x, base=math.e: math.log(x, base), "sqrt": math.sqrt,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin,
    "acos": math.acos, "atan": math.atan, "sinh": math.sinh, "cosh": math.cosh,
    "tanh": math.tanh, "sec": lambda x: 1 / math.cos(x), "csc": lambda x: 1 / math.sin(x),
    "cot": lambda x: 1 / math.tan(x), "Abs": abs, "abs": abs, "Min": min, "Max": max,
    "sigmoid": lambda z: 1 / (1 + math.exp(-z)),
}
_CONSTANTS = {"pi": math.pi, "E": math.e}
_SPECIALS = {"I", "oo", "zoo", "nan", "EulerGamma", "GoldenRatio"}   # sympy names, not variables
_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
              ast.Div: operator.truediv, ast.Pow: operator.pow,
              ast.USub: operator.neg, ast.UAdd: operator.pos}


def _real(x) -> float:
    if isinstance(x, complex):
        raise ValueError("complex value")
    return float(x)


def _evaluate(node: ast.AST, env: dict[str, float]) -> float:
    """Float value of a parsed expression; Unexportable for anything not whitelisted."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    if isinstance(node, ast.Name) and node.id in env:
        return env[node.id]
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        return _real(_OPERATORS[type(node.op)](_evaluate(node.operand, env)))
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _evaluate(node.left, env), _evaluate(node.right, env)
        return _real(_OPERATORS[type(node.op)](left, right))
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCTIONS and not node.keywords):
        args = [_evaluate(a, env) for a in node.args]
        try:
            return _real(_FUNCTIONS[node.func.id](*args))
        except TypeError:
            raise Unexportable(f"{node.func.id}() with {len(args)} arguments") from None
    raise Unexportable(f"cannot evaluate {ast.dump(node)[:60]}")


def _variables(tree: ast.AST) -> list[str]:
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called}
    return sorted(names - set(_CONSTANTS))


def numeric_check(expression: str) -> tuple[dict[str, float], float]:
    """A point (variable -> value) and the expression's finite value there."""
    try:
        tree = ast.parse(str(expression).strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError):
        raise Unexportable(f"cannot parse the expression {expression!r}") from None
    names = _variables(tree)
    if _SPECIALS & set(names):
        raise Unexportable(f"{expression!r} uses {', '.join(sorted(_SPECIALS & set(names)))}")
    for shift in range(len(CHECK_POINTS)):
        point = {n: CHECK_POINTS[(i + shift) % len(CHECK_POINTS)] for i, n in enumerate(names)}
        try:
            value = _evaluate(tree, {**_CONSTANTS, **point})
        except (ArithmeticError, ValueError):
            continue
        if math.isfinite(value):
            return point, value
    raise Unexportable(f"{expression!r} has no finite value at any check point")


# --- answers as grids of blanks -----------------------------------------------------------

@dataclass
class Grid:
    """One answer as blanks: an intro (HTML), rows of values, optional headings."""

    intro: str
    rows: list[list[float]]
    tolerance: dict | None
    digits: int | None = None
    row_heads: list[str] = field(default_factory=list)
    col_heads: list[str] = field(default_factory=list)
    wrong: dict[tuple[int, int], list[tuple[float, str]]] = field(default_factory=dict)

    def tol(self, value: float) -> float:
        return moodle_tolerance(self.tolerance, value, self.digits)

    @property
    def size(self) -> int:
        return sum(map(len, self.rows))


def _label(answer: dict) -> str:
    return answer.get("label") or answer["name"]


def _simple_grid(answer: dict, rows: list[list[float]], **heads) -> Grid:
    return Grid(_math(f"{_label(answer)} ="), rows, answer.get("tolerance"),
                answer.get("round"), **heads)


def _point_set_grid(answer: dict) -> Grid:
    points = answer["value"]
    if not points:
        raise Unexportable(f"answer {answer['name']!r} is an empty point set")
    names = list(points[0]["point"])
    extras = [(k, h) for k, h in (("multiplier", _math(r"\lambda")), ("value", "value"))
              if k in points[0]]
    rows = sorted([p["point"][n] for n in names] + [p[k] for k, _ in extras] for p in points)
    order = ", then ".join(_math(_tex_symbol(n)) for n in names)
    intro = (f"{_math(_label(answer))}: one row per point, in increasing order of {order}:"
             if len(rows) > 1 else f"{_math(_label(answer))}:")
    heads = [_math(_tex_symbol(n)) for n in names] + [h for _, h in extras]
    return Grid(intro, rows, answer.get("tolerance"), answer.get("round"), col_heads=heads)


def _expression_grid(answer: dict) -> Grid:
    point, value = numeric_check(answer["value"])
    at = r",\ ".join(f"{_tex_symbol(n)} = {number(v)}" for n, v in point.items())
    where = f" at {_math(at)}" if point else ""
    intro = (f"Enter the value of {_math(_label(answer))}{where} "
             f"(at least {CHECK_FIGURES} significant figures):")
    g = Grid(intro, [[value]], CHECK_TOLERANCE)
    g.wrong = _expression_wrong(answer, point, g)
    return g


def _expression_wrong(answer: dict, point: dict[str, float], g: Grid):
    """The misconception expressions' values at the check point, as 0 % alternatives."""
    kept: list[tuple[float, str]] = []
    for m in answer.get("misconceptions") or []:
        try:
            tree = ast.parse(str(m["value"]).strip(), mode="eval").body
            w = _evaluate(tree, {**_CONSTANTS, **point})
        except (SyntaxError, ValueError, ArithmeticError, RecursionError, Unexportable):
            continue
        taken = [g.rows[0][0]] + [v for v, _ in kept]
        if math.isfinite(w) and all(abs(w - t) > g.tol(g.rows[0][0]) for t in taken):
            kept.append((w, m.get("feedback") or ""))
    return {(0, 0): kept} if kept else {}


_ROWS: dict[str, Callable[[object], list[list[float]]]] = {
    "number": lambda v: [[v]],
    "vector": lambda v: [[x] for x in v],
    "matrix": lambda v: [list(row) for row in v],
    "named": lambda v: [[x] for x in v.values()],
}
_GRIDS: dict[str, Callable[[dict], Grid]] = {
    **{kind: (lambda rows: lambda a: _simple_grid(a, rows(a["value"])))(rows)
       for kind, rows in _ROWS.items()},
    "named": lambda a: _simple_grid(a, _ROWS["named"](a["value"]),
                                    row_heads=[html.escape(k) for k in a["value"]]),
    "point_set": _point_set_grid,
    "expression": _expression_grid,
}


def _misconception_rows(answer: dict, m: dict) -> list[list[float]] | None:
    """The misconception's value laid out like the key's blanks, or None when it cannot be."""
    rows = _ROWS.get(answer["kind"])
    try:
        got = rows(m["value"]) if rows else None
    except (TypeError, AttributeError, KeyError):
        return None
    return got if got and [len(r) for r in got] == [len(r) for r in rows(answer["value"])] else None


def wrong_entries(answer: dict, g: Grid) -> dict[tuple[int, int], list[tuple[float, str]]]:
    """Per blank, the misconceptions' (value, feedback) to grade 0 %: each further than the
    Moodle tolerance from the key and from the wrong values before it (Moodle takes the first
    answer that matches, the key first)."""
    out: dict[tuple[int, int], list[tuple[float, str]]] = {}
    for m in answer.get("misconceptions") or []:
        rows = _misconception_rows(answer, m)
        for i, row in enumerate(rows or []):
            for j, w in enumerate(row):
                key = g.rows[i][j]
                taken = [key] + [v for v, _ in out.get((i, j), [])]
                if math.isfinite(float(w)) and all(abs(float(w) - t) > g.tol(key) for t in taken):
                    out.setdefault((i, j), []).append((float(w), m.get("feedback") or ""))
    return out


def grid(answer: dict) -> Grid:
    """The blanks for ``answer`` (with its misconceptions' 0 % values); Unexportable when
    it cannot be blanks."""
    if answer["kind"] not in _GRIDS:
        raise Unexportable(f"answer {answer['name']!r} has the unknown kind {answer['kind']!r}")
    g = _GRIDS[answer["kind"]](answer)
    if answer["kind"] in _ROWS:
        g.wrong = wrong_entries(answer, g)
    return g


def _blank(g: Grid, i: int, j: int, weight: int) -> str:
    """``{w:NUMERICAL:=key:tol~%0%wrong:tol#feedback...}`` for entry (i, j)."""
    value = g.rows[i][j]
    tol = number(g.tol(value))
    wrong = "".join(f"~%0%{number(w)}:{tol}#{cloze_plain(feedback)}"
                    for w, feedback in g.wrong.get((i, j), []))
    return f"{{{weight}:NUMERICAL:={number(value)}:{tol}{wrong}}}"


def _grid_html(g: Grid, weight: int) -> str:
    if g.size == 1 and not (g.row_heads or g.col_heads):
        return f"<p>{g.intro} {_blank(g, 0, 0, weight)}</p>"
    lines = [f"<p>{g.intro}</p>", '<table class="quizgen-answer">']
    if g.col_heads:
        corner = "<th></th>" if g.row_heads else ""
        lines.append("<tr>" + corner + "".join(f"<th>{h}</th>" for h in g.col_heads) + "</tr>")
    for i, row in enumerate(g.rows):
        head = f"<th>{g.row_heads[i]}</th>" if g.row_heads else ""
        cells = "".join(f"<td>{_blank(g, i, j, weight)}</td>" for j in range(len(row)))
        lines.append(f"<tr>{head}{cells}</tr>")
    lines.append("</table>")
    return "\n".join(lines)


def blank_weight(marks, blanks: int) -> int:
    """``marks / blanks`` when that is a positive whole number, else 1."""
    share = float(marks) / blanks
    return int(share) if share >= 1 and share.is_integer() else 1


# --- XML pieces ---------------------------------------------------------------------------

def _xml(text) -> str:
    return html.escape(str(text), quote=False)


def _plain(tag: str, text) -> str:
    return f"<{tag}><text>{_xml(text)}</text></{tag}>"


def _rich(tag: str, body: str, files: str = "", attrs: str = "") -> str:
    return f'<{tag}{attrs} format="html"><text>{cdata(body)}</text>{files}</{tag}>'


def category_path(q: dict) -> str:
    parts = (q.get("module_title") or q["module"], q.get("topic_title") or q["topic"],
             q["template"])
    return "$course$/top/" + "/".join(str(p).replace("/", "//") for p in parts)


def idnumber(q: dict) -> str:
    return f"{q['template']}:{q['seed']}"


def _category_xml(q: dict) -> str:
    return "\n".join(['<question type="category">', "  " + _plain("category", category_path(q)),
                      "  " + _rich("info", html.escape(q.get("title") or q["template"])),
                      "</question>"])


def _tags_xml(q: dict) -> str:
    names = [f"module:{q['module']}", f"topic:{q['topic']}",
             f"difficulty:{q.get('difficulty')}", *(q.get("tags") or [])]
    unique = dict.fromkeys(str(n) for n in names)
    return "<tags>" + "".join(f"<tag><text>{_xml(n)}</text></tag>" for n in unique) + "</tags>"


def figure_png(spec: dict) -> bytes:
    """The figure drawn as PNG (matplotlib is imported only when a figure is drawn)."""
    from .. import figures
    return figures.draw(spec, "png")


def figure_svg(spec: dict) -> bytes:
    """The figure drawn as SVG."""
    from .. import figures
    return figures.draw(spec, "svg")


def figure_format(options: dict | None) -> str:
    """``options["moodle_figures"]``: svg (default) or png."""
    fmt = (options or {}).get("moodle_figures") or FIGURE_FORMATS[0]
    if fmt not in FIGURE_FORMATS:
        raise QuizgenError(f"unknown moodle_figures {fmt!r}", where="options",
                           fix=f"use one of: {', '.join(FIGURE_FORMATS)}")
    return fmt


def _figure(q: dict, fmt: str = FIGURE_FORMATS[0], key: str = "figure") -> tuple[str, str]:
    """(``<img>`` HTML, ``<file>`` XML) for ``q[key]``, or empty strings: ``figure`` (the
    question figure) in the question text, ``solution_figure`` in the general feedback."""
    spec = q.get(key)
    if not spec:
        return "", ""
    part = "-solution" if key == "solution_figure" else ""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{q['template']}-{q['seed']}{part}") + "." + fmt
    alt = "".join(piece.text for piece in split_math(spec.get("title") or "figure"))
    data = base64.b64encode((figure_svg if fmt == "svg" else figure_png)(spec)).decode("ascii")
    return (f'<p><img src="@@PLUGINFILE@@/{name}" alt="{html.escape(alt)}"></p>',
            f'<file name="{name}" path="/" encoding="base64">{data}</file>')


# --- question types -----------------------------------------------------------------------

@dataclass
class Body:
    """What a question type adds: its type name, HTML after the prompt, XML elements."""

    qtype: str
    text: str
    elements: list[str]


def _numerical_answer(fraction: int, value: float, tol: float, feedback: str) -> str:
    return (f'<answer fraction="{fraction}" format="moodle_auto_format">'
            f"<text>{number(value)}</text><tolerance>{number(tol)}</tolerance>"
            + _rich("feedback", html_text(feedback, inline=True)) + "</answer>")


def _numerical(q: dict, g: Grid) -> Body:
    """The key at 100 % first, then each misconception's value at 0 % with its feedback."""
    value = g.rows[0][0]
    tol = g.tol(value)
    answers = [_numerical_answer(100, value, tol, "")]
    answers += [_numerical_answer(0, w, tol, feedback) for w, feedback in g.wrong.get((0, 0), [])]
    return Body("numerical", "", [*answers, "<unitgradingtype>0</unitgradingtype>",
                                  "<unitpenalty>0.1000000</unitpenalty>",
                                  "<showunits>3</showunits>", "<unitsleft>0</unitsleft>"])


def _cloze(q: dict, grids: list[Grid]) -> Body:
    weight = blank_weight(q.get("marks", 1), sum(g.size for g in grids))
    return Body("cloze", "\n".join(_grid_html(g, weight) for g in grids), [])


def _multichoice(q: dict) -> Body:
    choices = q["choices"]
    if sum(bool(c.get("correct")) for c in choices) != 1:
        raise Unexportable("a multiple-choice question needs exactly one correct choice")
    answers = [_rich("answer", html_text(c["text"], inline=True),
                     _rich("feedback", html_text(c.get("feedback"), inline=True)),
                     attrs=f' fraction="{100 if c.get("correct") else 0}"')
               for c in choices]
    return Body("multichoice", "", ["<single>true</single>", "<shuffleanswers>1</shuffleanswers>",
                                    "<answernumbering>abc</answernumbering>",
                                    "<showstandardinstruction>0</showstandardinstruction>",
                                    *answers])


def _cloze_choices(q: dict, only_labels: bool = False) -> Body:
    """Several answers asked as choices: a MULTICHOICE part per answer that has distinct
    wrong values, numeric blanks for one that has none (see :mod:`.moodle_choices`).
    ``only_labels``: the numeric form, where only categorical answers are choices."""
    parts: list[tuple[str, object]] = []
    for i, a in enumerate(q["answers"]):
        options = [] if only_labels and a["kind"] != "label" else \
            choice_list(a, q["choices"] if i == 0 else a.get("choices"))
        parts.append(("choice", options) if len(options) > 1 else ("blanks", grid(a)))
    weight = blank_weight(q.get("marks", 1),
                          sum(1 if kind == "choice" else p.size for kind, p in parts))
    html_parts = [f"<p>{_math(_label(a) + ' =')} {multichoice_part(p, weight)}</p>"
                  if kind == "choice" else _grid_html(p, weight)
                  for a, (kind, p) in zip(q["answers"], parts)]
    return Body("cloze", "\n".join(html_parts), [])


def _plainly_numeric(answer: dict) -> bool:
    return answer["kind"] in _PLAIN_KINDS or (answer["kind"] == "point_set"
                                               and len(answer["value"]) == 1)


def body(q: dict, form: str) -> Body:
    """The Moodle question type and its parts for ``q`` (rules in the module docstring)."""
    answers, choices = q["answers"], bool(q.get("choices"))
    if choices and (form == "multichoice" or (
            form == "auto" and len(answers) == 1 and not _plainly_numeric(answers[0]))):
        return _cloze_choices(q) if len(answers) > 1 else _multichoice(q)
    if any(a["kind"] == "label" for a in answers):
        return _cloze_choices(q, only_labels=True)
    try:
        grids = [grid(a) for a in answers]
    except Unexportable as exc:
        if choices:                # the other answers keep their own parts
            return _cloze_choices(q) if len(answers) > 1 else _multichoice(q)
        raise Unexportable(str(exc), fix="give the template a multiple_choice section, so that "
                                         "Moodle can grade this answer as a choice") from None
    if len(answers) == 1 and answers[0]["kind"] == "number":
        return _numerical(q, grids[0])
    return _cloze(q, grids)


def question_xml(name: str, q: dict, form: str, figures: str = FIGURE_FORMATS[0]) -> str:
    """One ``<question>``; a QuizgenError naming it when it cannot be exported."""
    try:
        b = body(q, form)
        img, file = _figure(q, figures)
        text = "\n".join(t for t in (html_text(q["prompt"]), img, b.text) if t)
        solution_img, solution_file = _figure(q, figures, "solution_figure")
        feedback = "\n".join(t for t in (html_text(q.get("solution")), solution_img) if t)
        marks = number(q.get("marks", 1))
    except Unexportable as exc:
        raise QuizgenError(f"question {name!r} cannot be exported to Moodle: {exc}",
                           fix=exc.fix) from None
    parts = [_plain("name", name), _rich("questiontext", text, file),
             _rich("generalfeedback", feedback, solution_file),
             f"<defaultgrade>{marks}</defaultgrade>", f"<penalty>{PENALTY}</penalty>",
             "<hidden>0</hidden>", f"<idnumber>{_xml(idnumber(q))}</idnumber>",
             *b.elements, _tags_xml(q)]
    return "\n".join([f'<question type="{b.qtype}">', *("  " + p for p in parts), "</question>"])


# --- the file -----------------------------------------------------------------------------

def variants(quizset: QuizSet) -> Iterator[tuple[str, int, int, dict]]:
    """(question name, paper index, question index, question) for each distinct
    (template, seed), in set order."""
    several = len(quizset.papers) > 1
    seen: set = set()
    for no, paper in enumerate(quizset.papers):
        for i, q in enumerate(paper.questions):
            if (q["template"], q["seed"]) in seen:
                continue
            seen.add((q["template"], q["seed"]))
            label = [paper.label or f"paper {no + 1}"] if several else []
            yield " · ".join([q["template"], *label, f"v{q['variant']}"]), no, i, q


def _form(quizset: QuizSet) -> str:
    form = (quizset.options or {}).get("moodle_form") or "auto"
    if form not in FORMS:
        raise QuizgenError(f"unknown moodle_form {form!r}", where="options",
                           fix=f"use one of: {', '.join(FORMS)}")
    return form


def question_form(q: dict, form: str) -> str:
    """The set's form; under ``auto``, a question its quiz section asks as multiple choice
    (``q["form"] == "multiple_choice"``) is multichoice in Moodle as on paper."""
    if form == "auto" and q.get("form") == "multiple_choice" and q.get("choices"):
        return "multichoice"
    return form


def pieces(quizset: QuizSet):
    """The Moodle XML document in pieces: (text, is a question element), categories in order
    of first use, each followed by its variants; the pieces joined by newlines are the file."""
    form, figures = _form(quizset), figure_format(quizset.options)
    groups: dict[str, list[tuple[str, int, int]]] = {}    # where each question is, not the question:
    firsts: dict[str, dict] = {}                            # a large set is read twice, never held
    for name, no, i, q in variants(quizset):
        groups.setdefault(category_path(q), []).append((name, no, i))
        firsts.setdefault(category_path(q), q)
    yield '<?xml version="1.0" encoding="UTF-8"?>\n<quiz>', False
    for path, members in groups.items():
        yield _category_xml(firsts[path]), True
        for name, no, i in members:
            q = quizset.papers[no].questions[i]
            yield question_xml(name, q, question_form(q, form), figures), True
    yield "</quiz>\n", False


def build_xml(quizset: QuizSet) -> str:
    """The whole Moodle XML document as one text."""
    return "\n".join(text for text, _ in pieces(quizset))


@register("moodle")
def export_moodle(quizset: QuizSet, out_dir: Path) -> list[Path]:
    """Write ``<name>-moodle.xml`` question by question (memory does not grow with the set),
    each checked by the linter; nothing is written when any fails."""
    path = Path(out_dir) / f"{quizset.name}-moodle.xml"
    lint = moodle_lint.Stream()
    with atomic_writer(path) as out:
        for k, (text, question) in enumerate(pieces(quizset)):
            if question:
                lint.feed(text)
            out.write(("\n" if k else "").encode("utf-8") + text.encode("utf-8"))
        moodle_lint.report(lint.problems(), file=str(path))
    return [path]
