"""Instructor authoring: their own bank, starter templates, messages that point at the line."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from quizgen.cli import main

ROOT = Path(__file__).resolve().parent.parent
BUILTIN_GRADIENT = ROOT / "question_bank" / "multivariate-calculus" / "gradient.yaml"


def run(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env or {"QUIZGEN_BANK": ""}, catch_exceptions=False)


def _course(tmp_path, *, override=True) -> Path:
    """A course folder: one new template (nested folder) and, optionally, one overriding a built-in id."""
    course = tmp_path / "course"
    (course / "week1").mkdir(parents=True)
    text = BUILTIN_GRADIENT.read_text()
    (course / "week1" / "my-gradient.yaml").write_text(
        text.replace("id: gradient-at-point", "id: my-gradient").replace("title: Gradient at a point",
                                                                         "title: My own gradient"))
    if override:
        (course / "gradient.yaml").write_text(text.replace("title: Gradient at a point", "title: Course gradient"))
    return course


def _rows(result):
    return {r["id"]: r for r in json.loads(result.stdout)}


# ---- their own bank ----------------------------------------------------------------

def test_bank_extends_and_overrides_with_a_warning(tmp_path):
    course = _course(tmp_path)
    result = run("list", "--json", "--bank", str(course))
    assert result.exit_code == 0, result.output
    rows = _rows(result)
    assert rows["my-gradient"]["origin"] == "instructor"
    assert rows["gradient-at-point"]["title"] == "Course gradient"          # the instructor's wins
    assert rows["gradient-at-point"]["file"] == str(course / "gradient.yaml")
    assert rows["jacobian-at-point"]["origin"] == "built-in"                # the rest is still there
    builtin = _rows(run("list", "--json"))
    assert len(rows) == len(builtin) + 1
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert str(course / "gradient.yaml") in warnings[0] and str(BUILTIN_GRADIENT) in warnings[0]


def test_single_file_bank_and_environment_variable(tmp_path):
    course = _course(tmp_path, override=False)
    one = run("list", "--json", "--bank", str(course / "week1" / "my-gradient.yaml"))
    assert one.exit_code == 0 and "my-gradient" in _rows(one) and not one.stderr
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.yaml").write_text(BUILTIN_GRADIENT.read_text().replace("id: gradient-at-point", "id: other-grad"))
    env = {"QUIZGEN_BANK": os.pathsep.join([str(course), str(other)])}
    rows = _rows(run("list", "--json", env=env))
    assert rows["my-gradient"]["origin"] == rows["other-grad"]["origin"] == "instructor"
    # the same folder from the environment and --bank is read once, not a duplicate
    again = run("list", "--json", "--bank", str(course), env=env)
    assert again.exit_code == 0, again.output


def test_duplicate_id_inside_the_instructors_bank_is_an_error(tmp_path):
    course = _course(tmp_path, override=False)
    (course / "copy.yaml").write_text((course / "week1" / "my-gradient.yaml").read_text())
    for cmd in (["list"], ["validate", "--samples", "1"], ["generate", "--all", "--out", str(tmp_path / "o")]):
        result = run(*cmd, "--bank", str(course))
        assert result.exit_code == 2, result.output
        assert "duplicate template id 'my-gradient'" in result.output
        assert str(course / "copy.yaml") in result.output and str(course / "week1" / "my-gradient.yaml") in result.output
        assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_missing_bank_folder_from_the_environment_is_named(tmp_path):
    result = run("list", env={"QUIZGEN_BANK": str(tmp_path / "nowhere")})
    assert result.exit_code == 2
    assert "QUIZGEN_BANK" in result.output and str(tmp_path / "nowhere") in result.output


def test_validate_and_generate_act_on_the_instructors_templates(tmp_path):
    course = _course(tmp_path)
    result = run("validate", "--bank", str(course), "--samples", "2")
    assert result.exit_code == 0, result.output
    assert "all 2 templates valid" in result.stdout
    out = tmp_path / "out"
    result = run("generate", "--bank", str(course), "--all", "--format", "json", "--out", str(out))
    assert result.exit_code == 0, result.output
    questions = json.loads((out / "quizgen.json").read_text())
    assert sorted(q["template"] for q in questions) == ["gradient-at-point", "my-gradient"]
    picked = run("generate", "--bank", str(course), "--template", "jacobian-at-point", "--format", "json",
                 "--out", str(tmp_path / "o2"))
    assert picked.exit_code == 0, picked.output        # built-in templates stay selectable by id


def test_quiz_spec_bank_key_is_relative_to_the_spec(tmp_path):
    course = _course(tmp_path, override=False)
    spec = tmp_path / "week1.yaml"
    spec.write_text("title: Week 1\nbank: course\nformats: [json]\npdf: false\n"
                    "sections:\n  - templates: [my-gradient]\n    questions: 1\n")
    out = tmp_path / "built"
    result = run("build", str(spec), "--out", str(out))
    assert result.exit_code == 0, result.output
    questions = json.loads((out / "week1.json").read_text())
    assert [q["template"] for q in questions] == ["my-gradient"]
    spec.write_text(spec.read_text().replace("bank: course", "bank: [nowhere]"))
    bad = run("build", str(spec), "--out", str(tmp_path / "b2"))
    assert bad.exit_code == 2 and "line 2" in bad.output and "nowhere" in bad.output, bad.output


def test_quiz_spec_inside_a_bank_folder_is_explained(tmp_path):
    course = _course(tmp_path, override=False)
    (course / "week1.yaml").write_text("title: W\nsections:\n  - templates: [my-gradient]\n    questions: 1\n")
    result = run("list", "--bank", str(course))
    assert result.exit_code == 2 and "quiz spec, not a template" in result.output


# ---- quizgen new ---------------------------------------------------------------------

from quizgen.starter import starter_ops  # noqa: E402

REQUIRED_OPS = {"derivative", "partial_derivative", "gradient", "jacobian", "hessian", "chain_rule",
                "taylor_polynomial", "newton_raphson", "gradient_descent", "lagrange_critical_points",
                "least_squares"}


def test_every_starter_validates_as_written(tmp_path):
    course = tmp_path / "course"
    assert REQUIRED_OPS <= set(starter_ops())
    for op in starter_ops():
        result = run("new", f"start-{op.replace('_', '-')}", "--op", op, "--out", str(course))
        assert result.exit_code == 0, result.output
        path = course / f"start-{op.replace('_', '-')}.yaml"
        assert result.stdout.strip() == str(path)
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema=")
        schema = (path.parent / first.split("$schema=", 1)[1]).resolve()
        assert json.loads(schema.read_text())["title"] and schema.name == "template.schema.json"
        assert f"op: {op}" in path.read_text()
    result = run("validate", "--bank", str(course), "--samples", "3")
    assert result.exit_code == 0, result.output
    assert f"all {len(starter_ops())} templates valid" in result.stdout


def test_new_module_option_and_refusals(tmp_path):
    result = run("new", "my-d", "--op", "derivative", "--module", "taylor-series", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    text = (tmp_path / "my-d.yaml").read_text()
    assert "\nmodule: taylor-series\n" in text and "\nid: my-d " in text
    again = run("new", "my-d", "--op", "gradient", "--out", str(tmp_path))
    assert again.exit_code == 2 and "never overwrites" in again.output
    assert (tmp_path / "my-d.yaml").read_text() == text                     # untouched
    unknown = run("new", "my-e", "--op", "integral", "--out", str(tmp_path))
    assert unknown.exit_code == 2 and "'integral'" in unknown.output
    assert all(op in unknown.output for op in REQUIRED_OPS)
    assert not (tmp_path / "my-e.yaml").exists()
    for bad in (["new", "Bad Id", "--op", "gradient"], ["new", "ok-id", "--op", "gradient", "--module", "x"]):
        result = run(*bad, "--out", str(tmp_path))
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output


# ---- the README walkthrough, from a non-editable install ------------------------------

import re  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402

import mpmath  # noqa: E402

EDIT = ('f: "a*x*y**2 + g(k*x)"', 'f: "a*x**2*y + g(k*y)"')


def _walkthrough() -> tuple[list[list[str]], str]:
    """The shell commands and the quiz spec of the README's walkthrough, as written."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### Walkthrough"):text.index("### The template format")]
    shell, spec = re.findall(r"```(?:sh|yaml)\n(.*?)```", section, re.S)
    commands = [shlex.split(line, comments=True) for line in shell.splitlines() if line.strip()]
    assert all(f"`{text}`" in section for text in EDIT)          # the edit the README asks for
    return [c for c in commands if c], spec


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """quizgen installed (not editable) from a copy of this checkout into a target folder."""
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", "output", "build", "*.egg-info",
                                                             "__pycache__", ".pytest_cache", "tests"))
    site = tmp / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "--target", str(site), str(src)], check=True, capture_output=True, cwd=tmp)
    shutil.rmtree(src)                     # nothing may come from a checkout
    return site


