"""TeX (and plain text) of an expression printed once per *shape*, filled in per variant.

Every variant of a template prints expressions of the same shape with other numbers
in them. :func:`latex` and :func:`sstr` give exactly what ``sympy.latex`` and
``sympy.sstr`` give, but print each shape once: the first expression of a shape is
printed with a marker in place of every number the printer writes, which makes a
*form* (text with holes, each hole naming the number of the expression it shows),
and later expressions of that shape are filled into the form without printing.

A shape is the expression tree without its numbers, plus everything about the numbers
the printer decides on: exponents stay as they are (``x**2`` and ``x**3`` are two
shapes, as ``x**(1/2)`` prints as a root); of each top-level coefficient its sign and
whether its numerator and denominator are 1 (``+ -3`` is written ``- 3``, ``1 x`` is
written ``x``, ``3/2 x`` as a fraction); of every other number the complete order and
equality pattern of all of them, their absolute values, numerators and denominators,
with -1, 0 and 1 (sympy orders terms and factors by them). Floats, and sums with
irrational numeric factors (ordered by value), are always printed by sympy.

A form is made from the marked text of one expression (whose own text is that marked
text with the markers replaced by their values: sympy's printers look at a number's
text only for its sign and its first and last characters) and used only after it gave
sympy's own text for a second expression of its shape; one that does not is dropped
and its shape is printed by sympy from then on. The output is sympy's, byte for byte;
the cache only changes the time. ``QUIZGEN_TEXCACHE=check`` compares every text with
sympy's and raises on a difference (for tests), ``off`` turns the cache off.
"""

from __future__ import annotations

import os
import re
from fractions import Fraction

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

MAX_SHAPES = 20000               # forms kept per printer; the cache is emptied beyond that
_MARK = "90817{:05d}71809"       # digits only, so the printer treats a marker like a number
_MARK_RE = re.compile(r"90817(\d{5})71809")
_LANDMARKS = (-1, 0, 1)


class _Unshaped(Exception):
    """The expression has something a form cannot stand for (a float): print it with sympy."""


def _marking(printer_class):
    """A subclass of ``printer_class`` that writes a marker for each integer it prints and
    records its absolute value (signs are written as the printer writes them)."""

    class Marking(printer_class):
        def __init__(self, settings):
            super().__init__(settings)
            self.marks: list[int] = []

        def _mark(self, value: int) -> str:
            self.marks.append(abs(value))
            return ("-" if value < 0 else "") + _MARK.format(len(self.marks) - 1)

        def _print_int(self, expr):
            return self._mark(int(expr))

    return Marking


class _MarkingLatex(_marking(LatexPrinter)):
    def _print_Rational(self, expr):
        if expr.q == 1:
            return self._mark(expr.p)
        sign = "- " if expr.p < 0 else ""
        p, q = self._mark(abs(expr.p)), self._mark(expr.q)
        if self._settings["fold_short_frac"]:
            return f"{sign}{p} / {q}"
        return rf"{sign}\frac{{{p}}}{{{q}}}"


class _MarkingStr(_marking(StrPrinter)):
    def _print_Integer(self, expr):
        if self._settings.get("sympy_integers", False):
            raise _Unshaped("sympy_integers")
        return self._mark(expr.p)

    def _print_Rational(self, expr):
        if expr.q == 1:
            return self._mark(expr.p)
        if self._settings.get("sympy_integers", False):
            raise _Unshaped("sympy_integers")
        return f"{self._mark(expr.p)}/{self._mark(expr.q)}"


