"""The quiz's form reaches Moodle: a section with ``form: multiple_choice`` is a
multichoice in Moodle as on paper, and ``quizgen build --moodle-form`` overrides it."""

from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from quizgen.cli import main

SPEC = """\
name: forms
title: Forms
seed: 5
formats: [moodle]
pdf: false
sections:
  - title: numbers
    templates: [chain-rule-power]
    questions: 1
  - title: choices
    templates: [power-and-sum-rule]
    questions: 1
    form: multiple_choice
"""


def build_types(tmp_path: Path, *args) -> dict[str, str]:
    """Build the spec; template id -> Moodle question type."""
    spec = tmp_path / "quiz.yaml"
    spec.write_text(SPEC)
    out = tmp_path / ("out" + "".join(args).replace("-", "_"))
    result = CliRunner().invoke(main, ["build", str(spec), "--out", str(out), *args],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    root = etree.parse(str(out / "forms-moodle.xml")).getroot()
    return {q.findtext("idnumber").split(":")[0]: q.get("type")
            for q in root.findall("question") if q.get("type") != "category"}


def test_section_form_reaches_moodle(tmp_path):
    types = build_types(tmp_path)
    assert types["chain-rule-power"] == "numerical"      # numeric section: the number is typed
    assert types["power-and-sum-rule"] == "multichoice"  # as on paper: a choice


@pytest.mark.parametrize("form, expected", [
    ("numeric", {"chain-rule-power": "numerical", "power-and-sum-rule": "numerical"}),
    # a numeric section prints no choices, so there are none to offer in Moodle either
    ("multichoice", {"chain-rule-power": "numerical", "power-and-sum-rule": "multichoice"}),
])
def test_build_moodle_form_overrides_the_sections(tmp_path, form, expected):
    assert build_types(tmp_path, "--moodle-form", form) == expected


def test_build_refuses_an_unknown_moodle_form(tmp_path):
    spec = tmp_path / "quiz.yaml"
    spec.write_text(SPEC)
    result = CliRunner().invoke(main, ["build", str(spec), "--moodle-form", "essay"])
    assert result.exit_code == 2 and "essay" in result.output
