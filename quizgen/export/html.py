"""HTML exporter: worksheet, answer key and practice page, each one self-contained file.

Maths is converted to MathML at generation time (latex2mathml), figures are inline SVG and
the CSS is inline, so the pages work offline, on a phone and on paper. Prose is escaped;
the MathML is checked against an allowlist and re-serialised. Output is byte-deterministic.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import pickle
import re
import zlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from latex2mathml.converter import Converter, convert_to_element
from latex2mathml.tokenizer import PATTERN as _TOKEN
from markupsafe import Markup

from ..fsutil import atomic_writer
from ..spill import DiskStore
from ..numfmt import plain_decimal
from ..texcheck import number_spans
from ..paths import templates_dir
from ..textfmt import paragraphs, split_math
from . import QuizSet, register
from .space import blanks

log = logging.getLogger(__name__)

PAGES = {"worksheet": "Worksheet", "key": "Answer key", "practice": "Practice"}


@register("html")
def export_html(quizset: QuizSet, out_dir: Path) -> list[Path]:
    """Write ``<name>-worksheet.html``, ``<name>-key.html`` and ``<name>-practice.html``."""
    fmt = Formatter()
    template = _environment().get_template("page.html")
    written = []
    for kind, title in PAGES.items():            # streamed: a roster's page is never held whole
        path = Path(out_dir) / f"{quizset.name}-{kind}.html"
        with atomic_writer(path) as fh:
            _write_chunks(fh, template.generate(quizset=quizset, mode=kind, page_title=title, fmt=fmt))
        written.append(path)
    for tex, error in fmt.fallbacks.items():
        log.warning("maths shown as TeX source, MathML conversion failed (%s): %s", error, tex)
    return written


def _write_chunks(fh, chunks, batch: int = 2048) -> None:
    """Write text ``chunks`` as UTF-8, joined ``batch`` at a time."""
    buf = []
    for chunk in chunks:
        buf.append(chunk)
        if len(buf) >= batch:
            fh.write("".join(buf).encode("utf-8"))
            buf.clear()
    fh.write("".join(buf).encode("utf-8"))


@dataclass
class Rendered:
    pages: dict[str, str]                   # page kind -> HTML document
    fallbacks: list[tuple[str, str]]        # (TeX, reason) for maths left as TeX source


def render_pages(quizset: QuizSet) -> Rendered:
    """Every page of the set as HTML text, plus the maths that could not be converted."""
    fmt = Formatter()
    template = _environment().get_template("page.html")
    pages = {kind: template.render(quizset=quizset, mode=kind, page_title=title, fmt=fmt)
             for kind, title in PAGES.items()}
    return Rendered(pages, list(fmt.fallbacks.items()))


@functools.lru_cache(maxsize=None)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir() / "html"),
        autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals["tolerance"] = tolerance
    env.globals["blanks"] = blanks
    return env


# ---------------------------------------------------------------- text, maths, figures

@dataclass
class Formatter:
    """Turns question text, maths and figures into safe HTML; remembers maths it could not convert."""

    fallbacks: dict[str, str] = field(default_factory=dict)
    keep_figures: bool = True                   # False where each figure is shown once (practice)
    _svgs: DiskStore = field(default_factory=DiskStore, init=False, repr=False)   # on disk: a roster has thousands

    def text(self, text: str) -> Markup:
        """Prose with ``$...$`` / ``$$...$$`` maths, one ``<p>`` per paragraph."""
        return Markup("\n".join(f"<p>{self._paragraph(p)}</p>" for p in paragraphs(text or "")))

    def inline(self, text: str) -> Markup:
        """Like :meth:`text` but without ``<p>``: for choices and feedback."""
        return Markup("<br>".join(self._paragraph(p) for p in paragraphs(text or "")))

    def math(self, tex: str, display: bool = False) -> Markup:
        """One TeX formula as MathML, or as ``<code>`` TeX source if it cannot be converted."""
        try:
            mathml = tex_to_mathml(tex, display)
        except MathError as err:
            self.fallbacks.setdefault(tex, str(err))
            return Markup(f'<code class="tex-fallback">{_esc(tex)}</code>')
        return Markup(f'<span class="display">{mathml}</span>' if display else mathml)

    def answer(self, answer: dict) -> Markup:
        """``label = display``; a display that is already an equation is shown as it is."""
        display = answer["display"]
        return self.math(display if "=" in display else f"{answer['label']} = {display}")

    def figure(self, spec: dict, prefix: str) -> Markup:
        """The figure as inline SVG, its ids prefixed so several figures share one page."""
        if not self.keep_figures:
            return Markup(_slotted_svg(spec).replace(_SLOT, f"{prefix}-"))
        key = hashlib.sha256(pickle.dumps(spec, 5)).digest()   # equal pickles are equal specs; cheaper than JSON
        if key not in self._svgs:              # kept compressed, on disk
            self._svgs[key] = zlib.compress(_slotted_svg(spec).encode("utf-8"), 1)
        return Markup(zlib.decompress(self._svgs[key]).decode("utf-8").replace(_SLOT, f"{prefix}-"))

    def _paragraph(self, text: str) -> str:
        """Escaped prose and MathML (plain strings: one Markup per text, not one per piece)."""
        return "".join(_esc(p.text) if p.kind == "prose" else self.math(p.text, p.kind == "display")
                       for p in split_math(text))


def tolerance(tol: dict | None) -> str:
    """``{"abs": 0.005, "rel": 0.001}`` -> ``"±0.005, ±0.1 % relative"``; plain decimals,
    never exponent notation (``±0.000001``, not ``±1e-06``)."""
    tol = tol or {}
    parts = [f"±{plain_decimal(tol['abs'])}"] if tol.get("abs") else []
    if tol.get("rel"):
        parts.append(f"±{plain_decimal(tol['rel'] * 100)} % relative")
    return ", ".join(parts)



_SVG_ID = re.compile(r'(\bid="|url\(#|href="#)([^")]+)')
_SLOT = "\0"              # where a figure's prefix goes into each of its ids (XML has no NUL)
_SVG_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)


def _slotted_svg(spec: dict) -> str:
    """The figure's SVG for HTML with :data:`_SLOT` where each id's prefix goes."""
    from .. import figures      # matplotlib: imported only when there is something to draw
    svg = _embeddable_svg(figures.draw(spec, "svg").decode("utf-8"))
    if _SLOT in svg:
        raise ValueError("a NUL character in a drawn SVG")
    return _SVG_ID.sub(rf"\1{_SLOT}\2", svg)


def _embeddable_svg(svg: str) -> str:
    """matplotlib's SVG file without XML prolog, doctype and RDF metadata, for HTML5."""
    return _SVG_METADATA.sub("", svg[svg.index("<svg"):]).strip()


