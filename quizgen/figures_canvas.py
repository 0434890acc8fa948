"""Figure specs drawn straight onto a matplotlib renderer (Agg for PNG, SVG, PDF).

matplotlib's artist layer (Figure, Axes, Axis, Text objects, their layout passes) costs
about ten times the drawing itself for these small plots. Here the layout is fixed
(margins, fonts, tick sizes: the look of matplotlib's defaults with ``figures._RC``),
ticks come from ``MaxNLocator`` as matplotlib's ``AutoLocator`` chooses them, and each
line, marker and label is one renderer call. Units: points (1/72 inch) with y upwards;
``Canvas`` scales to the renderer's pixels.

What the renderers would work out again for every figure is kept per process, bounded,
and written as matplotlib writes it (tests compare with matplotlib's own renderers): a
label's measure and PNG bitmap; in PDF its glyph layout and text object (``_PdfRenderer``)
and each embedded font (``_PdfFile``); in SVG the labels' CSS style; a marker's bounding
box. Forked workers start with a copy; ``clear_caches`` forgets it all.
"""

from __future__ import annotations

import functools
import io
import math
import struct
import zlib

import matplotlib
import numpy as np
from matplotlib import cbook, colormaps
from matplotlib.colors import to_rgba
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.backends.backend_pdf import PdfFile, RendererPdf
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.font_manager import FontProperties
from matplotlib.path import Path
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Affine2D, Bbox, IdentityTransform

try:        # matplotlib internals the replaying PDF/SVG renderers below are written against
    from matplotlib import _text_helpers
    from matplotlib.backends.backend_pdf import Op, Reference, _fill, pdfRepr
    from matplotlib.backends.backend_svg import _generate_transform
    from matplotlib.font_manager import FontPath
except ImportError:                                           # pragma: no cover (other matplotlib)
    _text_helpers = None
# Replay only on the matplotlib release the byte-for-byte tests ran against; any other
# draws with matplotlib's own renderers (the same figures, without the saving).
REPLAY = _text_helpers is not None and matplotlib.__version__.startswith("3.11.")

WIDTH, HEIGHT, RESIDUAL_HEIGHT = 360.0, 252.0, 79.2          # points (5 x 3.5 in, + 1.1 in)
LEFT, RIGHT, BOTTOM, TOP, GAP = 54.0, 10.8, 36.0, 21.6, 8.64  # margins (points)
CYCLE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
         "#7f7f7f", "#bcbd22", "#17becf"]
DASHES = {"solid": None, "dashed": [3.7, 1.6], "dotted": [1.0, 1.65], "dashdot": [6.4, 1.6, 1.0, 1.6]}
TICK, PAD, LABELPAD, TITLEPAD, MARGIN = 3.5, 3.5, 4.0, 6.0, 0.05
WHITE, BLACK, GRID = (1, 1, 1, 1), (0, 0, 0, 1), (0.690, 0.690, 0.690, 0.3)
_FONTS: dict[float, FontProperties] = {}
_IDENTITY = IdentityTransform()


def font(size: float) -> FontProperties:
    return _FONTS.get(size) or _FONTS.setdefault(size, FontProperties(size=size))


def _grey(level: float) -> tuple:
    return (level, level, level, 1.0)


