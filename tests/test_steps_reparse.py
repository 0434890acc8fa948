"""What the keys display is the mathematics: every worked step of the whole bank is read back
from its TeX (sympy's LaTeX parser) and compared with the same quantity computed here from the
answer's provenance with plain sympy (derivatives, gradients, Hessians, Jacobians, Taylor
polynomials by series in a scaling parameter), and the members of each chain ``a = b = c``
with each other. A coefficient that loses its brackets (``e^{-1/2} + 3 (x + 1)`` for
``(e^{-1/2} + 3)(x + 1)``) changes the parsed expression and fails here."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import sympy as sp

import latex_reparse as lr


_Z = sp.Symbol("z_")
_LOCALS = {"sigmoid": sp.Lambda(_Z, 1 / (1 + sp.exp(-_Z))), "E": sp.E}


def _expr(s: str) -> sp.Expr:
    return sp.sympify(s, locals=_LOCALS)


def _symbols(names) -> list[sp.Symbol]:
    return [sp.Symbol(n) for n in names]


def _composite(inp: dict) -> sp.Expr:
    return _expr(inp["expression"]).subs({sp.Symbol(k): _expr(v) for k, v in inp["substitutions"].items()})


def _taylor(inp: dict) -> sp.Expr:
    """The Taylor polynomial by one-variable series in t of f(a + t (x - a)), at t = 1."""
    xs = _symbols(inp.get("variables") or [inp["variable"]])
    about = inp["about"] if isinstance(inp["about"], dict) else {xs[0].name: inp["about"]}
    t = sp.Symbol("t_")
    moved = _expr(inp["expression"]).subs({x: about[x.name] + t * (x - about[x.name]) for x in xs},
                                          simultaneous=True)
    return sp.series(moved, t, 0, int(inp["order"]) + 1).removeO().subs(t, 1)


def _partials(text: str) -> list[sp.Symbol] | None:
    """``\\partial y \\partial x^{2}`` -> [y, x, x]."""
    out = []
    for name, power in re.findall(r"\\partial ([a-z])(?:\^\{(\d+)\})?", text):
        out += [sp.Symbol(name)] * int(power or 1)
    return out or None


def expected(lhs: str, op: str, inp: dict):
    """The quantity a step's left-hand side names, computed from the provenance, or None."""
    lhs, _, at = lhs.partition(r"\Big|_")
    where = lr.point(at.strip("{}")) if at else {}
    value = _named(lhs.strip(), op, inp)
    if value is None or where is None:
        return None
    return value.subs({sp.Symbol(k): v for k, v in where.items()})


def _named(lhs: str, op: str, inp: dict):
    f = _composite(inp) if op == "chain_rule" else \
        _expr(inp["expression"]) if isinstance(inp.get("expression"), str) else None
    if m := re.fullmatch(r"\\frac\{d(?:\^\{(\d+)\})? ?f\}\{d ?([a-z])(?:\^\{\d+\})?\}", lhs):
        return None if f is None else sp.diff(f, sp.Symbol(m[2]), int(m[1] or 1))
    if m := re.fullmatch(r"\\frac\{(?:d|\\partial) ?([a-z])\}\{(?:d|\\partial) ?([a-z])\}", lhs):
        if op == "chain_rule" and m[1] in inp["substitutions"]:
            return sp.diff(_expr(inp["substitutions"][m[1]]), sp.Symbol(m[2]))
    if m := re.fullmatch(r"\\frac\{\\partial(?:\^\{\d+\})? f\}\{(.*)\}", lhs):
        order = _partials(m[1])
        inner = op == "chain_rule" and all(v.name in inp["substitutions"] for v in order)
        base = _expr(inp["expression"]) if inner else f
        return None if base is None or order is None else sp.diff(base, *order)
    if m := re.fullmatch(r"f(?:('{1,3})|\^\{\((\d+)\)\})?\(([a-z])\)", lhs):
        k = len(m[1]) if m[1] else int(m[2] or 0)
        return None if f is None else sp.diff(f, sp.Symbol(m[3]), k)
    if re.fullmatch(r"\\nabla f", lhs) and f is not None and "variables" in inp:
        return sp.Matrix([sp.diff(f, v) for v in _symbols(inp["variables"])])
    if lhs == "H" and f is not None and "variables" in inp:
        return sp.hessian(f, _symbols(inp["variables"]))
    if lhs == "J" and "expressions" in inp:
        return sp.Matrix([_expr(e) for e in inp["expressions"]]).jacobian(_symbols(inp["variables"]))
    if re.fullmatch(r"T_\{\d+\}\([a-z, ]+\)", lhs) and op.startswith("taylor"):
        return _taylor(inp)
    return None


