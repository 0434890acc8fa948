"""Speed work that must not change behaviour: SVG or PNG figures in Moodle XML, lazy imports."""

from __future__ import annotations

import base64
import os
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from PIL import Image

from quizgen.cli import main
from quizgen.errors import QuizgenError
from quizgen.export import Paper, QuizSet, get

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = json.loads((Path(__file__).parent / "data" / "sample_questions.json").read_text())
SVG_NS = "{http://www.w3.org/2000/svg}svg"


def _moodle(tmp_path, **options) -> etree._Element:
    quizset = QuizSet(title="t", papers=[Paper("", SAMPLE)], name="s", options=options)
    [path] = get("moodle")(quizset, tmp_path)
    return etree.parse(str(path)).getroot()


def _figure_files(root) -> dict[str, tuple[str, bytes]]:
    """question name -> (the <img> src's file name, the decoded <file> of that name)."""
    out = {}
    for q in root.iter("question"):
        text_el = q.find("questiontext")
        if text_el is None:
            continue
        html = etree.HTML(text_el.findtext("text"))
        srcs = [img.get("src") for img in html.iter("img")]
        files = {f.get("name"): f for f in text_el.findall("file")}
        assert len(srcs) == len(files) <= 1
        for src in srcs:
            assert src.startswith("@@PLUGINFILE@@/")
            name = src.removeprefix("@@PLUGINFILE@@/")
            f = files[name]                           # the file the <img> names is there
            assert (f.get("path"), f.get("encoding")) == ("/", "base64")
            out[q.findtext("name/text")] = (name, base64.b64decode(f.text, validate=True))
    return out


def _with_figure() -> set[str]:
    return {f"{q['template']} · v{q['variant']}" for q in SAMPLE if q["figure"]}


def _check_svg(data: bytes) -> None:
    root = etree.fromstring(data)
    assert root.tag == SVG_NS and float(root.get("width").removesuffix("pt")) > 300
    assert len(root.findall(".//{http://www.w3.org/2000/svg}path")) > 10