class Canvas:
    """A renderer plus the scale from points to its pixels; drawing primitives in points."""

    def __init__(self, fmt: str, height: float, dpi: float, metadata: dict | None):
        self.fmt, self.height, self.buf = fmt, height, None
        if fmt == "png":
            self.scale = dpi / 72.0
            self.r = RendererAgg(int(round(WIDTH * self.scale)), int(round(height * self.scale)), dpi)
        elif fmt == "svg":
            self.scale, self.buf = 1.0, io.StringIO()
            svg = _SvgRenderer if REPLAY else RendererSVG
            self.r = svg(WIDTH, height, self.buf, image_dpi=72, metadata=metadata)
        else:
            self.scale, self.buf = 1.0, io.BytesIO()
            self.pdf = (_PdfFile if REPLAY else PdfFile)(self.buf, metadata=metadata)
            self.pdf.newPage(WIDTH / 72.0, height / 72.0)
            self.r = (_PdfRenderer if REPLAY else RendererPdf)(self.pdf, 72, height / 72.0, WIDTH / 72.0)

    @functools.cached_property
    def _ink(self):
        """The graphics context of every label: black, no clip (labels do not change it)."""
        return self.gc(BLACK)

    def finish(self) -> bytes:
        if self.fmt == "svg":
            self.r.finalize()
            return self.buf.getvalue().encode("utf-8")
        if self.fmt == "pdf":
            self.r.finalize()
            self.pdf.finalize()
            return self.buf.getvalue()
        return png(np.asarray(self.r.buffer_rgba())[:, :, :3], 72.0 * self.scale)

    def gc(self, color, width=1.0, dashes=None, clip: Bbox | None = None, cap="projecting"):
        gc = self.r.new_gc()
        color = to_rgba(color)
        gc.set_foreground(color, isRGBA=True)
        if color[3] < 1:
            gc.set_alpha(color[3])
        gc.set_linewidth(width)
        gc.set_antialiased(True)
        gc.set_joinstyle("round")
        gc.set_capstyle(cap if dashes is None else "butt")
        if dashes:
            gc.set_dashes(0, [d * width for d in dashes])
        if clip is not None:
            gc.set_clip_rectangle(Bbox(clip.get_points() * self.scale))
        return gc

    def path(self, xs, ys, gc, fill=None) -> None:
        """A polyline through points (in points); NaN breaks it."""
        xy = self._pixels(xs, ys)
        ok = np.isfinite(xy).all(axis=1)
        if not ok.any():
            return
        start = ok.copy()                        # a point after a gap starts a new line
        start[1:] &= ~ok[:-1]
        codes = np.where(start, np.uint8(Path.MOVETO), np.uint8(Path.LINETO))
        self.r.draw_path(gc, Path(xy[ok], codes[ok]), _IDENTITY, fill)

    def _pixels(self, xs, ys) -> np.ndarray:
        """Points (n x 2) in the renderer's pixels."""
        xy = np.empty((len(xs), 2))
        xy[:, 0], xy[:, 1] = xs, ys
        if self.scale != 1.0:
            xy *= self.scale
        return xy

    def markers(self, xs, ys, size: float, color, edge=None, clip=None, shape="o") -> None:
        xy = self._pixels(xs, ys)
        xy = xy[np.isfinite(xy).all(axis=1)]
        if not len(xy):
            return
        if shape == "o":
            marker, face = _CIRCLE, to_rgba(color)
            trans = Affine2D().scale(size / 2 * self.scale)
        else:                                    # "_": a horizontal bar (error bar cap)
            marker, face = _BAR, None
            trans = Affine2D().scale(size * self.scale)
        gc = self.gc(edge or color, 1.0, clip=clip, cap="butt")
        self.r.draw_markers(gc, marker, trans, Path(xy), _IDENTITY, face)

    def rect(self, box: Bbox, face, edge=None, width=0.8) -> None:
        (x0, y0), (x1, y1) = box.get_points()
        gc = self.gc(edge or face, width if edge else 0.0, cap="projecting")
        gc.set_joinstyle("miter")
        self.path([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], gc, face if face else None)

    def measure(self, s: str, size: float) -> tuple[float, float, float]:
        """(width, height, descent) of a label, in points."""
        return _measure(s, size, self.fmt == "png", 72.0 * self.scale)

    def text(self, s: str, x: float, y: float, size: float, ha="left", va="baseline",
             angle=0.0) -> None:
        """A label at (x, y) points, aligned by ``ha`` (left/center/right) and ``va``
        (baseline/top/center) along its own direction."""
        if not s:
            return
        w, h, d = self.measure(s, size)
        along = {"left": 0.0, "center": -w / 2, "right": -w}[ha]
        across = {"baseline": 0.0, "top": -(h - d), "center": -(h - d) / 2, "bottom": d}[va]
        if angle:                                # 90 degrees: text runs upwards
            x, y = x - across, y + along
        else:
            x, y = x + along, y + across
        if self.fmt == "png" and len(s) <= _SHORT:        # ticks, legend: they repeat
            self._stamp(s, size, angle, x * self.scale, y * self.scale)
            return
        math_ = cbook.is_math_text(s)
        y = y * self.scale
        if self.r.flipy():                       # text positions count from the top there
            y = self.height * self.scale - y
        self.r.draw_text(self._ink, x * self.scale, y, s if math_ else _plain(s),
                         font(size), angle, ismath=math_)

    def _stamp(self, s: str, size: float, angle: float, x: float, y: float) -> None:
        """Agg: the label's bitmap, rendered once per process, placed at whole pixels."""
        image, dx, dy = _bitmap(s, size, angle, 72.0 * self.scale)
        self.r.draw_image(self._ink, int(round(x)) + dx, int(round(y)) + dy, image)


