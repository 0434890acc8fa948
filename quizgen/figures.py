"""Question figures: a figure spec (docs/question-format.md) drawn as SVG, PDF or PNG.

Speed: matplotlib's artist layer (Figure, Axes, Text objects and their layout passes)
costs about ten times the drawing itself for these small plots, so the layout is fixed
(the look of matplotlib's defaults with ``_RC``) and each line, marker and label is one
call on matplotlib's renderer (:mod:`quizgen.figures_canvas`: Agg for PNG, SVG, PDF).
Labels whose maths is simple (letters, digits, signs, subscripts) are set as plain
Unicode text, other maths as mathtext; what does not depend on the data (a label's
measure, PNG bitmap, PDF text object, the embedded fonts) is made once per process.
PNGs are 150 dpi; SVG text is ``<text>`` in DejaVu Sans / sans-serif.

A spec's ``frame`` (when present) fixes the data range of the axes: a question figure and
its solution figure share it, so the solution's layers are clipped to what the question
showed. Output is byte-deterministic and depends on the spec only, never on what was drawn
before: fixed SVG hash salt, no dates or software versions in the file metadata.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import zlib

import contourpy
import matplotlib
import numpy as np
from matplotlib import colormaps
from matplotlib.mathtext import MathTextParser
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Bbox

from . import figures_canvas as fc
from .figure_spec import extent
from .spill import DiskStore

FORMATS = ("svg", "pdf", "png")
PNG_DPI = 150            # 750 px wide: sharp in Moodle's question text, also on HiDPI screens
_RC = {
    "svg.hashsalt": "quizgen",
    "svg.fonttype": "none",       # <text>: half the drawing time of glyph paths, smaller files
    "font.size": 9,
}
_METADATA = {
    "svg": {"Date": None, "Creator": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
}
_MATHTEXT = MathTextParser("path")


# Figures drawn once and shared by the exporters that embed them: the file's bytes,
# zlib-compressed (SVG shrinks about tenfold), kept on disk (a build of any size) until
# ``draw`` has handed them out as many times as ``prerender`` counted uses.
_DRAWN = DiskStore()
_USES: dict[tuple[str, str], int] = {}


def _key(spec: dict, fmt: str) -> tuple[str, str]:
    return fmt, _digest(spec)


def _digest(spec: dict) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def prerender(specs: list[dict], formats: list[str], jobs: int, uses: dict[str, int] | None = None) -> None:
    """Count the uses of each figure (``uses[fmt]`` exporters draw each spec in ``fmt``, default
    one) and, with ``jobs`` > 1, draw them ahead in ``jobs`` processes. ``draw`` then hands
    each one out that many times, drawing it at most once."""
    todo = {}
    for spec in specs:
        digest = _digest(spec)
        for fmt in formats:
            key = (fmt, digest)
            if key not in todo:
                todo[key] = (spec, fmt)
                _USES[key] = _USES.get(key, 0) + (uses or {}).get(fmt, 1)
    if jobs <= 1 or len(todo) < 2:
        return
    from .workers import parallel_map          # workers end at once on Ctrl-C
    keys = list(todo)
    for key, data in zip(keys, parallel_map(_draw_item, [todo[k] for k in keys], jobs, chunksize=8)):
        _DRAWN[key] = zlib.compress(data, 1)


def _draw_item(item: tuple[dict, str]) -> bytes:
    return _render(*item)


def draw(spec: dict, fmt: str) -> bytes:
    """Draw the figure ``spec`` and return the file's bytes in ``fmt`` (svg, pdf or png)."""
    if not _USES and not _DRAWN:                  # nothing kept or counted: no key needed
        return _render(spec, fmt)
    key = _key(spec, fmt)
    ready = _DRAWN.get(key)
    data = zlib.decompress(ready) if ready is not None else _render(spec, fmt)
    left = _USES.pop(key, 0) - 1
    if left > 0:
        _USES[key] = left
        if ready is None:
            _DRAWN[key] = zlib.compress(data, 1)
    else:
        _DRAWN.pop(key, None)
    return data


def forget() -> None:
    """Drop every figure kept for later uses (the end of a build)."""
    _DRAWN.clear()
    _USES.clear()


