"""Lagrange multipliers without sympy.solve: the engine's closed forms give exactly sympy's
values, and the check's quadratic-model search still catches wrong answers on its own."""

from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from quizgen import engine
from quizgen.engine import lagrange as L
from quizgen.errors import Degenerate, VerificationError
from quizgen.exprs import AutoSymbols
from quizgen.inputs import json_value, resolve
from quizgen.verify import lagrange_check as LC
from quizgen.verify import verify_answer

OP = "lagrange_critical_points"
BANK = Path(__file__).parent.parent / "question_bank" / "optimisation"

# (f, g, variables): every shape the closed forms solve, the bank's and a few beyond it
SOLVED = [
    ("-x - 3*y", "x**2 + 4*y**2 - 1", "xy"),                 # lagrange-linear-on-ellipse
    ("4*x + 2*y", "3*x**2 + y**2 - 16", "xy"),
    ("3*x - y", "2*x**2 + 2*y**2 - 9", "xy"),
    ("4*x**2 + 4*x*y + y**2", "x**2 + y**2 - 2", "xy"),      # lagrange-quadratic-on-circle
    ("-3*x**2 + 4*x*y", "x**2 + y**2 - 5", "xy"),
    ("2*x**2 - 3*y**2", "x**2 + y**2 - 4", "xy"),            # already diagonal: lambda = 0 never
    ("x*y", "x**2 + y**2 - 2", "xy"),
    ("x**2 + 2*y**2 + 3*z**2", "x - 2*y + 3*z - 6", "xyz"),  # lagrange-three-variables
    ("4*x**2 + y**2 + 2*z**2", "-3*x + y + z + 12", "xyz"),
    ("x/2 + y/3 + 1", "x**2 + x*y + 2*y**2 - 3/2", "xy"),    # rational, cross term, constant
    ("x + y + z", "x**2 + 2*y**2 + 3*z**2 - 6", "xyz"),
    ("x**2 - x*y + y - 2*x", "x + y - 1", "xy"),
    ("x + 2*y", "x**2 - y**2 + 1", "xy"),                    # on a hyperbola
]

# left to sympy.solve (or the numerical method): not of a shape solved in closed form
UNSOLVED = [
    ("x + y", "(x - 1)**2 + y**2 - 4", "xy"),                # off-centre
    ("x**2 + x*y", "x**2 + y**2 - 1", "xy"),                 # irrational multipliers
    ("x + sqrt(2)*y", "x**2 + y**2 - 1", "xy"),              # an irrational coefficient
    ("exp(x) + y", "x**2 + y**2 - 1", "xy"),
    ("x**3 + y", "x**2 + y**2 - 1", "xy"),
    ("x**2 + y**2", "x**2 + y**2 - 1", "xy"),                # a continuum of critical points
    ("x + 2*y", "x**2 - y**2 - 1", "xy"),                    # no real point
    ("x*y + y*z", "x**2 + y**2 + z**2 - 1", "xyz"),           # three variables on a sphere
]


def _inputs(f, g, names):
    return resolve({"expression": f, "constraint": g, "variables": list(names)}, {}, AutoSymbols())


def _run(f, g, names, closed=True, monkeypatch=None):
    if not closed:
        monkeypatch.setattr(L, "_closed_form", lambda *args: None)
    try:
        return engine.run(OP, _inputs(f, g, names))
    finally:
        if not closed:
            monkeypatch.undo()


@pytest.mark.parametrize("f, g, names", SOLVED)
def test_closed_form_gives_exactly_what_sympy_solve_gives(f, g, names, monkeypatch):
    inp = _inputs(f, g, names)
    assert L._closed_form(inp["expression"], inp["constraint"], inp["variables"]) is not None
    fast, slow = _run(f, g, names), _run(f, g, names, closed=False, monkeypatch=monkeypatch)
    assert sp.srepr(fast.value) == sp.srepr(slow.value)
    assert fast.steps == slow.steps and "numerically" not in " ".join(slow.steps)


@pytest.mark.parametrize("f, g, names", SOLVED)
def test_closed_form_points_solve_the_lagrange_system_exactly(f, g, names):
    inp = _inputs(f, g, names)
    F, G, xs = inp["expression"], inp["constraint"], inp["variables"]
    points = L._closed_form(F, G, xs)
    for p in points:
        at = {v: p["point"][str(v)] for v in xs}
        lam = p["multiplier"]
        assert all(sp.simplify((sp.diff(F, v) - lam * sp.diff(G, v)).xreplace(at)) == 0 for v in xs)
        assert sp.simplify(G.xreplace(at)) == 0
        assert sp.simplify(p["value"] - F.xreplace(at)) == 0
    assert len({tuple(p["point"].values()) for p in points}) == len(points)