def shape_of(expr) -> tuple[tuple, list, list]:
    """(the shape key of ``expr``, its numbers in tree order as (|p|, q), which of them are pinned).

    The coefficients of the top-level terms are never compared with other numbers when
    sympy sorts (terms differ in more than their coefficients), so the key holds only
    their sign and whether |p| and q are 1; every other number is *pinned*: the key holds
    its place in the order of all of them.
    """
    parts: list = []
    numbers: list[sp.Rational] = []
    free: list[int] = []                # indices of the top-level coefficients

    def number(node, exponent=False, top=False):
        parts.append(("e", node.p, node.q) if exponent else "#")
        if top:
            free.append(len(numbers))
        numbers.append(node)

    def walk(node, exponent=False):
        if isinstance(node, sp.MatrixBase):          # str pads columns to the widest entry
            raise _Unshaped("a matrix")
        if node.is_Rational:
            return number(node, exponent)
        if node.is_Float:
            raise _Unshaped("float")
        args = node.args
        if not args:
            parts.append((type(node).__name__, node.name) if node.is_Symbol else type(node).__name__)
            return
        parts.append((type(node).__name__, len(args)))
        if node.is_Add:
            _check_terms(node)
        if node.is_Pow:
            walk(args[0])
            walk(args[1], exponent=True)
            return
        for arg in args:
            walk(arg)

    def term(node):
        if isinstance(node, sp.Basic) and node.is_Rational:
            return number(node, top=True)
        if isinstance(node, sp.Basic) and node.is_Mul and node.args[0].is_Rational:
            parts.append(("Mul", len(node.args)))
            number(node.args[0], top=True)
            for arg in node.args[1:]:
                walk(arg)
            return
        walk(node)

    def top(node):
        if isinstance(node, sp.Basic) and node.is_Add:
            _check_terms(node)
            parts.append(("Add", len(node.args)))
            for arg in node.args:
                term(arg)
        else:
            term(node)

    try:
        top(expr)
    except AttributeError:               # something that is not a sympy expression inside
        raise _Unshaped("not an expression") from None
    pairs = [(abs(n.p), n.q) for n in numbers]
    pinned = [True] * len(pairs)
    for i in free:
        pinned[i] = False
    values = {}                         # pinned number -> its value, |value|, |p| and q, comparable
    for i, n in enumerate(numbers):
        if pinned[i]:
            a, q = pairs[i]
            values[i] = (_exact(n.p, q), _exact(a, q), a, q)
    every = set(_LANDMARKS).union(*values.values())
    rank = {v: k for k, v in enumerate(sorted(every))}
    pattern = tuple(tuple(rank[v] for v in values[i]) if pinned[i] else
                    ((n.p > 0) - (n.p < 0), pairs[i][0] == 1, pairs[i][1] == 1)
                    for i, n in enumerate(numbers))
    return (tuple(parts), pattern), pairs, pinned


def _exact(p: int, q: int):
    """p/q as a float when that orders and equates exactly like the fraction (|p| < 2**20,
    q < 2**16: two such fractions differ by far more than the rounding), else a Fraction."""
    return p / q if abs(p) < 2 ** 20 and q < 2 ** 16 else Fraction(p, q)


def _check_terms(add) -> None:
    """Sympy orders the terms of a sum by the value of their numeric factors (``-2`` before or
    after ``-8*sin(2)``), which no pattern of rationals describes: such sums are printed by sympy."""
    for term in add.args:
        for factor in (term.args if term.is_Mul else (term,)):
            if not factor.is_Rational and factor.is_number:
                raise _Unshaped("a sum with irrational numbers")


class Form:
    """Text with holes: literal pieces and, between them, (number index, 0 for |p| / 1 for q)."""

    __slots__ = ("pieces", "holes", "confirmed")

    def __init__(self, pieces: list[str], holes: list[tuple[int, int]]):
        self.pieces, self.holes, self.confirmed = pieces, holes, False

    def fill(self, numbers: list[tuple]) -> str:
        out = [self.pieces[0]]
        for (i, which), piece in zip(self.holes, self.pieces[1:]):
            out.append(str(numbers[i][which]))
            out.append(piece)
        return "".join(out)