def _render(spec: dict, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise ValueError(f"unknown figure format {fmt!r}; use one of {', '.join(FORMATS)}")
    res = spec.get("residuals")
    height = fc.HEIGHT + (fc.RESIDUAL_HEIGHT if res else 0.0)
    with _settings():
        c = fc.Canvas(fmt, height, PNG_DPI, _METADATA.get(fmt))
        _compose(c, spec, height)
        return c.finish()


@contextlib.contextmanager
def _settings():
    """``_RC`` in force while drawing, the previous values back after: ``rc_context`` but
    for three keys only (it copies and restores every rcParam, 0.7 ms a figure)."""
    params = matplotlib.rcParams
    before = {key: params[key] for key in _RC}
    try:
        params.update(_RC)
        yield
    finally:
        params.update(before)


def _boxes(height: float, residuals: bool) -> list[Bbox]:
    """The main axes box, and the residuals box below it (points), as matplotlib lays them."""
    x0, x1, top = fc.LEFT, fc.WIDTH - fc.RIGHT, height - fc.TOP
    total = top - fc.BOTTOM
    if not residuals:
        return [Bbox([[x0, fc.BOTTOM], [x1, top]])]
    hspace = fc.GAP / (total / 2)
    cell = total / (2 + hspace)
    main_h, res_h = 2 * cell * 3 / 4, 2 * cell / 4
    return [Bbox([[x0, top - main_h], [x1, top]]), Bbox([[x0, fc.BOTTOM], [x1, fc.BOTTOM + res_h]])]


def _axes(box: Bbox, xlim, ylim):
    return fc.Axes(box, xlim, ylim, fc.ticks(*xlim, box.width, 27.0), fc.ticks(*ylim, box.height, 18.0))


def _compose(c, spec: dict, height: float) -> None:
    """Background, axes frames, every layer, labels and legend."""
    res = spec.get("residuals")
    boxes = _boxes(height, bool(res))
    shown = spec.get("frame")                      # the question figure's range: same axes for both
    xs, ys = (shown["x"], shown["y"]) if shown else extent(spec)
    contour = spec.get("contour")
    if contour:                                   # contours fill the plot: no margins
        xlim, ylim = (min(contour["x"]), max(contour["x"])), (min(contour["y"]), max(contour["y"]))
    else:
        xlim, ylim = fc.limits(xs + (list(res["x"]) if res and not shown else [])), fc.limits(ys)
    ax = _axes(boxes[0], xlim, ylim)
    if c.fmt == "svg":
        c.r.open_group("figure")
    c.rect(Bbox([[0, 0], [fc.WIDTH, height]]), fc.WHITE)
    _panel(c, ax, lambda: _layers(c, ax, spec, xs, ys), grid=not contour,
           xlabels=not res, ylabel=_text(spec.get("ylabel")))
    bottom = ax
    if res:
        bottom = _axes(boxes[1], xlim, fc.limits([*res["r"], 0.0]))
        _panel(c, bottom, lambda: _residuals(c, bottom, res), grid=True, xlabels=True,
               ylabel="residual")
    c.text(_text(spec.get("title")), ax.box.x0 + ax.box.width / 2, ax.box.y1 + fc.TITLEPAD, 10,
           ha="center")
    label = _text(spec.get("xlabel"))
    if label:
        tick_h = c.measure("0", 9)[1]
        c.text(label, bottom.box.x0 + bottom.box.width / 2,
               bottom.box.y0 - fc.TICK - fc.PAD - tick_h - fc.LABELPAD, 9, ha="center", va="top")
    if c.fmt == "svg":
        c.r.close_group("figure")


def _panel(c, ax, layers, grid: bool, xlabels: bool, ylabel: str | None) -> None:
    """One axes: white face, grid, its layers, then spines, ticks and labels."""
    if c.fmt == "svg":
        c.r.open_group("axes")
    c.rect(ax.box, fc.WHITE)
    if grid:
        fc.draw_frame(c, ax, grid=True, xlabels=False, decorations=False)
    layers()
    fc.draw_frame(c, ax, grid=False, xlabels=xlabels)
    if ylabel:
        x = ax.box.x0 - fc.TICK - fc.PAD - fc.ytick_width(c, ax) - fc.LABELPAD
        c.text(ylabel, x, ax.box.y0 + ax.box.height / 2, 9, ha="center", va="bottom", angle=90)
    if c.fmt == "svg":
        c.r.close_group("axes")


def _layers(c, ax, spec: dict, xs, ys) -> None:
    """Every layer of the spec, bottom to top, then the point labels and the legend."""
    clip = ax.box
    entries = []                                  # (label, colour, kind, dashes)
    contour = spec.get("contour")
    if contour:
        _contour(c, ax, contour)
    for i, curve in enumerate(spec.get("curves") or []):
        color = fc.CYCLE[i % len(fc.CYCLE)]
        dashes = fc.DASHES[_style(curve.get("style"), "solid")]
        c.path(ax.x([_nan(x) for x in curve["x"]]), ax.y([_nan(y) for y in curve["y"]]),
               c.gc(color, 1.5, dashes, clip))
        entries.append((curve.get("label"), color, "line", dashes))
    for seg in spec.get("segments") or []:
        dashes = fc.DASHES[_style(seg.get("style"), "dotted")]
        c.path(ax.x(seg["x"]), ax.y(seg["y"]), c.gc(fc._grey(0.45), 1.0, dashes, clip))
    e = spec.get("errorbars")
    if e:
        _errorbars(c, ax, e)
    p = spec.get("path")
    if p:
        c.path(ax.x(p["x"]), ax.y(p["y"]), c.gc(fc.CYCLE[3], 1.5, None, clip))
        c.markers(ax.x(p["x"]), ax.y(p["y"]), 4, fc.CYCLE[3], clip=clip)
        entries.append((p.get("label"), fc.CYCLE[3], "path", None))
    if e:
        entries.append((e.get("label"), fc._grey(0.15), "errorbar", None))
    points = spec.get("points") or []
    if points:
        c.markers(ax.x([pt["x"] for pt in points]), ax.y([pt["y"] for pt in points]), 5, fc.BLACK,
                  clip=clip)
    span = (max(xs) - min(xs), max(ys) - min(ys)) if xs and ys else (0.0, 0.0)
    for (x, y), labels in _label_groups(points, *span):
        c.text(_text(", ".join(labels)), float(ax.x(x)) + 6, float(ax.y(y)) - 12, 9)
    entries = [(_text(label), *rest) for label, *rest in entries if label]
    if entries:
        _legend(c, ax, entries, spec)


def _contour(c, ax, con: dict) -> None:
    z = np.asarray(con["z"], float)
    n = con.get("levels") or 10
    levels = MaxNLocator(n + 1).tick_values(np.nanmin(z), np.nanmax(z))
    levels = levels[(levels > np.nanmin(z)) & (levels < np.nanmax(z))]
    if not len(levels):
        return
    gen = contourpy.contour_generator(np.asarray(con["x"], float), np.asarray(con["y"], float), z,
                                      line_type="Separate")
    cmap = colormaps["viridis"]
    lo, hi = levels[0], levels[-1]
    for level in levels:
        color = cmap(0.5 if hi == lo else (level - lo) / (hi - lo))
        gc = c.gc(color, 0.8, None, ax.box)
        for line in gen.lines(level):
            c.path(ax.x(line[:, 0]), ax.y(line[:, 1]), gc)


def _errorbars(c, ax, e: dict) -> None:
    color, sigma = fc._grey(0.15), e.get("sigma")
    gc = c.gc(color, 1.5, None, ax.box)
    if sigma:
        for x, y, s in zip(e["x"], e["y"], sigma):
            c.path(ax.x([x, x]), ax.y([y - s, y + s]), gc)
        caps_x = [x for x in e["x"] for _ in (0, 1)]
        caps_y = [v for y, s in zip(e["y"], sigma) for v in (y - s, y + s)]
        c.markers(ax.x(caps_x), ax.y(caps_y), 6, color, clip=ax.box, shape="_")
    c.markers(ax.x(e["x"]), ax.y(e["y"]), 4, color, clip=ax.box)


def _residuals(c, ax, res: dict) -> None:
    color = fc._grey(0.15)
    c.path([ax.box.x0, ax.box.x1], [float(ax.y(0.0))] * 2, c.gc(fc._grey(0.5), 0.8, None, ax.box))
    gc = c.gc(color, 1.0, None, ax.box, cap="butt")
    for x, r in zip(res["x"], res["r"]):
        c.path(ax.x([x, x]), ax.y([0.0, r]), gc)
    c.markers(ax.x(res["x"]), ax.y(res["r"]), 4, color, clip=ax.box)


_LEGEND_PLACES = [(1, 1), (0, 1), (0, 0), (1, 0), (1, 0.5), (0, 0.5), (1, 0.5), (0.5, 0),
                  (0.5, 1), (0.5, 0.5)]             # matplotlib's "best" candidates, in its order


def _legend(c, ax, entries, spec: dict) -> None:
    """A framed legend in the place ("best") covering the fewest data points."""
    em, size = 8.0, 8
    heights = [c.measure(label, size)[1:] for label, *_ in entries]
    row = max(h for h, _ in heights)
    width = 2 * 0.4 * em + 2.0 * em + 0.8 * em + max(c.measure(l, size)[0] for l, *_ in entries)
    height = 2 * 0.4 * em + len(entries) * row + (len(entries) - 1) * 0.5 * em
    pad = 0.5 * em
    vx = np.concatenate([ax.x([_nan(x) for x in line["x"]]) for line in _lines(spec)] or [[]])
    vy = np.concatenate([ax.y([_nan(y) for y in line["y"]]) for line in _lines(spec)] or [[]])

    def box(fx, fy):
        x0 = ax.box.x0 + pad + fx * (ax.box.width - 2 * pad - width)
        y0 = ax.box.y0 + pad + fy * (ax.box.height - 2 * pad - height)
        return Bbox([[x0, y0], [x0 + width, y0 + height]])

    def covered(b):
        return int(np.sum((vx >= b.x0) & (vx <= b.x1) & (vy >= b.y0) & (vy <= b.y1)))
    frame = min((box(*place) for place in _LEGEND_PLACES), key=covered)
    c.rect(frame, (1, 1, 1, 0.9), edge=fc._grey(0.8), width=1.0)
    y = frame.y1 - 0.4 * em
    for (label, color, kind, dashes), (h, d) in zip(entries, heights):
        mid, x = y - row / 2, frame.x0 + 0.4 * em
        if kind in ("line", "path"):
            c.path([x, x + 2 * em], [mid, mid], c.gc(color, 1.5, dashes))
        if kind in ("path", "errorbar"):
            c.markers([x + em], [mid], 4, color)
        if kind == "errorbar":
            c.path([x + em, x + em], [mid - 0.35 * em, mid + 0.35 * em], c.gc(color, 1.5))
        c.text(label, x + 2.8 * em, mid, size, va="center")
        y -= row + 0.5 * em


def _lines(spec: dict) -> list[dict]:
    lines = [*(spec.get("curves") or []), *(spec.get("segments") or [])]
    if spec.get("path"):
        lines.append(spec["path"])
    if spec.get("errorbars"):
        lines.append(spec["errorbars"])
    lines += [{"x": [p["x"]], "y": [p["y"]]} for p in spec.get("points") or []]
    return lines


def _nan(v):
    return float("nan") if v is None else v


def _style(style: str | None, default: str) -> str:
    return style if style in fc.DASHES else default


def _label_groups(points: list[dict], width: float, height: float):
    """Labelled points, those (nearly) on top of each other sharing one label: "$x_2$, $x_3$"."""
    near_x, near_y = 0.03 * width, 0.04 * height
    groups: list[tuple[tuple[float, float], list[str]]] = []
    for pt in points:
        if not pt.get("label"):
            continue
        for (x, y), labels in groups:
            if abs(pt["x"] - x) <= near_x and abs(pt["y"] - y) <= near_y:
                labels.append(pt["label"])
                break
        else:
            groups.append(((pt["x"], pt["y"]), [pt["label"]]))
    return groups


# --- text -----------------------------------------------------------------------------------

_SUB = dict(zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))
_SUP = dict(zip("0123456789+-=()in", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿ"))
_GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η",
          "theta": "θ", "lambda": "λ", "mu": "μ", "pi": "π", "sigma": "σ", "tau": "τ",
          "phi": "φ", "omega": "ω", "chi": "χ", "Delta": "Δ", "cdot": "·", "approx": "≈"}
_PLAIN_MATH = re.compile(r"[A-Za-z0-9 .,;:()\[\]=+\-<>|']*")
_SCRIPT = re.compile(r"([_^])(?:\{([^{}]*)\}|(\w))")
_COMMAND = re.compile(r"\\([A-Za-z]+)\s?")


def _plain(math: str) -> str | None:
    """Simple maths (no fractions, roots, ...) as Unicode text, or None when it needs TeX."""
    def script(m):
        table = _SUB if m.group(1) == "_" else _SUP
        body = m.group(2) if m.group(2) is not None else m.group(3)
        if not all(ch in table for ch in body):
            raise KeyError(body)
        return "".join(table[ch] for ch in body)
    try:
        text = _COMMAND.sub(lambda m: _GREEK[m.group(1)], math)
        text = _SCRIPT.sub(script, text)
    except KeyError:
        return None
    rest = "".join(ch for ch in text if ch not in _SUB.values() and ch not in _SUP.values()
                   and ch not in _GREEK.values())
    return text.replace("-", "\N{MINUS SIGN}") if _PLAIN_MATH.fullmatch(rest) else None


def _text(s: str | None) -> str | None:
    """``s`` for matplotlib: simple maths as plain text, other maths as mathtext; maths
    mathtext cannot parse is shown literally, not an error."""
    if not s or "$" not in s:
        return s
    pieces = s.split("$")
    if len(pieces) % 2 and "\\$" not in s:
        plain = [p if i % 2 == 0 else _plain(p) for i, p in enumerate(pieces)]
        if None not in plain:
            return "".join(plain)
    try:
        _MATHTEXT.parse(s)
    except ValueError:
        return s.replace("$", r"\$")
    return s
