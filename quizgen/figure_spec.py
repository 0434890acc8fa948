"""What a figure spec shows: the data extent of its layers (pure Python, no plotting library).

Shared by ``figure_data`` (which fixes a figure's ``frame`` from its question figure, so the
question and the solution figure have the same axes) and ``figures`` (which draws it).
"""

from __future__ import annotations


def extent(spec: dict) -> tuple[list[float], list[float]]:
    """Every x and y the main plot of ``spec`` must show."""
    xs: list[float] = []
    ys: list[float] = []
    for line in [*(spec.get("curves") or []), *(spec.get("segments") or []),
                 *([spec["path"]] if spec.get("path") else [])]:
        pairs = [(x, y) for x, y in zip(line["x"], line["y"]) if x is not None and y is not None]
        xs += [x for x, _ in pairs]
        ys += [y for _, y in pairs]
    for pt in spec.get("points") or []:
        xs.append(pt["x"])
        ys.append(pt["y"])
    e = spec.get("errorbars")
    if e:
        sigma = e.get("sigma") or [0.0] * len(e["y"])
        xs += list(e["x"])
        ys += [y - s for y, s in zip(e["y"], sigma)] + [y + s for y, s in zip(e["y"], sigma)]
    c = spec.get("contour")
    if c:
        xs += [min(c["x"]), max(c["x"])]
        ys += [min(c["y"]), max(c["y"])]
    return xs, ys


def frame(spec: dict) -> dict:
    """``{"x": [lo, hi], "y": [lo, hi]}``: the data range of ``spec``'s layers (the
    drawing adds its margins)."""
    return {axis: [round(float(min(v)), 6), round(float(max(v)), 6)] if v else [0.0, 0.0]
            for axis, v in zip("xy", extent(spec))}