def _check_png(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "PNG" and img.size[0] >= 600


@pytest.mark.parametrize("fmt, check", [("svg", _check_svg), ("png", _check_png)])
def test_moodle_embeds_each_figure_as_chosen(tmp_path, fmt, check):
    files = _figure_files(_moodle(tmp_path, moodle_figures=fmt))
    assert set(files) == _with_figure() and files
    for name, data in files.values():
        assert name.endswith("." + fmt)
        check(data)


def test_moodle_figures_default_to_svg(tmp_path):
    assert all(name.endswith(".svg") for name, _ in _figure_files(_moodle(tmp_path)).values())


def test_unknown_moodle_figure_type_is_refused(tmp_path):
    with pytest.raises(QuizgenError, match="moodle_figures.*gif"):
        _moodle(tmp_path, moodle_figures="gif")
    assert not list(tmp_path.iterdir())


def test_cli_moodle_figures_option(tmp_path):
    result = CliRunner().invoke(main, ["generate", "--template", "product-rule-at-point", "--count", "1",
                                       "--format", "moodle", "--moodle-figures", "png",
                                       "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    [xml] = (tmp_path / "o").glob("*-moodle.xml")
    [(name, data)] = _figure_files(etree.parse(str(xml)).getroot()).values()
    assert name.endswith(".png")
    _check_png(data)


_PROBE = """
import sys
{imports}
print(",".join(sorted(m for m in ("matplotlib", "PIL") if m in sys.modules)))
"""


@pytest.mark.parametrize("imports", ["import quizgen.cli", "import quizgen.cli, quizgen.bank, quizgen.export"])
def test_cli_start_does_not_import_matplotlib(imports):
    out = subprocess.run([sys.executable, "-c", _PROBE.format(imports=imports)], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_probe_sees_matplotlib_when_figures_are_imported():
    """The probe above can fail: importing quizgen.figures does show up."""
    out = subprocess.run([sys.executable, "-c", _PROBE.format(imports="import quizgen.figures")],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "matplotlib" in out


def test_figures_benchmark_reports_every_target():
    proc = subprocess.run([sys.executable, "benchmarks/figures.py", "--count", "2", "--kinds", "tangent"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for needle in ("product-rule-at-point x 2", "moodle_figures=png", "moodle_figures=svg", "no figure",
                   "tangent", "quizgen --help", "quizgen list"):
        assert needle in out, (needle, out)
    assert "R/exams not installed here" in out or "exams2moodle deriv x 2" in out
    assert "no matplotlib" in next(line for line in out.splitlines() if line.startswith("quizgen list"))


# --- sharded builds -----------------------------------------------------------------------

SHARD_SPEC = """\
name: t
title: Sharded quiz
seed: 4
formats: [json, html, latex, moodle]
sections:
  - templates: [product-rule-at-point, jacobian-at-point, weighted-line-fit]
    questions: 2
    mix: true
  - modules: [regression]
    questions: 1
    form: multiple_choice
    mix: true
"""


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def class_of_five(tmp_path):
    spec = tmp_path / "quiz.yaml"
    spec.write_text(SHARD_SPEC)
    roster = tmp_path / "class.csv"
    roster.write_text("id,name\n" + "".join(f"s{i},Student {i}\n" for i in range(5)))
    return spec, roster


def test_merged_shards_are_the_single_build_byte_for_byte(tmp_path, class_of_five):
    spec, roster = class_of_five
    assert _cli("build", spec, "--roster", roster, "--no-pdf", "--out", tmp_path / "one").exit_code == 0
    for k in (3, 1, 2):                                   # any order, one folder
        result = _cli("build", spec, "--roster", roster, "--no-pdf", "--shard", f"{k}/3", "--out", tmp_path / "sh")
        assert result.exit_code == 0, result.output
    shard_files = sorted(p.name for p in (tmp_path / "sh").iterdir())
    assert shard_files == [f"t-shard-{k}-of-3.jsonl" for k in (1, 2, 3)]
    lines = [[json.loads(line) for line in (tmp_path / "sh" / f).read_text().splitlines()] for f in shard_files]
    assert [[p["index"] for p in ls[1:]] for ls in lines] == [[0, 3], [1, 4], [2]]   # a header, then a paper a line
    assert all(ls[0]["format"] == "quizgen-shard/2" and ls[0]["shard"] == [k, 3] for k, ls in enumerate(lines, 1))
    result = _cli("merge", tmp_path / "sh", "--out", tmp_path / "merged")
    assert result.exit_code == 0, result.output
    single, merged = _files(tmp_path / "one"), _files(tmp_path / "merged")
    assert set(single) >= {"t-moodle.xml", "t-worksheet.tex", "t-answers.csv", "t-worksheet.html", "t.json"}
    assert merged.keys() == single.keys()
    for name in single:
        assert merged[name] == single[name], name


def test_merge_refuses_missing_or_foreign_shards(tmp_path, class_of_five):
    spec, roster = class_of_five
    for k in (1, 2):
        _cli("build", spec, "--roster", roster, "--format", "json", "--shard", f"{k}/3", "--out", tmp_path / "sh")
    result = CliRunner().invoke(main, ["merge", str(tmp_path / "sh"), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "shard(s) 3 of 3 are missing" in result.output
    roster.write_text(roster.read_text() + "s9,Late Student\n")       # another roster: another build
    _cli("build", spec, "--roster", roster, "--format", "json", "--shard", "3/3", "--out", tmp_path / "sh")
    result = CliRunner().invoke(main, ["merge", str(tmp_path / "sh"), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "belongs to another build" in result.output
    assert not (tmp_path / "m").exists()


def test_merge_refuses_a_damaged_or_old_shard(tmp_path, class_of_five):
    spec, roster = class_of_five
    for k in (1, 2):
        _cli("build", spec, "--roster", roster, "--format", "json", "--shard", f"{k}/2", "--out", tmp_path / "sh")
    shard = tmp_path / "sh" / "t-shard-2-of-2.jsonl"
    shard.write_text(shard.read_text()[:-40] + "\n")                # cut inside the last paper
    result = CliRunner().invoke(main, ["merge", str(tmp_path / "sh"), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "t-shard-2-of-2.jsonl" in result.output and "line 3" in result.output
    assert "build this shard again" in result.output and "Traceback" not in result.output
    old = tmp_path / "old" / "t-shard-1-of-1.json"                  # quizgen-shard/1: one JSON document
    old.parent.mkdir()
    old.write_text(json.dumps({"format": "quizgen-shard/1", "shard": [1, 1], "papers": []}))
    result = CliRunner().invoke(main, ["merge", str(old.parent), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "earlier quizgen" in result.output
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("bad", ["0/3", "4/3", "3", "a/b"])
def test_bad_shard_is_refused(tmp_path, class_of_five, bad):
    spec, roster = class_of_five
    result = CliRunner().invoke(main, ["build", str(spec), "--roster", str(roster), "--shard", bad,
                                       "--out", str(tmp_path / "sh")])
    assert result.exit_code == 2 and "K/N" in result.output and "Traceback" not in result.output


# --- quizgen list from checked summaries --------------------------------------------------

TEMPLATE = ROOT / "question_bank" / "functions-and-derivatives" / "chain-rule-functions.yaml"


def _list(tmp_path, *args, cache="cache"):
    env = dict(os.environ, QUIZGEN_CACHE=str(tmp_path / cache) if cache != "off" else "off",
               PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "quizgen", "list", *map(str, args)], cwd=tmp_path, env=env,
                          capture_output=True, text=True)


def _own(proc) -> list[dict]:
    assert proc.returncode == 0, proc.stderr
    return [r for r in json.loads(proc.stdout) if r["origin"] == "instructor"]


def test_list_rechecks_a_template_whenever_its_file_changes(tmp_path):
    bank = tmp_path / "bank"
    bank.mkdir()
    mine = bank / "mine.yaml"
    text = TEMPLATE.read_text().replace("id: chain-rule-elementary", "id: my-chain-rule")
    mine.write_text(text)
    [row] = _own(_list(tmp_path, "--json", "--bank", bank))
    assert (row["id"], row["title"], row["difficulty"]) == ("my-chain-rule", "Chain rule with an elementary "
                                                            "outer function", 2)
    assert (tmp_path / "cache" / "templates.json").exists()
    mine.write_text(text.replace("difficulty: 2", "difficulty: 3").replace("title: Chain rule with",
                                                                          "title: Edited chain rule with"))
    [row] = _own(_list(tmp_path, "--json", "--bank", bank))
    assert row["title"].startswith("Edited") and row["difficulty"] == 3
    mine.write_text(text.replace("    op: derivative", "    op: derivativ"))     # now invalid
    proc = _list(tmp_path, "--bank", bank)
    assert proc.returncode == 2 and "mine.yaml" in proc.stderr and "derivativ" in proc.stderr
    assert "Traceback" not in proc.stderr
    mine.write_text(text)                                                        # valid again: from the cache
    [row] = _own(_list(tmp_path, "--json", "--bank", bank))
    assert row["difficulty"] == 2


def test_list_ignores_summaries_made_by_other_code(tmp_path):
    import hashlib
    key = hashlib.sha256(TEMPLATE.read_bytes()).hexdigest()
    forged = {"id": "forged", "title": "Forged", "module": "regression", "topic": "t", "difficulty": 1, "data": {}}
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "templates.json").write_text(json.dumps({"stamp": "another version",
                                                                   "templates": {key: forged}}))
    rows = json.loads(_list(tmp_path, "--json").stdout)
    assert "forged" not in {r["id"] for r in rows} and "chain-rule-elementary" in {r["id"] for r in rows}


def test_list_from_the_cache_is_the_full_listing_without_sympy(tmp_path):
    assert _list(tmp_path).returncode == 0                                      # fills the cache
    fresh = _list(tmp_path, cache="off")
    cached = _list(tmp_path)
    assert cached.returncode == 0 and cached.stdout == fresh.stdout
    probe = ("import sys, runpy\nsys.argv = ['quizgen', 'list']\ntry:\n    runpy.run_module('quizgen', "
             "run_name='__main__')\nexcept SystemExit:\n    pass\nprint(sorted(m for m in ('sympy', 'jsonschema', "
             "'yaml', 'jinja2', 'numpy') if m in sys.modules), file=sys.stderr)")
    env = dict(os.environ, QUIZGEN_CACHE=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.stdout == fresh.stdout and proc.stderr.strip().splitlines()[-1] == "[]"
    env["QUIZGEN_CACHE"] = "off"
    proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert "sympy" in proc.stderr.strip().splitlines()[-1]                      # the probe can see imports


# --- Moodle XML streamed ----------------------------------------------------------------------

def test_streamed_moodle_file_is_the_joined_document(tmp_path):
    from quizgen.export import moodle
    quizset = QuizSet(title="t", papers=[Paper("", SAMPLE)], name="s")
    [path] = get("moodle")(quizset, tmp_path)
    assert path.read_text(encoding="utf-8") == moodle.build_xml(quizset)
    assert moodle.build_xml(quizset).endswith("</quiz>\n")


def test_stream_lint_finds_what_the_whole_document_lint_finds():
    from quizgen import moodle_lint
    from quizgen.export import moodle
    pieces = list(moodle.pieces(QuizSet(title="t", papers=[Paper("", SAMPLE)], name="s")))
    questions = [text for text, is_question in pieces if is_question]
    graded = next(i for i, q in enumerate(questions) if 'fraction="100"' in q)
    questions[graded] = questions[graded].replace('fraction="100"', 'fraction="150"', 1)
    questions.append(next(q for q in questions if 'type="cloze"' in q))   # a repeated name and idnumber
    doc = "\n".join([pieces[0][0], *questions, pieces[-1][0]])
    stream = moodle_lint.Stream()
    for q in questions:
        stream.feed(q)
    whole = moodle_lint.problems(doc)
    assert any("150" in p for p in whole) and any("used by 2 questions" in p for p in whole)
    assert stream.problems() == whole


def test_targets_benchmark_reports_each_target_with_a_verdict():
    proc = subprocess.run([sys.executable, "benchmarks/targets.py", "--quick", "--only", "4,5,6,7"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for needle in ("quizgen --help", "quizgen list", "cache on", "cache off", "texts filled from"):
        assert needle in out, (needle, out)
    assert "(target < 0.5 s): met" in out or "(target < 0.5 s): NOT MET" in out
    assert "R/exams not installed here" in out or "exams2moodle deriv" in out
    assert "x faster than 130 ms (target >= 10x)" in out and "ms CPU/variant" in out


_GENERATE_PROBE = """
import json, sys
from pathlib import Path
from click.testing import CliRunner
from quizgen.cli import main
result = CliRunner().invoke(main, ["generate", "--template", "product-rule-at-point", "--count", "2",
                                   "--format", {fmt!r}, "--out", {out!r}])
assert result.exit_code == 0, result.output
if {fmt!r} == "json":
    [path] = Path({out!r}).glob("*.json")
    assert "figure" in json.dumps(json.loads(path.read_text())), "the template lost its figure"
print("matplotlib" in sys.modules)
"""


@pytest.mark.parametrize("fmt, imported", [("json", "False"), ("moodle", "True")])
def test_generate_imports_matplotlib_only_to_draw(tmp_path, fmt, imported):
    """JSON carries a figure's data, not its drawing: generating it (checks, MathML test of
    every formula included) never imports matplotlib; Moodle, which draws, does."""
    code = _GENERATE_PROBE.format(fmt=fmt, out=str(tmp_path / fmt))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == imported