class _Marker(Path):
    """A marker's shape whose bounding box under a transform is worked out once: the PDF
    backend asks for it in every document, and Bezier extrema of a circle are not cheap."""

    def get_extents(self, transform=None, **kwargs):
        key = (None if transform is None else transform.get_matrix().tobytes(), *sorted(kwargs.items()))
        known = vars(self).setdefault("_extents", {})
        box = known.get(key)
        if box is None:
            if len(known) >= 64:                 # bounded: a few sizes at a few scales
                known.clear()
            box = known[key] = super().get_extents(transform, **kwargs).get_points().copy()
        return Bbox(box.copy())


_CIRCLE = _Marker(Path.unit_circle().vertices, Path.unit_circle().codes, readonly=True)
_BAR = _Marker([[-0.5, 0], [0.5, 0]], readonly=True)


def png(rgb: np.ndarray, dpi: float) -> bytes:
    """An RGB PNG: rows unfiltered, deflated with the run-length strategy. Pillow's adaptive
    row filters take 2.5 times as long for files only 15 % smaller."""
    height, width, _ = rgb.shape
    rows = np.zeros((height, 3 * width + 1), np.uint8)           # filter byte 0: none
    for channel in range(3):                     # one channel at a time: 3x a whole-pixel copy
        rows[:, 1 + channel::3] = rgb[:, :, channel]
    deflate = zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    data = deflate.compress(rows.tobytes()) + deflate.flush()
    per_metre = int(round(dpi / 0.0254))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1))
            + chunk(b"IDAT", data) + chunk(b"IEND", b""))


@functools.lru_cache(maxsize=4096)
def _measure(s: str, size: float, raster: bool, dpi: float) -> tuple[float, float, float]:
    """(width, height, descent) in points; a pure function of its arguments, so cached."""
    math_ = cbook.is_math_text(s)
    r = _probe(dpi) if raster else _probe(72.0)
    w, h, d = r.get_text_width_height_descent(s if math_ else _plain(s), font(size), ismath=math_)
    scale = r.dpi / 72.0
    return w / scale, h / scale, d / scale


@functools.lru_cache(maxsize=8)
def _probe(dpi: float) -> RendererAgg:
    return RendererAgg(1, 1, dpi)


_STAMP_PAD = 4


_SHORT = 16        # PNG labels up to this length (ticks, legend entries) keep their bitmap;
                   # longer ones (titles, point labels) are drawn in place


@functools.lru_cache(maxsize=1024)
def _bitmap(s: str, size: float, angle: float, dpi: float) -> tuple[np.ndarray, int, int]:
    """(RGBA image, x and y offset in pixels) of a black label drawn with its baseline start
    at a whole pixel: the same pixels wherever it is placed, so it can be drawn once."""
    w, h, d = (v * dpi / 72.0 for v in _measure(s, size, True, dpi))
    across, along = int(math.ceil(h)) + 2 * _STAMP_PAD, int(math.ceil(w)) + 2 * _STAMP_PAD
    width, height = (across, along) if angle else (along, across)
    r = RendererAgg(width, height, dpi)
    ox, oy = (_STAMP_PAD + int(math.ceil(h - d)), _STAMP_PAD) if angle else \
        (_STAMP_PAD, _STAMP_PAD + int(math.ceil(d)))
    gc = r.new_gc()
    gc.set_foreground(BLACK, isRGBA=True)
    gc.set_antialiased(True)
    math_ = cbook.is_math_text(s)
    r.draw_text(gc, ox, height - oy, s if math_ else _plain(s), font(size), angle, ismath=math_)
    image = np.asarray(r.buffer_rgba())[::-1].copy()      # draw_image counts rows from the bottom
    gc.restore()
    return image, -ox, -oy