def _quizgen(site: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "QUIZGEN_BANK")}
    env["PYTHONPATH"] = str(site)
    return subprocess.run([sys.executable, "-m", "quizgen", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


def _f(q: dict, x: float, y: float):
    p = q["parameters"]
    g = getattr(mpmath, p["g"])
    return p["a"] * x ** 2 * y + g(p["k"] * y)           # the edited function


def _grad_by_differences(q: dict) -> list[float]:
    p = q["parameters"]
    x0, y0 = mpmath.mpf(p["x0"]), mpmath.mpf(p["y0"])
    return [float(mpmath.diff(lambda t: _f(q, t, y0), x0)), float(mpmath.diff(lambda t: _f(q, x0, t), y0))]


def test_readme_walkthrough_from_a_non_editable_install(installed, tmp_path):
    commands, spec = _walkthrough()
    probe = subprocess.run([sys.executable, "-c", "import quizgen.paths as p; print(p.bank_dir())"],
                           capture_output=True, text=True, cwd=tmp_path,
                           env={**os.environ, "PYTHONPATH": str(installed)})
    assert probe.stdout.strip().startswith(str(installed)), probe   # the built-in bank is package data
    outputs = {}
    for cmd in commands:
        if cmd[0] == "pip":
            continue                                    # done by the fixture
        if cmd[0] == "mkdir":
            (tmp_path / cmd[1]).mkdir()
            continue
        assert cmd[0] == "quizgen", cmd
        if cmd[1] == "validate":                        # the README's "edit it" step comes first
            path = tmp_path / "course" / "week1-gradient.yaml"
            path.write_text(path.read_text().replace(*EDIT))
            assert EDIT[1] in path.read_text()
        if cmd[1] == "build":
            (tmp_path / cmd[2]).write_text(spec)
        done = _quizgen(installed, cmd[1:], tmp_path)
        assert done.returncode == 0, (cmd, done.stdout[-2000:], done.stderr[-2000:])
        outputs[cmd[1]] = done
    assert "all 1 templates valid" in outputs["validate"].stdout
    listed = outputs["list"].stdout
    assert "week1-gradient" in listed and "[yours:" in listed and "jacobian-at-point" in listed
    generated = json.loads((tmp_path / "week1" / "quizgen.json").read_text())
    built = json.loads((tmp_path / "output" / "week1" / "week1.json").read_text())
    mine = [q for q in generated + built if q["template"] == "week1-gradient"]
    assert len(mine) == 3 + 2
    assert [q["template"] for q in built].count("jacobian-at-point") == 1
    for q in mine:
        grad = next(a for a in q["answers"] if a["name"] == "grad")["value"]
        assert grad == pytest.approx(_grad_by_differences(q), abs=1e-9), q["parameters"]
    assert (tmp_path / "week1" / "quizgen-worksheet.html").is_file()


# ---- messages that point at the line ---------------------------------------------------

def _starter(tmp_path, op="jacobian") -> Path:
    result = run("new", "msg-test", "--op", op, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    return tmp_path / "msg-test.yaml"


def _edited_starter(tmp_path, old: str, new: str, op="jacobian") -> Path:
    """A starter template with ``old`` (which must be in it) replaced by ``new``."""
    path = _starter(tmp_path, op)
    text = path.read_text()
    assert old in text and old != new
    path.write_text(text.replace(old, new))
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def _refused(path: Path) -> str:
    result = run("validate", str(path), "--samples", "1")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.output


@pytest.mark.parametrize("old, new, needle, where", [
    ('  v: "g(k*x) + x*y"', '  v: "g(k*x) + x*w"', "  v: ", "define.v"),
    ('    variables: [x, y]', '    variables: [x, q]', "    variables: [x, q]", "answers.J.variables.1"),
    ("    round: 3", "    round: three", "    round: three", "answers.J.round"),
    ("  k:  {int: [1, 3]}", "  k:\n    int: [1, 3]\n    exclud: [2]", "    exclud: [2]", "parameters.k.exclud"),
])
def test_error_names_the_line_of_the_key_inside_a_block(tmp_path, old, new, needle, where):
    path = _edited_starter(tmp_path, old, new)
    line = _line_of(path, needle)
    block = _line_of(path, where.split(".")[0] + ":")
    assert line > block + 1                                  # a key well inside its block
    assert f"{path}: line {line} ({where})" in _refused(path)


@pytest.mark.parametrize("field, ref, kind, name", [
    ("solution", "{{ steps.J }}", "steps", "Jv"),
    ("prompt", "Find the Jacobian", "ans", "K"),
    ("solution", "{{ steps.J }}", "val", "J2"),
])
def test_missing_answer_name_says_which_exist(tmp_path, field, ref, kind, name):
    path = _edited_starter(tmp_path, ref, ref + f" {{{{ {kind}.{name} }}}}" if kind != "steps" else "{{ steps.Jv }}")
    out = _refused(path)
    assert f"{kind}.{name}: no answer named {name}; answers are J" in out
    assert f"line {_line_of(path, f'{kind}.{name}')} ({field})" in out             # the line that uses it


def test_missing_answer_name_at_render_time_lists_the_answers(tmp_path):
    """A computed name ({{ steps[n] }}) can only be caught when rendering: same message."""
    path = _starter(tmp_path, "partial_derivative")
    text = path.read_text().replace("{{ steps.fx }}", "{% for n in ['fx', 'fy'] %}{{ steps[n] }}{% endfor %}")
    path.write_text(text)
    result = run("validate", str(path), "--samples", "1")
    assert result.exit_code == 2
    assert "steps.fy: no answer named fy; answers are fx" in result.output


def test_jinja_syntax_error_is_found_at_load_with_its_file_line(tmp_path):
    path = _starter(tmp_path)
    path.write_text(path.read_text().replace("{{ steps.J }}", "{{ steps.J }"))
    out = _refused(path)
    assert f"line {_line_of(path, '{{ steps.J }')} (solution)" in out and "Jinja syntax error" in out


def test_list_misconceptions_names_every_one_with_ops_and_description():
    from quizgen.misconceptions import MISCONCEPTIONS
    result = run("list", "--misconceptions")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    for m in MISCONCEPTIONS.values():
        i = next(i for i, line in enumerate(lines) if line.split()[:1] == [m.name])
        assert lines[i].split(None, 1)[1].split(", ") == list(m.ops)
        description = lines[i + 1].strip()
        assert description and description in " ".join(m.feedback.split())
    rows = json.loads(run("list", "--misconceptions", "--json").stdout)
    assert {r["name"] for r in rows} == set(MISCONCEPTIONS)
    assert all(r["ops"] and "\n" not in r["description"] for r in rows)


# ---- directional_derivative --------------------------------------------------------------

import math  # noqa: E402

from quizgen.verify import verify_answer  # noqa: E402
from quizgen.errors import VerificationError  # noqa: E402

DIRECTIONAL = [
    ("x**2*y + sin(y)", ["x", "y"], [3, 4], {"x": 1, "y": 2},
     lambda x, y: x ** 2 * y + math.sin(y)),
    ("exp(x*y) - z**3", ["x", "y", "z"], [1, -2, 2], {"x": 0.5, "y": -1, "z": 1},
     lambda x, y, z: math.exp(x * y) - z ** 3),
    ("log(x**2 + y**2 + 1)*x", ["x", "y"], [-1, 1], {"x": -2, "y": 3},
     lambda x, y: math.log(x ** 2 + y ** 2 + 1) * x),
]


def _float_directional(fn, direction, at, h=1e-5):
    """A plain-float five-point difference along the unit direction (not the verifier's mpmath one)."""
    norm = math.sqrt(sum(c * c for c in direction))
    u = [c / norm for c in direction]
    a = list(at.values())
    g = lambda t: fn(*[p + t * c for p, c in zip(a, u)])  # noqa: E731
    return (-g(2 * h) + 8 * g(h) - 8 * g(-h) + g(-2 * h)) / (12 * h)


@pytest.mark.parametrize("expr, xs, direction, at, fn", DIRECTIONAL)
def test_directional_derivative_matches_finite_differences(solve, expr, xs, direction, at, fn):
    value = solve("directional_derivative", expression=expr, variables=xs, direction=direction, at=at)
    assert value == pytest.approx(_float_directional(fn, direction, at), abs=1e-7)
    inputs = {"expression": expr, "variables": xs, "direction": direction, "at": at}
    verify_answer("directional_derivative", inputs, value)
    with pytest.raises(VerificationError):                      # the check is not a rubber stamp
        verify_answer("directional_derivative", inputs, value + 1e-3)


def test_directional_derivative_symbolic_and_steps():
    from quizgen.solve import solve_request
    out = solve_request({"op": "directional_derivative",
                         "inputs": {"expression": "x**2*y", "variables": ["x", "y"], "direction": [1, 1]}},
                        "test", "test")
    import sympy as sp
    x, y = sp.symbols("x y")
    assert sp.simplify(sp.sympify(out["value"]) - (2 * x * y + x ** 2) / sp.sqrt(2)) == 0
    words = " ".join(out["steps"])
    assert "gradient" in words and "unit direction" in words and "rate of change" in words
    from quizgen.errors import QuizgenError
    with pytest.raises(QuizgenError, match="zero vector"):
        solve_request({"op": "directional_derivative",
                       "inputs": {"expression": "x*y", "variables": ["x", "y"], "direction": [0, 0],
                                  "at": {"x": 1, "y": 1}}}, "test", "test")


def test_directional_derivative_bank_template_keys(tmp_path):
    out = tmp_path / "dd"
    result = run("generate", "--template", "directional-derivative", "--count", "4", "--format", "json",
                 "--out", str(out))
    assert result.exit_code == 0, result.output
    for q in json.loads((out / "quizgen.json").read_text()):
        p = q["parameters"]
        g = getattr(math, p["g"])
        fn = lambda x, y: p["a"] * x ** 2 * y + g(p["k"] * y)  # noqa: E731
        expected = _float_directional(fn, [p["p"], p["q"]], {"x": p["x0"], "y": p["y0"]})
        assert q["answers"][0]["value"] == pytest.approx(expected, abs=1e-7), p
        assert "D_{\\mathbf{u}} f" in q["solution"] or "unit direction" in q["solution"]