def check_line(line: str, op: str, inp: dict, names: set[str], tally: Counter) -> list[str]:
    """Problems of one step line: members of a chain that disagree, or a named quantity that is
    not what the provenance gives."""
    problems = []
    for chain in lr.chains(line):
        want = expected(chain[0], op, inp)
        shown = [(m, lr.parse(m)) for m in chain[1:]]
        shown = [(m, e) for m, e in shown if e is not None and lr.names_in(e) <= names]
        if want is not None and shown:
            tally["named"] += 1
            tally[op] += 1
        for m, e in shown:
            tally["members"] += 1
            if want is not None and lr.agree(e, want, names) is False:
                problems.append(f"{chain[0]} = {m}: expected {want}")
        for (m1, e1), (m2, e2) in zip(shown, shown[1:]):
            if lr.agree(e1, e2, names) is False:
                problems.append(f"{m1} = {m2} is not an identity")
    return problems


def _variables(inp: dict) -> set[str]:
    names = set(inp.get("variables") or []) | {inp.get("variable") or ""}
    names |= set(inp.get("substitutions") or {})
    for key in ("expression", "expressions", "substitutions"):
        v = inp.get(key)
        for s in (v if isinstance(v, list) else v.values() if isinstance(v, dict) else [v]):
            if isinstance(s, str):
                names |= lr.names_in(_expr(s))
    return names - {""}


@pytest.fixture(scope="module")
def bank_questions():
    from quizgen.pipeline import generate_questions
    return generate_questions(count=3, seed=11)


def test_every_displayed_step_of_the_bank_is_the_engines_mathematics(bank_questions):
    tally, problems = Counter(), []
    for q in bank_questions:
        for a in q["answers"]:
            op, inp = a["provenance"]["op"], a["provenance"]["inputs"]
            names = _variables(inp)
            for line in a["steps"]:
                problems += [f"{q['template']} seed {q['seed']} {a['name']}: {p}"
                             for p in check_line(line, op, inp, names, tally)]
    assert not problems, "\n".join(problems[:20])
    # the check reads what it claims to: most kinds of symbolic step are compared
    for op in ("derivative", "partial_derivative", "gradient", "hessian", "jacobian", "chain_rule",
               "taylor_coefficients", "taylor_polynomial", "taylor_evaluate", "newton_raphson"):
        assert tally[op] >= 3, (op, tally)
    assert tally["members"] > 500, tally


def test_expression_answers_display_their_value(bank_questions):
    compared = 0
    for q in bank_questions:
        for a in q["answers"]:
            if a["kind"] != "expression" or not isinstance(a["value"], str):
                continue
            shown = lr.parse(a["display"])
            assert shown is not None, (q["template"], a["display"])
            value = _expr(a["value"])
            names = lr.names_in(value) | lr.names_in(shown)
            assert lr.agree(shown, value, names, 1e-9) is True, (q["template"], a["display"], a["value"])
            compared += 1
    assert compared >= 20


@pytest.mark.parametrize("expression, about, order", [
    ("2*exp(x/2) + 3*x", -1, 2),          # f'(-1) = e^{-1/2} + 3: a sum as a coefficient
    ("sin(x) + x*cos(x)", 1, 3),           # every coefficient a sum of sin 1 and cos 1
    ("sqrt(x) + log(x)*x", 2, 2),
    ("x**(2/3)", 27, 2),
])
def test_single_variable_taylor_steps_show_each_derivative_and_coefficient(expression, about, order):
    from quizgen.solve import solve_request
    inputs = {"expression": expression, "variables": ["x"], "about": {"x": about}, "order": order}
    out = solve_request({"op": "taylor_polynomial", "inputs": inputs}, "test", "test")
    steps = out["steps"]
    names = ["f", "f'", "f''", "f'''"]
    for k in range(order + 1):
        line = next(s for s in steps if s.startswith(f"{names[k]}(x) = "))
        # f^(k)(x), f^(k)(a) and c_k = f^(k)(a) / k! are all shown, and right
        derivative = sp.diff(_expr(expression), sp.Symbol("x"), k)
        (_, shown_d), (_, shown_at, *_), (_, *shown_c) = lr.chains(line)
        assert lr.agree(lr.parse(shown_d), derivative, {"x"}) is True
        assert lr.agree(lr.parse(shown_at), derivative.subs("x", about), set()) is True
        assert lr.agree(lr.parse(shown_c[-1]), derivative.subs("x", about) / sp.factorial(k), set()) is True
    assert not check_line(steps[-1], "taylor_polynomial", inputs, {"x"}, Counter())


def test_the_check_catches_a_coefficient_that_lost_its_brackets():
    inputs = {"expression": "2*exp(x/2) + 3*x", "variables": ["x"], "about": {"x": -1}, "order": 1}
    right = r"T_{1}(x) = -3 + \frac{2}{e^{\frac{1}{2}}} + \left(e^{- \frac{1}{2}} + 3\right) \left(x + 1\right)"
    wrong = r"T_{1}(x) = -3 + \frac{2}{e^{\frac{1}{2}}} + e^{- \frac{1}{2}} + 3 \left(x + 1\right)"
    assert not check_line(right, "taylor_polynomial", inputs, {"x"}, Counter())
    assert check_line(wrong, "taylor_polynomial", inputs, {"x"}, Counter())
    assert check_line(r"\frac{df}{dx} = 3 + e^{x}", "derivative", {"expression": "3*x + exp(x/2)"},
                      {"x"}, Counter())
