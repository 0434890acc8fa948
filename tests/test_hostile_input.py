"""Hostile and careless input: every case is refused with exit code 2, one message naming the
file, the place and the fix, no traceback, nothing written, and in a few seconds.

Each case is one template file run through the real CLI (`quizgen generate`, which validates
first) in its own process, so a hang or a memory blow-up shows as a timeout, not a stuck test
run. The cases run concurrently; each test then checks one of them.
"""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASE = """id: hostile
title: Hostile
module: functions-and-derivatives
topic: hostile
difficulty: 1
parameters:
  a: {int: [1, 5]}
define:
  f: "a*x**2"
answers:
  d:
    op: derivative
    expression: f
    variable: x
    at: {x: 1}
prompt: |
  Differentiate $f(x) = {{ f }}$ at 1.
"""
DERIVATIVE = "op: derivative\n    expression: f\n    variable: x\n    at: {x: 1}"


def _answer(text: str) -> str:
    return BASE.replace(DERIVATIVE, text)


def _alias_bomb() -> str:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(9):
        prev, name = chr(97 + i), chr(98 + i)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


# name: (template text, substrings the message must contain)
CASES = {
    # YAML shape
    "deep-lists": ("id: x\nbad: " + "[" * 5000 + "]" * 5000 + "\n", ["line 2", "nested more than 40 levels"]),
    "deep-mappings": ("id: x\nbad:\n" + "".join(" " * i + "k:\n" for i in range(1200)), ["nested more than 40"]),
    "alias-bomb": (_alias_bomb() + BASE.replace("id: hostile", "id: hostile\nextra: *j"), ["aliases"]),
    "alias-in-define": (_alias_bomb() + BASE.replace('  f: "a*x**2"', "  f: *j"), ["aliases"]),
    "huge-file": ("id: x\n" + "# padding\n" * 120_000, ["1,000,000", "split"]),
    "list-as-key": (BASE.replace("define:\n", "define:\n  ? [a, b]\n  : x\n"), ["line 9", "plain text"]),
    "number-as-name": (BASE.replace("define:\n", "define:\n  1: x\n"), ["line 8", "define"]),
    "date-difficulty": (BASE.replace("difficulty: 1", "difficulty: 2024-01-01"), ["line 5", "date", "quote"]),
    "list-as-expression": (BASE.replace('"a*x**2"', "[1, 2]"), ["line 9 (define.f)", "a text or a number"]),
    "mapping-as-expression": (BASE.replace("expression: f", "expression: {a: 1}"),
                              ["answers.d.expression", "mapping"]),
    # expressions
    "power-tower": (BASE.replace('"a*x**2"', '"9**9**9**9*x"'), ["define.f", "exponent", "1,000"]),
    "huge-power": (BASE.replace('"a*x**2"', '"x**(10**8)"'), ["define.f", "exponent"]),
    "big-number-power": (BASE.replace('"a*x**2"', '"(2**100000)**1000*x"'), ["define.f", "exponent"]),
    "long-expression": (BASE.replace('"a*x**2"', '"' + "+".join(f"{i}*x" for i in range(30000)) + '"'),
                        ["define.f", "4,000"]),
    "many-parentheses": (BASE.replace('"a*x**2"', '"' + "(" * 20000 + "x" + ")" * 20000 + '"'), ["define.f"]),
    "nested-parentheses": (BASE.replace('"a*x**2"', '"' + "(" * 300 + "x" + ")" * 300 + '"'), ["define.f"]),
    # parameters
    "range-1e18": (BASE.replace("{int: [1, 5]}", "{int: [1, 1000000000000000000]}"),
                   ["parameters.a", "1,000,000 are allowed"]),
    "tiny-step": (BASE.replace("{int: [1, 5]}", "{decimal: [0, 1], step: 0.000000000001}"), ["parameters.a"]),
    "fractional-int-bounds": (BASE.replace("{int: [1, 5]}", "{int: [2.2, 2.8]}"), ["parameters.a", "whole"]),
    "reversed-range": (BASE.replace("{int: [1, 5]}", "{int: [5, 1]}"), ["parameters.a", "[1, 5]"]),
    "billion-points": (BASE.replace("{int: [1, 5]}", "{int: [1, 5]}\n  D: {dataset: {x: {linspace: [0, 1, 1000000000]},"
                                                     " model: 'a*x'}}"), ["parameters.D", "10,000"]),
    # answers
    "taylor-order": (_answer("op: taylor_polynomial\n    expression: f\n    variables: [x]\n    about: {x: 0}\n"
                             "    order: 100000000"), ["answers.d.order", "between 1 and 12"]),
    "order-from-parameter": (_answer("op: taylor_polynomial\n    expression: f\n    variables: [x]\n"
                                     "    about: {x: 0}\n    order: n").replace(
                                         "{int: [1, 5]}", "{int: [1, 5]}\n  n: {choice: [100000000]}"),
                             ["answers.d.order", "between 1 and 12"]),
    "newton-steps": (_answer("op: newton_raphson\n    expression: f - 2\n    variable: x\n    start: 1\n"
                             "    steps: 100000000"), ["answers.d.steps", "1,000"]),
    "fractional-steps": (_answer("op: newton_raphson\n    expression: f - 2\n    variable: x\n    start: 1\n"
                                 "    steps: 2.5"), ["answers.d.steps", "whole number"]),
    "negative-learning-rate": (_answer("op: gradient_descent\n    expression: f\n    variables: [x]\n"
                                       "    start: {x: 1}\n    learning_rate: -0.1\n    steps: 3"),
                               ["answers.d.learning_rate", "positive"]),
    "never-defined": (BASE.replace('"a*x**2"', '"log(x - 5)"'), ["300 tries", "answer d", "not defined"]),
    "always-zero": (BASE.replace("at: {x: 1}", "at: {x: 0}\n    nonzero: true"), ["300 tries", "zero"]),
    # figures
    "figure-unknown-name": (BASE + "figure:\n  kind: function\n  expression: zz\n", ["figure.expression", "'zz'"]),
    "figure-unknown-point": (BASE + "figure:\n  kind: tangent\n  expression: f\n  at: q\n", ["figure.at", "'q'"]),
    "figure-no-dataset": (BASE + "figure:\n  kind: data_fit\n  data: nope\n  fit: zz\n", ["figure.data"]),
    "figure-steps": (BASE + "figure:\n  kind: newton\n  expression: f\n  start: 1\n  steps: 100000000\n",
                     ["figure.steps", "50"]),
    # template text (the Jinja sandbox)
    "jinja-loop": (BASE.replace("at 1.", "{% for i in range(100000) %}{% for j in range(100000) %}x"
                                "{% endfor %}{% endfor %}"), ["prompt", "sandbox"]),
    "jinja-empty-loop": (BASE.replace("at 1.", "{% for i in range(100000) %}{% for j in range(100000) %}"
                                      "{% endfor %}{% endfor %}"), ["prompt", "2 s"]),
    "jinja-repeat": (BASE.replace("at 1.", "{{ 'x' * 100000000 }}"), ["prompt", "repetition"]),
    "jinja-repeat-twice": (BASE.replace("at 1.", "{% set s = 'xxxxxxxxxx' * 10000 %}{{ s * 10000 }}"),
                           ["prompt", "repetition"]),
    "jinja-concat": (BASE.replace("at 1.", "{% set a = 'x' * 100000 %}{% set b = a ~ a %}{% set c = b ~ b %}"
                                  "{{ c ~ c }}"), ["prompt", "200,000"]),
    "jinja-power": (BASE.replace("at 1.", "{{ 9 ** 999999 }}"), ["prompt", "exponent"]),
    "jinja-center": (BASE.replace("at 1.", "{{ 'x'.center(1000000000) }}"), ["prompt", "sandbox"]),
    "jinja-format": (BASE.replace("at 1.", "{{ '{:>999999999}'.format(1) }}"), ["prompt", "sandbox"]),
    "jinja-recursion": (BASE.replace("at 1.", "{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}"),
                        ["prompt", "macro"]),
    "jinja-class-escape": (BASE.replace("at 1.", "{{ ''.__class__.__mro__[1].__subclasses__() }}"),
                           ["prompt", "sandbox"]),
}


