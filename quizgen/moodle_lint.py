"""Lint a Moodle XML text for what Moodle 4.5 would silently mangle or refuse.

:func:`problems` lists them, each naming its question; :func:`check` raises a
:class:`~quizgen.errors.QuizgenError` when there are any. The rules:

- the text is well-formed XML with a ``<quiz>`` root;
- every question has a known type, a name and a question text;
- every grade fraction (``fraction="..."`` and cloze ``%n%``) is one of Moodle's:
  100, 90, 83.33333, 80, 75, 70, 66.66667, 60, 50, 40, 33.33333, 30, 25, 20, 16.66667,
  14.28571, 12.5, 11.11111, 10, 5, 0 and their negatives, to 5 decimals (Moodle allows
  1e-5 of the fraction, i.e. 0.001 of the percentage; ``33.3`` is refused);
- a single-answer multichoice has at least two choices and exactly one at 100 %;
- numbers (numerical answers and tolerances, cloze NUMERICAL answers, defaultgrade,
  penalty) are plain finite decimals: no comma (``3,5`` is read as 35), no unit, no
  thousands separator, no ``nan``/``inf``;
- a cloze has at least one blank; each blank has a known, correctly cased type, no HTML
  and no ``}`` inside (a TeX brace ends the blank early), and is terminated;
- every ``@@PLUGINFILE@@/<name>`` has its ``<file name="<name>">`` in the same element,
  and every base64 ``<file>`` decodes;
- question names are unique, and idnumbers are unique within their category;
- no wrong answer lies within tolerance of a right one: a numerical answer or cloze
  NUMERICAL alternative below 100 % whose value is within the tolerance of a 100 % value
  (either's tolerance) would grade a correct response as wrong, or never be reached.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter
from typing import Callable, Iterator
from urllib.parse import unquote

from lxml import etree

from .errors import QuizgenError

_POSITIVE = (100, 90, 83.33333, 80, 75, 70, 66.66667, 60, 50, 40, 33.33333, 30, 25, 20,
             16.66667, 14.28571, 12.5, 11.11111, 10, 5, 0)
ALLOWED_FRACTIONS = tuple(sorted({s * f for f in _POSITIVE for s in (1, -1)}))
FRACTION_SLACK = 0.001    # percent: Moodle matches fraction/100 to its list within 1e-5
QUESTION_TYPES = {"category", "multichoice", "truefalse", "shortanswer", "numerical",
                  "cloze", "essay", "matching", "description", "calculated",
                  "calculatedsimple", "calculatedmulti", "ddwtos", "gapselect", "ordering"}
CLOZE_TYPES = {"NUMERICAL", "NM", "SHORTANSWER", "SA", "MW", "SHORTANSWER_C", "SAC", "MWC",
               "MULTICHOICE", "MC", "MULTICHOICE_V", "MCV", "MULTICHOICE_H", "MCH",
               "MULTICHOICE_S", "MCS", "MULTICHOICE_VS", "MCVS", "MULTICHOICE_HS", "MCHS",
               "MULTIRESPONSE", "MR", "MULTIRESPONSE_H", "MRH", "MULTIRESPONSE_S", "MRS",
               "MULTIRESPONSE_HS", "MRHS"}
_NUMERIC_CLOZE = {"NUMERICAL", "NM"}
MAX_REPORTED = 10

_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_GROUPED = re.compile(r"[-+]?\d{1,3}([ '_\u00a0\u202f]\d{3})+(\.\d*)?")
_WITH_UNIT = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*[^\d\s.,].*", re.S)
_BLANK_START = re.compile(r"\{\d*:[A-Za-z_]+:")
_BLANK = re.compile(r"\{(\d*):([A-Za-z_]+):((?:\\.|[^\\}])*)\}", re.S)
_FRACTION_PREFIX = re.compile(r"%([^%]*)%")
_HTML = re.compile(r"<[^>]*>|&[#\w]+;")
_PLUGINFILE = re.compile(r"@@PLUGINFILE@@/([^\"'<>\s?#]+)")


# --- single values --------------------------------------------------------------------

def number_problem(text: str) -> str | None:
    """Why Moodle would misread ``text`` as a number, or None when it is a plain decimal."""
    t = (text or "").strip()
    if _NUMBER.fullmatch(t):
        return None if math.isfinite(float(t)) else f"the non-finite number {t!r}"
    if re.search(r"nan|inf", t, re.I):
        return f"the non-finite number {t!r}"
    if "," in t:
        return f"the number {t!r} has a comma (Moodle reads 3,5 as 35): write 3.5"
    if _GROUPED.fullmatch(t):
        return f"the number {t!r} has a thousands separator"
    if _WITH_UNIT.fullmatch(t):
        return f"the number {t!r} has a unit or other text after it"
    return f"{t!r} is not a number"


def fraction_problem(text: str) -> str | None:
    """Why ``text`` is not one of Moodle's grade fractions (percent), or None."""
    bad = number_problem(text)
    if bad:
        return f"grade fraction: {bad}"
    if any(abs(float(text) - f) < FRACTION_SLACK for f in ALLOWED_FRACTIONS):
        return None
    return (f"grade fraction {text.strip()} is not one of Moodle's "
            f"(100, 50, 33.33333, 25, 20, 0, ... to 5 decimals)")


