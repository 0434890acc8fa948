"""The write phase with --jobs: exporters in workers, figures drawn once, same bytes as serial."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from quizgen import export, figures
from quizgen.errors import QuizgenError
from quizgen.export import html
from quizgen.quiz import build_quizset, default_spec, load_quiz

FORMATS = ["json", "html", "latex", "moodle", "practice"]


@pytest.fixture(scope="module")
def quizset():
    qs = build_quizset(load_quiz(default_spec()), variants=2, jobs=1)
    qs.options.update(pdf=False, moodle_figures="svg")
    assert any(q.get("figure") for q in qs.questions), "the example quiz should have figures to share"
    return qs


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_parallel_write_gives_the_serial_bytes(quizset, tmp_path):
    serial = export.export(FORMATS, quizset, tmp_path / "one", jobs=1)
    parallel = export.export(FORMATS, quizset, tmp_path / "two", jobs=2)
    assert [p.relative_to(tmp_path / "one") for p in serial] == [p.relative_to(tmp_path / "two") for p in parallel]
    one, two = digests(tmp_path / "one"), digests(tmp_path / "two")
    assert len(one) >= len(FORMATS) and one == two
    assert not figures._DRAWN and not figures._USES and not html._READY     # nothing kept after the build


def test_each_figure_is_drawn_once_per_format(quizset, tmp_path, monkeypatch):
    drawn = []
    real = figures._render
    monkeypatch.setattr(figures, "_render", lambda spec, fmt: drawn.append(figures._key(spec, fmt)) or real(spec, fmt))
    export.export(["html", "moodle", "practice", "latex"], quizset, tmp_path, jobs=1)
    specs = [q[k] for q in quizset.questions for k in ("figure", "solution_figure") if q.get(k)]
    wanted = {figures._key(s, f) for s in specs for f in ("svg", "pdf")}
    assert sorted(drawn) == sorted(wanted)            # html, moodle and practice share each SVG


def test_bad_input_in_a_worker_comes_back_whole(quizset, tmp_path, monkeypatch):
    def boom(qs, out_dir):
        raise QuizgenError("no good", file="x.yaml", where="line 3", fix="do better")
    monkeypatch.setitem(export._MODULES, "boom", "json_export")
    monkeypatch.setitem(export.EXPORTERS, "boom", boom)
    with pytest.raises(QuizgenError) as err:
        export.export(["json", "boom"], quizset, tmp_path, jobs=2)
    assert (err.value.message, err.value.file, err.value.where, err.value.fix) == \
        ("no good", "x.yaml", "line 3", "do better")
