"""Cloze MULTICHOICE parts: one choice list per answer of a multiple-choice question.

A multiple-choice template with several answers is a cloze question in Moodle with one
``{w:MULTICHOICE_S:=key#Correct.~%0%wrong#feedback...}`` part per answer (Moodle shuffles
the choices). ``answers[0]`` uses the question's ``choices``, another answer its own
``choices`` when it has them, else its key and its misconceptions' values. Choice texts are
the values as plain text (inside a blank TeX braces would end it): numbers rounded to the
answer's decimals, a vector ``(1.5, -2)``, a matrix ``[1, 2; 3, 4]`` (rows separated by
``;``), named numbers ``m = 1.5, c = 2``, an expression in the contract's syntax with
``^`` for powers; a categorical (``label``) answer offers all its labels. An answer with no distinct wrong value gets no part (it is graded as
numeric blanks instead).
"""

from __future__ import annotations

from ..numfmt import num
from .moodle_text import cloze_plain


def _n(x, digits) -> str:
    return num(x, 3 if digits is None else digits)


def _entry(x, digits) -> str:
    """A number rounded, an expression in the contract's syntax with ``^`` for powers."""
    return str(x).replace("**", "^") if isinstance(x, str) else _n(x, digits)


def plain_value(answer: dict, value) -> str:
    """``value`` (shaped like the answer's) as plain text for a cloze choice."""
    kind, digits = answer["kind"], answer.get("round")
    if kind == "number":
        return _n(value, digits)
    if kind in ("vector", "matrix", "expression") and isinstance(value, list):
        if value and isinstance(value[0], list):
            return "[" + "; ".join(", ".join(_entry(x, digits) for x in row) for row in value) + "]"
        return "(" + ", ".join(_entry(x, digits) for x in value) + ")"
    if kind == "named":
        return ", ".join(f"{k} = {_n(v, digits)}" for k, v in value.items())
    if kind == "point_set":
        return ", ".join("(" + ", ".join(_n(x, digits) for x in p["point"].values()) + ")"
                         for p in value)
    return str(value).replace("**", "^")


def choice_list(answer: dict, choices: list[dict] | None) -> list[tuple[bool, str, str]]:
    """(correct, plain text, feedback) for ``answer``: the correct one first, distinct texts."""
    wrong = {m["name"]: m for m in answer.get("misconceptions") or []}
    if choices:
        listed = [wrong[c["misconception"]] for c in choices
                  if not c.get("correct") and c.get("misconception") in wrong]
    else:
        listed = list(wrong.values())
    out = [(True, plain_value(answer, answer["value"]), "Correct.")]
    if answer["kind"] == "label":                 # a categorical answer: every other label
        listed += [{"value": label, "feedback": ""} for label in answer.get("labels") or []]
    for m in listed:
        text = plain_value(answer, m["value"])
        if text not in {t for _, t, _ in out}:
            out.append((False, text, m.get("feedback") or ""))
    return out


def multichoice_part(options: list[tuple[bool, str, str]], weight: int) -> str:
    """``{w:MULTICHOICE_S:=right#Correct.~%0%wrong#feedback}``, every text made blank-safe."""
    alternatives = [("=" if right else "%0%") + cloze_plain(text) + "#" + cloze_plain(feedback)
                    for right, text, feedback in options]
    return f"{{{weight}:MULTICHOICE_S:{'~'.join(alternatives)}}}"
