"""Fair papers: every paper of a build has the same marks and the same difficulty per slot."""

import json
import re
from collections import defaultdict

import pytest
from click.testing import CliRunner

from quizgen.bank import load_bank
from quizgen.cli import main
from quizgen.quiz import default_spec, load_quiz

BANK = {t.id: t for t in load_bank()}


def _marks(tid):
    return BANK[tid].data.get("marks", 1)


def _build(tmp_path, spec_text, *args):
    spec = tmp_path / "quiz.yaml"
    spec.write_text(spec_text)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(spec), "--out", str(out), *map(str, args)])
    return spec, out, result


def _roster(tmp_path, n):
    path = tmp_path / "class.csv"
    path.write_text("id,name\n" + "".join(f"u{i:03d},Student {i}\n" for i in range(n)))
    return path


def _papers(out):
    papers = defaultdict(list)
    for q in json.loads((out / "t.json").read_text()):
        papers[q["paper"]].append(q)
    return papers


def _pool(module, mc=False):
    return [t for t in BANK.values() if t.module == module and (not mc or t.data.get("multiple_choice"))]


def test_a_section_mixing_marks_and_difficulties_is_refused_with_each_template_named(tmp_path):
    pool = _pool("regression", mc=True)
    assert len({t.difficulty for t in pool}) > 1 and len({_marks(t.id) for t in pool}) > 1   # the premise
    spec_text = ("name: t\ntitle: T\nformats: [json]\nsections:\n  - modules: [functions-and-derivatives]\n"
                 "    difficulty: 1\n    marks: 2\n    questions: 1\n"
                 "  - title: Fits\n    modules: [regression]\n    form: multiple_choice\n    questions: 2\n")
    spec, out, result = _build(tmp_path, spec_text, "--roster", _roster(tmp_path, 3))
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    text = result.output
    assert str(spec) in text and "line 9" in text and "section 2 ('Fits')" in text
    for t in pool:                  # each template under its own difficulty and its own marks
        by_difficulty = re.search(rf"difficulty {t.difficulty}: [^;)]*\b{re.escape(t.id)}\b", text)
        m = _marks(t.id)
        by_marks = re.search(rf"{m:g} marks?: [^;)]*\b{re.escape(t.id)}\b", text)
        assert by_difficulty and by_marks, (t.id, text)
    assert "marks:" in text and "difficulty:" in text and "mix: true" in text
    assert not out.exists()


def test_mixed_marks_alone_are_refused_and_marks_on_the_section_fix_it(tmp_path):
    ids = ["jacobian-at-point", "jacobian-symbolic"]
    assert BANK[ids[0]].difficulty == BANK[ids[1]].difficulty and _marks(ids[0]) != _marks(ids[1])
    base = f"name: t\ntitle: T\nformats: [json]\nsections:\n  - templates: [{', '.join(ids)}]\n    questions: 1\n"
    _, out, result = _build(tmp_path, base, "--variants", 4)
    assert result.exit_code == 2 and "mixes marks" in result.output and "difficulties" not in result.output
    assert "set marks:" in result.output and not out.exists()
    _, out, result = _build(tmp_path, base + "    marks: 2\n", "--variants", 4)
    assert result.exit_code == 0, result.output
    assert {q["marks"] for q in json.loads((out / "t.json").read_text())} == {2}


FAIR = """\
name: t
title: T
formats: [json]
seed: 11
sections:
  - modules: [multivariate-calculus]
    difficulty: 2
    questions: 2
    marks: 2
  - topics: [newton-raphson, gradient-descent]
    difficulty: 1
    questions: 1
    marks: 1.5
  - templates: [chain-rule-elementary, chain-rule-power, product-rule-at-point]
    questions: 2
"""


def test_every_paper_of_a_roster_has_the_same_marks_and_difficulty_per_slot(tmp_path):
    _, out, result = _build(tmp_path, FAIR, "--roster", _roster(tmp_path, 24))
    assert result.exit_code == 0, result.output
    papers = _papers(out)
    assert len(papers) == 24
    slots = {json.dumps([(q["difficulty"], q["marks"]) for q in qs]) for qs in papers.values()}
    assert len(slots) == 1                                   # one (difficulty, marks) list for all
    first = next(iter(papers.values()))
    assert [BANK[q["template"]].difficulty for q in first] == [q["difficulty"] for q in first]
    assert [q["difficulty"] for q in first][:3] == [2, 2, 1]
    total = 2 + 2 + 1.5 + sum(_marks(q["template"]) for q in first[3:])
    assert f"({total:g} marks per paper)" in result.output
    templates = {q["template"] for qs in papers.values() for q in qs}
    assert len(templates) > 6                                # the pools are still drawn from


def test_mix_true_allows_a_mixed_pool_and_the_summary_gives_the_range(tmp_path):
    spec_text = ("name: t\ntitle: T\nformats: [json]\nseed: 5\nsections:\n  - modules: [regression]\n"
                 "    questions: 1\n    mix: true\n")
    _, out, result = _build(tmp_path, spec_text, "--roster", _roster(tmp_path, 30))
    assert result.exit_code == 0, result.output
    totals = sorted({sum(q["marks"] for q in qs) for qs in _papers(out).values()})
    assert len(totals) > 1
    assert f"({totals[0]:g}–{totals[-1]:g} marks per paper, mixed by mix: true)" in result.output


def test_difficulty_narrows_the_pool_and_an_absent_difficulty_is_refused(tmp_path):
    spec_text = ("name: t\ntitle: T\nformats: [json]\nsections:\n  - modules: [taylor-series]\n"
                 "    difficulty: 3\n    questions: 1\n    marks: 4\n")
    _, out, result = _build(tmp_path, spec_text, "--variants", 6)
    assert result.exit_code == 0, result.output
    hard = {t.id for t in _pool("taylor-series") if t.difficulty == 3}
    assert hard and {q["template"] for q in json.loads((out / "t.json").read_text())} <= hard
    offered = sorted({t.difficulty for t in _pool("functions-and-derivatives")})
    missing = next(d for d in (1, 2, 3) if d not in offered)
    _, out, result = _build(tmp_path, spec_text.replace("taylor-series", "functions-and-derivatives")
                            .replace("difficulty: 3", f"difficulty: {missing}"))
    assert result.exit_code == 2 and f"no template of this section has difficulty {missing}" in result.output
    assert f"one of the difficulties it has: {', '.join(map(str, offered))}" in result.output


def test_mix_must_be_a_boolean(tmp_path):
    spec_text = "title: T\nsections:\n  - modules: [regression]\n    questions: 1\n    mix: sometimes\n"
    _, out, result = _build(tmp_path, spec_text)
    assert result.exit_code == 2 and "mix" in result.output and "Traceback" not in result.output


def test_the_example_quiz_is_fair():
    spec = load_quiz(default_spec())
    for sec, pool in zip(spec.data["sections"], spec.sections):
        assert len({t.difficulty for t in pool}) == 1 and not sec.get("mix")
        assert "marks" in sec or len({_marks(t.id) for t in pool}) == 1