def _run(name: str, text: str | bytes, tmp: Path) -> dict:
    folder = tmp / name
    folder.mkdir()
    path = folder / "t.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    out = folder / "out"
    cmd = [sys.executable, "-m", "quizgen", "generate", "--bank", str(path), "--all", "--count", "2",
           "--out", str(out), "--format", "json,html"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    except subprocess.TimeoutExpired:
        return {"path": path, "rc": "timeout", "stderr": "", "wrote": out.exists()}
    return {"path": path, "rc": done.returncode, "stderr": done.stderr, "wrote": out.exists()}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    cases = {**{k: v[0] for k, v in CASES.items()}, "not-utf8": b"id: \xff\xfe bad\n"}
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 2)) as pool:
        futures = {name: pool.submit(_run, name, text, tmp) for name, text in cases.items()}
        return {name: f.result() for name, f in futures.items()}


def _assert_refused(result: dict, needles: list[str]) -> None:
    err = result["stderr"]
    assert result["rc"] == 2, (result["rc"], err[-2000:])
    assert "Traceback" not in err, err[-2000:]
    assert not result["wrote"], "output written for refused input"
    message = err[err.index("error: "):]
    assert message.startswith(f"error: {result['path']}"), message      # names the file first
    assert "\n  fix: " in message, message                               # says what to do
    assert message.count("error: ") == 1, message                        # one message, not a cascade
    for needle in needles:
        assert needle in message, (needle, message)


@pytest.mark.parametrize("name", sorted(CASES))
def test_refused_cleanly(results, name):
    _assert_refused(results[name], CASES[name][1])


def test_not_utf8_names_the_byte(results):
    _assert_refused(results["not-utf8"], ["not UTF-8", "byte 5"])


