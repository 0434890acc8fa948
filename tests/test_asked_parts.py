"""Everything a prompt asks is graded (issue 11).

``ASKED`` lists, for every template of the bank, each asked sentence of its prompt (by the
first words of the sentence) and the answers that grade it. A sentence is asked when it
ends with ``?``, is a lettered part ``(a)``, ``(b)`` ..., or contains an instruction verb
(find, compute, give, classify, explain, compare ...). A prompt that asks something new,
or a template added to the bank, fails here until its question is an answer (or goes).
Every answer must be asked for by some sentence.
"""

from __future__ import annotations

import re

import pytest

from quizgen.bank import load_bank

ASK = re.compile(r"\b(find|compute|give|calculate|classify|estimate|determine|use|take|apply|write down|"
                 r"check|show|explain|interpret|decide|compare|minimise|maximise|fit|improve|approximate|"
                 r"state|sketch|verify|describe|justify|hence|solve|prove|discuss)\b", re.I)
PART = re.compile(r"\([a-h]\)\s")
SENTENCE_END = re.compile(r"(?:(?<=[.?!])|(?<=[.?!]\)))\s+(?=[A-Z(])")

ASKED = {
    "average-rate-of-change": [("Find its average", ["v"])],
    "chain-rule-elementary": [("Find M.", ["df"])],
    "chain-rule-matrix-form": [("Use the chain", ["dF"])],
    "chain-rule-power": [("Use the chain", ["d"]), ("Give your answer", ["d"])],
    "chain-rule-symbolic": [("Use the multivariate", ["dF"])],
    "chain-rule-two-intermediate": [("Use the multivariate", ["dF"]), ("Give your answer", ["dF"])],
    "chi-squared-compare-models": [("Compute M for", ["chiA", "chiB"]), ("Which model describes", ["better"])],
    "chi-squared-of-line": [("Compute the goodness", ["chi2"])],
    "classify-stationary-point-quadratic": [("(a) Find the", ["H"]), ("(b) Find the", ["xs"]),
                                            ("(c) Use M", ["type"])],
    "classify-stationary-points-cubic": [("(a) Find the", ["HP", "HQ"]), ("(b) Classify each", ["typeP", "typeQ"])],
    "derivative-exp-log-trig": [("Find M.", ["df"])],
    "derivative-from-first-principles": [("find M.", ["df"])],
    "difference-quotient-limit": [("(a) Compute the", ["dq"]), ("Give it to", ["dq"]), ("(b) The derivative", ["d"]),
                                  ("Find M.", ["d"])],
    "directional-derivative": [("Find the rate", ["D"]), ("Give it to", ["D"])],
    "fit-gradient-descent-decay": [("Fit it to", ["p2"]), ("Find M after", ["p2"])],
    "fit-gradient-descent-gaussian": [("Fit it to", ["p2"]), ("Find M after", ["p2"])],
    "fit-gradient-descent-line": [("Fit the line", ["p2"]), ("Find M to", ["p2"])],
    "gradient-at-point": [("Find the gradient", ["grad"]), ("Give the components", ["grad"])],
    "gradient-descent-3d": [("Starting from M,", ["p2"]), ("Find M (each", ["p2"])],
    "gradient-descent-logistic-loss": [("Starting from M,", ["p2"]), ("Find M to", ["p2"])],
    "gradient-descent-two-steps": [("Minimise M by", ["p2"]), ("Find M after", ["p2"])],
    "gradient-three-variables": [("Find the gradient", ["grad"]), ("Give the components", ["grad"])],
    "hessian-at-point": [("Find the Hessian", ["H"]), ("Give the entries", ["H"])],
    "hessian-three-variables": [("Find the M", ["H"])],
    "instantaneous-rate-of-change": [("(a) At what", ["rate"]), ("That is, find", ["rate"]),
                                     ("(b) How large", ["size"]), ("Find M.", ["size"]),
                                     ("Give both answers", ["rate", "size"])],
    "rate-of-change-along-path": [("At what rate", ["D"]), ("That is, find", ["D"])],
    "steepest-ascent-direction": [("In which direction", ["u"]), ("Give the direction", ["u"])],
    "jacobian-at-point": [("Find the Jacobian", ["J"]), ("Give each entry", ["J"])],
    "jacobian-symbolic": [("(a) Find the", ["J"]), ("(b) What is", ["size"])],
    "lagrange-linear-on-ellipse": [("Find the largest", ["pts", "fmax"]), ("Use a Lagrange", ["pts"]),
                                   ("For each constrained", ["pts", "fmax"])],
    "lagrange-quadratic-on-circle": [("Find the constrained", ["pts"]), ("For each point", ["pts"])],
    "lagrange-three-variables": [("Minimise M subject", ["pts"]), ("Use M with", ["pts"]),
                                 ("Give the constrained", ["pts"])],
    "least-squares-quadratic": [("Fit the model", ["fit"]), ("Give M and", ["fit"])],
    "least-squares-sqrt-model": [("Fit the model", ["fit"]), ("Give M and", ["fit"])],
    "line-fit-unweighted": [("Fit the straight", ["fit"]), ("Give the slope", ["fit"])],
    "linearisation-at-point": [("(a) Find M.", ["slope"]), ("(b) Find the", ["L"]), ("(c) Use M", ["est"]),
                               ("Give numbers to", ["slope", "est"])],
    "maclaurin-coefficients": [("Find the coefficients", ["c"]), ("Give each to", ["c"])],
    "maclaurin-product-coefficients": [("Find M (give", ["c"])],
    "mixed-partial-derivative": [("Find the mixed", ["fxy"])],
    "multivariate-taylor-evaluate": [("approximate M at", ["approx"]), ("Give M to", ["approx"])],
    "multivariate-taylor-quadratic": [("(a) Find the", ["grad"]), ("(b) Find the", ["H"]), ("(c) Write down", ["T2"])],
    "network-backprop-hidden-layer": [("Use backpropagation to", ["dW1", "db1"])],
    "network-backprop-output-layer": [("Find M (a", ["dW2", "db2"])],
    "network-forward-pass": [("For the input", ["out", "hidden"]), ("(a) the output", ["out"]),
                             ("(b) the activations", ["hidden"]), ("Give all values", ["out", "hidden"])],
    "neuron-backprop": [("Find the gradient", ["dCdw", "dCdb"]), ("Give them to", ["dCdw", "dCdb"])],
    "neuron-two-inputs-tanh": [("Find its output", ["a"])],
    "newton-optimise-quadratic": [("Take one step", ["p1"]), ("Find M (each", ["p1"])],
    "newton-optimise-two-steps": [("Apply Newton's method", ["p2"]), ("Find M (each", ["p2"])],
    "newton-raphson-nth-root": [("Newton-Raphson approximates M", ["x3"]), ("Find the third", ["x3"])],
    "newton-raphson-root": [("Find it with", ["root"]), ("Give M to", ["root"])],
    "newton-raphson-steps": [("Apply the Newton-Raphson", ["x2"]), ("Find M, the", ["x2"])],
    "partial-derivatives-at-point": [("Find the partial", ["fx", "fy"]), ("Give them to", ["fx", "fy"])],
    "power-and-sum-rule": [("Find the slope", ["d"]), ("Give your answer", ["d"])],
    "product-rule-at-point": [("Use the product", ["d"]), ("Give your answer", ["d"])],
    "quotient-rule-at-point": [("Use the quotient", ["d"]), ("Give your answer", ["d"])],
    "root-approximation": [("(a) Find the", ["c"]), ("(b) Estimate M", ["lin"]), ("(c) Improve the", ["quad"]),
                           ("(d) Compute M", ["exact"]), ("Give the values", ["lin", "quad", "exact"])],
    "second-derivative-at-point": [("(a) Find the", ["d2"]), ("(b) Is the", ["shape"])],
    "sigmoid-neuron-forward": [("Find the activation", ["a"])],
    "tangent-plane-approximation": [("(a) Find the", ["grad"]), ("(b) Use the", ["est"]), ("(c) Compute M", ["exact"]),
                                    ("Give numbers to", ["grad", "est", "exact"])],
    "taylor-approximation-error": [("(a) Use the", ["approx"]), ("(b) Compute the", ["exact"]),
                                   ("Give your answers", ["approx", "exact"])],
    "taylor-coefficients-about-point": [("Find M.", ["c"]), ("Give each to", ["c"])],
    "total-derivative-explicit-time": [("At what rate", ["dCdt"]), ("That is, find", ["dCdt"])],
    "total-derivative-three-variables": [("Find the total", ["dfdt"]), ("Give an exact", ["dfdt"])],
    "weighted-line-fit": [("Fit the line", ["fit"]), ("Give M and", ["fit"])],
}


