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
    rows = _csv_rows(out / "t-answers.csv")
    assert {r["paper"] for r in rows} == set(papers)
    for row in rows:
        assert row["student_id"] in row["paper"] and row["student_name"] in row["paper"]


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


# ---- answers.csv: one row per blank, checked against the JSON of the same build ---------------

MARKING = """\
name: t
title: Marking
seed: 8
formats: [json]
sections:
  - templates: [jacobian-at-point, hessian-at-point, lagrange-three-variables, line-fit-unweighted,
                derivative-exp-log-trig, gradient-descent-two-steps, total-derivative-three-variables]
    questions: 7
    mix: true
  - modules: [regression]
    difficulty: 2
    marks: 3
    questions: 1
    form: multiple_choice
"""


def _csv_rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _at(v, digits):
    """The JSON number at the answer's decimals, half-up, zeros kept, never -0."""
    from decimal import ROUND_HALF_UP, Decimal
    d = Decimal(repr(float(v))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{abs(d) if d == 0 else d:f}"


def _expected_blanks(a):
    """(blank, value) from the JSON value, walked here by hand."""
    v, name = a["value"], a["name"]
    if a["kind"] == "point_set":
        out = []
        for k, p in enumerate(sorted(v, key=lambda p: list(p["point"].values())), 1):
            out += [(f"point {k}: {c}", x) for c, x in p["point"].items()]
            out += [(f"point {k}: {f}", p[f]) for f in ("multiplier", "value") if f in p]
        return out
    if a["kind"] == "named":
        return list(v.items())
    if isinstance(v, list) and isinstance(v[0], list):
        return [(f"{name}[{i + 1},{j + 1}]", x) for i in range(len(v)) for j, x in enumerate(v[i])]
    if isinstance(v, list):
        return [(f"{name}[{i + 1}]", x) for i, x in enumerate(v)]
    return [(name, v)]


def test_answers_csv_has_a_row_per_blank_matching_the_json(tmp_path):
    out = tmp_path / "out"
    result = _build(_spec(tmp_path, MARKING), "--variants", 3, "--out", out)
    assert result.exit_code == 0, result.output
    questions = json.loads((out / "t.json").read_text())
    rows = iter(_csv_rows(out / "t-answers.csv"))
    kinds, numbers = set(), 0
    for q in questions:
        paper_n = [x for x in questions if x["paper"] == q["paper"]].index(q) + 1
        for i, a in enumerate(q["answers"]):
            kinds.add(a["kind"])
            correct = [k for k, c in enumerate(q["choices"] or []) if c["correct"]]
            if i == 0 and correct:                 # graded by its letter: one row, letter and text
                row = next(rows)
                assert (row["paper"], int(row["question"]), row["answer"]) == (q["paper"], paper_n, a["name"])
                assert row["choice"] == "ABCDEFGH"[correct[0]] and row["tolerance"] == ""
                if isinstance(a["value"], dict):
                    assert row["value"] == ", ".join(f"{k} = {_at(x, a['round'])}" for k, x in a["value"].items())
                elif isinstance(a["value"], str):
                    assert row["value"] == a["value"].replace("**", "^")
                continue
            for blank, value in _expected_blanks(a):
                row = next(rows)
                assert (row["paper"], int(row["question"]), row["answer"], row["blank"]) == \
                    (q["paper"], paper_n, a["name"], blank)
                assert row["choice"] == "" and float(row["marks"]) == q["marks"]
                if isinstance(value, str):
                    assert row["value"] == value.replace("**", "^") and row["tolerance"] == ""
                    continue
                numbers += 1
                assert row["value"] == _at(value, a["round"]), (row, value)
                tol = a["tolerance"]
                limit = max(tol.get("abs", 0), tol.get("rel", 0) * abs(value))
                assert "e" not in row["tolerance"].lower()
                assert abs(float(row["tolerance"]) - limit) <= 1e-6 * limit
    assert next(rows, None) is None
    assert {"matrix", "point_set", "named", "vector", "number", "expression"} <= kinds and numbers > 40
    text = (out / "t-answers.csv").read_text()
    assert "\\" not in text and "$" not in text and "[[" not in text     # no TeX, no JSON


def test_keys_show_every_decimal_the_answer_asks_for(tmp_path):
    """0.540, not 0.54: each displayed number has exactly the answer's decimals."""
    import re
    out = tmp_path / "out"
    result = _build(_spec(tmp_path, MARKING.replace("formats: [json]", "formats: [json, html, latex]")
                          .replace("questions: 7", "questions: 7\n    answer_space: none")),
                    "--variants", 4, "--no-pdf", "--out", out)
    assert result.exit_code == 0, result.output
    key_tex = (out / "t-key.tex").read_text()
    key_html = (out / "t-key.html").read_text()
    trailing = 0
    for q in json.loads((out / "t.json").read_text()):
        for a in q["answers"]:
            if a["kind"] in ("expression", "label"):
                continue
            shown = re.findall(r"(?<![\w^_{])-?\d+(?:\.\d+)?", a["display"].replace(r"\quad", " "))
            expected = [_at(v, a["round"]) for _, v in _expected_blanks(a)
                        if a["kind"] != "point_set" or not _.endswith(("multiplier", "value"))]
            if a["kind"] == "point_set":           # the key lists the points in the engine's order
                shown, expected = sorted(shown), sorted(expected)
            assert shown == expected, (a["display"], a["value"])
            trailing += sum(x.endswith("0") and "." in x for x in shown)
            assert a["display"] in key_tex
            for x in shown:
                assert f"<mn>{x.lstrip('-')}</mn>" in key_html
    assert trailing > 0                            # some key ends in a zero that is kept
    numeric = sum(a["kind"] not in ("expression", "label") for q in json.loads((out / "t.json").read_text())
                  for a in q["answers"])
    tolerances = re.findall(r'<span class="tolerance">\(([^<]*)\)</span>', key_html)
    assert len(tolerances) == numeric                # none on symbolic answers
    assert all(re.fullmatch(r"±\d+(\.\d+)?", t) for t in tolerances), tolerances   # plain decimals


# ---- long runs: progress with a sensible estimate, Ctrl-C that ends at once -----------------

class _Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_progress_estimate_ignores_start_up_and_waits_for_a_measured_rate():
    import io
    from quizgen.progress import Progress
    clock, log = _Clock(), io.StringIO()
    bar = Progress("generating", 100, file=log, clock=clock, tty=False)
    clock.t = 10.0                       # workers start and import for 10 s, then 10 items a second
    bar.update()
    assert bar.eta() is None and "estimating" in bar.text()
    for k in range(1, 21):
        clock.t = 10.0 + k / 10
        bar.update()
        assert (bar.eta() is None) == (k < 20)       # not before 2 s of measured work
    # 20 items in the 2 s since the first: 79 left at 10 a second (the whole 12 s would say 45 s)
    assert abs(bar.eta() - 79 / 10) < 1e-9 and "0:08 left" in bar.text()
    assert "21/100" in bar.text()


def test_progress_in_a_log_writes_a_line_per_tenth_and_steps_name_themselves():
    import io
    from quizgen.progress import Progress
    clock, log = _Clock(), io.StringIO()
    with Progress("generating", 50, file=log, clock=clock, tty=False) as bar:
        for _ in range(50):
            clock.t += 1
            bar.update()
    lines = log.getvalue().splitlines()
    assert len(lines) == 11 and lines[-1].endswith("50/50  done in 0:50")
    log = io.StringIO()
    with Progress("writing", file=log, clock=clock, tty=False, eta=False) as bar:
        for name in ("json", "html", "answers.csv"):
            bar.step(name, 3)
            clock.t += 2
    lines = log.getvalue().splitlines()
    assert [line.split("  ")[-1] for line in lines] == ["json 0:00", "html 0:02", "answers.csv 0:04", "done in 0:06"]
    assert ["0/3" in lines[0], "1/3" in lines[1], "3/3" in lines[3]] == [True] * 3


def _group_members(pgid):
    """Processes still alive in the process group ``pgid``."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(stat.parent.name)
    return alive


@pytest.mark.parametrize("whole_group", [False, True], ids=["parent", "terminal-ctrl-c"])
def test_ctrl_c_with_workers_ends_at_once_and_keeps_the_old_output(tmp_path, whole_group):
    import signal
    import time
    spec = _spec(tmp_path, MARKING)
    out = tmp_path / "out"
    assert _build(spec, "--roster", _roster(tmp_path, 2), "--out", out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    big = _roster(tmp_path, 1000)           # old pools finished their queued chunks: 20 s and more
    log = tmp_path / "stderr.txt"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "quizgen", "build", str(spec), "--roster", str(big),
                                 "--jobs", "2", "--out", str(out)], stdout=subprocess.DEVNULL, stderr=err,
                                env=env, cwd=tmp_path, start_new_session=True)
        try:
            while "generating" not in log.read_text() or "/8000" not in log.read_text():
                assert proc.poll() is None, log.read_text()
                time.sleep(0.05)
            time.sleep(1.5)                                  # the workers are busy generating
            assert proc.poll() is None
            sent = time.monotonic()
            if whole_group:
                os.killpg(proc.pid, signal.SIGINT)           # what Ctrl-C at a terminal does
            else:
                proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=10)
            print(f"\nCtrl-C ({'whole group' if whole_group else 'parent'}): exited {code} "
                  f"after {time.monotonic() - sent:.2f} s")
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    text = log.read_text()
    assert code in (1, 130) and "Aborted" in text and "Traceback" not in text, text
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []     # no staging left
    assert _group_members(proc.pid) == []                                             # no stray workers