def test_the_base_template_is_accepted(tmp_path):
    """The cases differ from a good template only in the hostile part."""
    result = _run("base", BASE, tmp_path)
    assert result["rc"] == 0, result["stderr"]
    assert (tmp_path / "base" / "out" / "quizgen.json").exists()


@pytest.mark.parametrize("content, needle", [
    (b"id,name\n1,\xff\xfeBob\n", "not UTF-8"),
    (b"id,name\n1,Bo\0b\n", "NUL"),
    (b"name\nBob\n", "no id column"),
    (b"id,name\n7,Ann\n7,Bob\n", "duplicate student id '7'"),
])
def test_bad_roster_refused(tmp_path, content, needle):
    roster = tmp_path / "roster.csv"
    roster.write_bytes(content)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "quizgen", "build", "--roster", str(roster), "--out", str(out)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert f"error: {roster}" in done.stderr and needle in done.stderr and "fix:" in done.stderr
    assert not out.exists()


def test_quiz_spec_section_size_limited(tmp_path):
    spec = tmp_path / "quiz.yaml"
    spec.write_text("title: Big\nsections:\n  - modules: [optimisation]\n    questions: 100000\n")
    done = subprocess.run([sys.executable, "-m", "quizgen", "build", str(spec), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "line 4" in done.stderr and "questions" in done.stderr
    assert not (tmp_path / "out").exists()


def test_oversized_solve_request_file(tmp_path):
    path = tmp_path / "big.json"
    path.write_text("[" + ",".join(['{"op": "evaluate", "inputs": {"expression": "x", "at": {"x": 1}}}'] * 20000)
                    + "]")
    done = subprocess.run([sys.executable, "-m", "quizgen", "solve", str(path)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "1,000,000 bytes" in done.stderr and done.stdout == ""


@pytest.mark.parametrize("inputs, needle", [
    ({"expression": "x**(10**9)", "variable": "x", "at": {"x": 1}}, "exponent"),
    ({"expression": "+".join(["x"] * 3000), "variable": "x", "at": {"x": 1}}, "4,000"),
    ({"expression": "x**2", "variable": "x", "at": {"x": 1}, "order": 10**9}, "inputs.order"),
])
def test_solve_refuses_hostile_requests_one_by_one(tmp_path, inputs, needle):
    import json
    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"op": "derivative", "inputs": inputs},
                                {"op": "derivative", "inputs": {"expression": "x**3", "variable": "x",
                                                                "at": {"x": 2}}}]))
    done = subprocess.run([sys.executable, "-m", "quizgen", "solve", str(path)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    items = json.loads(done.stdout)
    assert needle in items[0]["error"] and items[1]["value"] == 12


def test_section_limit_is_the_schemas():
    import json
    from quizgen import limits
    schema = json.loads((ROOT / "quizgen" / "schema" / "quiz.schema.json").read_text())
    found = []

    def walk(node):
        if isinstance(node, dict):
            if "questions" in node.get("properties", {}):
                found.append(node["properties"]["questions"].get("maximum"))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(schema)
    assert found == [limits.MAX_SECTION_QUESTIONS]


def test_time_budgets_count_cpu_not_a_busy_machine():
    """A budget stops a runaway computation, but waiting (a loaded machine, a sleeping process)
    does not use it up: good input never fails because CI is busy."""
    import time

    from quizgen.budget import OutOfTime, time_budget
    with time_budget(0.2, "waiting"):
        time.sleep(0.4)                            # no CPU used: the budget still holds
    start = time.process_time()
    with pytest.raises(OutOfTime) as info:
        with time_budget(0.2, "spinning"):
            while True:
                sum(range(1000))
    assert info.value.what == "spinning"
    assert 0.15 < time.process_time() - start < 1.0


def test_a_time_budget_whose_exception_is_swallowed_still_stops_the_block(monkeypatch):
    """The budget's signal can arrive inside a garbage-collector callback, where Python only
    reports an exception (hypothesis installs one; CI once ran sympy.solve unbounded so).
    The expired budget raises again, so the block still stops soon after."""
    import gc
    import time

    from quizgen.budget import OutOfTime, time_budget
    lost = []
    monkeypatch.setattr("sys.unraisablehook", lambda u: lost.append(u.exc_type))

    def slow_callback(phase, info):
        if phase == "start" and not lost:
            end = time.process_time() + 0.4
            while time.process_time() < end:
                sum(range(1000))

    gc.callbacks.append(slow_callback)
    start = time.process_time()
    try:
        with pytest.raises(OutOfTime):
            with time_budget(0.1, "spinning"):
                gc.collect()                       # the budget expires in the callback
                while time.process_time() < start + 3:
                    sum(range(1000))
    finally:
        gc.callbacks.remove(slow_callback)
    assert lost and set(lost) == {OutOfTime}      # the first raise was swallowed (more, if the collection is long) ...
    assert time.process_time() - start < 1.5      # ... and the block still stopped
