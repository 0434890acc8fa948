"""The whole bank: every template generates and verifies over many seeds; distractors are
distinct, wrong and labelled; every syllabus item is covered."""

import os
from collections import defaultdict

import pytest

from quizgen.bank import MODULES, load_bank
from quizgen.misconceptions import MISCONCEPTIONS
from quizgen.pipeline import generate_tasks

SAMPLES = int(os.environ.get("QUIZGEN_BANK_SAMPLES", "200"))
BANK = load_bank()


@pytest.fixture(scope="module")
def generated():
    """SAMPLES verified variants of every template (two worker processes)."""
    tasks = [(t, 2026, k, ()) for t in BANK for k in range(1, SAMPLES + 1)]
    questions = generate_tasks(tasks, jobs=2)
    by_template = defaultdict(list)
    for q in questions:
        by_template[q["template"]].append(q)
    return by_template


def test_bank_size_and_modules():
    per_module = defaultdict(int)
    for t in BANK:
        per_module[t.module] += 1
    assert set(per_module) == set(MODULES)
    assert len(BANK) >= 48, f"only {len(BANK)} templates"
    assert min(per_module.values()) >= 6, dict(per_module)
    assert sum(bool(t.data.get("multiple_choice")) for t in BANK) * 2 >= len(BANK)


@pytest.mark.parametrize("tpl", BANK, ids=lambda t: t.id)
def test_template_generates_verified_distinct_variants(generated, tpl):
    questions = generated[tpl.id]
    assert len(questions) == SAMPLES
    distinct = {repr(sorted(q["parameters"].items())) for q in questions}
    assert len(distinct) >= min(100, SAMPLES) * 0.9 if SAMPLES >= 100 else len(distinct) >= SAMPLES // 2
    for q in questions:
        assert q["prompt"].strip() and q["solution"].strip()
        assert "{{" not in q["prompt"] and "{%" not in q["solution"]
        for a in q["answers"]:
            assert a["provenance"]["op"] == tpl.answers[a["name"]]["op"]


@pytest.mark.parametrize("tpl", [t for t in BANK if t.data.get("multiple_choice")], ids=lambda t: t.id)
def test_distractors_distinct_wrong_and_labelled(generated, tpl):
    for q in generated[tpl.id]:
        choices = q["choices"]
        assert choices and sum(c["correct"] for c in choices) == 1
        assert len({c["text"] for c in choices}) == len(choices)
        right = next(c for c in choices if c["correct"])
        assert right["provenance"] == q["answers"][0]["provenance"] or right["provenance"] in \
            [a["provenance"] for a in q["answers"]]
        for c in choices:
            if not c["correct"]:
                assert c["misconception"] in MISCONCEPTIONS and c["feedback"]