# ---------------------------------------------------------------- TeX -> MathML

class MathError(ValueError):
    """latex2mathml could not convert a formula, or produced something we do not trust."""


_MATHML_NS = "{http://www.w3.org/1998/Math/MathML}"
_PRIMES = set("\u2032\u2033\u2034\u2057")
_TAGS = {"math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub", "msubsup",
         "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd",
         "mstyle", "mpadded", "mphantom", "menclose", "semantics", "annotation"}
_ARITY = {"msup": 2, "msub": 2, "mfrac": 2, "mroot": 2, "mover": 2, "munder": 2,
          "msubsup": 3, "munderover": 3}
_ATTRS = {"display", "mathvariant", "mathsize", "stretchy", "fence", "form", "separator",
          "accent", "accentunder", "movablelimits", "largeop", "symmetric", "lspace", "rspace",
          "minsize", "maxsize", "width", "height", "depth", "voffset", "linebreak",
          "displaystyle", "scriptlevel", "columnalign", "rowalign", "columnspacing",
          "rowspacing", "linethickness", "notation", "class", "encoding"}
# latex2mathml treats "aligned" like plain text and binds a superscript after \end{pmatrix}
# to the closing bracket only: use align* and brace every environment.
_TEX_FIXES = [(re.compile(r"\\(begin|end)\{aligned\}"), r"\\\1{align*}"),
              (re.compile(r"\\begin\{"), r"{\\begin{"),
              (re.compile(r"\\end\{([a-zA-Z]+\*?)\}"), r"\\end{\1}}")]


