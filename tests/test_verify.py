"""The independent checks accept the engine's answers and reject planted wrong ones."""

import copy
import json
from pathlib import Path

import pytest

from quizgen.errors import VerificationError
from quizgen.solve import solve_requests
from quizgen.verify import verify_answer

REQUESTS = json.loads((Path(__file__).parent / "data" / "requests.json").read_text())


def _perturb(value):
    if isinstance(value, dict):
        k = next(iter(value))
        return {**value, k: _perturb(value[k])}
    if isinstance(value, list):
        return [_perturb(value[0])] + value[1:]
    if isinstance(value, str):
        return value + " + 1/100"
    return value + 0.01 * (abs(value) + 1)


@pytest.fixture(scope="module")
def solved():
    items, failed = solve_requests(copy.deepcopy(REQUESTS))
    assert failed == 0, [i["error"] for i in items if "error" in i]
    return items


def test_solve_covers_every_operation(solved):
    from quizgen.engine import load_all
    assert {r["op"] for r in solved} == set(load_all())


@pytest.mark.parametrize("index", range(len(REQUESTS)))
def test_planted_wrong_answer_is_caught(solved, index):
    r = solved[index]
    verify_answer(r["op"], r["inputs"], r["value"])          # the real key passes
    with pytest.raises(VerificationError):
        verify_answer(r["op"], r["inputs"], _perturb(r["value"]))


def test_lagrange_check_catches_a_missing_point(solved):
    r = next(r for r in solved if r["op"] == "lagrange_critical_points")
    with pytest.raises(VerificationError):
        verify_answer(r["op"], r["inputs"], r["value"][1:])


def test_pipeline_reports_template_seed_and_both_values(monkeypatch, tmp_path):
    """A wrong engine result inside generation is an error naming template and seed."""
    from quizgen import engine
    from quizgen.bank import load_template
    from quizgen.pipeline import generate_variant
    tpl = load_template(Path(__file__).parent.parent / "question_bank" / "multivariate-calculus" / "jacobian.yaml")
    real = engine.OPERATIONS["jacobian"]

    def wrong(inputs):
        result = real.fn(inputs)
        result.value[0][0] = result.value[0][0] + 1
        return result
    monkeypatch.setitem(engine.OPERATIONS, "jacobian", real.__class__(real.name, wrong, real.kind, real.required, real.optional))
    with pytest.raises(VerificationError) as info:
        generate_variant(tpl, 12345, 1)
    msg = str(info.value)
    assert "jacobian-at-point" in msg and "12345" in msg and "independent check gave" in msg
