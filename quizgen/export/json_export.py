"""JSON export: the generated set as a list of question objects (the answer contract)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from ..fsutil import atomic_writer
from . import QuizSet, register


def dumps(questions: list[dict]) -> str:
    """Stable JSON text: fixed key order from the pipeline, no NaN, trailing newline."""
    return json.dumps(questions, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def chunks(questions: Iterable[dict]) -> Iterable[str]:
    """The text of :func:`dumps`, one question at a time (a large set is never one string)."""
    first = True
    for q in questions:
        item = json.dumps(q, indent=2, ensure_ascii=False, allow_nan=False).replace("\n", "\n  ")
        yield ("[\n  " if first else ",\n  ") + item
        first = False
    yield "[]\n" if first else "\n]\n"


@register("json")
def export_json(quizset: QuizSet, out_dir: Path) -> list[Path]:
    several = len(quizset.papers) > 1
    questions = ({**q, "paper": paper.label} if several else q for paper in quizset.papers for q in paper.questions)
    path = Path(out_dir) / f"{quizset.name}.json"
    with atomic_writer(path) as fh:
        for text in chunks(questions):
            fh.write(text.encode("utf-8"))
    return [path]
