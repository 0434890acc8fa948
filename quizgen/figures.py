"""Question figures: a figure spec (docs/question-format.md) drawn as SVG, PDF or PNG.

Uses ``matplotlib.figure.Figure`` directly (no pyplot state). Output is byte-deterministic:
fixed SVG hash salt and no dates or software versions in the file metadata.
"""

from __future__ import annotations

import hashlib
import io
import json
from concurrent.futures import ProcessPoolExecutor

import matplotlib
from matplotlib.figure import Figure
from matplotlib.mathtext import MathTextParser

FORMATS = ("svg", "pdf", "png")

_WIDTH, _HEIGHT, _RESIDUAL_HEIGHT = 5.0, 3.5, 1.1   # inches
# fixed margins (inches): left, right, bottom, top, gap between panels. Constrained layout
# would compute them per figure but doubles the drawing time.
_LEFT, _RIGHT, _BOTTOM, _TOP, _GAP = 0.75, 0.15, 0.5, 0.3, 0.12
_DPI = 150
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
    "png": {"Software": None},
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


def _render(spec: dict, fmt: str) -> bytes:
    if fmt not in _METADATA:
        raise ValueError(f"unknown figure format {fmt!r}; use one of {', '.join(FORMATS)}")
    buf = io.BytesIO()
    with matplotlib.rc_context(_RC):
        _build(spec).savefig(buf, format=fmt, dpi=_DPI, metadata=_METADATA[fmt])
    return buf.getvalue()


def _build(spec: dict) -> Figure:
    """The figure: the main plot, plus a small residuals panel below when the spec has one."""
    residuals = spec.get("residuals")
    height = _HEIGHT + (_RESIDUAL_HEIGHT if residuals else 0.0)
    fig = Figure(figsize=(_WIDTH, height))
    fig.subplots_adjust(left=_LEFT / _WIDTH, right=1 - _RIGHT / _WIDTH,
                        bottom=_BOTTOM / height, top=1 - _TOP / height)
    if residuals:
        plot_height = height - _BOTTOM - _TOP
        ax, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1],
                                  gridspec_kw={"hspace": _GAP / (plot_height / 2)})
        _residuals(bottom, residuals)
    else:
        ax = bottom = fig.subplots()
    _main(ax, spec)
    bottom.set_xlabel(_text(spec.get("xlabel")))
    return fig


def _main(ax, spec: dict) -> None:
    """Every layer of the spec, bottom to top, then title, y label and legend."""
    for layer in (_contour, _curves, _segments, _errorbars, _path, _points):
        layer(ax, spec)
    ax.set_title(_text(spec.get("title")))
    ax.set_ylabel(_text(spec.get("ylabel")))
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
        ax.plot(curve["x"], curve["y"], label=_text(curve.get("label")),
                linestyle=_linestyle(curve.get("style"), "solid"))


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
    ax.set_ylabel("residual")


def _linestyle(style: str | None, default: str) -> str:
    return _LINESTYLES.get(style or default, _LINESTYLES[default])


def _text(s: str | None) -> str | None:
    """``s`` for matplotlib; maths its mathtext cannot parse is shown literally, not an error."""
    if not s or "$" not in s:
        return s
    try:
        _MATHTEXT.parse(s)
    except ValueError:
        return s.replace("$", r"\$")
    return s
