"""Rosters as spreadsheets and LMSs export them: usual headers, BOMs, separators, chosen columns."""

import csv
import json

import pytest
from click.testing import CliRunner

from quizgen.cli import main
from quizgen.errors import QuizgenError
from quizgen.quiz import load_roster

SPEC = "name: t\ntitle: T\nformats: [json]\nsections:\n  - templates: [jacobian-at-point]\n    questions: 1\n"


def _write(tmp_path, text, name="class.csv", bom=False):
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


@pytest.mark.parametrize("text, expected", [
    ("id,name\ns1,Ada Lovelace\n", [("s1", "Ada Lovelace")]),
    ("Student ID,Full Name\ns1,Ada Lovelace\n", [("s1", "Ada Lovelace")]),
    ("STUDENT_ID , name \ns1 , Ada Lovelace \n", [("s1", "Ada Lovelace")]),
    ("Username,First Name,Last Name\nada,Ada,Lovelace\n", [("ada", "Ada Lovelace")]),
    ("First name,Surname,ID number,Email address\nAda,Lovelace,1815,ada@example.org\n",       # Moodle
     [("1815", "Ada Lovelace")]),
    ("Student,ID,SIS User ID,Section\n\"Lovelace, Ada\",77,s1,A\n", [("77", "Lovelace, Ada")]),  # Canvas
    ("Email;Surname\nada@example.org;Lovelace\nalan@example.org;Turing\n",
     [("ada@example.org", "Lovelace"), ("alan@example.org", "Turing")]),
    ("Matriculation Number\tName\n2301\tEmmy Noether\n", [("2301", "Emmy Noether")]),
    ("id,name\ns1,Ada\n,,\n\ns2,Alan\n", [("s1", "Ada"), ("s2", "Alan")]),
])
@pytest.mark.parametrize("bom", [False, True])
def test_usual_headers_are_understood(tmp_path, text, expected, bom):
    students = load_roster(_write(tmp_path, text, bom=bom))
    assert [(s.id, s.name) for s in students] == expected


@pytest.mark.parametrize("text, missing, found", [
    ("student,name\n", None, None),
    ("Name,Institution\nAda,Cambridge\n", "id", "'Name', 'Institution'"),
    ("Email,Institution\nada@example.org,Cambridge\n", "name", "'Email', 'Institution'"),
    ("s001,Ada Lovelace\ns002,Alan Turing\n", "id", "'s001', 'Ada Lovelace'"),
])
def test_a_roster_without_id_or_name_column_is_refused_with_its_headers(tmp_path, text, missing, found):
    if missing is None:            # "student" is a name (Canvas) but nothing is an id
        missing, found = "id", "'student', 'name'"
    roster = _write(tmp_path, text)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(_write(tmp_path, SPEC, "q.yaml")), "--roster", str(roster),
                                       "--out", str(out)])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert f"{roster}: line 1: the roster has no {missing} column (its columns: {found})" in result.output
    assert f"--{missing}-column COLUMN" in result.output
    assert not out.exists()


def test_id_and_name_columns_can_be_named(tmp_path):
    roster = _write(tmp_path, "Email,Login,Display,Given,Family\na@x.org,ada,A. L.,Ada,Lovelace\n"
                              "t@x.org,alan,A. T.,Alan,Turing\n")
    assert [(s.id, s.name) for s in load_roster(roster, "LOGIN", "display")] == [("ada", "A. L."), ("alan", "A. T.")]
    assert [s.name for s in load_roster(roster, "login", "given+family")] == ["Ada Lovelace", "Alan Turing"]
    with pytest.raises(QuizgenError) as err:
        load_roster(roster, "matric")
    assert "--id-column 'matric': the roster has no such column" in err.value.message
    assert "'Email', 'Login', 'Display', 'Given', 'Family'" in err.value.message


def test_build_uses_the_chosen_columns_on_papers_and_in_answers_csv(tmp_path):
    roster = _write(tmp_path, "Email,Login,Given,Family\na@x.org,ada,Ada,Lovelace\nt@x.org,alan,Alan,Turing\n",
                    bom=True)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(_write(tmp_path, SPEC, "q.yaml")), "--roster", str(roster),
                                       "--id-column", "login", "--name-column", "Given+Family", "--out", str(out)])
    assert result.exit_code == 0, result.output
    papers = sorted({q["paper"] for q in json.loads((out / "t.json").read_text())})
    assert papers == ["Ada Lovelace (ada)", "Alan Turing (alan)"]
    with open(out / "t-answers.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {(r["student_id"], r["student_name"]) for r in rows} == {("ada", "Ada Lovelace"), ("alan", "Alan Turing")}


def test_column_options_need_a_roster_and_an_empty_id_says_how_to_fix(tmp_path):
    spec = _write(tmp_path, SPEC, "q.yaml")
    result = CliRunner().invoke(main, ["build", str(spec), "--id-column", "email", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "need a roster" in result.output
    roster = _write(tmp_path, "id,email,name\ns1,a@x.org,Ada\n,t@x.org,Alan\n")
    result = CliRunner().invoke(main, ["build", str(spec), "--roster", str(roster), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "line 3: empty student id" in result.output and "--id-column" in result.output
    result = CliRunner().invoke(main, ["build", str(spec), "--roster", str(roster), "--id-column", "Email",
                                       "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
