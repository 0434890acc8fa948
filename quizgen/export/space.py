"""Room to answer on paper: what blank each answer of a worksheet question gets.

Shared by the LaTeX and HTML worksheets so both print the same blanks. The size comes
from the answer's kind (a line for a number, a grid of cells for a vector or a matrix, a
labelled line per part of a named answer, a box for an expression or a set of points,
a box to tick beside each label of a categorical answer); a template's or a quiz-spec
section's ``answer_space`` overrides it: ``none``, ``line``, ``box``, or a number (the
box's height in cm); a categorical answer keeps its tick boxes unless it is ``none``.
A multiple-choice question is answered by its letters: its first answer (the one the
choices answer) gets no blank, its other answers do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BOX_CM = {"expression": 2.5, "point_set": 4.0}   # box heights by answer kind
DEFAULT_BOX_CM = 3.0
LINE_CM = 5.0                                     # width of an answer line
CELL_CM = (1.8, 0.9)                              # a grid cell for a number (width, height)
EXPRESSION_CELL_CM = (3.6, 1.2)                   # a grid cell for an expression


@dataclass
class Blank:
    """One answer's blank: ``shape`` is line, box, grid, named or choice."""

    label: str                    # the answer's TeX label, e.g. "f'(2)" or "\\nabla f"
    shape: str
    rows: int = 1
    cols: int = 1
    height_cm: float = 0.0        # box height
    cell_cm: tuple = CELL_CM      # grid cell (width, height)
    names: list = field(default_factory=list)   # named answers: one line per name
    options: list = field(default_factory=list)  # a categorical answer: its labels, one box each


def _grid_shape(value) -> tuple[int, int]:
    if value and isinstance(value[0], list):
        return len(value), len(value[0])
    return len(value), 1


def blank_for(answer: dict, override=None) -> Blank:
    """The blank of one answer, by its kind unless ``override`` says otherwise."""
    label, value = answer["label"], answer["value"]
    if answer["kind"] == "label":
        return Blank(label, "choice", options=list(answer.get("labels") or [value]))
    if isinstance(override, (int, float)) and not isinstance(override, bool):
        return Blank(label, "box", height_cm=float(override))
    if override == "line":
        return Blank(label, "line")
    if override == "box":
        return Blank(label, "box", height_cm=BOX_CM.get(answer["kind"], DEFAULT_BOX_CM))
    kind = answer["kind"]
    if kind == "number":
        return Blank(label, "line")
    if kind == "named" and isinstance(value, dict):
        return Blank(label, "named", names=list(value))
    if kind in ("vector", "matrix") and isinstance(value, list) and value:
        rows, cols = _grid_shape(value)
        return Blank(label, "grid", rows, cols)
    if kind == "expression" and isinstance(value, list) and value:
        rows, cols = _grid_shape(value)
        return Blank(label, "grid", rows, cols, cell_cm=EXPRESSION_CELL_CM)
    return Blank(label, "box", height_cm=BOX_CM.get(kind, DEFAULT_BOX_CM))


def blanks(question: dict) -> list[Blank]:
    """The blanks a worksheet prints after ``question`` (multiple choice: none for the first answer)."""
    override = question.get("answer_space")
    if override == "none":
        return []
    answers = question["answers"][1:] if question.get("choices") else question["answers"]
    return [blank_for(a, override) for a in answers]
