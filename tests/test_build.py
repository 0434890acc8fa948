"""quizgen build: quiz specs, rosters, determinism, atomic replacement, bad specs."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from quizgen.cli import main

ROOT = Path(__file__).resolve().parent.parent

SPEC = """\
name: t
title: Test quiz
seed: 3
formats: [json]
sections:
  - templates: [jacobian-at-point, gradient-descent-two-steps, weighted-line-fit]
    questions: 2
    marks: 2
  - modules: [regression]
    difficulty: 2
    marks: 3
    questions: 1
    form: multiple_choice
"""


def _spec(tmp_path, text=SPEC):
    path = tmp_path / "quiz.yaml"
    path.write_text(text)
    return path


def _roster(tmp_path, n=30):
    path = tmp_path / "class.csv"
    rows = ["id,name"] + [f"s{i:03d},Student {i}" for i in range(n)]
    path.write_text("\n".join(rows) + "\n")
    return path


def _build(*args):
    return CliRunner().invoke(main, ["build", *map(str, args)], catch_exceptions=False)


def test_roster_gives_each_student_a_distinct_paper_and_a_matching_key(tmp_path):
    out = tmp_path / "out"
    result = _build(_spec(tmp_path), "--roster", _roster(tmp_path), "--out", out)
    assert result.exit_code == 0, result.output
    questions = json.loads((out / "t.json").read_text())
    papers = {}
    for q in questions:
        papers.setdefault(q["paper"], []).append(q)
    assert len(papers) == 30 and all(len(p) == 3 for p in papers.values())
    signatures = {json.dumps([(q["template"], q["parameters"]) for q in p]) for p in papers.values()}
    assert len(signatures) == 30
    for p in papers.values():
        assert p[-1]["choices"] and p[0]["choices"] is None      # form: multiple_choice vs numeric
        assert p[0]["marks"] == 2
    with open(out / "t-answers.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == sum(len(q["answers"]) for q in questions)
    for row in rows:
        q = papers[row["paper"]][int(row["question"]) - 1]
        answer = next(a for a in q["answers"] if a["name"] == row["answer"])
        assert json.loads(row["value"]) == answer["value"]
        assert row["student_id"] in row["paper"]


def test_same_student_same_paper_whatever_the_roster_order(tmp_path):
    spec, roster = _spec(tmp_path), _roster(tmp_path, 5)
    _build(spec, "--roster", roster, "--out", tmp_path / "a")
    lines = roster.read_text().splitlines()
    roster.write_text("\n".join([lines[0]] + lines[1:][::-1]) + "\n")
    _build(spec, "--roster", roster, "--out", tmp_path / "b")
    a = {q["paper"] + str(q["variant"]): q for q in json.loads((tmp_path / "a" / "t.json").read_text())}
    b = {q["paper"] + str(q["variant"]): q for q in json.loads((tmp_path / "b" / "t.json").read_text())}
    assert a == b


def _cli_bytes(tmp, spec, roster, hashseed, jobs):
    env = dict(os.environ, PYTHONHASHSEED=str(hashseed))
    subprocess.run([sys.executable, "-m", "quizgen.cli", "build", str(spec), "--roster", str(roster),
                    "--jobs", str(jobs), "--out", str(tmp)], check=True, env=env, cwd=ROOT, capture_output=True)
    return {p.name: p.read_bytes() for p in sorted(Path(tmp).iterdir())}


def test_identical_bytes_for_jobs_and_hashseed(tmp_path):
    spec, roster = _spec(tmp_path), _roster(tmp_path, 6)
    assert _cli_bytes(tmp_path / "a", spec, roster, 1, 1) == _cli_bytes(tmp_path / "b", spec, roster, 7, 2)


def test_figures_drawn_in_parallel_give_identical_files(tmp_path):
    """--jobs 2 draws figures ahead in worker processes; every output byte stays the same."""
    spec = _spec(tmp_path, SPEC.replace("formats: [json]", "formats: [json, html, moodle]"))
    outs = []
    for jobs in (1, 2):
        out = tmp_path / f"j{jobs}"
        assert _build(spec, "--variants", 2, "--jobs", jobs, "--out", out).exit_code == 0
        outs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outs[0] == outs[1] and "t-moodle.xml" in outs[0]


def test_versions_without_roster(tmp_path):
    out = tmp_path / "out"
    assert _build(_spec(tmp_path), "--variants", 3, "--out", out).exit_code == 0
    labels = {q["paper"] for q in json.loads((out / "t.json").read_text())}
    assert labels == {"Version A", "Version B", "Version C"}


def test_interrupted_build_keeps_previous_output(tmp_path, monkeypatch):
    out = tmp_path / "out"
    spec = _spec(tmp_path)
    assert _build(spec, "--out", out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    from quizgen import export

    def boom(quizset, out_dir):
        (Path(out_dir) / "half.json").write_text("{")
        raise KeyboardInterrupt
    monkeypatch.setitem(export.EXPORTERS, "json", boom)
    result = CliRunner().invoke(main, ["build", str(spec), "--variants", "2", "--out", str(out)])
    assert result.exit_code != 0          # click reports the interrupt as "Aborted!"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if "staging" in p.name] == []


def test_refuses_to_replace_a_folder_it_did_not_make(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    result = _build(_spec(tmp_path), "--out", out)
    assert result.exit_code == 2 and "not made by quizgen" in result.output
    assert (out / "thesis.tex").read_text() == "precious"


@pytest.mark.parametrize("edit, roster_text, expect", [
    (("jacobian-at-point", "no-such-template"), None, "no-such-template"),
    (("questions: 2", "questions: 0"), None, "questions"),
    (None, "student,name\ns1,A\n", "no id column"),
    (None, "id,name\ns1,A\ns1,B\n", "duplicate student id 's1'"),
])
def test_bad_specs(tmp_path, edit, roster_text, expect):
    text = SPEC.replace(*edit) if edit else SPEC
    args = [_spec(tmp_path, text), "--out", tmp_path / "out"]
    if roster_text:
        roster = tmp_path / "r.csv"
        roster.write_text(roster_text)
        args += ["--roster", roster]
    result = CliRunner().invoke(main, ["build", *map(str, args)])
    assert result.exit_code == 2, result.output
    assert expect in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_example_quiz_builds_in_every_format(tmp_path):
    """The README's main job: `quizgen build` with no spec builds the shipped example quiz."""
    from lxml import etree
    from pypdf import PdfReader
    out = tmp_path / "example"
    result = CliRunner().invoke(main, ["build", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    stem = "example-quiz"
    assert {f"{stem}.json", f"{stem}-worksheet.html", f"{stem}-key.html", f"{stem}-practice.html",
            f"{stem}-worksheet.tex", f"{stem}-key.tex", f"{stem}-worksheet.pdf", f"{stem}-key.pdf",
            f"{stem}-moodle.xml", f"{stem}-answers.csv"} <= names
    questions = json.loads((out / f"{stem}.json").read_text())
    assert {q["module"] for q in questions} == {"functions-and-derivatives", "multivariate-calculus",
                                                "chain-rule-and-networks", "taylor-series", "optimisation",
                                                "regression"}
    assert len(PdfReader(out / f"{stem}-worksheet.pdf").pages) >= 2
    root = etree.parse(str(out / f"{stem}-moodle.xml")).getroot()
    assert root.tag == "quiz" and len(root.findall("question")) > len(questions) // 2