# --- per-question rules -----------------------------------------------------------------

def _text_of(el, path: str) -> str | None:
    found = el.find(path)
    return None if found is None else (found.text or "")


def _structure(q) -> Iterator[str]:
    if q.get("type") not in QUESTION_TYPES:
        yield f"unknown question type {q.get('type')!r}"
    if not (_text_of(q, "name/text") or "").strip():
        yield "the question has no name"
    if _text_of(q, "questiontext/text") is None:
        yield "the question has no <questiontext><text>"


def _fractions(q) -> Iterator[str]:
    for answer in q.iter("answer"):
        bad = fraction_problem(answer.get("fraction", "0"))
        if bad:
            yield bad


def _single_choice(q) -> Iterator[str]:
    if q.get("type") != "multichoice" or (_text_of(q, "single") or "true").strip() in ("false", "0"):
        return
    fractions = [a.get("fraction", "0") for a in q.findall("answer")]
    if len(fractions) < 2:
        yield f"a multichoice needs at least two choices, not {len(fractions)}"
    full = sum(1 for f in fractions if not number_problem(f) and abs(float(f) - 100) < FRACTION_SLACK)
    if full != 1:
        yield f"a single-answer multichoice needs exactly one 100% choice, not {full}"


def _numbers(q) -> Iterator[str]:
    paths = ["defaultgrade", "penalty"]
    if q.get("type") == "numerical":
        paths += ["answer/text", "answer/tolerance"]
    for path in paths:
        for el in q.findall(path):
            bad = number_problem(el.text)
            if bad:
                yield f"<{path}>: {bad}"


def _alternative_problems(kind: str, alternative: str) -> Iterator[str]:
    """Problems of one ``~``-separated alternative of a cloze blank."""
    answer = re.split(r"(?<!\\)#", alternative, maxsplit=1)[0]
    prefix = _FRACTION_PREFIX.match(answer)
    if prefix:
        bad = fraction_problem(prefix.group(1))
        if bad:
            yield bad
        answer = answer[prefix.end():]
    elif answer.startswith("="):
        answer = answer[1:]
    if kind in _NUMERIC_CLOZE:
        for part in answer.split(":", 1):
            bad = number_problem(part)
            if bad:
                yield bad


def blank_problems(kind: str, content: str) -> Iterator[str]:
    """Problems of one cloze blank ``{w:kind:content}``."""
    if kind not in CLOZE_TYPES:
        right = f" (write {kind.upper()})" if kind.upper() in CLOZE_TYPES else ""
        yield f"cloze blank of unknown type {kind!r}{right}"
    if "{" in content:
        yield "a '}' inside a cloze answer ends the blank early (TeX braces?)"
    if _HTML.search(content):
        yield "HTML inside a cloze answer"
    for alternative in re.split(r"(?<!\\)~", content):
        yield from _alternative_problems(kind.upper(), alternative)