@pytest.mark.parametrize("f, g, names", UNSOLVED)
def test_other_shapes_are_left_to_sympy(f, g, names):
    inp = _inputs(f, g, names)
    assert L._closed_form(inp["expression"], inp["constraint"], inp["variables"]) is None


def test_inexact_coefficients_are_left_to_sympy():
    x, y = sp.symbols("x y", real=True)
    assert L._closed_form(x + sp.Float("0.3") * y, x ** 2 + y ** 2 - 1, [x, y]) is None
    assert L._closed_form(x + y, x ** 2 + sp.Symbol("a") * y ** 2 - 1, [x, y]) is None


def test_degenerate_cases_still_say_why():
    with pytest.raises(Degenerate, match="continuum"):
        engine.run(OP, _inputs("x**2 + y**2", "x**2 + y**2 - 1", "xy"))
    with pytest.raises(Degenerate, match="no real"):
        engine.run(OP, _inputs("x + 2*y", "x**2 - y**2 - 1", "xy"))


def test_bank_templates_need_neither_sympy_solve_nor_the_slow_check(monkeypatch):
    from quizgen.bank import load_template
    from quizgen.pipeline import generate_variant

    def refuse(*args, **kwargs):
        raise AssertionError("the slow path was taken")
    monkeypatch.setattr(L.sp, "solve", refuse)
    monkeypatch.setattr(LC, "_polished", refuse)
    for name in ("lagrange-linear-on-ellipse", "lagrange-quadratic-on-circle", "lagrange-three-variables"):
        tpl = load_template(BANK / f"{name}.yaml")
        for k in range(1, 6):
            q = generate_variant(tpl, 1000 + k, k)
            assert q["answers"][0]["value"]


# ---- the check ------------------------------------------------------------------------

def _contract(f, g, names):
    return {"expression": f, "constraint": g, "variables": list(names)}


def _value(f, g, names):
    return json_value(engine.run(OP, _inputs(f, g, names)).value)


def _wrong_answers(value):
    """A missing point, a wrong multiplier, a wrong value, a shifted point, an extra point."""
    def edit(i, key, change):
        out = [dict(p, point=dict(p["point"])) for p in value]
        if key == "point":
            x = next(iter(out[i]["point"]))
            out[i]["point"][x] = change(out[i]["point"][x])
        else:
            out[i][key] = change(out[i][key])
        return out
    extra = dict(value[0], point={k: v + 0.5 for k, v in value[0]["point"].items()})
    return {"missing": value[1:], "multiplier": edit(0, "multiplier", lambda v: v + 0.01),
            "value": edit(-1, "value", lambda v: v - 0.01), "point": edit(0, "point", lambda v: v * 1.001),
            "extra": value + [extra]}


@pytest.mark.parametrize("f, g, names", SOLVED[:9:2] + [SOLVED[9]])
def test_check_passes_the_key_and_catches_each_kind_of_wrong_answer(f, g, names):
    value = _value(f, g, names)
    verify_answer(OP, _contract(f, g, names), value)
    for kind, wrong in _wrong_answers(value).items():
        with pytest.raises(VerificationError):
            verify_answer(OP, _contract(f, g, names), wrong)


@pytest.mark.parametrize("f, g, names", SOLVED)
def test_check_search_alone_finds_every_point(f, g, names):
    """Without the engine's points as starts, the grid search finds the same set."""
    found = LC._lagrange(_contract(f, g, names))
    want = _value(f, g, names)
    key = lambda p: [float(p["point"][v]) for v in names]      # noqa: E731
    assert len(found) == len(want)
    for a, b in zip(sorted(found, key=key), sorted(want, key=key)):
        assert key(a) == pytest.approx(key(b), abs=1e-9)
        assert float(a["multiplier"]) == pytest.approx(b["multiplier"], abs=1e-9)
        assert float(a["value"]) == pytest.approx(b["value"], abs=1e-9)


def test_quadratic_model_reads_exact_coefficients():
    c, b, H = LC._quadratic_model("3*x**2 - 2*x*y + y**2/2 + 4*x - 7", ["x", "y"])
    assert c == -7 and b.tolist() == [4, 0] and H.tolist() == [[6, -2], [-2, 1]]
    c, b, H = LC._quadratic_model("x - 2*y + 3*z - 6", ["x", "y", "z"])
    assert c == -6 and b.tolist() == [1, -2, 3] and not H.any()


@pytest.mark.parametrize("text", ["x**3 + y", "sin(pi*x)*y + x**2", "exp(x)", "x**4 - y**2",
                                  "sqrt(x**2 + 1)", "log(x + 2)", "x**2 + y**2 + x**2*y**2/1000"])
def test_quadratic_model_refuses_what_is_not_quadratic(text):
    assert LC._quadratic_model(text, ["x", "y"]) is None        # sin(pi x) vanishes at the stencil


