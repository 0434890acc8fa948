"""The library of named misconceptions, and multiple-choice questions built from them.

A misconception is a *wrong engine*: ``fn(op, inputs, value) -> wrong value`` (sympy),
computed from the same inputs the way a student who holds it would. Adding one = one
function decorated with ``@misconception(name, ops, feedback)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import mpmath as mp
import sympy as sp

from .engine import exact_number
from .engine.derivatives import diff, hessian
from .errors import Degenerate
from .exprs import FUNCTIONS, AutoSymbols, names_in, to_sympy
from .inputs import json_value
from .verify import close
from .verify.symbolic import POINTS, _texts, evaluate


@dataclass(frozen=True)
class Misconception:
    name: str
    ops: tuple[str, ...]
    feedback: str
    fn: Callable[[str, dict, Any], Any]
    specific: Callable[[str, dict], str | None] | None = None   # feedback naming this question's function

    @property
    def description(self) -> str:
        """One line: the first sentence of the feedback."""
        first = re.split(r"(?<=[.!?])\s", self.feedback.strip(), maxsplit=1)[0]
        return " ".join(first.split())


MISCONCEPTIONS: dict[str, Misconception] = {}
_U = sp.Symbol("#u", real=True)      # stands for the argument of an outer function (not a template name)


def misconception(name: str, ops: tuple[str, ...], feedback: str, specific=None):
    """Register ``fn(op, inputs, value) -> wrong value``; ``feedback`` speaks generally (no function
    the question may lack), ``specific(op, inputs)`` may return a text for this question instead."""
    def deco(fn):
        MISCONCEPTIONS[name] = Misconception(name, ops, feedback, fn, specific)
        return fn
    return deco


def _at(expr, inputs):
    at = inputs.get("at")
    if not at:
        return expr
    if all(isinstance(k, sp.Symbol) for k in at):      # a point: simultaneous, without subs' matching
        return expr.xreplace({k: sp.sympify(v) for k, v in at.items()})
    return expr.subs(at)


# ---- wrong differentiation rules ----------------------------------------------------

@lru_cache(maxsize=4096)
def _wrong_diff(expr, x, *, chain=True, product=True, keep_exponent=False, drop_coefficient=False,
                negative_as_positive=False):
    """Differentiate with one rule done wrong: no inner derivative, product rule as a
    product of derivatives, the power rule keeping the exponent, not bringing it down, or
    bringing a negative exponent down without its minus sign."""
    how = dict(chain=chain, product=product, keep_exponent=keep_exponent, drop_coefficient=drop_coefficient,
               negative_as_positive=negative_as_positive)

    def d(e):
        return _wrong_diff(e, x, **how)

    if not expr.has(x):
        return sp.Integer(0)
    if expr == x:
        return sp.Integer(1)
    if expr.is_Add:
        return sp.Add(*[d(a) for a in expr.args])
    if expr.is_Mul:
        consts = sp.Mul(*[a for a in expr.args if not a.has(x)])
        factors = [a for a in expr.args if a.has(x)]
        if len(factors) == 1:
            return consts * d(factors[0])
        ds = [d(f) for f in factors]
        if not product:
            return consts * sp.Mul(*ds)
        return consts * sp.Add(*[sp.Mul(*(factors[:i] + [di] + factors[i + 1:])) for i, di in enumerate(ds)])
    if expr.is_Pow:
        base, ex = expr.args
        if ex.has(x):
            return diff(expr, x)
        factor = 1 if drop_coefficient else (-ex if negative_as_positive and ex.is_number and ex < 0 else ex)
        outer = factor * base ** (ex if keep_exponent and ex.is_number and ex > 1 else ex - 1)
        return outer * d(base) if chain else outer
    if isinstance(expr, sp.Function) and len(expr.args) == 1:
        outer = _outer_derivative(expr.func).xreplace({_U: expr.args[0]})
        return outer * d(expr.args[0]) if chain else outer
    return diff(expr, x)


@lru_cache(maxsize=256)
def _outer_derivative(func):
    """f'(u) of a one-argument function, in the placeholder ``_U``."""
    return diff(func(_U), _U)


def _derivative_like(op, inputs, value, **how):
    if op == "derivative":
        return _at(_wrong_diff(inputs["expression"], inputs["variable"], **how), inputs)
    if op == "gradient":
        return [_at(_wrong_diff(inputs["expression"], v, **how), inputs) for v in inputs["variables"]]
    if op == "jacobian":
        return [[_at(_wrong_diff(f, v, **how), inputs) for v in inputs["variables"]] for f in inputs["expressions"]]
    if op == "hessian":
        f, xs = inputs["expression"], inputs["variables"]
        return [[_at(_wrong_diff(_wrong_diff(f, a, **how), b, **how), inputs) for b in xs] for a in xs]
    if op in ("steepest_ascent", "directional_derivative"):
        g = [_at(_wrong_diff(inputs["expression"], v, **how), inputs) for v in inputs["variables"]]
        return _along(op, inputs, g)
    if op == "partial_derivative":
        e = inputs["expression"]
        for v in inputs["variables"]:
            e = _wrong_diff(e, v, **how)
        return _at(e, inputs)
    if op == "chain_rule":
        # the inner derivatives dx/dt are dropped: df/dt = sum df/du_i
        f, subs = inputs["expression"], inputs["substitutions"]
        total = _at(sum((diff(f, u) for u in subs), sp.Integer(0)).subs(subs), inputs)
        return [total] * len(inputs["variables"]) if inputs.get("variables") else total
    raise Degenerate("not applicable")


@misconception("missing_inner_derivative", ("derivative", "gradient", "jacobian", "partial_derivative", "hessian",
                                            "chain_rule", "steepest_ascent", "directional_derivative"),
               "The inner derivative is missing: by the chain rule, $\\frac{d}{dx} f(g(x)) = f\'(g(x))\\, g\'(x)$.")
def _missing_inner(op, inputs, value):
    return _derivative_like(op, inputs, value, chain=False)


@misconception("product_rule_as_product", ("derivative", "gradient", "jacobian", "partial_derivative", "hessian"),
               "The derivative of a product is not the product of the derivatives: $(uv)\' = u\'v + uv\'$.")
def _product_as_product(op, inputs, value):
    return _derivative_like(op, inputs, value, product=False)


@misconception("transposed_jacobian", ("jacobian",),
               "This is the transpose: row i of J holds the partial derivatives of the i-th component.")
def _transposed(op, inputs, value):
    return [list(r) for r in zip(*value)]


@misconception("hessian_cross_term_doubled", ("hessian",),
               "The mixed partial derivative appears once per off-diagonal entry; it is not doubled.")
def _cross_doubled(op, inputs, value):
    return [[v if i == j else 2 * v for j, v in enumerate(r)] for i, r in enumerate(value)]


@misconception("hessian_cross_term_missing", ("hessian",),
               "The off-diagonal entries are the mixed partials $f_{xy} = f_{yx}$: they are not zero here, because "
               "the variables appear together in a term.")
def _cross_missing(op, inputs, value):
    return [[v if i == j else 0 * v for j, v in enumerate(r)] for i, r in enumerate(value)]