class Pending:
    """A shape whose printed numbers are not yet tied to the numbers of the expression.

    Each marker may show any number of the expression with that value (``2*x + sin(2*x)``
    prints two 2s); the candidates left are narrowed by every further expression of the
    shape until each marker has one. Equal values of pinned numbers are equal in every
    expression of the shape, so several pinned candidates also tie a marker down. A 1 is
    a constant (the key says which numbers are 1), and so is a value that is no number of
    the expression (the first fill is checked against sympy's text in any case).
    """

    __slots__ = ("pieces", "candidates", "pinned")

    def __init__(self, pieces: list[str], pinned: list[bool]):
        self.pieces, self.candidates, self.pinned = pieces, None, pinned

    def narrow(self, pieces: list[str], values: list[int], numbers: list[tuple[int, int]]) -> bool:
        """Narrow by one more expression of the shape; False when its text has other pieces."""
        if pieces != self.pieces:
            return False
        sources: dict[int, set] = {}
        for i, pair in enumerate(numbers):
            for which in (0, 1):
                sources.setdefault(pair[which], set()).add((i, which))
        found = [{("const", 1)} if v == 1 else sources.get(v) or {("const", v)} for v in values]
        self.candidates = found if self.candidates is None else \
            [old & new for old, new in zip(self.candidates, found)]
        return all(self.candidates)

    def form(self) -> Form | None:
        """The form, once every marker is tied to one number (or a constant)."""
        holes, pieces = [], [self.pieces[0]]
        for c, piece in zip(self.candidates, self.pieces[1:]):
            if len(c) > 1 and not all(i != "const" and self.pinned[i] for i, _ in c):
                return None
            source = min(c, key=str)
            if source[0] == "const":
                pieces[-1] += str(source[1]) + piece
            else:
                holes.append(source)
                pieces.append(piece)
        return Form(pieces, holes)


def _split(marked: str, marks: list[int]) -> tuple[list[str], list[int]]:
    """The literal pieces of a marked text and the values of its markers, in order."""
    pieces = _MARK_RE.split(marked)
    return pieces[0::2], [marks[int(k)] for k in pieces[1::2]]


