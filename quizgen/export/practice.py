"""Practice exporter: one self-contained HTML page that checks a student's typed answers.

The page holds a pool of variants per template ("New variant" draws another). Everything a
variant needs (prompt and solution as MathML, figures as SVG, the answer data of the JSON
contract: values, tolerances, expressions, misconceptions with feedback, hint) is packed as
gzip + base64 into one ``<script type="application/octet-stream">`` element, so no answer is
in the visible page text before an attempt. mathjs (vendored in ``quizgen/static/vendor``)
and the page's own script are inlined: the page makes no request. Output is
byte-deterministic (sorted JSON, gzip without a timestamp).
"""

from __future__ import annotations

import base64
import functools
import json
import re
import zlib
from pathlib import Path
from typing import Iterable, Iterator

import jinja2
from markupsafe import Markup

from ..fsutil import atomic_writer
from ..paths import templates_dir
from . import QuizSet, register
from .html import Formatter

STATIC = Path(__file__).resolve().parent.parent / "static"
MATHJS = STATIC / "vendor" / "mathjs" / "math.min.js"

# names in sympy-syntax answer strings that are not variables
_FUNCTIONS = {"exp", "log", "ln", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh", "asin",
              "acos", "atan", "abs", "Abs", "sec", "csc", "cot", "pi", "E", "e", "sigma", "sigmoid"}
_CLOSE = re.compile(r"</(script|style)", re.I)
_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_SYMPY_TO_MATHJS = [(re.compile(r"\*\*"), "^"), (re.compile(r"\bE\b"), "e"),
                    (re.compile(r"\bAbs\("), "abs(")]


@register("practice")
def export_practice(quizset: QuizSet, out_dir: Path) -> list[Path]:
    """Write ``<name>-practice-check.html``, piece by piece (memory does not grow with the set)."""
    path = Path(out_dir) / f"{quizset.name}-practice-check.html"
    with atomic_writer(path) as fh:
        for piece in page_pieces(quizset):
            fh.write(piece.encode("utf-8"))
    return [path]


def render_practice(quizset: QuizSet) -> str:
    """The practice page as HTML text."""
    return "".join(page_pieces(quizset))


_SLOT = "\x00quizgen-practice-data\x00"     # where the packed data goes in the rendered page


def page_pieces(quizset: QuizSet) -> Iterator[str]:
    """The page in pieces: the page around the data, and the data packed one variant at a
    time (the pieces joined are the page with ``pack(data)`` in it)."""
    pools = _pools(quizset)
    page = _environment().get_template("page.html").render(
        quizset=quizset, data=_SLOT, n_templates=len(pools), script=_asset("practice.js"),
        style=_asset("practice.css"), mathjs=_vendor(MATHJS))
    head, tail = page.split(_SLOT)
    yield head
    yield from _packed(_data_json(quizset, pools, Formatter(keep_figures=False)))   # figures shown once
    yield tail


def _data_json(quizset: QuizSet, pools: list[list[tuple[int, int]]], fmt: Formatter) -> Iterator[str]:
    """The text of ``json.dumps({"title": ..., "templates": [pool, ...]}, sort_keys=True,
    compact)``, one variant at a time ("variants" sorts last in a pool, "title" after
    "templates")."""
    yield '{"templates":['
    for i, pool in enumerate(pools):
        questions = (quizset.papers[p].questions[k] for p, k in pool)
        first = next(questions)
        yield ("," if i else "") + _dumps(_pool_head(first))[:-1] + ',"variants":['
        yield _dumps(_variant(first, fmt))
        for q in questions:
            yield "," + _dumps(_variant(q, fmt))
        yield "]}"
    yield '],"title":' + _dumps(quizset.title) + "}"