@misconception("forgotten_factorial", ("taylor_coefficients", "taylor_evaluate"),
               "Each Taylor term is $\\frac{f^{(n)}(a)}{n!}(x-a)^n$: the $\\frac{1}{n!}$ was forgotten.")
def _forgotten_factorial(op, inputs, value):
    if op == "taylor_coefficients":
        return [c * sp.factorial(k) for k, c in enumerate(value)]
    from .engine.series import taylor_terms
    xs = list(inputs["variables"])
    about = inputs["about"] if isinstance(inputs["about"], dict) else {xs[0]: inputs["about"]}
    total = sp.Integer(0)
    for m, c, mono in taylor_terms(inputs["expression"], xs, about, int(inputs["order"])):
        scale = sp.Mul(*[sp.factorial(k) for k in m])
        total += c * scale * mono
    return total.subs(inputs["at"])


@misconception("gradient_ascent", ("gradient_descent", "fit_gradient_descent"),
               "Gradient descent steps against the gradient: $\\mathbf{x} - \\gamma \\nabla f$, not $\\mathbf{x} + \\gamma \\nabla f$.")
def _ascent(op, inputs, value):
    from . import engine
    flipped = dict(inputs, learning_rate=-inputs["learning_rate"])
    return engine.run(op, flipped, steps=False).value


@misconception("newton_wrong_sign", ("newton_raphson",),
               "The Newton step is $x - f(x)/f\'(x)$; adding $f(x)/f\'(x)$ moves away from the root, up the "
               "tangent instead of down to where it crosses zero.")
def _newton_sign(op, inputs, value):
    return _newton(inputs, lambda x, f, d: x + f / d)


@misconception("newton_inverted", ("newton_raphson",),
               "The Newton step divides the function value by the slope, $x - f(x)/f\'(x)$, not the slope by the "
               "value: the tangent at $x$ reaches zero a distance $f(x)/f\'(x)$ away.")
def _newton_inverted(op, inputs, value):
    return _newton(inputs, lambda x, f, d: x - d / f)


def _newton(inputs, step):
    from .engine.optimise import compiled
    f, x = inputs["expression"], inputs["variable"]
    both = compiled([f, diff(f, x)], [x])
    start = inputs["start"]
    start = (list(start.values()) if isinstance(start, dict) else list(start))[0] \
        if isinstance(start, (list, dict)) else start
    xn = sp.N(start, 30)
    for _ in range(int(inputs["steps"])):
        fx, dx = both(xn)
        if fx == 0 or dx == 0:
            raise Degenerate("division by zero")
        xn = step(xn, fx, dx)
        if abs(xn) > 1e12:
            raise Degenerate("diverges")
    return sp.Float(str(xn), 30)


@misconception("sigma_prime_as_sigma", ("backprop",),
               "The derivative of the sigmoid is $\\sigma\'(z) = \\sigma(z)(1 - \\sigma(z))$, not $\\sigma(z)$ itself.")
def _sigma_prime(op, inputs, value):
    from .engine import networks
    sigmoid = networks.ACTIVATIONS["sigmoid"]
    wrong = {**networks.ACTIVATIONS, "sigmoid": (sigmoid[0], lambda z, a: a, sigmoid[2])}
    return networks.backprop_with(inputs, wrong).value


@misconception("chi2_without_sigma", ("chi_squared", "linear_regression", "least_squares"),
               "$\\chi^2$ weights each squared residual by $1/\\sigma_i^2$; the weights were left out.")
def _no_sigma(op, inputs, value):
    if inputs.get("sigma") is None:
        raise Degenerate("no sigma to forget")
    from . import engine
    return engine.run(op, {k: v for k, v in inputs.items() if k != "sigma"}, steps=False).value


@misconception("slope_intercept_swapped", ("linear_regression",),
               "Slope and intercept are swapped: in $y = m x + c$ the slope $m$ multiplies $x$.")
def _swapped(op, inputs, value):
    return {"slope": value["intercept"], "intercept": value["slope"]}


def _sign_feedback(op, inputs):
    """The sign-slip feedback with an example from this question's own functions."""
    if any(type(f).__name__.endswith("cos") for e in _expressions(inputs) for f in e.atoms(sp.Function)):
        return ("A sign slipped: check the sign of each term (for example, differentiating $\\cos$ brings in "
                "a minus sign).")
    if op == "backprop":
        return ("A sign slipped: $\\frac{\\partial C}{\\partial a} = 2(a - y)$, output minus target, "
                "not $2(y - a)$.")
    return None


def _expressions(inputs):
    """The expressions among an operation's inputs (for feedback that names the question's functions)."""
    for key in ("expression", "model"):
        if isinstance(inputs.get(key), sp.Basic):
            yield inputs[key]
    yield from (e for e in inputs.get("expressions") or [] if isinstance(e, sp.Basic))
    yield from (e for e in (inputs.get("substitutions") or {}).values() if isinstance(e, sp.Basic))


def _negated(value):
    return [_negated(v) for v in value] if isinstance(value, list) else -value


@misconception("sign_error", ("derivative", "gradient", "jacobian", "hessian", "evaluate", "difference_quotient",
                              "partial_derivative", "chain_rule", "directional_derivative", "taylor_evaluate",
                              "taylor_coefficients", "backprop"),
               "A sign slipped: check the sign of each term, and of each derivative you use.", _sign_feedback)
def _sign(op, inputs, value):
    return _negated(value)


@misconception("power_rule_exponent_kept", ("derivative", "gradient", "jacobian", "partial_derivative", "hessian"),
               "The power rule lowers the exponent: $\\frac{d}{dx} x^n = n x^{n-1}$, not $n x^n$.")
def _power_kept(op, inputs, value):
    return _derivative_like(op, inputs, value, keep_exponent=True)


# ---- wrong answers and the choices built from them -----------------------------------

PLAUSIBLE = 100.0      # a wrong value larger than this many times the question's answers is dropped


def _gap(ans) -> float:
    """How far a wrong value must be from the key to count as different: twice the
    tolerance (absolute, or relative to the key's size), at least 1.5 units of the last decimal."""
    tol = ans.spec.get("tolerance") or {}
    limit = max(tol.get("abs", 0.0), 10.0 ** -ans.digits, tol.get("rel", 0.0) * _magnitude(ans.value))
    return max(2 * limit, 1.5 * 10.0 ** -ans.digits)


def _magnitude(value) -> float:
    numbers = [abs(v) for v in _numbers(value)]
    return max(numbers) if numbers else 0.0


