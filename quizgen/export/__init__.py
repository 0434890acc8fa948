"""Exporters, registered by name. Adding a format = one module + one line in ``_MODULES``.

An exporter receives a :class:`QuizSet` (plain data, already verified and rendered to
text; exporters never call sympy) and a target folder, and returns the paths it wrote.
Every file is written with :func:`quizgen.fsutil.atomic_write`.
"""

from __future__ import annotations

import importlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from ..errors import QuizgenError


@dataclass
class Paper:
    """One paper: the questions one student (or one version A, B, ...) gets."""

    label: str                      # "Version A", "Ada Lovelace (s001)", or "" for a plain set
    questions: list[dict]           # question objects in the JSON contract form (docs/question-format.md)
    student_id: str | None = None
    student_name: str | None = None


@dataclass
class QuizSet:
    """What exporters get: a titled set of papers, plus options."""

    title: str
    papers: list[Paper]
    name: str = "quiz"              # file stem, e.g. "week3" -> week3-worksheet.html
    subtitle: str = ""              # course / week line
    date: str = ""                  # printed date; never "today" (determinism)
    instructions: str = ""
    seed: int = 0
    options: dict = field(default_factory=dict)   # e.g. {"pdf": True, "moodle_form": "auto"}

    @property
    def questions(self) -> Iterator[dict]:
        """Every question of every paper, in order (read afresh each time: see quizgen.spill)."""
        return (q for p in self.papers for q in p.questions)


Exporter = Callable[[QuizSet, Path], list[Path]]

EXPORTERS: dict[str, Exporter] = {}

# format name -> module under quizgen.export that calls ``register``
_MODULES = {
    "json": "json_export",
    "html": "html",
    "latex": "latex",
    "moodle": "moodle",
    "practice": "practice",
}


def register(name: str):
    """Decorator: make ``fn(quizset, out_dir) -> [paths]`` the exporter for ``name``."""

    def deco(fn: Exporter) -> Exporter:
        EXPORTERS[name] = fn
        return fn

    return deco


def available() -> list[str]:
    return sorted(_MODULES)


def get(name: str) -> Exporter:
    if name not in _MODULES:
        raise QuizgenError(f"unknown output format {name!r}",
                           fix=f"use one of: {', '.join(available())}")
    if name not in EXPORTERS:
        importlib.import_module(f"{__name__}.{_MODULES[name]}")
    return EXPORTERS[name]


# the figure format each exporter embeds (drawn ahead in parallel when jobs > 1)
FIGURE_FORMATS = {"html": "svg", "latex": "pdf", "moodle": "svg", "practice": "svg"}   # moodle: options["moodle_figures"]


def export(formats: list[str], quizset: QuizSet, out_dir: Path, jobs: int = 1,
           progress: Callable[[str, int], None] | None = None) -> list[Path]:
    """Run each exporter into ``out_dir``; returns every path written, in format order.

    Each figure is drawn once per file format and shared by the exporters that embed it.
    With ``jobs`` > 1 the figures and the MathML are made ahead in workers, then the
    exporters run side by side in workers. ``progress(step, steps)`` is called for
    "figures" as it starts, and for each format (when it starts, or with ``jobs`` > 1
    when it is done).
    """
    wanted = {**FIGURE_FORMATS, "moodle": quizset.options.get("moodle_figures") or "svg"}
    uses = Counter(wanted[f] for f in dict.fromkeys(formats) if f in wanted)
    has_figures = bool(uses) and any(q.get(key) for q in quizset.questions
                                     for key in ("figure", "solution_figure"))
    ahead = has_figures and jobs > 1            # matplotlib only when figures are drawn
    steps = len(formats) + ahead
    if has_figures:
        if progress and ahead:
            progress("figures", steps)
        from .. import figures
        specs = (q[key] for q in quizset.questions for key in ("figure", "solution_figure") if q.get(key))
        figures.prerender(specs, sorted(uses), jobs, uses)   # each drawn once, shared by the exporters
    maths = jobs > 1 and bool({"html", "practice"} & set(formats))
    if maths:
        from . import html
        html.prepare_maths(quizset.questions, jobs)
    runs = _run_all(formats, quizset, Path(out_dir), jobs)
    try:
        written: list[Path] = []
        for fmt, paths in runs:
            if progress:
                progress(fmt, steps)
            written += paths
        return written
    finally:
        runs.close()                            # an exception here ends the workers at once
        if has_figures:
            figures.forget()
        if maths:
            html.forget_maths()


_SET: QuizSet | None = None       # the set being exported, inherited by forked exporter processes


def _run_all(formats: list[str], quizset: QuizSet, out_dir: Path, jobs: int):
    """``(format, paths written)`` for each format in order: one after the other, or with
    ``jobs`` > 1 each exporter in a forked worker (the set and the figures drawn ahead are
    inherited, not copied; files are written in the worker)."""
    import multiprocessing
    if jobs <= 1 or len(formats) < 2 or multiprocessing.get_start_method() != "fork":
        for fmt in formats:
            yield fmt, get(fmt)(quizset, out_dir)
        return
    global _SET
    from ..workers import parallel_map          # workers end at once on Ctrl-C
    for fmt in formats:
        get(fmt)                                # an unknown format fails here, before any work
    _SET = quizset
    try:
        for fmt, (paths, error) in zip(formats, parallel_map(_export_one, [(f, out_dir) for f in formats],
                                                              min(jobs, len(formats)))):
            if error:
                raise QuizgenError(error[0], file=error[1], where=error[2], fix=error[3])
            yield fmt, paths
    finally:
        _SET = None


def _export_one(item: tuple[str, Path]) -> tuple[list[Path], tuple | None]:
    """One exporter in a worker; a QuizgenError comes back as its fields (it does not pickle)."""
    fmt, out_dir = item
    try:
        return get(fmt)(_SET, out_dir), None
    except QuizgenError as exc:
        return [], (exc.message, exc.file, exc.where, exc.fix)