def _plain(s: str) -> str:
    return s.replace(r"\$", "$")


# --- SVG text ---------------------------------------------------------------------------

_SVG_STYLES: dict[tuple, str] = {}         # a few keys: the sizes and colours of labels


class _SvgRenderer(RendererSVG):
    """``RendererSVG`` whose plain labels reuse their CSS style (font family list, size,
    colour), which matplotlib works out afresh for every label; the ``<text>`` element is
    written as it writes it."""

    def _draw_text_as_text(self, gc, x, y, s, prop, angle, ismath, mtext=None):
        if ismath or mtext is not None:
            return super()._draw_text_as_text(gc, x, y, s, prop, angle, ismath, mtext)
        key = (prop.get_size(), tuple(gc.get_rgb()), gc.get_alpha(), gc.get_forced_alpha())
        style = _SVG_STYLES.get(key) or self._style(key, gc, prop)
        transform = _generate_transform([("translate", (x, y)), ("rotate", (-angle,))])
        self.writer.element("text", s, attrib={"style": style, "transform": transform})

    def _style(self, key: tuple, gc, prop) -> str:
        """The style matplotlib gives a label in ``prop`` drawn with ``gc`` (labels are
        always in ``font(size)``, so keyed by the size and the colour)."""
        writer, self.writer = self.writer, _Attributes()
        try:
            super()._draw_text_as_text(gc, 0.0, 0.0, "x", prop, 0.0, False)
        finally:
            drawn, self.writer = self.writer, writer
        _SVG_STYLES[key] = drawn.attrib["style"]
        return drawn.attrib["style"]


class _Attributes:
    """Stands in for the SVG writer: keeps the attributes of the element written."""

    def element(self, tag, text=None, attrib=None, **extra):
        self.attrib = {**(attrib or {}), **extra}


# --- PDF text ---------------------------------------------------------------------------

_PDF_BODIES: dict[tuple, bytes] = {}
_PDF_LABELS_MAX = 8192          # label layouts and text objects kept (about 150 bytes each)


class _PdfRenderer(RendererPdf):
    """``RendererPdf`` whose plain labels reuse their glyph layout and content-stream
    operators: a label's text object (``BT`` ... ``ET``) is a function of the string, the
    size and what the document assigned to its glyphs (subset, character code, font name),
    so it is written by matplotlib once and replayed where the same string meets the same
    assignments. Its glyphs are still recorded in the document (fonts embed the same)."""

    def __init__(self, *args):
        super().__init__(*args)
        self._glyphs: dict[tuple, tuple] = {}

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        params = matplotlib.rcParams
        if ismath or mtext is not None or gc.get_url() is not None or params["pdf.use14corefonts"]:
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        size = prop.get_size_in_points()
        key = (s, size, params["pdf.fonttype"], *self._assign(_pdf_glyphs(self, s, prop)))
        body = _PDF_BODIES.get(key)
        if body is None:
            calls = self._recorded(super().draw_text, gc, x, y, s, prop, angle)
            start = next(i for i, call in enumerate(calls) if call[-1] == Op.concat_matrix) + 1
            _keep(_PDF_BODIES, key, b"".join(_fill([pdfRepr(v) for v in call]) + b"\n"
                                             for call in calls[start:]), _PDF_LABELS_MAX)
            return
        self.check_gc(gc, gc._rgb)
        a = math.radians(angle)
        self.file.output(Op.gsave)
        self.file.output(math.cos(a), math.sin(a), -math.sin(a), math.cos(a), x, y, Op.concat_matrix)
        self.file.write(body)

    def _assign(self, glyphs) -> tuple[tuple, tuple]:
        """Record ``glyphs`` in the document as ``RendererPdf.draw_text`` does: their
        (subset, character code) and the font name of each run of one font and subset."""
        codes, names, run = [], [], None
        for item in glyphs:
            subset, code, name = self._glyphs.get(item) or self._track(*item)
            codes.append((subset, code))
            if (item[0], subset) != run:
                run = (item[0], subset)
                names.append(name)
        return tuple(codes), tuple(names)

    def _track(self, ft, char, glyph) -> tuple:
        """A glyph's (subset, code, font name), assigned by the document on first use;
        tracking it again or naming its font again changes nothing, so kept per document."""
        subset, code = self.file._character_tracker.track_glyph(ft, char, glyph)
        done = self._glyphs[ft, char, glyph] = (
            subset, code, self.file.fontName(FontPath(ft.fname, ft.face_index), subset))
        return done

    def _recorded(self, draw, *args) -> list[tuple]:
        """The ``PdfFile.output`` calls of ``draw(*args)``, made as usual and recorded."""
        calls, output = [], self.file.output

        def record(*data):
            calls.append(data)
            output(*data)
        self.file.output = record
        try:
            draw(*args)
        finally:
            del self.file.output
        return calls


