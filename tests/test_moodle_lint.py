"""The Moodle XML linter: clean documents pass; one planted fault per rule is caught."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from quizgen import moodle_lint
from quizgen.errors import QuizgenError
from quizgen.export import Paper, QuizSet
from quizgen.export import moodle

DATA = Path(__file__).parent / "data" / "sample_questions.json"
PNG64 = "iVBORw0KGgo="

NUMERICAL = ('<answer fraction="100"><text>{value}</text><tolerance>{tol}</tolerance></answer>')
CHOICE = '<answer fraction="{fraction}"><text>choice {n}</text></answer>'


def question(qtype="numerical", name="q1", text="<p>Find x.</p>", body="", files="",
             idnumber="id-1", extra="") -> str:
    return (f'<question type="{qtype}"><name><text>{name}</text></name>'
            f'<questiontext format="html"><text><![CDATA[{text}]]></text>{files}</questiontext>'
            f"<defaultgrade>1</defaultgrade><penalty>0.3333333</penalty>"
            f"<idnumber>{idnumber}</idnumber>{extra}{body}</question>")


def numerical(value="3.5", tol="0.01", **kw) -> str:
    return question("numerical", body=NUMERICAL.format(value=value, tol=tol), **kw)


def multichoice(*fractions, **kw) -> str:
    body = "".join(CHOICE.format(fraction=f, n=n) for n, f in enumerate(fractions))
    return question("multichoice", extra="<single>true</single>", body=body, **kw)


def cloze(text, **kw) -> str:
    return question("cloze", text=text, **kw)


def quiz(*questions, category="$course$/top/M/T/t") -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<quiz>'
            f'<question type="category"><category><text>{category}</text></category></question>'
            + "".join(questions) + "</quiz>")


def assert_fault(xml: str, *phrases: str, name: str = "q1") -> None:
    """``check`` refuses ``xml`` with one message naming ``name`` and every phrase."""
    with pytest.raises(QuizgenError) as info:
        moodle_lint.check(xml, file="out/set-moodle.xml")
    message = str(info.value)
    assert "out/set-moodle.xml" in message
    if name:
        assert f"question '{name}'" in message
    for phrase in phrases:
        assert phrase in message, message


# --- clean documents ------------------------------------------------------------------

def test_hand_written_clean_document_passes():
    xml = quiz(numerical(), multichoice("100", "0", "-33.33333", "33.33333", name="q2",
                                        idnumber="id-2"),
               cloze("<p>{1:NUMERICAL:=3.5:0.01} and {2:NM:%50%-1e-3:0.5~=2#ok}</p>",
                     name="q3", idnumber="id-3"),
               numerical(name="q4", idnumber="id-4", text='<img src="@@PLUGINFILE@@/f.png">',
                         files=f'<file name="f.png" path="/" encoding="base64">{PNG64}</file>'))
    assert moodle_lint.problems(xml) == []
    moodle_lint.check(xml)


@pytest.mark.parametrize("form", moodle.FORMS)
def test_exporter_output_passes(monkeypatch, form):
    monkeypatch.setattr(moodle, "figure_png", lambda spec: b"\x89PNG fake")
    questions = json.loads(DATA.read_text())
    xml = moodle.build_xml(QuizSet("t", [Paper("", questions)], options={"moodle_form": form}))
    assert moodle_lint.problems(xml) == []


# --- one planted fault per rule -------------------------------------------------------------

def test_not_well_formed():
    xml = quiz(numerical())
    assert_fault(xml[:-20], "not well-formed XML", name="")


def test_root_is_not_quiz():
    assert_fault("<questions/>", "root element is <questions>", name="")


@pytest.mark.parametrize("fraction", ["33.3", "45", "101", "-12", "3,5"])
def test_grade_fraction_outside_moodles_set(fraction):
    assert_fault(quiz(multichoice("100", fraction)), "grade fraction", fraction)


def test_every_allowed_fraction_passes():
    allowed = [f"{f:.5f}".rstrip("0").rstrip(".") for f in moodle_lint.ALLOWED_FRACTIONS]
    assert len(allowed) == 41 and "83.33333" in allowed and "-14.28571" in allowed
    assert moodle_lint.problems(quiz(multichoice("100", *[f for f in allowed if f != "100"]))) == []


@pytest.mark.parametrize("fractions, count", [(("0", "0", "0"), 0), (("100", "100", "0"), 2),
                                              (("50", "50", "0"), 0)])
def test_single_multichoice_needs_one_full_choice(fractions, count):
    assert_fault(quiz(multichoice(*fractions)), f"exactly one 100% choice, not {count}")


def test_multichoice_needs_two_choices():
    assert_fault(quiz(multichoice("100")), "at least two choices")


@pytest.mark.parametrize("value, phrase", [("3,5", "has a comma"), ("1,000.5", "has a comma"),
                                           ("3.5 m", "unit"), ("3.5kg", "unit"),
                                           ("1 000", "thousands separator"),
                                           ("1'000.5", "thousands separator"),
                                           ("", "is not a number")])
def test_numerical_answer_not_a_plain_number(value, phrase):
    assert_fault(quiz(numerical(value=value)), phrase)


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity", "1e999"])
def test_non_finite_number(value):
    assert_fault(quiz(numerical(value=value)), "non-finite")


def test_tolerance_with_comma():
    assert_fault(quiz(numerical(tol="0,01")), "<answer/tolerance>", "comma")


def test_cloze_number_with_comma():
    assert_fault(quiz(cloze("<p>{1:NUMERICAL:=3,5:0.01}</p>")), "comma")


def test_cloze_non_finite_number():
    assert_fault(quiz(cloze("<p>{1:NUMERICAL:=nan:0.01}</p>")), "non-finite")


def test_cloze_brace_inside_answer():
    assert_fault(quiz(cloze(r"<p>{1:SHORTANSWER:=\frac{1}{2}}</p>")), "'}' inside a cloze answer")


def test_cloze_html_inside_answer():
    assert_fault(quiz(cloze("<p>{1:NUMERICAL:=<b>3</b>:0.01}</p>")), "HTML inside a cloze answer")
    assert_fault(quiz(cloze("<p>{1:NUMERICAL:=3&nbsp;:0.01}</p>")), "HTML inside a cloze answer")


def test_cloze_type_in_wrong_case():
    assert_fault(quiz(cloze("<p>{1:numerical:=3:0.01}</p>")), "unknown type 'numerical'",
                 "write NUMERICAL")


def test_cloze_fraction_outside_moodles_set():
    assert_fault(quiz(cloze("<p>{1:NUMERICAL:%33.3%3:0.01~=4:0.1}</p>")), "grade fraction 33.3")


def test_cloze_without_blanks():
    assert_fault(quiz(cloze("<p>no blanks here</p>")), "without blanks")


def test_cloze_unterminated_blank():
    assert_fault(quiz(cloze("<p>{1:NUMERICAL:=3:0.01</p>")), "unterminated cloze blank")


def test_pluginfile_without_its_file():
    assert_fault(quiz(numerical(text='<img src="@@PLUGINFILE@@/fig%201.png">')),
                 "@@PLUGINFILE@@/fig 1.png", "no <file")


def test_file_in_another_element_does_not_count():
    files = f'<file name="f.png" path="/" encoding="base64">{PNG64}</file>'
    text = '<img src="@@PLUGINFILE@@/f.png">'
    xml = quiz(question(body=NUMERICAL.format(value=1, tol=0) + "<generalfeedback format=\"html\">"
                        f"<text><![CDATA[{text}]]></text></generalfeedback>", files=files))
    assert_fault(xml, "<generalfeedback> uses @@PLUGINFILE@@/f.png")


def test_file_not_base64():
    files = '<file name="f.png" path="/" encoding="base64">not*base64!</file>'
    assert_fault(quiz(numerical(text='<img src="@@PLUGINFILE@@/f.png">', files=files)),
                 "not valid base64")


def test_duplicate_names():
    assert_fault(quiz(numerical(), numerical(idnumber="id-2")), "name is used by 2 questions")


def test_duplicate_idnumber_in_a_category():
    assert_fault(quiz(numerical(), numerical(name="q2")), "idnumber 'id-1' is used twice",
                 name="q2")
    other_category = ('<question type="category"><category><text>$course$/top/other</text>'
                      '</category></question>')
    assert moodle_lint.problems(quiz(numerical(), other_category, numerical(name="q2"))) == []


def test_question_structure():
    assert_fault(quiz(question("essayish", body=NUMERICAL.format(value=1, tol=0))),
                 "unknown question type 'essayish'")
    assert_fault(quiz(numerical(name="")), "has no name", name="")


def test_defaultgrade_with_comma():
    xml = quiz(numerical()).replace("<defaultgrade>1</defaultgrade>",
                                    "<defaultgrade>1,5</defaultgrade>")
    assert_fault(xml, "<defaultgrade>", "comma")


def test_many_problems_are_summarised():
    xml = quiz(*[numerical(value="x", name=f"q{i}", idnumber=f"id{i}") for i in range(15)])
    with pytest.raises(QuizgenError) as info:
        moodle_lint.check(xml)
    assert "... and 5 more" in str(info.value)
    assert len(re.findall(r"^  - question", str(info.value), re.M)) == 10


# --- no wrong answer within tolerance of a right one ----------------------------------------

WRONG = ('<answer fraction="0"><text>{value}</text><tolerance>{tol}</tolerance>'
         '<feedback format="html"><text>missing inner derivative</text></feedback></answer>')


def numerical_with_wrong(key, key_tol, wrong, wrong_tol, **kw) -> str:
    body = NUMERICAL.format(value=key, tol=key_tol) + WRONG.format(value=wrong, tol=wrong_tol)
    return question("numerical", body=body, **kw)


@pytest.mark.parametrize("wrong, wrong_tol", [("3.505", "0.001"),    # inside the key's tolerance
                                              ("3.515", "0.02"),     # its own tolerance holds the key
                                              ("3.51", "0.001")])    # on the inclusive edge
def test_numerical_wrong_answer_within_tolerance(wrong, wrong_tol):
    assert_fault(quiz(numerical_with_wrong("3.5", "0.01", wrong, wrong_tol)),
                 f"the 0% answer {wrong} is within tolerance", "right answer 3.5")


def test_numerical_wrong_answer_beyond_tolerance_passes():
    assert moodle_lint.problems(quiz(numerical_with_wrong("3.5", "0.01", "3.5101", "0.01"))) == []


def test_cloze_wrong_alternative_within_tolerance():
    assert_fault(quiz(cloze("<p>{1:NUMERICAL:=4:0.005~%0%4.004:0.005#Missing factor 2}</p>")),
                 "the 0% answer 4.004 is within tolerance", "right answer 4")
    clean = quiz(cloze("<p>{1:NUMERICAL:=4:0.005~%0%2:0.005#Missing factor 2}</p>"))
    assert moodle_lint.problems(clean) == []


def test_bank_with_misconception_answers_passes(monkeypatch):
    """The real bank (one variant each) has misconception 0 % answers, and none clashes."""
    from quizgen.pipeline import generate_questions
    monkeypatch.setattr(moodle, "figure_png", lambda spec: b"\x89PNG fake")
    questions = generate_questions(count=1, seed=3)
    xml = moodle.build_xml(QuizSet("t", [Paper("", questions)]))
    assert 'fraction="0"' in xml and "~%0%" in xml       # the rule has something to check
    assert moodle_lint.problems(xml) == []