_READY = DiskStore()        # (tex, display) -> MathML converted ahead by ``prepare_maths``, on disk


def tex_to_mathml(tex: str, display: bool = False) -> str:
    """A ``<math>`` element for ``tex``; raises :class:`MathError` when it cannot be trusted."""
    ready = _READY.get((tex, display))
    return ready if ready is not None else _tex_to_mathml(tex, display)


def prepare_maths(questions: list[dict], jobs: int) -> None:
    """Convert the formulas of ``questions`` ahead in ``jobs`` processes (``forget_maths`` frees them)."""
    from ..workers import parallel_map          # workers end at once on Ctrl-C
    todo = sorted(_formulas(questions) - set(_READY))
    for item, mathml in zip(todo, parallel_map(_convert_or_none, todo, jobs, chunksize=256)):
        if mathml is not None:
            _READY[item] = mathml


def forget_maths() -> None:
    _READY.clear()


def _formulas(questions: list[dict]) -> set[tuple[str, bool]]:
    """``(tex, display)`` of the maths in every text of the questions, answer labels and keys
    (what the pages are likely to show; one missed is simply converted when it is shown)."""
    found: set[tuple[str, bool]] = set()

    def walk(value):
        if isinstance(value, str):
            if "$" in value:
                found.update((p.text, p.kind == "display") for para in paragraphs(value)
                             for p in split_math(para) if p.kind != "prose")
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)
    for q in questions:
        walk(q)
        for a in q.get("answers") or ():
            label = a.get("label") or a["name"]
            found.update({(label, False), (f"{label} =", False), (a["name"], False)})
            if a.get("display"):
                d = a["display"]
                found.add((d if "=" in d else f"{a['label']} = {d}", False))
            if a.get("steps"):
                found.add((str(a["steps"][0]).strip(), True))
    return found


def _convert_or_none(item: tuple[str, bool]) -> str | None:
    try:
        return _tex_to_mathml(*item)
    except MathError:
        return None


# The worksheet, key and practice pages each show every formula of the set, one page after
# the other: the cache holds a whole roster's formulas (a few hundred bytes each), so each
# is converted once per build, not once per page.
@functools.lru_cache(maxsize=1 << 18)
def _tex_to_mathml(tex: str, display: bool = False) -> str:
    spans = number_spans(tex)
    if not spans or _UNSHAPED.search(tex):
        return _convert(tex, display)
    cuts = [0, *(i for span in spans for i in span), len(tex)]
    text = tuple(tex[a:b] for a, b in zip(cuts[::2], cuts[1::2]))        # around the numbers
    numbers = [tex[a:b] for a, b in spans]
    key = (text, display)
    shape = _SHAPES.get(key)
    if shape is None:
        first = _FIRST.pop(key, None)
        if first is None:                       # a shape seen once is simply converted
            mathml = _convert(tex, display)
            _FIRST[_room(_FIRST, key)] = (numbers, mathml)
            return mathml
        shape = _SHAPES[_room(_SHAPES, key)] = _shape(text, display, *first)
    return _fill(shape, numbers) if shape else _convert(tex, display)


# ---- formula shapes: the variants of a template differ in their numbers, so a shape seen a
# second time is converted once with placeholder numbers, and each variant's numbers are put
# into that MathML. Exact: latex2mathml reads a number (a digit run, its tokenizer's group
# "number") as one token and copies it into an <mn>, whatever its value, so a shape is used
# only where every number is such a token (checked on the placeholder text with latex2mathml's
# own tokenizer), each placeholder shows up once in the MathML, as a whole <mn>, and the shape
# gives the first variant's MathML (converted directly) back. Commands that read a number's
# value (widths, \genfrac styles, macro arguments) and comments are never shaped.

_UNSHAPED = re.compile(r"[%#]|\\(?:genfrac|above|abovewithdelims|skew|hskip|hspace|kern|mkern|mskip|mspace|"
                       r"raise|lower|moveleft|moveright|rule|color|textcolor|colorbox|fcolorbox|"
                       r"newcommand|renewcommand|newenvironment|DeclareMathOperator|def|verb)(?![A-Za-z])")