# each syllabus item -> a predicate on templates
SYLLABUS = {
    "rate of change": lambda t: t.module == "functions-and-derivatives" and _ops(t) & {"evaluate", "difference_quotient", "derivative"},
    "first principles": lambda t: "difference_quotient" in _ops(t),
    "sum/power rule": lambda t: _tagged(t, "power-rule", "sum-rule"),
    "product rule": lambda t: _tagged(t, "product-rule"),
    "chain rule (1-D)": lambda t: t.module == "functions-and-derivatives" and _tagged(t, "chain-rule"),
    "quotient rule": lambda t: _tagged(t, "quotient-rule"),
    "exp/log/trig": lambda t: _tagged(t, "exp", "log", "trig"),
    "second derivative": lambda t: any(a.get("order", 1) == 2 for a in t.answers.values() if a["op"] == "derivative"),
    "partial derivatives": lambda t: "partial_derivative" in _ops(t),
    "total derivative": lambda t: t.module == "multivariate-calculus" and "chain_rule" in _ops(t),
    "gradient": lambda t: "gradient" in _ops(t),
    "jacobian symbolic": lambda t: any(a["op"] == "jacobian" and "at" not in a for a in t.answers.values()),
    "jacobian at point": lambda t: any(a["op"] == "jacobian" and "at" in a for a in t.answers.values()),
    "hessian": lambda t: "hessian" in _ops(t),
    "classify stationary point": lambda t: _tagged(t, "stationary-point", "classification"),
    "dF/dt chain rule": lambda t: t.module == "chain-rule-and-networks" and "chain_rule" in _ops(t),
    "matrix chain rule": lambda t: any(a["op"] == "chain_rule" and "variables" in a for a in t.answers.values()),
    "sigmoid neuron": lambda t: "forward" in _ops(t) and _tagged(t, "neuron"),
    "network forward pass": lambda t: "forward" in _ops(t),
    "backprop dC/dw": lambda t: any(a["op"] == "backprop" and a["wrt"]["param"] == "weights" for a in t.answers.values()),
    "backprop dC/db": lambda t: any(a["op"] == "backprop" and a["wrt"]["param"] == "biases" for a in t.answers.values()),
    "taylor coefficients": lambda t: "taylor_coefficients" in _ops(t),
    "truncated series error": lambda t: "taylor_evaluate" in _ops(t) and "evaluate" in _ops(t),
    "linearisation": lambda t: any(a["op"] in ("taylor_polynomial", "taylor_evaluate") and int(a["order"]) == 1
                                   for a in t.answers.values()),
    "multivariate 2nd-order taylor": lambda t: any(a["op"] in ("taylor_polynomial", "taylor_evaluate")
                                                   and int(a["order"]) == 2 and len(a.get("variables", [])) >= 2
                                                   for a in t.answers.values()),
    "newton-raphson": lambda t: "newton_raphson" in _ops(t),
    "gradient descent": lambda t: "gradient_descent" in _ops(t),
    "newton with hessian": lambda t: "newton_optimise" in _ops(t),
    "lagrange multipliers": lambda t: "lagrange_critical_points" in _ops(t),
    "chi-squared": lambda t: "chi_squared" in _ops(t),
    "line fit unweighted": lambda t: any(a["op"] == "linear_regression" and "sigma" not in _data_of(t, a)
                                         for a in t.answers.values()),
    "line fit weighted": lambda t: any(a["op"] == "linear_regression" and "sigma" in _data_of(t, a)
                                       for a in t.answers.values()),
    "least squares linear model": lambda t: "least_squares" in _ops(t),
    "gradient descent on chi-squared": lambda t: "fit_gradient_descent" in _ops(t),
}


def _ops(t):
    return {a["op"] for a in t.answers.values()}


def _tagged(t, *tags):
    return bool(set(tags) & set(t.data.get("tags") or []))


def _data_of(t, a):
    if "data" in a:
        return t.parameters[a["data"]]["dataset"]
    return a


@pytest.mark.parametrize("item", sorted(SYLLABUS))
def test_syllabus_item_is_covered(item):
    covering = [t.id for t in BANK if SYLLABUS[item](t)]
    assert covering, f"no template covers {item!r}"


def test_every_engine_operation_has_a_template():
    from quizgen.engine import load_all
    used = {a["op"] for t in BANK for a in t.answers.values()}
    assert set(load_all()) - used == set()


# ---- keys a student can trust ---------------------------------------------------------

NUMERIC_KINDS = ("number", "vector", "matrix", "named", "point_set")
NUMBER = r"-?\d+(?:\.\d+)?"


def _numbers_of(value, kind):
    """The numbers of a value, in display order."""
    if kind == "named":
        return [float(v) for v in value.values()]
    if kind == "point_set":
        return [float(v) for p in value for v in p["point"].values()]
    if isinstance(value, list):
        return [x for v in value for x in _numbers_of(v, "vector")]
    return [float(value)]