def asked_sentences(prompt: str) -> list[str]:
    """The asked sentences of a template's prompt, maths written ``M``, Jinja ``J``.

    Read from the template text (both branches of an ``{% if %}``), so every variant's
    questions are covered; display maths and blank lines end a sentence.
    """
    text = re.sub(r"\{\{.*?\}\}", "J", prompt, flags=re.S)
    text = re.sub(r"\{%.*?%\}|\{#.*?#\}", " ", text, flags=re.S)
    sentences = []
    for piece in re.split(r"\$\$.*?\$\$|\n\s*\n", text, flags=re.S):
        piece = re.sub(r"\s+", " ", re.sub(r"\$.*?\$", "M", piece, flags=re.S)).strip()
        sentences += [s for s in SENTENCE_END.split(piece)
                      if s and (s.endswith("?") or PART.match(s) or ASK.search(s))]
    return sentences


def unanswered(prompt: str, answers: list[str], table: list[tuple[str, list[str]]]) -> list[str]:
    """What is wrong between a prompt's asked sentences and the table's list for it."""
    found = asked_sentences(prompt)
    problems = [f"asked but not in the table: {s!r}" for s in found[len(table):]]
    problems += [f"in the table but not asked: {p!r}" for p, _ in table[len(found):]]
    for sentence, (prefix, names) in zip(found, table):
        if not sentence.startswith(prefix):
            problems.append(f"sentence {sentence!r} is not the table's {prefix!r}")
        if not names or set(names) - set(answers):
            problems.append(f"{prefix!r} is graded by {names}, answers are {answers}")
    graded = {n for _, names in table for n in names}
    problems += [f"answer {a!r} is never asked for" for a in answers if a not in graded]
    return problems