def _dumps(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def pack(data) -> str:
    """Sorted compact JSON -> gzip (no timestamp) -> base64: deterministic, out of plain sight."""
    return "".join(_packed([_dumps(data)]))


def _packed(texts: Iterable[str]) -> Iterator[str]:
    """:func:`pack` of the concatenated ``texts``, made as they come: zlib's gzip stream
    (what ``gzip.compress(mtime=0)`` writes), base64 in whole 3-byte groups."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    left = b""
    for chunk in (*(deflate.compress(t.encode("utf-8")) for t in texts), deflate.flush()):
        left += chunk
        cut = len(left) - len(left) % 3
        if cut:
            yield base64.b64encode(left[:cut]).decode("ascii")
            left = left[cut:]
    yield base64.b64encode(left).decode("ascii")


def _pools(quizset: QuizSet) -> list[list[tuple[int, int]]]:
    """Where the questions are (paper, index), grouped by template in order of first
    appearance, one per seed (positions, not questions: a large set is read twice)."""
    pools: dict[str, dict[int, tuple[int, int]]] = {}
    for p, paper in enumerate(quizset.papers):
        for k, q in enumerate(paper.questions):
            pools.setdefault(q["template"], {}).setdefault(q["seed"], (p, k))
    return [list(pool.values()) for pool in pools.values()]


def _pool_head(first: dict) -> dict:
    """A template's pool without its variants (read off its first question)."""
    return {"id": first["template"], "title": first["title"], "topic": first["topic"],
            "topic_title": first.get("topic_title", first["topic"]),
            "module_title": first.get("module_title", first["module"])}


def _variant(q: dict, fmt: Formatter) -> dict:
    """What the page needs of one question object."""
    prefix = f"{q['template']}-{q['seed']}"
    answers = [_answer(a, fmt) for a in q["answers"]]
    return {"seed": q["seed"], "variant": q.get("variant"), "marks": q.get("marks"),
            "prompt": str(fmt.text(q["prompt"])),
            "figure": _figure(q.get("figure"), fmt, prefix + "-q"),
            "answers": answers,
            "choices": _choices(q.get("choices"), fmt),
            "hint": str(fmt.text(_hint(q))),
            "solution": str(fmt.text(q.get("solution") or "")),
            "solution_figure": _figure(_solution_figure(q), fmt, prefix + "-s")}


def _solution_figure(q: dict) -> dict | None:
    """The solution figure when it adds to the question figure (shown with the solution)."""
    spec = q.get("solution_figure")
    return spec if spec != q.get("figure") else None


def _hint(q: dict) -> str:
    """The template's hint, else the first worked step of the first answer."""
    if q.get("hint"):
        return q["hint"]
    steps = next((a["steps"] for a in q["answers"] if a.get("steps")), [])
    return f"Start from: $${steps[0]}$$" if steps else "Re-read the question and write down the rule that applies."


def _answer(a: dict, fmt: Formatter) -> dict:
    kind, value = a["kind"], a["value"]
    out = {"name": a["name"], "label": str(fmt.math(a.get("label") or a["name"])), "kind": kind,
           "tolerance": _tolerance(a), "round": a.get("round"),
           "key": str(fmt.answer(a)) if a.get("display") else ""}
    if kind == "expression":
        out["value"] = _map(value, to_mathjs)
        out["variables"] = _variables(a)
        out["misconceptions"] = [_misconception(m, fmt, to_mathjs) for m in a.get("misconceptions") or []]
        out["shape"] = _shape(value)
    elif kind == "named":
        out["keys"] = list(value)
        out["value"] = [value[k] for k in value]
        out["misconceptions"] = [_misconception(m, fmt, lambda v, keys=list(value): [v[k] for k in keys])
                                 for m in a.get("misconceptions") or [] if isinstance(m.get("value"), dict)]
    elif kind in ("number", "vector", "matrix", "label"):
        out["value"] = value
        out["labels"] = a.get("labels")
        out["misconceptions"] = [_misconception(m, fmt) for m in a.get("misconceptions") or []]
        out["shape"] = _shape(value)
    else:                       # point_set and future kinds: shown in the solution, not checked
        out["kind"] = "unchecked"
    return out


def _misconception(m: dict, fmt: Formatter, convert=None) -> dict:
    value = m["value"]
    if convert is not None:
        value = _map(value, convert) if convert is to_mathjs else convert(value)
    return {"name": m["name"], "value": value, "feedback": str(fmt.inline(m.get("feedback") or ""))}


def _tolerance(a: dict) -> dict:
    """``{"abs": ..., "rel": ...}``; without one, 0.6 units of the last displayed decimal."""
    tol = dict(a.get("tolerance") or {})
    if not tol and a["kind"] != "label":
        tol = {"abs": 0.6 * 10.0 ** -(a.get("round") or 3)}
    return tol


def _shape(value) -> list[int]:
    if isinstance(value, list):
        return [len(value)] + (_shape(value[0]) if value and isinstance(value[0], list) else [])
    return []


def _map(value, fn):
    return [_map(v, fn) for v in value] if isinstance(value, list) else fn(value)


def to_mathjs(expr) -> str:
    """A sympy-syntax expression string in mathjs syntax (``**`` -> ``^``, ``E`` -> ``e``)."""
    expr = expr if isinstance(expr, str) else repr(float(expr))
    for pattern, repl in _SYMPY_TO_MATHJS:
        expr = pattern.sub(repl, expr)
    return expr


def _variables(a: dict) -> list[str]:
    """Free symbols of the answer: the provenance's variables plus every name in the strings."""
    inputs = (a.get("provenance") or {}).get("inputs") or {}
    names = list(inputs.get("variables") or []) + ([inputs["variable"]] if inputs.get("variable") else [])
    strings = [a["value"]] + [m["value"] for m in a.get("misconceptions") or []]
    for s in _flatten(strings):
        names += [n for n in _NAME.findall(s) if n not in _FUNCTIONS]
    return sorted(set(n for n in names if isinstance(n, str) and n not in _FUNCTIONS))


def _flatten(value):
    if isinstance(value, list):
        for v in value:
            yield from _flatten(v)
    elif isinstance(value, str):
        yield value


def _choices(choices, fmt: Formatter):
    if not choices:
        return None
    return [{"html": str(fmt.inline(c["text"])), "correct": bool(c.get("correct")),
             "misconception": c.get("misconception"), "feedback": str(fmt.inline(c.get("feedback") or ""))}
            for c in choices]


def _figure(spec, fmt: Formatter, prefix: str):
    if not spec:
        return None
    return {"svg": str(fmt.figure(spec, prefix)), "alt": figure_alt(spec)}


def figure_alt(spec: dict) -> str:
    """The spec's ``alt``, else a plain description made from its data."""
    if spec.get("alt"):
        return spec["alt"]
    parts = [_plain(spec.get("title") or "figure")]
    xs = [x for c in spec.get("curves") or [] for x in c.get("x") or []]
    if xs:
        parts.append(f"{_plain(spec.get('xlabel') or 'x')} from {min(xs):g} to {max(xs):g}")
    points = spec.get("points") or []
    if points:
        parts.append("marked: " + ", ".join(f"({p['x']:.3g}, {p['y']:.3g})" for p in points[:6]))
    return "; ".join(parts)


def _plain(text: str) -> str:
    return re.sub(r"[$\\{}]", "", text)


@functools.lru_cache(maxsize=None)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(templates_dir() / "practice"),
                              autoescape=True, undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True)


def _asset(name: str) -> Markup:
    return _vendor(templates_dir() / "practice" / name)


@functools.lru_cache(maxsize=None)
def _vendor(path: Path) -> Markup:
    """A script or style file to inline; ``</script`` is split so it cannot close the element."""
    return Markup(_CLOSE.sub(r"<\\/\1", path.read_text(encoding="utf-8")))