def _keep(cache: dict, key, value, limit: int):
    """``cache[key] = value``, the oldest entry dropped first past ``limit`` entries."""
    if len(cache) >= limit:
        del cache[next(iter(cache))]
    cache[key] = value
    return value


_PDF_FONTS: dict[tuple, tuple] = {}
_PDF_FONTS_MAX = 512            # embedded fonts kept (a few kB each)


class _PdfFile(PdfFile):
    """``PdfFile`` whose embedded fonts are replayed: a font's objects are a function of
    the font file, the subset, its glyphs (with their Unicode) and the number of its first
    object, so matplotlib writes each such font once and later documents copy its bytes
    and record where its objects start. Written to memory (``Canvas`` gives a BytesIO)."""

    def embedTTF(self, filename, subset_index, charmap):
        codes = sorted(charmap)
        text = tuple(self._character_tracker.subset_to_unicode(filename, subset_index, c) for c in codes)
        key = (filename, subset_index, tuple((c, charmap[c]) for c in codes), text,
               len(self.xrefTable), matplotlib.rcParams["pdf.fonttype"])
        done = _PDF_FONTS.get(key)
        if done is None:
            first, start = len(self.xrefTable), self.fh.tell()
            ref = super().embedTTF(filename, subset_index, charmap)
            base = start - self.tell_base
            _keep(_PDF_FONTS, key, (self.fh.getvalue()[start:], ref.id, tuple(
                (name, None if at is None else at - base) for at, _, name in self.xrefTable[first:])),
                _PDF_FONTS_MAX)
            return ref
        data, ref_id, objects = done
        base = self.fh.tell() - self.tell_base
        for name, at in objects:
            self.xrefTable[self.reserveObject(name).id][0] = None if at is None else base + at
        self.fh.write(data)
        return Reference(ref_id)


_PDF_GLYPHS: dict[tuple[str, float], tuple] = {}


def _pdf_glyphs(r: RendererPdf, s: str, prop: FontProperties) -> tuple:
    """(font, character, glyph index) of each glyph of plain label ``s`` as the PDF
    renderer lays it out; labels are always in ``font(size)``, so keyed by the size."""
    key = (s, prop.get_size_in_points())
    glyphs = _PDF_GLYPHS.get(key)
    if glyphs is None:
        glyphs = _keep(_PDF_GLYPHS, key, tuple((item.ft_object, item.char, item.glyph_index)
                                               for item in _text_helpers.layout(s, r._get_font_ttf(prop))),
                       _PDF_LABELS_MAX)
    return glyphs


def clear_caches() -> None:
    """Forget every label measure, bitmap, layout, text object, font and style kept so far
    (for benchmarks and tests: what is drawn does not depend on them)."""
    for cache in (_PDF_BODIES, _PDF_GLYPHS, _PDF_FONTS, _SVG_STYLES):
        cache.clear()
    for marker in (_CIRCLE, _BAR):
        vars(marker).pop("_extents", None)
    for cached in (_measure, _bitmap, _ticks, _tick_labels):
        cached.cache_clear()


# --- axes ---------------------------------------------------------------------------------