def _numbers(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _numbers(v)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield float(value)


def default_misconceptions(tpl, ans) -> list[str]:
    """The misconceptions tried for an answer: its own list, the multiple-choice list for
    the multiple-choice answer, then every library misconception of its operation."""
    names = list(ans.spec.get("misconceptions") or [])
    mc = tpl.data.get("multiple_choice")
    if mc and mc.get("answer", next(iter(tpl.answers))) == ans.name:
        names += [n for n in mc["misconceptions"] if n not in names]
    if "misconceptions" not in ans.spec:
        names += [n for n, m in MISCONCEPTIONS.items() if ans.spec["op"] in m.ops and n not in names]
    return names


def wrong_answers(tpl, answers, index, display, names=None, strict=False) -> list[dict]:
    """The distinct, plausible wrong answers to ``answers[index]``, one per misconception.

    Each is ``{name, value, display, feedback}``. A wrong value is kept only when it
    differs beyond tolerance from the key, from every other answer of the question and
    from the wrong values already kept, is finite, and is within ``PLAUSIBLE`` times the
    size of the question's answers. ``strict`` makes a misconception that does not apply
    to the answer's operation an error (a template's multiple-choice list).
    """
    ans = answers[index]
    names = default_misconceptions(tpl, ans) if names is None else names
    gap, op = _gap(ans), ans.spec["op"]
    others = [a.value for i, a in enumerate(answers) if i != index and a.kind == ans.kind]
    seen = [ans.value] + others
    scale = max([_magnitude(a.value) for a in answers] + [1.0])
    kept = []
    for name in names:
        m = MISCONCEPTIONS.get(name)
        if m is None:
            raise tpl.error(["answers", ans.name, "misconceptions"], f"unknown misconception {name!r}",
                            "see quizgen list --misconceptions")
        if op not in m.ops:
            if strict:
                raise tpl.error(["multiple_choice", "misconceptions"],
                                f"misconception {name!r} does not apply to operation {op!r}",
                                f"it applies to: {', '.join(m.ops)}")
            continue
        try:
            wrong = json_value(m.fn(op, ans.inputs, ans.result.value))
        except _NOT_APPLICABLE:
            continue
        if not _finite(wrong) or _magnitude(wrong) > PLAUSIBLE * scale or not _distinct(wrong, seen, gap, ans.kind):
            continue
        try:
            shown = _as_display(ans, wrong, display)      # only for a value that is kept
        except _NOT_APPLICABLE:
            continue
        seen.append(wrong)
        kept.append({"name": m.name, "value": wrong, "display": shown,
                     "feedback": feedback_text(m, op, ans.inputs)})
    return kept


_NOT_APPLICABLE = (Degenerate, ZeroDivisionError, TypeError, ValueError, AttributeError, ArithmeticError)


def feedback_text(m: Misconception, op: str, inputs: dict) -> str:
    """The misconception's feedback for this question: its specific text when it has one."""
    return (m.specific(op, inputs) if m.specific else None) or m.feedback


def _finite(value) -> bool:
    import math
    return all(math.isfinite(v) for v in _numbers(value))


def option_count(mc: dict) -> int:
    """How many options a multiple-choice block asks for: ``options`` (then exactly that many, a
    variant with fewer distinct ones is resampled), else up to four (at least three)."""
    return int(mc.get("options", min(4, len(mc["misconceptions"]) + 1)))


def make_choices(tpl, answers, provenances, display, rng, wrong=None) -> list[dict]:
    """Correct answer + distractors (distinct beyond tolerance), deterministically shuffled.

    ``wrong`` are the multiple-choice answer's wrong answers when already computed.
    """
    mc = tpl.data["multiple_choice"]
    target = mc.get("answer", next(iter(tpl.answers)))
    idx = [a.name for a in answers].index(target)
    ans, prov = answers[idx], provenances[idx]
    listed = list(mc["misconceptions"])
    if wrong is None:
        wrong = wrong_answers(tpl, answers, idx, display, listed, strict=True)
    else:
        for name in listed:
            if ans.spec["op"] not in MISCONCEPTIONS[name].ops:
                wrong_answers(tpl, answers, idx, display, [name], strict=True)
    distractors = [w for w in wrong if w["name"] in listed]
    distractors.sort(key=lambda w: listed.index(w["name"]))
    wanted = option_count(mc) - 1
    if len(distractors) < (wanted if "options" in mc else min(wanted, 2)) or len(distractors) < 1:
        raise Degenerate(f"fewer than {wanted + 1} distinct options (list more multiple_choice misconceptions, "
                         f"or ask for fewer options)")
    distractors = distractors[:wanted]
    choices = [{"text": f"${display(ans)}$", "correct": True, "misconception": None,
                "feedback": "Correct.", "provenance": prov}]
    choices += [{"text": f"${w['display']}$", "correct": False, "misconception": w["name"],
                 "feedback": w["feedback"]} for w in distractors]
    order = rng.permutation(len(choices))
    return [choices[int(i)] for i in order]


def _distinct(wrong, seen, gap, kind) -> bool:
    if kind == "expression":
        return all(not _same_function(wrong, s) for s in seen)
    return all(not close(wrong, s, 0.0, gap) for s in seen)


def _same_function(a, b) -> bool:
    """Expression values equal as functions: the same numbers at several sample points."""
    if _shape(a) != _shape(b):
        return False
    names = sorted(set().union(*(names_in(t) for t in _texts([a, b]))) - set(FUNCTIONS) - {"pi", "E"})
    for coords in POINTS:
        at = tuple(zip(names, (coords * 3)[:len(names)]))
        try:
            if not close(_sampled(a, at), _sampled(b, at), 1e-9, 1e-9):
                return False
        except (ValueError, ZeroDivisionError, OverflowError):
            continue
    return True


def _sampled(value, at: tuple):
    """``verify.symbolic._evaluate(value, dict(at))``, each text evaluated once per point."""
    if isinstance(value, (list, tuple)):
        return [_sampled(v, at) for v in value]
    return _value_at(str(value), at, mp.mp.prec)


@lru_cache(maxsize=4096)
def _value_at(text: str, at: tuple, prec: int):
    """The value of ``text`` at the point ``at`` ((name, number) pairs) at mpmath precision ``prec``
    (a key only: the evaluation uses the current one); an error is raised again, not kept."""
    return evaluate(text, dict(at))


def _shape(v):
    return [_shape(x) for x in v] if isinstance(v, list) else 0


def _as_display(ans, wrong, display):
    from dataclasses import replace
    return display(replace(ans, value=wrong, result=type(ans.result)(_parse(wrong), [])))


def _parse(value):
    """JSON value -> sympy, strings through the safe parser (never sympify), tidied like keys."""
    if isinstance(value, list):
        return [_parse(v) for v in value]
    if isinstance(value, str):
        return _parse_text(value)
    return value


@lru_cache(maxsize=1024)
def _parse_text(text: str):
    from .engine import tidy
    return tidy(to_sympy(text, {}, AutoSymbols()))


# ---- Taylor series, optimisation and regression (modules 4-6) ------------------------

def _taylor_rebuilt(inputs, term):
    """The Taylor polynomial with each term rebuilt as ``term(multi_index, coeff, monomial, about)``."""
    from .engine.series import taylor_terms
    xs = list(inputs["variables"])
    about = inputs["about"] if isinstance(inputs["about"], dict) else {xs[0]: inputs["about"]}
    poly = sp.Add(*[term(m, c, mono, [(v, about[v]) for v in xs])
                    for m, c, mono in taylor_terms(inputs["expression"], xs, about, int(inputs["order"]))])
    return poly.subs(inputs["at"]) if inputs.get("at") else poly


@misconception("taylor_divided_by_n", ("taylor_coefficients",),
               "The $n$-th coefficient is $\\frac{f^{(n)}(a)}{n!}$: divide by $n!$, not by $n$.")
def _divided_by_n(op, inputs, value):
    return [c * sp.factorial(k) / max(k, 1) for k, c in enumerate(value)]


@misconception("taylor_powers_of_x", ("taylor_evaluate", "taylor_polynomial"),
               "A Taylor series about $a$ is in powers of $(x - a)$, not of $x$.")
def _powers_of_x(op, inputs, value):
    if all(a == 0 for a in (inputs["about"].values() if isinstance(inputs["about"], dict) else [inputs["about"]])):
        raise Degenerate("about 0 the powers of x are right")
    return _taylor_rebuilt(inputs, lambda m, c, mono, va: c * sp.Mul(*[v ** k for (v, _), k in zip(va, m)]))


@misconception("taylor_cross_term_halved", ("taylor_evaluate", "taylor_polynomial"),
               "In $\\tfrac12 \\Delta\\mathbf{x}^\\top H \\Delta\\mathbf{x}$ the mixed partial appears twice "
               "($H_{xy}$ and $H_{yx}$), so the cross term is $f_{xy}\\,\\Delta x\\,\\Delta y$, without a factor $\\tfrac12$.")
def _cross_term_halved(op, inputs, value):
    if len(inputs["variables"]) < 2:
        raise Degenerate("no cross terms in one variable")
    return _taylor_rebuilt(inputs, lambda m, c, mono, va: c * mono / 2 if sum(1 for k in m if k) >= 2 else c * mono)


def _newton_hessian(inputs, update):
    from .engine.optimise import compiled
    f, xs = inputs["expression"], list(inputs["variables"])
    grad, hess = sp.Matrix([diff(f, v) for v in xs]), hessian(f, xs)
    parts, m = compiled(list(grad) + list(hess), xs), len(xs)
    start = inputs["start"]
    start = [start[v] for v in xs] if isinstance(start, dict) else list(start)
    p = sp.Matrix([sp.N(v, 30) for v in start])
    for _ in range(int(inputs["steps"])):
        values = [sp.Float(str(v), 30) for v in parts(*p)]
        p = update(p, sp.Matrix(values[:m]), sp.Matrix(m, m, values[m:]))
        if any(abs(v) > 1e8 for v in p):
            raise Degenerate("diverges")
    return list(p)


@misconception("newton_hessian_sign", ("newton_optimise",),
               "Newton's step is $\\mathbf{x} - H^{-1}\\nabla f$; adding $H^{-1}\\nabla f$ moves away from the "
               "stationary point.")
def _newton_hessian_sign(op, inputs, value):
    def update(p, g, H):
        if abs(H.det()) < 1e-9:
            raise Degenerate("singular Hessian")
        return p + H.LUsolve(g)
    return _newton_hessian(inputs, update)


@misconception("newton_hessian_not_inverted", ("newton_optimise",),
               "Newton's step multiplies the gradient by the inverse Hessian $H^{-1}$, not by $H$.")
def _newton_hessian_not_inverted(op, inputs, value):
    return _newton_hessian(inputs, lambda p, g, H: p - H * g)


@misconception("gradient_not_reevaluated", ("gradient_descent", "fit_gradient_descent"),
               "The gradient must be evaluated again at each new point, not reused from the start.")
def _gradient_not_reevaluated(op, inputs, value):
    from . import engine
    once = engine.run(op, dict(inputs, steps=1), steps=False).value
    n = int(inputs["steps"])
    if isinstance(once, dict):
        start = dict(inputs["start"])
        return {str(k): s + n * (once[str(k)] - s) for k, s in start.items()}
    start = inputs["start"]
    start = [start[v] for v in inputs["variables"]] if isinstance(start, dict) else list(start)
    return [s + n * (o - s) for s, o in zip(start, once)]


@misconception("chi2_gradient_without_factor_two", ("fit_gradient_descent",),
               "$\\frac{\\partial}{\\partial p} (y_i - y(x_i))^2 = -2\\,(y_i - y(x_i))\\,\\frac{\\partial y(x_i)}{\\partial p}$: "
               "the factor 2 was dropped.")
def _chi2_gradient_half(op, inputs, value):
    from . import engine
    return engine.run(op, dict(inputs, learning_rate=inputs["learning_rate"] / 2), steps=False).value


@misconception("chi2_sigma_not_squared", ("chi_squared", "linear_regression", "least_squares"),
               "Each squared residual is divided by $\\sigma_i^2$ (weight $1/\\sigma_i^2$), not by $\\sigma_i$.")
def _chi2_sigma_not_squared(op, inputs, value):
    if inputs.get("sigma") is None:
        raise Degenerate("no sigma")
    from . import engine
    return engine.run(op, dict(inputs, sigma=[sp.sqrt(exact_number(s)) for s in inputs["sigma"]]), steps=False).value


@misconception("intercept_sign_error", ("linear_regression",),
               "The best-fit line passes through the (weighted) mean point: $c = \\bar y - m \\bar x$, "
               "not $\\bar y + m \\bar x$.")
def _intercept_sign(op, inputs, value):
    sigma = inputs.get("sigma") or [1] * len(inputs["x"])
    w = [1 / exact_number(s) ** 2 for s in sigma]
    xbar = sum(wi * exact_number(xi) for wi, xi in zip(w, inputs["x"])) / sum(w)
    return {"slope": value["slope"], "intercept": value["intercept"] + 2 * value["slope"] * xbar}


# ---- derivative rules, chain rule and networks (modules 1-3) ------------------------

def _single(inputs):
    """(f, x) of a first-derivative question; other orders are not applicable."""
    if int(inputs.get("order") or 1) != 1:
        raise Degenerate("only for first derivatives")
    return inputs["expression"], inputs["variable"]


def _quotient(inputs):
    f, x = _single(inputs)
    u, v = _fraction(f)
    if not v.has(x) or not u.has(x):
        raise Degenerate("not a quotient of two functions of x")
    return u, v, x


@lru_cache(maxsize=1024)
def _fraction(f):
    """Numerator and denominator of ``f`` over a common denominator (both quotient rules ask)."""
    return sp.fraction(sp.together(f))


@misconception("quotient_of_derivatives", ("derivative",),
               "The derivative of a quotient is not the quotient of the derivatives: "
               "$\\left(\\frac{u}{v}\\right)' = \\frac{u'v - uv'}{v^2}$.")
def _quotient_of_derivatives(op, inputs, value):
    u, v, x = _quotient(inputs)
    return _at(diff(u, x) / diff(v, x), inputs)


@misconception("quotient_rule_denominator_not_squared", ("derivative",),
               "In the quotient rule the denominator is squared: "
               "$\\left(\\frac{u}{v}\\right)' = \\frac{u'v - uv'}{v^2}$, not $\\frac{u'v - uv'}{v}$.")
def _quotient_not_squared(op, inputs, value):
    u, v, x = _quotient(inputs)
    return _at((diff(u, x) * v - u * diff(v, x)) / v, inputs)


@misconception("cos_derivative_sign", ("derivative",),
               "The derivative of $\\cos$ is $-\\sin$: $\\frac{d}{dx}\\cos u = -\\sin(u)\\, u'$, not $+\\sin(u)\\, u'$.")
def _cos_sign(op, inputs, value):
    f, x = _single(inputs)
    if not f.has(sp.cos):
        raise Degenerate("no cosine")
    return _at(_diff_with_rule(f, x, sp.cos, sp.sin), inputs)


def _diff_with_rule(f, x, outer, wrong):
    """df/dx by the chain rule with a wrong derivative of ``outer``: outer'(u) taken as
    ``wrong(u)`` (the inner derivative u' is still applied)."""
    W = sp.Function("W")
    d = sp.diff(f.replace(outer, W), x)
    d = d.replace(lambda e: isinstance(e, sp.Derivative) and getattr(e.expr, "func", None) == W,
                  lambda e: wrong(e.expr.args[0])).doit()
    return d.replace(W, outer)


@misconception("exp_derivative_power_rule", ("derivative",),
               "$e^u$ is not a power of $u$: $\\frac{d}{dx} e^{u} = e^{u}\\, u'$, not $u\\, e^{u - 1}\\, u'$ "
               "(the power rule is for $x^n$ with a constant exponent).")
def _exp_power_rule(op, inputs, value):
    f, x = _single(inputs)
    if not f.has(sp.exp):
        raise Degenerate("no exponential")
    return _at(_diff_with_rule(f, x, sp.exp, lambda u: u * sp.exp(u - 1)), inputs)


@misconception("first_derivative_for_second", ("derivative",),
               "This is one derivative too few: the second derivative differentiates $f'(x)$ once more.")
def _one_order_less(op, inputs, value):
    n = int(inputs.get("order") or 1)
    if n < 2:
        raise Degenerate("only for higher derivatives")
    return _at(diff(inputs["expression"], inputs["variable"], n - 1), inputs)


@misconception("derivative_squared", ("derivative",),
               "$f''(x)$ means differentiating twice, not squaring the first derivative.")
def _derivative_squared(op, inputs, value):
    if int(inputs.get("order") or 1) != 2:
        raise Degenerate("only for second derivatives")
    return _at(diff(inputs["expression"], inputs["variable"]) ** 2, inputs)


@misconception("tangent_for_secant", ("difference_quotient",),
               "This is the exact derivative $f'(a)$, the slope of the tangent; the difference quotient "
               "is the slope of the secant through $(a, f(a))$ and $(a + h, f(a + h))$.")
def _tangent_for_secant(op, inputs, value):
    x = inputs["variable"]
    return diff(inputs["expression"], x).subs(x, inputs["at"][x])


@misconception("difference_not_divided_by_h", ("difference_quotient",),
               "The difference $f(a + h) - f(a)$ is only the rise of the secant; its slope divides it by "
               "the run $h$.")
def _not_divided_by_h(op, inputs, value):
    return value * inputs["h"]


@misconception("chain_rule_jacobian_transposed", ("chain_rule",),
               "The inner Jacobian was used transposed: $\\frac{\\partial F}{\\partial t_j} = "
               "\\sum_i \\frac{\\partial F}{\\partial u_i}\\frac{\\partial u_i}{\\partial t_j}$, where row $i$ of "
               "$J$ holds the derivatives of $u_i$.")
def _chain_transposed(op, inputs, value):
    outer, subs = list(inputs.get("variables") or []), dict(inputs["substitutions"])
    inner = list(subs)
    if len(outer) < 2 or len(outer) != len(inner):
        raise Degenerate("needs as many outer as inner variables")
    f = inputs["expression"]
    df = [diff(f, u).subs(subs) for u in inner]
    wrong = [sum((df[i] * diff(subs[inner[j]], outer[i]) for i in range(len(inner))), sp.Integer(0))
             for j in range(len(outer))]
    return [_at(w, inputs) for w in wrong]


@misconception("squared_error_factor_missing", ("backprop",),
               "The factor 2 was dropped: for the cost $C = (a - y)^2$, $\\frac{\\partial C}{\\partial a} = 2(a - y)$, "
               "and every gradient behind it carries that 2.")
def _factor_two(op, inputs, value):
    if str(inputs.get("cost") or "squared_error") != "squared_error":
        raise Degenerate("the cost has no factor 2")
    from . import engine
    return engine.run(op, dict(inputs, cost="half_squared_error"), steps=False).value


@misconception("weight_gradient_without_input", ("backprop",),
               "$\\frac{\\partial C}{\\partial w_{jk}} = \\delta_j\\, a_k$, where $a_k$ is the input the weight "
               "multiplies; that factor was left out.")
def _without_input(op, inputs, value):
    if str(inputs["wrt"]["param"]) != "weights":
        raise Degenerate("only for weights")
    from . import engine
    wrt = dict(inputs["wrt"], param="biases")
    delta = engine.run(op, dict(inputs, wrt=wrt), steps=False).value
    return [[d for _ in row] for d, row in zip(delta, value)]


@misconception("forward_without_activation", ("forward",),
               "The activation function was not applied: a neuron outputs the activation of $z$, not "
               "$z = w x + b$ itself.", lambda op, inputs: _activation_named(
                   inputs, "The activation function was not applied: the neuron outputs ${f}(z)$, not $z = w x + b$ itself."))
def _no_activation(op, inputs, value):
    from . import engine
    layers = [dict(layer, activation="linear") for layer in inputs["layers"]]
    return engine.run(op, dict(inputs, layers=layers), steps=False).value


@misconception("taylor_last_term_missing", ("taylor_evaluate", "taylor_polynomial"),
               "$T_n$ keeps every term up to and including the $(x - a)^n$ term: one term too few was kept.")
def _last_term_missing(op, inputs, value):
    if int(inputs["order"]) < 1:
        raise Degenerate("order 0")
    return _taylor_rebuilt(dict(inputs, order=int(inputs["order"]) - 1), lambda m, c, mono, va: c * mono)


@misconception("explicit_dependence_missing", ("chain_rule",),
               "$f$ also depends on $t$ directly: besides the terms through the intermediate variables, the "
               "total derivative includes the explicit partial derivative $\\frac{\\partial f}{\\partial t}$.")
def _explicit_missing(op, inputs, value):
    subs = dict(inputs["substitutions"])
    outer = list(inputs.get("variables") or [inputs["variable"]])
    direct = [u for u in subs if u in outer and subs[u] == u]
    if not direct:
        raise Degenerate("no explicit dependence on the outer variable")
    f, fixed = inputs["expression"], {u: e for u, e in subs.items() if u not in direct}
    totals = [sum((diff(f, u).subs(subs) * diff(e, t) for u, e in fixed.items()), sp.Integer(0))
              for t in outer]
    totals = [_at(v, inputs) for v in totals]
    return totals if inputs.get("variables") else totals[0]


@misconception("forward_bias_omitted", ("forward",),
               "The bias was left out: each neuron computes $z = \\mathbf{w} \\cdot \\mathbf{a} + b$ before the activation.")
def _bias_omitted(op, inputs, value):
    from . import engine
    layers = [dict(layer, biases=[0 * sp.sympify(b) for b in layer["biases"]]) if isinstance(layer["biases"], list)
              else dict(layer, biases=0) for layer in inputs["layers"]]
    return engine.run(op, dict(inputs, layers=layers), steps=False).value


@misconception("sigmoid_exponent_sign", ("forward",),
               "The sigmoid is $\\sigma(z) = \\frac{1}{1 + e^{-z}}$; with $e^{+z}$ you get "
               "$\\sigma(-z) = 1 - \\sigma(z)$.")
def _sigmoid_sign(op, inputs, value):
    from . import engine
    if not any(str(layer.get("activation", "sigmoid")) == "sigmoid" for layer in inputs["layers"]):
        raise Degenerate("no sigmoid layer")

    def flip(layer):                  # sigma(-z): negate the layer's weights and biases
        if str(layer.get("activation", "sigmoid")) != "sigmoid":
            return layer
        neg = lambda v: [neg(u) for u in v] if isinstance(v, list) else -sp.sympify(v)  # noqa: E731
        return dict(layer, weights=neg(layer["weights"]), biases=neg(layer["biases"]))
    return engine.run(op, dict(inputs, layers=[flip(layer) for layer in inputs["layers"]]), steps=False).value


# ---- more distractors: every multiple-choice question gets at least three ------------

@misconception("function_value_for_derivative", ("derivative", "partial_derivative"),
               "This is the value of the function itself, not of its derivative: differentiate first, "
               "then put in the point.")
def _function_value(op, inputs, value):
    return _at(inputs["expression"], inputs)


@misconception("power_rule_coefficient_missing", ("derivative", "gradient", "jacobian", "partial_derivative", "hessian",
                                                  "steepest_ascent", "directional_derivative"),
               "The power rule brings the exponent down as a factor: $\\frac{d}{dx} x^n = n x^{n-1}$, "
               "not $x^{n-1}$.")
def _coefficient_missing(op, inputs, value):
    return _derivative_like(op, inputs, value, drop_coefficient=True)


@misconception("gradient_components_swapped", ("gradient", "steepest_ascent", "directional_derivative"),
               "The components are in the wrong order: component $i$ of $\\nabla f$ is the partial derivative "
               "with respect to the $i$-th variable, in the order the variables are listed.")
def _components_swapped(op, inputs, value):
    if op == "directional_derivative":
        return _along(op, inputs, list(reversed(_first_partials(inputs))))
    return list(reversed(value))


@misconception("partial_wrong_variable", ("partial_derivative",),
               "The derivative was taken with respect to the wrong variable: differentiate in the variables "
               "asked for, in that order, holding every other variable constant.")
def _wrong_variable(op, inputs, value):
    seq = list(inputs["variables"])
    others = sorted((s for s in inputs["expression"].free_symbols if s not in seq[-1:]), key=str)
    if not others:
        raise Degenerate("one variable only")
    e = inputs["expression"]
    for v in seq[:-1] + [seq[0] if len(seq) > 1 and seq[0] != seq[-1] else others[0]]:
        e = diff(e, v)
    return _at(e, inputs)


def _first_partials(inputs):
    f, xs = inputs["expression"], list(inputs["variables"])
    return [_at(diff(f, v), inputs) for v in xs]


@misconception("hessian_mixed_as_product", ("hessian",),
               "A mixed partial differentiates one first partial again, "
               "$f_{xy} = \\frac{\\partial}{\\partial y}\\left(\\frac{\\partial f}{\\partial x}\\right)$; "
               "it is not the product $f_x f_y$ of two first partials.")
def _mixed_as_product(op, inputs, value):
    g = _first_partials(inputs)
    return [[v if i == j else g[i] * g[j] for j, v in enumerate(r)] for i, r in enumerate(value)]


@misconception("hessian_diagonal_squared", ("hessian",),
               "$f_{xx}$ differentiates $f_x$ once more; it is not the square $(f_x)^2$ of the first partial.")
def _diagonal_squared(op, inputs, value):
    g = _first_partials(inputs)
    return [[g[i] ** 2 if i == j else v for j, v in enumerate(r)] for i, r in enumerate(value)]


def _chain_terms(inputs):
    """Per outer variable, the chain rule's terms df/du_i du_i/dt (a direct t counts as u = t)."""
    f, subs = inputs["expression"], dict(inputs["substitutions"])
    outer = list(inputs.get("variables") or [inputs["variable"]])
    extra = [t for t in outer if t in f.free_symbols and t not in subs]
    paths = list(subs.items()) + [(t, t) for t in extra]
    return outer, [[(diff(f, u) * diff(e, t)).subs(subs) for u, e in paths] for t in outer]


def _chain_wrong(inputs, combine):
    outer, terms = _chain_terms(inputs)
    if len(terms[0]) < 2:
        raise Degenerate("a single path")
    values = [_at(combine(ts), inputs) for ts in terms]
    return values if inputs.get("variables") else values[0]


@misconception("chain_rule_paths_multiplied", ("chain_rule",),
               "The contributions of the paths are added, not multiplied: "
               "$\\frac{df}{dt} = \\sum_i \\frac{\\partial f}{\\partial u_i}\\frac{du_i}{dt}$, one term per "
               "intermediate variable.")
def _paths_multiplied(op, inputs, value):
    return _chain_wrong(inputs, lambda ts: sp.Mul(*ts))


@misconception("chain_rule_path_missing", ("chain_rule",),
               "A path is missing: $f$ depends on the outer variable through every intermediate variable, "
               "and each one contributes a term $\\frac{\\partial f}{\\partial u}\\frac{du}{dt}$ to the sum.")
def _path_missing(op, inputs, value):
    return _chain_wrong(inputs, lambda ts: sp.Add(*ts[:-1]))


@misconception("activation_after_bias", ("forward",),
               "The bias goes inside the activation: a neuron computes the activation of $z = w x + b$, "
               "not the activation of $w x$ plus $b$.", lambda op, inputs: _activation_named(
                   inputs, "The bias goes inside the activation: a neuron outputs ${f}(w x + b)$, not ${f}(w x) + b$."))
def _bias_after(op, inputs, value):
    import numpy as np
    from .engine import networks
    layers = networks._layers(inputs)
    a = np.atleast_1d(networks._array(inputs["input"]))
    for W, b, act in layers:
        a = networks.ACTIVATIONS[act][0](W @ a) + b
    return [sp.Float(float(v), 17) for v in a]


def _activation_named(inputs, text):
    """``text`` with ``{f}`` as the TeX of the question's one activation; None when there are several."""
    from .engine.networks import ACTIVATIONS
    names = sorted({str(layer.get("activation", "sigmoid")) for layer in inputs["layers"]} - {"linear"})
    if len(names) != 1 or not ACTIVATIONS[names[0]][2]:
        return None
    return text.replace("{f}", ACTIVATIONS[names[0]][2])


@misconception("taylor_inner_derivative_missing", ("taylor_coefficients",),
               "The derivatives need the chain rule: $\\frac{d}{dx} g(kx) = k\\, g'(kx)$, so the $n$-th "
               "derivative carries a factor $k^n$ that was dropped.")
def _taylor_inner(op, inputs, value):
    f, x, a = inputs["expression"], inputs["variable"], inputs["about"]
    out, e = [], f
    for k in range(int(inputs["order"]) + 1):
        out.append(e.subs(x, a) / sp.factorial(k))
        e = _wrong_diff(e, x, chain=False)
    return out


@misconception("taylor_derivatives_at_zero", ("taylor_coefficients",),
               "About $x = a$ the derivatives are taken at $a$: $c_n = \\frac{f^{(n)}(a)}{n!}$; these are "
               "the coefficients about $0$.")
def _taylor_at_zero(op, inputs, value):
    from . import engine
    if inputs["about"] == 0:
        raise Degenerate("already about 0")
    return engine.run(op, dict(inputs, about=sp.Integer(0)), steps=False).value


@misconception("taylor_alternating_sign", ("taylor_coefficients",),
               "The odd coefficients have the wrong sign: these are the coefficients of $f(-x)$; check the "
               "sign of each odd derivative at the expansion point.")
def _taylor_alternating(op, inputs, value):
    return [c * (-1) ** k for k, c in enumerate(value)]


def _iterative(op, inputs, **change):
    from . import engine
    return engine.run(op, dict(inputs, **change), steps=False).value


@misconception("one_iteration_too_few", ("gradient_descent", "fit_gradient_descent", "newton_raphson",
                                         "newton_optimise"),
               "One step too few: count the steps from the starting point $x_0$; after $n$ steps the "
               "iterate is $x_n$.")
def _one_too_few(op, inputs, value):
    n = int(inputs["steps"])
    if n < 2:
        raise Degenerate("a single step")
    return _iterative(op, inputs, steps=n - 1)


@misconception("learning_rate_omitted", ("gradient_descent", "fit_gradient_descent"),
               "The step is the gradient times the learning rate: $\\mathbf{x} - \\gamma \\nabla f$; the "
               "rate $\\gamma$ was left out.")
def _rate_omitted(op, inputs, value):
    if sp.sympify(inputs["learning_rate"]) == 1:
        raise Degenerate("the rate is 1")
    return _iterative(op, inputs, learning_rate=sp.Integer(1))


@misconception("newton_derivative_not_reevaluated", ("newton_raphson",),
               "The derivative must be evaluated again at each new iterate: $x_{n+1} = x_n - f(x_n)/f'(x_n)$, "
               "not with $f'(x_0)$ every time.")
def _newton_fixed_slope(op, inputs, value):
    if int(inputs["steps"]) < 2:
        raise Degenerate("a single step")
    first = []

    def step(x, f, d):
        first.append(d)
        return x - f / first[0]
    return _newton(inputs, step)


@misconception("newton_hessian_omitted", ("newton_optimise",),
               "Newton's step uses the inverse Hessian: $\\mathbf{x} - H^{-1}\\nabla f$; "
               "$\\mathbf{x} - \\nabla f$ is a gradient step with rate 1.")
def _newton_no_hessian(op, inputs, value):
    return _newton_hessian(inputs, lambda p, g, H: p - g)


@misconception("newton_hessian_diagonal_only", ("newton_optimise",),
               "The whole Hessian is inverted, mixed partials included: dividing each gradient component by "
               "the matching diagonal entry ignores the off-diagonal terms.")
def _newton_diagonal(op, inputs, value):
    def update(p, g, H):
        if any(abs(H[i, i]) < 1e-12 for i in range(H.rows)):
            raise Degenerate("zero diagonal entry")
        return sp.Matrix([p[i] - g[i] / H[i, i] for i in range(H.rows)])
    return _newton_hessian(inputs, update)


@misconception("chi2_averaged", ("chi_squared",),
               "$\\chi^2$ is the sum of the weighted squared residuals, not their mean: it is not divided by "
               "the number of points.")
def _chi2_mean(op, inputs, value):
    return value / len(inputs["x"])


@misconception("chi2_weights_inverted", ("chi_squared", "linear_regression", "least_squares"),
               "The weights are $1/\\sigma_i^2$: a point with a small uncertainty counts more; multiplying "
               "by $\\sigma_i^2$ turns that round.")
def _chi2_inverted(op, inputs, value):
    if inputs.get("sigma") is None:
        raise Degenerate("no sigma")
    return _iterative(op, inputs, sigma=[1 / exact_number(s) for s in inputs["sigma"]])


@misconception("regression_x_on_y", ("linear_regression",),
               "This is the regression of $x$ on $y$ turned round: the best-fit line of $y$ on $x$ minimises "
               "the vertical distances $y_i - (m x_i + c)$, not the horizontal ones.")
def _x_on_y(op, inputs, value):
    swapped = _iterative(op, inputs, x=inputs["y"], y=inputs["x"])
    if abs(swapped["slope"]) < 1e-12:
        raise Degenerate("horizontal")
    return {"slope": 1 / swapped["slope"], "intercept": -swapped["intercept"] / swapped["slope"]}


@misconception("line_through_origin", ("linear_regression",),
               "The intercept was forced to zero: fit both parameters, $c = \\bar y - m \\bar x$, unless the "
               "model says the line passes through the origin.")
def _through_origin(op, inputs, value):
    sigma = inputs.get("sigma") or [1] * len(inputs["x"])
    w = [1 / exact_number(s) ** 2 for s in sigma]
    x, y = [exact_number(v) for v in inputs["x"]], [exact_number(v) for v in inputs["y"]]
    sxx = sum(wi * xi ** 2 for wi, xi in zip(w, x))
    if sxx == 0:
        raise Degenerate("all x are 0")
    return {"slope": sum(wi * xi * yi for wi, xi, yi in zip(w, x, y)) / sxx, "intercept": sp.Integer(0)}


@misconception("exp_exponent_brought_down", ("derivative",),
               "The exponential is its own derivative: $\\frac{d}{dx} e^{u} = e^{u}\\, u'$; the exponent $u$ "
               "is not brought down as a factor, as the power rule would do for $x^n$.")
def _exp_brought_down(op, inputs, value):
    f, x = _single(inputs)
    if not f.has(sp.exp):
        raise Degenerate("no exponential")
    exps = sorted(f.atoms(sp.exp), key=str)
    marks = [sp.Symbol(f"#e{i}") for i in range(len(exps))]
    # differentiate with each e^u frozen as a symbol, then add (d f/d e^u) * u e^u for each
    frozen = f.xreplace(dict(zip(exps, marks)))
    d = diff(frozen, x)
    for e, m in zip(exps, marks):
        if not e.args[0].has(x):
            continue
        d += diff(frozen, m) * e.args[0] * m
    return _at(d.xreplace(dict(zip(marks, exps))), inputs)


@misconception("difference_divided_by_2h", ("difference_quotient",),
               "The forward difference quotient divides by the run $h$ between $a$ and $a + h$; dividing by "
               "$2h$ belongs to the central difference $\\frac{f(a+h) - f(a-h)}{2h}$.")
def _over_2h(op, inputs, value):
    return value / 2


@misconception("difference_as_if_linear", ("difference_quotient",),
               "$f(a + h)$ is not $f(a) + f(h)$ unless $f$ is linear: work out $f(a + h)$ by putting "
               "$a + h$ into $f$.")
def _as_if_linear(op, inputs, value):
    x, h = inputs["variable"], inputs["h"]
    return inputs["expression"].subs(x, h) / h


# ---- directions: steepest ascent and the directional derivative ---------------------

def _direction_of(inputs):
    from .engine.directional import _direction
    return _direction(inputs["direction"], len(inputs["variables"]))


def _along(op, inputs, grad, length=None):
    """From a gradient at the point: the steepest-ascent unit vector, or the rate along the
    question's direction; ``length(v)`` is how a vector's length is (mis)taken."""
    length = length or (lambda v: sp.sqrt(sum(c ** 2 for c in v)))
    if op == "steepest_ascent":
        n = length(grad)
        if n == 0:
            raise Degenerate("zero gradient")
        return [c / n for c in grad]
    v = _direction_of(inputs)
    return sum((a * b for a, b in zip(grad, v)), sp.Integer(0)) / length(v)


@misconception("steepest_ascent_not_normalised", ("steepest_ascent",),
               "The direction is asked as a unit vector: divide the gradient by its length "
               "$\\lVert \\nabla f \\rVert$.")
def _not_normalised(op, inputs, value):
    return _first_partials(inputs)


@misconception("steepest_descent_for_ascent", ("steepest_ascent",),
               "$-\\nabla f/\\lVert \\nabla f \\rVert$ points downhill, the direction of steepest descent; "
               "$f$ increases fastest along $+\\nabla f$.")
def _descent_for_ascent(op, inputs, value):
    return _negated(value)


@misconception("length_as_component_sum", ("steepest_ascent", "directional_derivative"),
               "The length of a vector is $\\sqrt{v_1^2 + v_2^2 + \\dots}$, not the sum of its components' "
               "sizes $|v_1| + |v_2| + \\dots$.")
def _component_sum(op, inputs, value):
    grad = _first_partials(inputs)
    return _along(op, inputs, grad, lambda v: sum(abs(c) for c in v))


@misconception("direction_not_normalised", ("directional_derivative",),
               "The direction must be a unit vector: $D_{\\mathbf{u}} f = \\nabla f \\cdot \\mathbf{v}/\\lVert "
               "\\mathbf{v} \\rVert$; $\\nabla f \\cdot \\mathbf{v}$ grows with the length of $\\mathbf{v}$.")
def _direction_raw(op, inputs, value):
    return _along(op, inputs, _first_partials(inputs), lambda v: 1)


@misconception("directional_as_gradient_length", ("directional_derivative",),
               "$\\lVert \\nabla f \\rVert$ is the largest rate of change, the one along the gradient; "
               "along another direction the rate is $\\nabla f \\cdot \\mathbf{u}$.")
def _gradient_length(op, inputs, value):
    return sp.sqrt(sum(c ** 2 for c in _first_partials(inputs)))


@misconception("path_velocity_normalised", ("chain_rule",),
               "Along a path the rate per unit time is $\\frac{d}{dt} f(\\mathbf{r}(t)) = \\nabla f \\cdot "
               "\\mathbf{r}'(t)$ with the velocity as it is; dividing by $\\lVert \\mathbf{r}'(t) \\rVert$ gives "
               "the rate per unit length (a directional derivative).")
def _velocity_normalised(op, inputs, value):
    f, subs = inputs["expression"], dict(inputs["substitutions"])
    if inputs.get("variables") or len(subs) < 2 or not inputs.get("at"):
        raise Degenerate("needs a path r(t) with two or more coordinates, at a point")
    t = inputs["variable"]
    grad = [_at(diff(f, u).subs(subs), inputs) for u in subs]
    velocity = [_at(diff(e, t), inputs) for e in subs.values()]
    speed = sp.sqrt(sum(c ** 2 for c in velocity))
    if speed == 0:
        raise Degenerate("the path stands still")
    return sum((a * b for a, b in zip(grad, velocity)), sp.Integer(0)) / speed


@misconception("negative_exponent_sign_lost", ("derivative", "gradient", "partial_derivative"),
               "A negative exponent comes down with its minus sign: $\\frac{d}{dx} x^{-m} = -m\\, x^{-m-1}$, "
               "so $\\frac{d}{dx} \\frac{1}{x} = -\\frac{1}{x^2}$.")
def _negative_exponent(op, inputs, value):
    return _derivative_like(op, inputs, value, negative_as_positive=True)


@misconception("average_rate_for_instantaneous", ("derivative",),
               "This is the average rate over the next unit, $f(a + 1) - f(a)$; the instantaneous rate is "
               "the limit of the difference quotient as $h \\to 0$, the derivative $f'(a)$.")
def _average_rate(op, inputs, value):
    f, x = _single(inputs)
    at = inputs.get("at")
    if not at:
        raise Degenerate("only at a point")
    a = at[x]
    return f.subs(x, a + 1) - f.subs(x, a)


@misconception("activation_confused", ("forward",),
               "A different activation function was used from the one the question gives: apply the "
               "network's own activation to $z$.", lambda op, inputs: _activation_named(
                   inputs, "A different activation function was used: this neuron applies ${f}$ to $z$."))
def _activation_confused(op, inputs, value):
    from . import engine
    swap = {"sigmoid": "tanh", "tanh": "sigmoid"}
    layers = [dict(layer, activation=swap.get(str(layer.get("activation", "sigmoid")), layer.get("activation")))
              for layer in inputs["layers"]]
    if layers == list(inputs["layers"]):
        raise Degenerate("no sigmoid or tanh layer")
    return engine.run(op, dict(inputs, layers=layers), steps=False).value


@misconception("weighted_sum_term_missing", ("forward",),
               "A term of the weighted sum is missing: $z = w_1 x_1 + w_2 x_2 + \\dots + b$ adds the product "
               "of every input with its weight.")
def _term_missing(op, inputs, value):
    from . import engine
    first = inputs["layers"][0]
    rows = first["weights"] if isinstance(first["weights"], list) else [[first["weights"]]]
    rows = [r if isinstance(r, list) else [r] for r in rows]
    if len(rows[0]) < 2:
        raise Degenerate("a single input")
    cut = [r[:-1] + [0 * sp.sympify(r[-1])] for r in rows]
    layers = [dict(first, weights=cut)] + list(inputs["layers"][1:])
    return engine.run(op, dict(inputs, layers=layers), steps=False).value


@misconception("partial_others_not_held_constant", ("partial_derivative",),
               "A partial derivative holds every other variable constant: their terms do not contribute "
               "through them; this adds their partial derivatives as if they changed too.")
def _others_varied(op, inputs, value):
    seq, f = list(inputs["variables"]), inputs["expression"]
    if len(seq) != 1:
        raise Degenerate("first partials only")
    others = [s for s in sorted(f.free_symbols, key=str) if s != seq[0]]
    if not others:
        raise Degenerate("one variable only")
    return _at(diff(f, seq[0]) + sum((diff(f, s) for s in others), sp.Integer(0)), inputs)
