"""Question figures: a figure spec (docs/question-format.md) drawn as SVG, PDF or PNG.

Uses ``matplotlib.figure.Figure`` directly (no pyplot state). Speed: each figure layout
(plain, or with a residuals panel) is a :class:`Frame` made once per process, its figure,
axes, grid and fonts kept; a draw removes the previous variant's artists, adds this
spec's data and text, and saves. Labels whose maths is simple (letters, digits, signs,
subscripts) are set as plain Unicode text, so no mathtext is parsed per variant. PNGs
are encoded by Pillow at compression level 1, as RGB, at :data:`PNG_DPI`.

Output is byte-deterministic and depends on the spec only, never on what was drawn
before (tested against a fresh frame): fixed SVG hash salt, no dates or software
versions in the file metadata.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from concurrent.futures import ProcessPoolExecutor

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.mathtext import MathTextParser
from matplotlib.transforms import Bbox

FORMATS = ("svg", "pdf", "png")

_WIDTH, _HEIGHT, _RESIDUAL_HEIGHT = 5.0, 3.5, 1.1   # inches
# fixed margins (inches): left, right, bottom, top, gap between panels. Constrained layout
# would compute them per figure but doubles the drawing time.
_LEFT, _RIGHT, _BOTTOM, _TOP, _GAP = 0.75, 0.15, 0.5, 0.3, 0.12
_DPI = 150
PNG_DPI = 150            # 750 px wide: sharp in Moodle's question text, also on HiDPI screens
PNG_COMPRESSION = 1      # zlib level: 1 is several times faster than 6, files ~20 % larger
_LINESTYLES = {"solid": "-", "dashed": "--", "dotted": ":", "dashdot": "-."}
_RC = {
    "svg.hashsalt": "quizgen",
    "svg.fonttype": "path",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.fontsize": 8,
    "legend.framealpha": 0.9,
    "lines.linewidth": 1.5,
}
_METADATA = {
    "svg": {"Date": None, "Creator": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
}
_MATHTEXT = MathTextParser("path")


_DRAWN: dict[tuple[str, str], bytes] = {}     # figures drawn ahead by ``prerender``, used once


def _key(spec: dict, fmt: str) -> tuple[str, str]:
    return fmt, hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def prerender(specs: list[dict], formats: list[str], jobs: int) -> None:
    """Draw figures ahead in ``jobs`` processes; ``draw`` then hands each one out once."""
    todo = {}
    for spec in specs:
        for fmt in formats:
            todo.setdefault(_key(spec, fmt), (spec, fmt))
    if jobs <= 1 or len(todo) < 2:
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        keys = list(todo)
        for key, data in zip(keys, pool.map(_draw_item, [todo[k] for k in keys], chunksize=8)):
            _DRAWN[key] = data


def _draw_item(item: tuple[dict, str]) -> bytes:
    return _render(*item)


def draw(spec: dict, fmt: str) -> bytes:
    """Draw the figure ``spec`` and return the file's bytes in ``fmt`` (svg, pdf or png)."""
    ready = _DRAWN.pop(_key(spec, fmt), None)
    return ready if ready is not None else _render(spec, fmt)


_FRAMES: dict[bool, "Frame"] = {}


def _render(spec: dict, fmt: str, frame: "Frame | None" = None) -> bytes:
    if fmt not in FORMATS:
        raise ValueError(f"unknown figure format {fmt!r}; use one of {', '.join(FORMATS)}")
    with matplotlib.rc_context(_RC):
        if frame is None:
            residuals = bool(spec.get("residuals"))
            frame = _FRAMES.get(residuals) or _FRAMES.setdefault(residuals, Frame(residuals))
        return frame.draw(spec, fmt)