class ShapeCache:
    """Exact text of expressions for one printer and one set of settings, by shape."""

    def __init__(self, plain, marking, settings: dict):
        self.plain, self.marking, self.settings = plain, marking, settings
        self.forms: dict[tuple, Form | Pending | None] = {}   # None: always printed by sympy
        self.memo: dict = {}                          # the text of expressions met before
        self.stats = {"calls": 0, "filled": 0, "printed": 0, "unshaped": 0}

    def __call__(self, expr) -> str:
        mode = os.environ.get("QUIZGEN_TEXCACHE", "")
        self.stats["calls"] += 1
        if mode == "off" or not isinstance(expr, (sp.Basic, sp.MatrixBase)):
            return self._print(expr)
        if isinstance(expr, sp.Basic):
            known = self.memo.get(expr)
            if known is not None and mode != "check":
                self.stats["filled"] += 1
                return known
            if len(self.memo) >= MAX_SHAPES:
                self.memo.clear()
            text = self._shaped(expr, mode)
            self.memo[expr] = text
            return text
        return self._shaped(expr, mode)

    def _shaped(self, expr, mode: str) -> str:
        if isinstance(expr, sp.MatrixBase) and self.marking is _MarkingLatex:
            return self._matrix(expr, mode)
        try:
            key, numbers, pinned = shape_of(expr)
        except _Unshaped:
            self.stats["unshaped"] += 1
            return self._print(expr)
        form = self.forms.get(key)
        if isinstance(form, Form):
            return self._filled(key, form, form.fill(numbers), expr, mode)
        if key in self.forms and form is None:
            return self._print(expr)
        return self._first(key, form, expr, numbers, pinned, mode)

    def _filled(self, key, form: Form, text: str, expr, mode: str) -> str:
        """``text`` filled into ``form``; the first time, checked against sympy's."""
        if form.confirmed and mode != "check":
            self.stats["filled"] += 1
            return text
        printed = self._print(expr)
        if printed == text:
            form.confirmed = True
        elif form.confirmed:
            raise AssertionError(f"texcache: sympy printed {printed!r}, the form gave {text!r} for {expr!r}")
        else:
            self.forms[key] = None
        return printed

    def _print(self, expr) -> str:
        self.stats["printed"] += 1
        return self.plain(expr, **self.settings)

    def _marked(self, expr) -> tuple[str, list[int]] | None:
        """``expr`` printed with markers, and the values they stand for (None: cannot be)."""
        printer = self.marking(self.settings)
        try:
            return printer.doprint(expr), printer.marks
        except _Unshaped:
            return None

    def _first(self, key, pending, expr, numbers, pinned, mode: str) -> str:
        """An expression of a shape without a form yet: printed with markers, which narrows
        the shape's :class:`Pending` until it makes the form.

        The text is the marked one with each marker replaced by the value it stands for:
        the printers look at the text of a number only for its sign and its first and
        last character, which are the same for a marker (the ``check`` mode compares it
        with sympy's own text).
        """
        marked = self._marked(expr)
        if marked is None:
            self.forms[key] = None
            return self._print(expr)
        text, marks = marked
        plain = _MARK_RE.sub(lambda m: str(marks[int(m.group(1))]), text)
        if "90817" in plain:                       # a number of the expression looks like a marker
            self.forms[key] = None
            return self._print(expr)
        self.stats["printed"] += 1
        if mode == "check" and plain != self.plain(expr, **self.settings):
            raise AssertionError(f"texcache: marked printing gave {plain!r} for {expr!r}")
        pieces, values = _split(text, marks)
        if pending is None:
            if len(self.forms) >= MAX_SHAPES:
                self.forms.clear()
            pending = self.forms[key] = Pending(pieces, pinned)
        if not pending.narrow(pieces, values, numbers):
            self.forms[key] = None
            return plain
        form = pending.form()
        if form is not None:
            self.forms[key] = form if form.fill(numbers) == plain else None
        return plain

    def _matrix(self, matrix, mode: str) -> str:
        """A matrix: its entries one by one, put into the frame of its size."""
        entries = [self(entry) for entry in matrix]
        key = ("matrix", matrix.rows, matrix.cols)
        frame = self.forms.get(key, False)
        if frame is False:
            frame = self.forms[key] = self._frame(matrix.rows, matrix.cols)
        if frame is None:
            return self._print(matrix)
        return self._filled(key, frame, frame.fill([(e,) for e in entries]), matrix, mode)

    def _frame(self, rows: int, cols: int) -> Form | None:
        """The text of a rows x cols matrix around its entries, as a form whose holes are entries."""
        n = rows * cols
        marked = self._marked(sp.Matrix(rows, cols, list(range(2, n + 2))))
        if marked is None:
            return None
        text, marks = marked
        pieces, holes, last = [], [], 0
        for m in _MARK_RE.finditer(text):
            value = marks[int(m.group(1))]
            if not 2 <= value < n + 2:
                return None
            pieces.append(text[last:m.start()])
            holes.append((value - 2, 0))
            last = m.end()
        pieces.append(text[last:])
        return Form(pieces, holes) if sorted(h[0] for h in holes) == list(range(n)) else None


_caches: dict[tuple, ShapeCache] = {}


def _cache(kind: str, settings: dict) -> ShapeCache:
    key = (kind, tuple(sorted(settings.items())))
    if key not in _caches:
        plain, marking = (sp.latex, _MarkingLatex) if kind == "latex" else (sp.sstr, _MarkingStr)
        _caches[key] = ShapeCache(plain, marking, settings)
    return _caches[key]


def latex(expr, **settings) -> str:
    """``sympy.latex(expr, **settings)``, printed once per shape."""
    return _cache("latex", settings)(expr)


def sstr(expr, **settings) -> str:
    """``sympy.sstr(expr, **settings)``, printed once per shape."""
    return _cache("str", settings)(expr)


def cache_info() -> dict:
    """Calls, texts filled from a form, texts printed by sympy, and shapes, over all printers."""
    total = {"calls": 0, "filled": 0, "printed": 0, "unshaped": 0, "shapes": 0, "dropped": 0}
    for cache in _caches.values():
        for k, v in cache.stats.items():
            total[k] += v
        total["shapes"] += len(cache.forms)
        total["dropped"] += sum(f is None for f in cache.forms.values())
    return total


def clear_cache() -> None:
    _caches.clear()
