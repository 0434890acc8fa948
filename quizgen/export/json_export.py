"""JSON export: the generated set as a list of question objects (the answer contract)."""

from __future__ import annotations

import json
from pathlib import Path

from ..fsutil import atomic_write
from . import QuizSet, register


def dumps(questions: list[dict]) -> str:
    """Stable JSON text: fixed key order from the pipeline, no NaN, trailing newline."""
    return json.dumps(questions, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


@register("json")
def export_json(quizset: QuizSet, out_dir: Path) -> list[Path]:
    questions = []
    for paper in quizset.papers:
        for q in paper.questions:
            questions.append({**q, "paper": paper.label} if len(quizset.papers) > 1 else q)
    return [atomic_write(Path(out_dir) / f"{quizset.name}.json", dumps(questions))]