_Key = tuple[tuple[str, ...], bool]                    # (the text around the numbers, display)
_FIRST: dict[_Key, tuple[list[str], str]] = {}          # shape seen once -> (its numbers, its MathML)
_SHAPES: dict[_Key, tuple | bool] = {}                  # shape -> (pieces, order), or False: not usable
_MN = re.compile(r"<mn(?: [^>]*)?>(\d+)</mn>")


def _room(cache: dict, key):
    """``key``, after emptying ``cache`` if it is full (a cache of shapes, not of formulas)."""
    if len(cache) >= 1 << 14:
        cache.clear()
    return key


def _shape(text: tuple[str, ...], display: bool, numbers: list[str], mathml: str) -> tuple | bool:
    """``(pieces, order)``: the MathML of the formulas ``text`` with numbers is ``pieces[0] +
    numbers[order[0]] + pieces[1] + ...``; False when that cannot be trusted. ``numbers`` and
    ``mathml`` are a variant's, converted directly, which the shape must give back."""
    width = max([len(d) for piece in text for d in re.findall(r"\d+", piece)] + [4, len(str(len(numbers)))])
    marks = ["9" * width + str(k).zfill(width) for k in range(len(numbers))]  # longer than any digits of the text
    tex = _join(text, marks)
    if not _numbers_are_tokens(tex, marks):
        return False
    try:
        shape = _cut(_convert(tex, display), marks)
    except MathError:
        return False
    return shape if shape and _fill(shape, numbers) == mathml else False


def _join(text: list[str], numbers: list[str]) -> str:
    """``text[0] + numbers[0] + text[1] + ...``"""
    return "".join(p for pair in zip(text, numbers + [""]) for p in pair)


def _numbers_are_tokens(tex: str, marks: list[str]) -> bool:
    """Does latex2mathml read each placeholder of ``tex`` as one number token of its own?"""
    found = [m["number"] for m in _TOKEN.finditer(_fixed(tex)) if m["number"] in marks]
    return sorted(found) == marks


def _cut(mathml: str, marks: list[str]) -> tuple | None:
    """The MathML of a shape cut at its placeholders, each of which must be a whole <mn>."""
    if any(mathml.count(mark) != 1 for mark in marks):      # not copied into an attribute
        return None
    where = [(m.start(1), m.end(1), marks.index(m[1])) for m in _MN.finditer(mathml) if m[1] in marks]
    if len(where) != len(marks):
        return None
    ends = [0, *(i for a, b, _ in where for i in (a, b)), len(mathml)]
    return tuple(mathml[a:b] for a, b in zip(ends[::2], ends[1::2])), tuple(k for _, _, k in where)


def _fill(shape: tuple, numbers: list[str]) -> str:
    pieces, order = shape
    out = [pieces[0]]
    for k, piece in zip(order, pieces[1:]):
        out += (numbers[k], piece)
    return "".join(out)


def _convert(tex: str, display: bool) -> str:
    """latex2mathml's MathML for ``tex``, checked and re-serialised (no cache, no shape)."""
    try:
        root = _parsed(convert_to_element(_fixed(tex), display="block" if display else "inline"))
    except Exception as err:   # latex2mathml raises many unrelated types; any is a failure
        raise MathError(f"{type(err).__name__}: {err}".rstrip(": ")) from None
    _check(root)
    for table in root.iter(f"{_MATHML_NS}mtable"):
        _table_rules(table)
    for msup in root.iter(f"{_MATHML_NS}msup"):
        _unscript_prime(msup)
    return _serialize(root)


def _parsed(math: ET.Element) -> ET.Element:
    """The tree ``ET.fromstring(latex2mathml.converter.convert(...))`` gives: latex2mathml writes
    its tree out (``unescape(tostring(math))``) and the XML parser reads the entity references
    in its texts back. Done on the tree itself where every text and attribute is plain (only
    ``&#x...;`` references to XML characters); otherwise by writing and parsing, as ever."""
    plain = [_plain_element(el) for el in math.iter()]
    if not all(plain):
        return ET.fromstring(_L2M_WRITE(math))
    for el, (tag, text, tail) in zip(math.iter(), plain):
        el.tag, el.text, el.tail = tag, text, tail
    math.attrib.pop("xmlns", None)
    return math