def _displayed_numbers(display, kind):
    """Numbers a student reads in the displayed key (names and TeX commands left out)."""
    import re
    if kind == "named":
        return [float(part.split("=")[-1]) for part in display.split(r",\quad")]
    return [float(n) for n in re.findall(rf"(?<![\w^_{{]){NUMBER}", display.replace(r"\quad", " "))]


def _accepted(x, value, tol):
    """Inside the tolerance with room to spare: a response on the boundary is at the mercy of
    the float comparison of whoever grades it (Moodle, the practice page)."""
    limit = max(tol.get("abs", 0.0), tol.get("rel", 0.0) * abs(value))
    return abs(x - value) < limit * (1 - 1e-6)


def _correct_roundings(value, digits):
    """Half-up, half-even and half-down roundings of the value at the asked decimals and finer."""
    from decimal import ROUND_HALF_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
    exact = Decimal(repr(value))
    return {float(exact.quantize(Decimal(1).scaleb(-d), rounding=mode))
            for d in range(digits, digits + 4) for mode in (ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_HALF_DOWN)}


@pytest.mark.parametrize("tpl", BANK, ids=lambda t: t.id)
def test_displayed_key_and_every_correct_rounding_are_accepted(generated, tpl):
    """The key a student reads is the value rounded half-up, and its tolerance accepts it
    and every correct rounding of the value (a tolerance is never tighter than half a unit)."""
    from decimal import ROUND_HALF_UP, Decimal
    for q in generated[tpl.id]:
        for a in q["answers"]:
            if a["kind"] not in NUMERIC_KINDS:
                continue
            values, shown = _numbers_of(a["value"], a["kind"]), _displayed_numbers(a["display"], a["kind"])
            assert len(values) == len(shown), (a["display"], a["value"])
            for v, s in zip(values, shown):
                half_up = float(Decimal(repr(v)).quantize(Decimal(1).scaleb(-a["round"]), rounding=ROUND_HALF_UP))
                tie = abs(abs(v) * 10 ** a["round"] % 1 - 0.5) < 1e-6
                assert s == half_up or tie and abs(s - v) <= 0.5 * 10 ** -a["round"] + 1e-9, (q["seed"], a["name"], v, s)
                assert _accepted(s, v, a["tolerance"]), (q["seed"], a["name"], v, s, a["tolerance"])
                for r in _correct_roundings(v, a["round"]):
                    assert _accepted(r, v, a["tolerance"]), (q["seed"], a["name"], v, r, a["tolerance"])


@pytest.mark.parametrize("tpl", BANK, ids=lambda t: t.id)
def test_wrong_answers_are_wrong_for_every_part_and_plausible(generated, tpl):
    """No distractor or misconception value is accepted as the key of any part of the
    question, and none is absurdly far from the question's answers."""
    for q in generated[tpl.id]:
        keys = [a for a in q["answers"] if a["kind"] in NUMERIC_KINDS]
        size = max([abs(v) for a in keys for v in _numbers_of(a["value"], a["kind"])] + [1.0])
        for a in q["answers"]:
            if a["kind"] not in NUMERIC_KINDS:
                continue
            for m in a["misconceptions"]:
                wrong = _numbers_of(m["value"], a["kind"])
                assert max(abs(w) for w in wrong) <= 100 * size, (q["seed"], m)
                for k in keys:
                    key = _numbers_of(k["value"], k["kind"])
                    if len(key) == len(wrong):
                        assert not all(_accepted(w, v, k["tolerance"]) for w, v in zip(wrong, key)), \
                            (q["seed"], a["name"], m["name"], "equals the key of", k["name"])


def test_nonzero_answers_never_display_as_zero(generated):
    for t in BANK:
        nonzero = {n for n, spec in t.answers.items() if spec.get("nonzero")}
        for q in generated[t.id]:
            for a in q["answers"]:
                if a["name"] in nonzero:
                    assert any(s != 0 for s in _displayed_numbers(a["display"], a["kind"])), (t.id, q["seed"])