class Axes:
    """A data rectangle: limits, ticks and the mapping to points."""

    def __init__(self, box: Bbox, xlim, ylim, xticks, yticks):
        self.box, self.xlim, self.ylim = box, xlim, ylim
        self.xticks, self.yticks = xticks, yticks

    def x(self, v):
        (lo, hi), (x0, x1) = self.xlim, self.box.intervalx
        return x0 + (np.asarray(v, float) - lo) * (x1 - x0) / (hi - lo)

    def y(self, v):
        (lo, hi), (y0, y1) = self.ylim, self.box.intervaly
        return y0 + (np.asarray(v, float) - lo) * (y1 - y0) / (hi - lo)


def limits(values, margin=MARGIN) -> tuple[float, float]:
    """matplotlib's autoscaling: the data range widened by ``margin`` on each side."""
    v = np.asarray([x for x in values if x is not None], float)
    v = v[np.isfinite(v)]
    if not v.size:
        return -0.055, 0.055
    lo, hi = float(v.min()), float(v.max())
    if hi - lo < 1e-12 * max(1.0, abs(hi)):
        pad = max(abs(lo) * 0.05, 0.05)          # matplotlib's nonsingular expansion
        return lo - pad - margin * 2 * pad, hi + pad + margin * 2 * pad
    span = hi - lo
    return lo - margin * span, hi + margin * span


def ticks(lo: float, hi: float, length: float, per_tick: float) -> list[float]:
    """Tick positions as ``AutoLocator`` picks them for an axis ``length`` points long."""
    return list(_ticks(lo, hi, length, per_tick))


@functools.lru_cache(maxsize=1024)                # a question figure and its solution share axes
def _ticks(lo: float, hi: float, length: float, per_tick: float) -> tuple[float, ...]:
    nbins = max(min(int(length // per_tick), 9), 1)
    values = MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    eps = 1e-10 * (hi - lo)
    return tuple(float(t) for t in values if lo - eps <= t <= hi + eps)


def tick_labels(values: list[float]) -> list[str]:
    """Tick labels with just enough decimals, a Unicode minus, no "-0"."""
    return list(_tick_labels(tuple(values)))


@functools.lru_cache(maxsize=1024)
def _tick_labels(values: tuple[float, ...]) -> tuple[str, ...]:
    scale = max((abs(v) for v in values), default=1.0) or 1.0
    for digits in range(0, 10):
        if all(abs(round(v, digits) - v) <= 1e-9 * scale for v in values):
            break
    out = []
    for v in values:
        text = f"{v:.{digits}f}"
        if float(text) == 0:
            text = text.lstrip("-")
        out.append(text.replace("-", "\N{MINUS SIGN}"))
    return tuple(out)


def _segments(pairs) -> tuple[list[float], list[float]]:
    """Several two-point lines as one NaN-separated polyline (one path for the renderer)."""
    xs: list[float] = []
    ys: list[float] = []
    for (xa, xb), (ya, yb) in pairs:
        xs += [xa, xb, math.nan]
        ys += [ya, yb, math.nan]
    return xs, ys


def draw_frame(c: Canvas, ax: Axes, grid: bool, xlabels: bool, decorations: bool = True) -> None:
    """Grid lines, or spines, ticks and tick labels of ``ax``."""
    (x0, y0), (x1, y1) = ax.box.get_points()
    xt, yt = [float(v) for v in ax.x(ax.xticks)], [float(v) for v in ax.y(ax.yticks)]
    if grid:
        c.path(*_segments([((x, x), (y0, y1)) for x in xt] + [((x0, x1), (y, y)) for y in yt]),
               c.gc(GRID, 0.8, cap="projecting"))
    if not decorations:
        return
    c.path(*_segments([((x, x), (y0, y0 - TICK)) for x in xt] +
                      [((x0, x0 - TICK), (y, y)) for y in yt]), c.gc(BLACK, 0.8, cap="butt"))
    if xlabels:
        for x, label in zip(xt, tick_labels(ax.xticks)):
            c.text(label, x, y0 - TICK - PAD, 9, ha="center", va="top")
    for y, label in zip(yt, tick_labels(ax.yticks)):
        c.text(label, x0 - TICK - PAD, y, 9, ha="right", va="center")
    spine = c.gc(BLACK, 0.8, cap="projecting")
    spine.set_joinstyle("miter")
    c.path([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], spine)


def ytick_width(c: Canvas, ax: Axes) -> float:
    return max((c.measure(s, 9)[0] for s in tick_labels(ax.yticks)), default=0.0)