def _cloze(q) -> Iterator[str]:
    if q.get("type") != "cloze":
        return
    text = _text_of(q, "questiontext/text") or ""
    blanks = list(_BLANK.finditer(text))
    if not blanks:
        yield "a cloze question without blanks"
    ends = {m.start() for m in blanks}
    for start in _BLANK_START.finditer(text):
        if start.start() not in ends:
            yield f"unterminated cloze blank at {text[start.start():start.start() + 30]!r}"
    for m in blanks:
        for bad in blank_problems(m.group(2), m.group(3)):
            yield f"blank {m.group(0)[:40]!r}: {bad}"


def _clashes(alternatives: list[tuple[float, float, float]]) -> Iterator[str]:
    """Wrong (value, tolerance, fraction) alternatives within tolerance of a right one."""
    right = [(v, t) for v, t, f in alternatives if abs(f - 100) < FRACTION_SLACK]
    for value, tol, fraction in alternatives:
        if abs(fraction - 100) < FRACTION_SLACK:
            continue
        for key, key_tol in right:
            if abs(value - key) <= max(tol, key_tol):
                yield (f"the {fraction:g}% answer {value:g} is within tolerance "
                       f"({max(tol, key_tol):g}) of the right answer {key:g}")


def _float(text: str | None) -> float | None:
    return None if number_problem(text or "") else float(text)


def _numerical_alternatives(q) -> list[tuple[float, float, float]]:
    out = []
    for a in q.findall("answer"):
        value, tol = _float(_text_of(a, "text")), _float(_text_of(a, "tolerance") or "0")
        fraction = _float(a.get("fraction", "0"))
        if None not in (value, tol, fraction):
            out.append((value, tol, fraction))
    return out


def _blank_alternatives(content: str) -> list[tuple[float, float, float]]:
    """(value, tolerance, fraction) of a NUMERICAL blank's alternatives (tolerance 0 if none)."""
    out = []
    for alternative in re.split(r"(?<!\\)~", content):
        answer = re.split(r"(?<!\\)#", alternative, maxsplit=1)[0]
        prefix = _FRACTION_PREFIX.match(answer)
        fraction = _float(prefix.group(1)) if prefix else 100.0 if answer.startswith("=") else 0.0
        answer = answer[prefix.end():] if prefix else answer.lstrip("=")
        value, _, tol = answer.partition(":")
        value, tol = _float(value), _float(tol or "0")
        if None not in (value, tol, fraction):
            out.append((value, tol, fraction))
    return out


def _wrong_near_right(q) -> Iterator[str]:
    if q.get("type") == "numerical":
        yield from _clashes(_numerical_alternatives(q))
    if q.get("type") == "cloze":
        for m in _BLANK.finditer(_text_of(q, "questiontext/text") or ""):
            if m.group(2).upper() in _NUMERIC_CLOZE:
                for bad in _clashes(_blank_alternatives(m.group(3))):
                    yield f"blank {m.group(0)[:40]!r}: {bad}"


def _files(q) -> Iterator[str]:
    for owner in q.iter(etree.Element):
        text = _text_of(owner, "text")
        files = owner.findall("file")
        have = {f.get("name") for f in files}
        for name in sorted({unquote(n) for n in _PLUGINFILE.findall(text or "")} - have):
            yield f"<{owner.tag}> uses @@PLUGINFILE@@/{name} but has no <file name=\"{name}\">"
        for f in files:
            if f.get("encoding") == "base64" and not _is_base64(f.text or ""):
                yield f"<file name=\"{f.get('name')}\"> is not valid base64"


def _is_base64(data: str) -> bool:
    try:
        base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


RULES: list[Callable[[etree._Element], Iterator[str]]] = [
    _structure, _fractions, _single_choice, _numbers, _cloze, _files, _wrong_near_right]