class Frame:
    """A figure with its axes laid out once; ``draw`` fills in one spec's data and saves it."""

    def __init__(self, residuals: bool):
        height = _HEIGHT + (_RESIDUAL_HEIGHT if residuals else 0.0)
        self.fig = Figure(figsize=(_WIDTH, height), dpi=PNG_DPI)
        FigureCanvasAgg(self.fig)
        self.fig.subplots_adjust(left=_LEFT / _WIDTH, right=1 - _RIGHT / _WIDTH,
                                 bottom=_BOTTOM / height, top=1 - _TOP / height)
        if residuals:
            plot_height = height - _BOTTOM - _TOP
            self.ax, self.bottom = self.fig.subplots(
                2, 1, sharex=True, height_ratios=[3, 1],
                gridspec_kw={"hspace": _GAP / (plot_height / 2)})
            self.bottom.set_ylabel("residual")
        else:
            self.ax = self.bottom = self.fig.subplots()
        self.axes = [self.ax] if self.ax is self.bottom else [self.ax, self.bottom]

    def draw(self, spec: dict, fmt: str) -> bytes:
        self._clear()
        if spec.get("residuals"):
            _residuals(self.bottom, spec["residuals"])
        _main(self.ax, spec)
        self.bottom.set_xlabel(_text(spec.get("xlabel")) or "")
        buf = io.BytesIO()
        if fmt == "png":
            self._png(buf)
        else:
            self.fig.savefig(buf, format=fmt, dpi=_DPI, metadata=_METADATA[fmt])
        return buf.getvalue()

    def _clear(self) -> None:
        """Back to the empty frame: no artists or data limits, colour cycle restarted, grid on."""
        for ax in self.axes:
            for artist in [*ax.lines, *ax.collections, *ax.texts]:
                artist.remove()
            ax.containers.clear()
            if ax.get_legend():
                ax.get_legend().remove()
            ax.dataLim.set(Bbox.null())
            ax.ignore_existing_data_limits = True
            ax.set_autoscale_on(True)
            ax.set_prop_cycle(None)
            ax.grid(True)
        self.ax.set_title("")
        self.ax.set_ylabel("")

    def _png(self, buf: io.BytesIO) -> None:
        from PIL import Image
        canvas = self.fig.canvas
        canvas.draw()
        image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(),
                                 "raw", "RGBA", 0, 1).convert("RGB")
        image.save(buf, format="png", compress_level=PNG_COMPRESSION, dpi=(PNG_DPI, PNG_DPI))


def _main(ax, spec: dict) -> None:
    """Every layer of the spec, bottom to top, then title, y label and legend."""
    for layer in (_contour, _curves, _segments, _errorbars, _path, _points):
        layer(ax, spec)
    ax.set_title(_text(spec.get("title")) or "")
    ax.set_ylabel(_text(spec.get("ylabel")) or "")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best")


def _contour(ax, spec: dict) -> None:
    c = spec.get("contour")
    if c:
        ax.contour(c["x"], c["y"], c["z"], levels=c.get("levels") or 10,
                   cmap="viridis", linewidths=0.8)
        ax.grid(False)


def _curves(ax, spec: dict) -> None:
    for curve in spec.get("curves") or []:
        ax.plot(curve["x"], [_nan(y) for y in curve["y"]], label=_text(curve.get("label")),
                linestyle=_linestyle(curve.get("style"), "solid"))


def _nan(y):
    return float("nan") if y is None else y


def _segments(ax, spec: dict) -> None:
    for seg in spec.get("segments") or []:
        ax.plot(seg["x"], seg["y"], color="0.45", linewidth=1.0,
                linestyle=_linestyle(seg.get("style"), "dotted"))


def _errorbars(ax, spec: dict) -> None:
    e = spec.get("errorbars")
    if e:
        ax.errorbar(e["x"], e["y"], yerr=e.get("sigma"), fmt="o", markersize=4,
                    capsize=3, color="0.15", label=_text(e.get("label")), zorder=3)


def _path(ax, spec: dict) -> None:
    p = spec.get("path")
    if p:
        ax.plot(p["x"], p["y"], "o-", color="C3", markersize=4,
                label=_text(p.get("label")), zorder=4)


def _points(ax, spec: dict) -> None:
    points = spec.get("points") or []
    for pt in points:
        ax.plot([pt["x"]], [pt["y"]], "o", color="black", markersize=5, zorder=5)
    for (x, y), labels in _label_groups(ax, points):
        ax.annotate(_text(", ".join(labels)), (x, y), xytext=(6, -12), textcoords="offset points")


def _label_groups(ax, points: list[dict]) -> list[tuple[tuple[float, float], list[str]]]:
    """Labelled points, those (nearly) on top of each other sharing one label: "$x_2$, $x_3$"."""
    near_x, near_y = 0.03 * ax.dataLim.width, 0.04 * ax.dataLim.height
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


def _residuals(ax, res: dict) -> None:
    ax.axhline(0.0, color="0.5", linewidth=0.8)
    ax.vlines(res["x"], 0.0, res["r"], color="0.15", linewidth=1.0)
    ax.plot(res["x"], res["r"], "o", color="0.15", markersize=4)


def _linestyle(style: str | None, default: str) -> str:
    return _LINESTYLES.get(style or default, _LINESTYLES[default])


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
