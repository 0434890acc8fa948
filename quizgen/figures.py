"""Question figures: a figure spec (docs/question-format.md) drawn as SVG, PDF or PNG.

Uses ``matplotlib.figure.Figure`` directly (no pyplot state). Output is byte-deterministic:
fixed SVG hash salt and no dates or software versions in the file metadata.
"""

from __future__ import annotations

import io

import matplotlib
from matplotlib.figure import Figure
from matplotlib.mathtext import MathTextParser

FORMATS = ("svg", "pdf", "png")

_WIDTH, _HEIGHT, _RESIDUAL_HEIGHT = 5.0, 3.5, 1.1   # inches
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


def draw(spec: dict, fmt: str) -> bytes:
    """Draw the figure ``spec`` and return the file's bytes in ``fmt`` (svg, pdf or png)."""
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
    fig = Figure(figsize=(_WIDTH, height), layout="constrained")
    if not residuals:
        ax = fig.subplots()
        _main(ax, spec)
        ax.set_xlabel(_text(spec.get("xlabel")))
        return fig
    ax, rax = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    _main(ax, spec)
    _residuals(rax, residuals)
    rax.set_xlabel(_text(spec.get("xlabel")))
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
                linestyle=_LINESTYLES.get(curve.get("style") or "solid", "-"))


def _segments(ax, spec: dict) -> None:
    for seg in spec.get("segments") or []:
        ax.plot(seg["x"], seg["y"], color="0.45", linewidth=1.0,
                linestyle=_LINESTYLES.get(seg.get("style") or "dotted", ":"))


def _errorbars(ax, spec: dict) -> None:
    e = spec.get("errorbars")
    if e:
        ax.errorbar(e["x"], e["y"], yerr=e.get("sigma"), fmt="o", markersize=4,
                    capsize=3, color="C0", label=_text(e.get("label")), zorder=3)


def _path(ax, spec: dict) -> None:
    p = spec.get("path")
    if p:
        ax.plot(p["x"], p["y"], "o-", color="C3", markersize=4,
                label=_text(p.get("label")), zorder=4)


def _points(ax, spec: dict) -> None:
    for pt in spec.get("points") or []:
        ax.plot([pt["x"]], [pt["y"]], "o", color="black", markersize=5, zorder=5)
        if pt.get("label"):
            ax.annotate(_text(pt["label"]), (pt["x"], pt["y"]), xytext=(6, -12),
                        textcoords="offset points")


def _residuals(ax, res: dict) -> None:
    ax.axhline(0.0, color="0.5", linewidth=0.8)
    ax.vlines(res["x"], 0.0, res["r"], color="C0", linewidth=1.0)
    ax.plot(res["x"], res["r"], "o", color="C0", markersize=4)
    ax.set_ylabel("residual")


def _text(s: str | None) -> str | None:
    """``s`` for matplotlib; maths its mathtext cannot parse is shown literally, not an error."""
    if not s or "$" not in s:
        return s
    try:
        _MATHTEXT.parse(s)
    except ValueError:
        return s.replace("$", r"\$")
    return s