# --- whole document -----------------------------------------------------------------------

def _label(q, index: int) -> str:
    name = (_text_of(q, "name/text") or "").strip()
    return f"question {name!r}" if name else f"question #{index} (no name)"


def _duplicates(questions: list[tuple[str, str, etree._Element]]) -> Iterator[str]:
    """Repeated names anywhere, repeated idnumbers within a category."""
    names = Counter(_text_of(q, "name/text") for _, _, q in questions)
    seen_ids: set[tuple[str, str]] = set()
    for label, category, q in questions:
        if names[_text_of(q, "name/text")] > 1:
            yield f"{label}: the name is used by {names[_text_of(q, 'name/text')]} questions"
        ident = (_text_of(q, "idnumber") or "").strip()
        if ident and (category, ident) in seen_ids:
            yield f"{label}: idnumber {ident!r} is used twice in category {category!r}"
        seen_ids.add((category, ident))


def _parse(xml: str | bytes) -> etree._Element:
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    return etree.fromstring(data, parser)


def _questions(root) -> list[tuple[str, str, etree._Element]]:
    """(label, category path, element) of every non-category question, in order."""
    out, category = [], ""
    for index, q in enumerate(root.findall("question"), 1):
        if q.get("type") == "category":
            category = (_text_of(q, "category/text") or "").strip()
        else:
            out.append((_label(q, index), category, q))
    return out


def problems(xml: str | bytes) -> list[str]:
    """Everything in ``xml`` Moodle would mangle, each naming its question."""
    try:
        root = _parse(xml)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    if root.tag != "quiz":
        return [f"the root element is <{root.tag}>, not <quiz>"]
    questions = _questions(root)
    found = [f"{label}: {bad}" for label, _, q in questions for rule in RULES for bad in rule(q)]
    return found + list(_duplicates(questions))


class Stream:
    """:func:`problems` of a document fed in pieces (whole ``<question>`` elements, in order),
    keeping only each question's name and idnumber between pieces."""

    def __init__(self):
        self.found: list[str] = []
        self.index, self.category = 0, ""
        self.questions: list[tuple[str, str, etree._Element]] = []

    def feed(self, piece: str | bytes) -> None:
        data = piece.encode("utf-8") if isinstance(piece, str) else piece
        try:
            root = _parse(b"<quiz>" + data + b"</quiz>")
        except etree.XMLSyntaxError as exc:
            self.found.append(f"not well-formed XML: {exc}")
            return
        for q in root.findall("question"):
            self.index += 1
            if q.get("type") == "category":
                self.category = (_text_of(q, "category/text") or "").strip()
                continue
            label = _label(q, self.index)
            self.found += [f"{label}: {bad}" for rule in RULES for bad in rule(q)]
            self.questions.append((label, self.category, _stub(q)))

    def problems(self) -> list[str]:
        return self.found + list(_duplicates(self.questions))


def _stub(q) -> etree._Element:
    """A ``<question>`` with only the name and idnumber of ``q`` (all :func:`_duplicates` reads)."""
    stub = etree.Element("question")
    for path in ("name/text", "idnumber"):
        text = _text_of(q, path)
        if text is not None:
            el = stub
            for tag in path.split("/"):
                el = etree.SubElement(el, tag)
            el.text = text
    return stub


def check(xml: str | bytes, file: str | None = None) -> None:
    """Raise QuizgenError listing the problems of ``xml`` (nothing when it is clean)."""
    report(problems(xml), file)


def report(found: list[str], file: str | None = None) -> None:
    """Raise QuizgenError listing ``found`` (nothing when it is empty)."""
    if not found:
        return
    more = len(found) - MAX_REPORTED
    lines = found[:MAX_REPORTED] + ([f"... and {more} more"] if more > 0 else [])
    raise QuizgenError("Moodle would not import this as written (nothing was written):\n  - "
                       + "\n  - ".join(lines), file=file,
                       fix="fix the named questions (template data or their answers); "
                           "a problem in quizgen's own output is a bug to report")