def test_a_wrong_model_falls_back_to_the_general_search(monkeypatch):
    """A model whose roots do not solve the expressions' system is not trusted."""
    f, g, names = SOLVED[0]
    real = LC._quadratic_model
    monkeypatch.setattr(LC, "_quadratic_model", lambda text, xs: (lambda m: (m[0], m[1] * 1.1, m[2]))(real(text, xs)))
    calls = []
    polished = LC._polished
    monkeypatch.setattr(LC, "_polished", lambda *a: calls.append(1) or polished(*a))
    value = _value(f, g, names)
    verify_answer(OP, _contract(f, g, names), value)
    assert calls


def test_general_search_still_finds_the_eight_points_of_x4_y4():
    found = LC._lagrange(_contract("x**4 + y**4", "x**2 + y**2 - 1", "xy"))
    angles = sorted(np.mod(np.arctan2(float(p["point"]["y"]), float(p["point"]["x"])), 2 * np.pi) for p in found)
    assert angles == pytest.approx([k * np.pi / 4 for k in range(8)], abs=1e-9)


@pytest.mark.parametrize("name", ["lagrange-linear-on-ellipse", "lagrange-quadratic-on-circle",
                                  "lagrange-three-variables"])
def test_a_wrong_closed_form_stops_generation(name, monkeypatch):
    """A slip in the closed forms (here: one multiplier off by 1/3) is caught by the check."""
    from quizgen.bank import load_template
    from quizgen.pipeline import generate_variant
    real = L._closed_form

    def slip(*args):
        points = real(*args)
        points[0]["multiplier"] += sp.Rational(1, 3)
        return points
    monkeypatch.setattr(L, "_closed_form", slip)
    with pytest.raises(VerificationError, match="independent check gave"):
        generate_variant(load_template(BANK / f"{name}.yaml"), 4242, 1)


def test_a_singular_root_goes_to_the_general_search():
    """At (0, 0, lambda = 0) the Jacobian of the system is singular: Newton creeps towards it
    and leaves a trail of near-roots; the model search hands over instead of counting them."""
    inp = _contract("-2*y**2 - 5", "-4*x**2 - 4*y**2 + y", "xy")
    assert LC._model_search(inp["expression"], inp["constraint"], inp["variables"], []) is None
    found = sorted(([float(p["point"]["x"]), float(p["point"]["y"]), float(p["multiplier"])]
                    for p in LC._lagrange(inp)), key=lambda p: p[1])
    assert np.allclose(found, [[0, 0, 0], [0, 0.25, 1]], atol=1e-9)
    verify_answer(OP, inp, _value(*inp.values()))


def test_check_search_reaches_a_point_far_outside_its_grid():
    """(-6.32, -14.63) lies five times beyond the grid (|x|, |y| <= 2.9): the wider starts reach it."""
    f, g = "x + 2*y - 3", "-4*x**2 - 4*x + 3*x*y - y**2 - 5*y - 2"
    want = _value(f, g, "xy")
    found = LC._lagrange(_contract(f, g, "xy"))
    assert len(want) == len(found) == 2 and min(p["point"]["y"] for p in want) < -14
    with pytest.raises(VerificationError):
        verify_answer(OP, _contract(f, g, "xy"), [p for p in want if p["point"]["y"] > -14])


def test_real_roots_sympy_writes_with_i_are_real_points():
    """A cubic with three real roots: sympy.solve writes them with I (casus irreducibilis).
    They are real critical points: by elimination (y = 4x^2 - 3x on the constraint) they are
    the roots of h'(x) for h(x) = f(x, 4x^2 - 3x), found here with numpy."""
    from numpy.polynomial import Polynomial as P
    from quizgen import engine
    from quizgen.exprs import AutoSymbols
    from quizgen.inputs import json_value, resolve
    inputs = {"expression": "-3*x**2 + 5*x + y**2 - 3*y + 1", "constraint": "-4*x**2 + 3*x + y",
              "variables": ["x", "y"]}
    got = json_value(engine.run("lagrange_critical_points", resolve(inputs, {}, AutoSymbols())).value)
    x, y = P([0, 1]), P([0, -3, 4])
    h = -3 * x ** 2 + 5 * x + y ** 2 - 3 * y + 1
    roots = sorted(r.real for r in h.deriv().roots() if abs(r.imag) < 1e-9)
    assert len(roots) == 3 and [p["point"]["x"] for p in got] == pytest.approx(roots)
    for p in got:
        px = p["point"]["x"]
        assert p["point"]["y"] == pytest.approx(y(px)) and p["value"] == pytest.approx(h(px))
        lam, gx = p["multiplier"], -8 * px + 3                        # df/dy = lambda dg/dy = lambda
        assert lam == pytest.approx(2 * p["point"]["y"] - 3)
        assert -6 * px + 5 == pytest.approx(lam * gx)