BANK = {t.id: t for t in load_bank()}


def test_the_table_lists_every_template_of_the_bank():
    assert sorted(BANK) == sorted(ASKED)


@pytest.mark.parametrize("template", sorted(BANK))
def test_every_asked_sentence_is_an_answer(template):
    tpl = BANK[template]
    assert unanswered(tpl.data["prompt"], list(tpl.answers), ASKED.get(template, [])) == []


def test_a_question_nothing_grades_is_caught():
    tpl = BANK["second-derivative-at-point"]
    table = ASKED["second-derivative-at-point"]
    for extra in ["Is it a local minimum or a local maximum?", "Explain your reasoning.",
                  "What does this mean for the tangent line?", "Interpret the sign of f''."]:
        problems = unanswered(tpl.data["prompt"] + "\n" + extra + "\n", list(tpl.answers), table)
        assert problems == [f"asked but not in the table: {extra!r}"]
    assert unanswered(tpl.data["prompt"], list(tpl.answers), table[:1]) == [
        "asked but not in the table: '(b) Is the graph of M concave up or concave down near M?'",
        "answer 'shape' is never asked for"]


def test_sentences_are_read_the_way_a_student_reads_them():
    prompt = ("Let $$f(x) = {{ f }}.$$\n\n(a) Find $f'(1)$. The slope is positive there.\n\n"
              "(b) the value $f(1)$, and\n\nWhat is its size? (It is a number.) Give it to 2 decimal places.")
    assert asked_sentences(prompt) == ["(a) Find M.", "(b) the value M, and", "What is its size?",
                                       "Give it to 2 decimal places."]