def _plain_element(el: ET.Element) -> tuple | None:
    """``(namespaced tag, text, tail)`` as the parser reads them, or None if not plain."""
    if not isinstance(el.tag, str) or any(not isinstance(v, str) or _XML_ATTR_SPECIAL.search(v)
                                          for v in el.attrib.values()):
        return None
    text, tail = _xml_text(el.text), _xml_text(el.tail)
    if text is False or tail is False:
        return None
    return f"{_MATHML_NS}{el.tag}", text, tail


def _xml_text(text) -> str | None | bool:
    """A text with its ``&#x...;`` references read; None for none; False if not plain."""
    if text is None or text == "":
        return None
    if not isinstance(text, str) or _XML_TEXT_SPECIAL.search(text):
        return False
    if "&" not in text:
        return text
    out = _HEX_REF.sub(lambda m: _xml_char(int(m[1], 16)), text)
    return False if "&" in out or "\0" in out else out


def _xml_char(code: int) -> str:
    """The character of a reference, or NUL (never in XML: makes the text not plain)."""
    ok = code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF
    return chr(code) if ok else "\0"


_L2M_WRITE = Converter._convert                       # unescape(tostring(tree)), as convert() does
_HEX_REF = re.compile(r"&#x([0-9A-Fa-f]{1,6});")
_XML_TEXT_SPECIAL = re.compile("[<\r]|]]>|[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_ATTR_SPECIAL = re.compile("[&<\"\t\n\r]|[^\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _fixed(tex: str) -> str:
    for pattern, repl in _TEX_FIXES:
        tex = pattern.sub(repl, tex)
    return tex


def _check(el: ET.Element) -> None:
    """Only allowlisted MathML tags, the right number of children, no unknown TeX command."""
    tag = _local(el.tag)
    if tag not in _TAGS:
        raise MathError(f"unexpected element <{tag}>")
    if tag in _ARITY and len(el) != _ARITY[tag]:
        raise MathError(f"<{tag}> with {len(el)} children")
    if "\\" in (el.text or "") + (el.tail or ""):
        raise MathError(f"unknown command {(el.text or el.tail or '').strip()}")
    for child in el:
        _check(child)


def _table_rules(table: ET.Element) -> None:
    """MathML Core ignores columnlines/rowlines: mark the cells with classes for the CSS."""
    cols = table.attrib.pop("columnlines", "").split()
    rows = table.attrib.pop("rowlines", "").split()
    for i, row in enumerate(table[:-1]):
        if _ruled(rows, i):
            row.set("class", "rule-below")
    for row in table:
        for j, cell in enumerate(row[:-1]):
            if _ruled(cols, j):
                cell.set("class", "rule-right")


def _unscript_prime(msup: ET.Element) -> None:
    """Chromium draws a superscript prime far too high; a prime glyph is raised already."""
    script = msup[1]
    if _local(script.tag) in ("mi", "mo") and set(script.text or "x") <= _PRIMES:
        msup.tag, script.tag = f"{_MATHML_NS}mrow", f"{_MATHML_NS}mo"


def _ruled(lines: list[str], i: int) -> bool:
    """Is there a line after column/row ``i`` (MathML repeats the last value)?"""
    return bool(lines) and lines[min(i, len(lines) - 1)] != "none"


def _serialize(el: ET.Element) -> str:
    """HTML5 MathML: no namespace, allowlisted attributes only, everything escaped."""
    tag = _local(el.tag)
    attrs = "".join(f' {k}="{_esc(v)}"' for k, v in el.attrib.items() if k in _ATTRS)
    inner = "".join(_serialize(child) + _esc(child.tail) for child in el)
    return f"<{tag}{attrs}>{_esc(el.text)}{inner}</{tag}>"


def _esc(text: str | None) -> str:
    """What ``markupsafe.escape`` makes of a string, without making a Markup object."""
    if not text:
        return ""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;").replace("'", "&#39;").replace('"', "&#34;")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]
