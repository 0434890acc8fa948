"""Questions spilled to disk between generation and export (quizgen/spill.py): the same
objects come back, in order, in forked readers too, and the files written are the same
bytes as from questions held in memory."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest
from click.testing import CliRunner

from quizgen import spill as spill_mod
from quizgen.bank import load_bank
from quizgen.cli import main
from quizgen.export import Paper, QuizSet, export
from quizgen.export.json_export import chunks, dumps
from quizgen.pipeline import generate_questions
from quizgen.quiz import build_quizset, load_quiz
from quizgen.spill import Spill, SpilledList

ITEMS = [{"b": 1, "a": [1.1, 2.5e-300, float("inf")], "s": "π\n"}, [], {"z": {"y": None}}, "x" * 5000, 7]


def _filled(items=ITEMS) -> Spill:
    s = Spill()
    s.extend(items)
    return s


def test_items_come_back_equal_in_order_with_their_key_order():
    view = _filled().view()
    assert len(view) == len(ITEMS) and list(view) == ITEMS
    assert [view[i] for i in range(len(ITEMS))] == ITEMS and view[-1] == 7
    assert list(view[0]) == ["b", "a", "s"]                       # key order kept
    assert list(view[1:4]) == ITEMS[1:4] and list(view[::2]) == ITEMS[::2]
    assert isinstance(view[1:3], SpilledList) and len(view[3:1]) == 0
    with pytest.raises(IndexError):
        view[len(ITEMS)]


def test_a_read_is_a_copy():
    view = _filled().view()
    view[0]["b"] = 99
    assert view[0]["b"] == 1


def test_reading_ahead_in_blocks_keeps_items_whole(monkeypatch):
    monkeypatch.setattr(spill_mod, "_READ_AHEAD", 64)              # smaller than most items
    items = [{"k": i, "pad": "y" * (i * 37 % 300)} for i in range(200)]
    s = _filled(items)
    assert list(s.view()) == items and list(s.view(17, 150)) == items[17:150]


def test_forked_readers_read_side_by_side():
    s = _filled([{"i": i} for i in range(300)])
    view = s.view()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                                                # the child reads while the parent does
        try:
            os.write(w, pickle.dumps(sum(q["i"] for q in view[::-1])))
        finally:
            os._exit(0)
    os.close(w)
    mine = sum(q["i"] for q in view)
    with os.fdopen(r, "rb") as fh:
        theirs = pickle.loads(fh.read())
    os.waitpid(pid, 0)
    assert mine == theirs == sum(range(300))


@pytest.fixture(scope="module")
def questions():
    bank = {t.id: t for t in load_bank()}
    return generate_questions([bank["product-rule-at-point"], bank["jacobian-at-point"]], 3, 11)


def test_streamed_json_is_the_one_shot_dump(questions):
    for qs in ([], questions[:1], questions):
        assert "".join(chunks(qs)) == dumps(qs)
        assert json.loads("".join(chunks(qs))) == qs


def _written(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_spilled_set_exports_the_same_bytes(tmp_path, questions):
    formats = ["json", "moodle", "html", "latex", "practice"]
    held = QuizSet(title="T", papers=[Paper("", list(questions))], name="t")
    store = _filled(questions)
    spilled = QuizSet(title="T", papers=[Paper("", store.view())], name="t")
    export(formats, held, tmp_path / "held")
    export(formats, spilled, tmp_path / "spilled", jobs=2)
    a, b = _written(tmp_path / "held"), _written(tmp_path / "spilled")
    assert a.keys() == b.keys() and len(a) >= 5
    assert all(a[k] == b[k] for k in a)


def test_generate_command_writes_what_the_library_exports(tmp_path):
    result = CliRunner().invoke(main, ["generate", "--template", "product-rule-at-point", "--template",
                                       "jacobian-at-point", "--count", "3", "--seed", "11", "--format",
                                       "json,moodle", "--out", str(tmp_path / "cli"), "--name", "t"])
    assert result.exit_code == 0, result.output
    bank = {t.id: t for t in load_bank()}
    qs = generate_questions([bank["product-rule-at-point"], bank["jacobian-at-point"]], 3, 11)
    export(["json", "moodle"], QuizSet(title="Practice set", papers=[Paper("", qs)], name="t",
                                       seed=11, options={"pdf": False, "moodle_form": "auto",
                                                         "moodle_figures": "svg"}), tmp_path / "lib")
    assert _written(tmp_path / "cli") == _written(tmp_path / "lib")


def test_roster_papers_wait_on_disk(tmp_path):
    spec = tmp_path / "quiz.yaml"
    spec.write_text("name: t\ntitle: T\nseed: 2\nsections:\n  - templates: [jacobian-at-point, "
                    "product-rule-at-point]\n    questions: 2\n    marks: 2\n")
    quizset = build_quizset(load_quiz(spec), variants=3)
    assert all(isinstance(p.questions, SpilledList) and len(p.questions) == 2 for p in quizset.papers)
    assert all(q["marks"] == 2 and q["section"] == "" for p in quizset.papers for q in p.questions)
    assert len({q["seed"] for p in quizset.papers for q in p.questions}) == 6


# --- DiskStore: figures and formulas made ahead, kept on disk ------------------------------

def test_disk_store_is_a_dict_of_values_on_disk():
    from quizgen.spill import DiskStore
    store = DiskStore()
    assert not store and store.get("a") is None and store.pop("a", 5) == 5
    store[("svg", "d1")] = b"\x00" * 10
    store["m"] = "<math>π</math>"
    store["m"] = "<math>x</math>"                              # a new value replaces the old
    assert len(store) == 2 and set(store) == {("svg", "d1"), "m"} and "m" in store
    assert store[("svg", "d1")] == b"\x00" * 10 and store.get("m") == "<math>x</math>"
    assert store.pop("m") == "<math>x</math>" and "m" not in store
    with pytest.raises(KeyError):
        store["m"]
    store.clear()
    assert not store and store.get(("svg", "d1")) is None


def test_forked_writers_keep_to_their_own_files():
    """A forked exporter reads what the parent stored and writes into a file of its own: the
    parent's values are intact after children wrote many of theirs."""
    from quizgen.spill import DiskStore
    store = DiskStore()
    for i in range(50):
        store[i] = f"parent {i}" * 20
    pids = []
    for child in range(2):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                ok = all(store[i] == f"parent {i}" * 20 for i in range(50))
                for i in range(50, 400):
                    store[i] = f"child {child} {i}" * 30
                ok = ok and all(store[i] == f"child {child} {i}" * 30 for i in range(50, 400))
                os.write(w, b"1" if ok else b"0")
            finally:
                os._exit(0)
        os.close(w)
        pids.append((pid, r))
    results = []
    for pid, r in pids:
        with os.fdopen(r, "rb") as fh:
            results.append(fh.read())
        os.waitpid(pid, 0)
    assert results == [b"1", b"1"]
    assert all(store[i] == f"parent {i}" * 20 for i in range(50)) and 50 not in store
