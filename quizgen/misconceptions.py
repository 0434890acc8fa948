"""The library of named misconceptions, and multiple-choice questions built from them.

A misconception is a *wrong engine*: ``fn(op, inputs, value) -> wrong value`` (sympy),
computed from the same inputs the way a student who holds it would. Adding one = one
function decorated with ``@misconception(name, ops, feedback)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

import sympy as sp

from .engine import exact_number
from .engine.derivatives import diff, hessian
from .errors import Degenerate
from .exprs import AutoSymbols, to_sympy
from .inputs import json_value
from .verify import close


@dataclass(frozen=True)
class Misconception:
    name: str
    ops: tuple[str, ...]
    feedback: str
    fn: Callable[[str, dict, Any], Any]

    @property
    def description(self) -> str:
        """One line: the first sentence of the feedback."""
        first = re.split(r"(?<=[.!?])\s", self.feedback.strip(), maxsplit=1)[0]
        return " ".join(first.split())


MISCONCEPTIONS: dict[str, Misconception] = {}
_U = sp.Symbol("#u", real=True)      # stands for the argument of an outer function (not a template name)


def misconception(name: str, ops: tuple[str, ...], feedback: str):
    def deco(fn):
        MISCONCEPTIONS[name] = Misconception(name, ops, feedback, fn)
        return fn
    return deco


def _at(expr, inputs):
    at = inputs.get("at")
    return expr.subs(at) if at else expr


# ---- wrong differentiation rules ----------------------------------------------------

def _wrong_diff(expr, x, *, chain=True, product=True, keep_exponent=False):
    """Differentiate with one rule done wrong: no inner derivative, product rule as a
    product of derivatives, or the power rule keeping the exponent."""
    how = dict(chain=chain, product=product, keep_exponent=keep_exponent)

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
        outer = ex * base ** (ex if keep_exponent and ex.is_number and ex > 1 else ex - 1)
        return outer * d(base) if chain else outer
    if isinstance(expr, sp.Function) and len(expr.args) == 1:
        outer = diff(expr.func(_U), _U).subs(_U, expr.args[0])
        return outer * d(expr.args[0]) if chain else outer
    return diff(expr, x)


def _derivative_like(op, inputs, value, **how):
    if op == "derivative":
        return _at(_wrong_diff(inputs["expression"], inputs["variable"], **how), inputs)
    if op == "gradient":
        return [_at(_wrong_diff(inputs["expression"], v, **how), inputs) for v in inputs["variables"]]
    if op == "jacobian":
        return [[_at(_wrong_diff(f, v, **how), inputs) for v in inputs["variables"]] for f in inputs["expressions"]]
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


@misconception("missing_inner_derivative", ("derivative", "gradient", "jacobian", "partial_derivative", "chain_rule"),
               "The inner derivative is missing: by the chain rule, $\\frac{d}{dx} f(g(x)) = f\'(g(x))\\, g\'(x)$.")
def _missing_inner(op, inputs, value):
    return _derivative_like(op, inputs, value, chain=False)


@misconception("product_rule_as_product", ("derivative", "gradient", "partial_derivative"),
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
               "The off-diagonal entries are the mixed partials, which are not zero here.")
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
    return engine.run(op, flipped).value


@misconception("newton_wrong_sign", ("newton_raphson",),
               "The Newton step is $x - f(x)/f\'(x)$; adding $f(x)/f\'(x)$ moves the wrong way.")
def _newton_sign(op, inputs, value):
    return _newton(inputs, lambda x, f, d: x + f / d)


@misconception("newton_inverted", ("newton_raphson",),
               "The Newton step divides $f$ by $f\'$, not $f\'$ by $f$.")
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
    return engine.run(op, {k: v for k, v in inputs.items() if k != "sigma"}).value


@misconception("slope_intercept_swapped", ("linear_regression",),
               "Slope and intercept are swapped: in $y = m x + c$ the slope $m$ multiplies $x$.")
def _swapped(op, inputs, value):
    return {"slope": value["intercept"], "intercept": value["slope"]}


@misconception("sign_error", ("derivative", "gradient", "evaluate", "difference_quotient", "partial_derivative",
                              "chain_rule", "taylor_evaluate"),
               "A sign slipped: check the sign of each term (for example $\\frac{d}{dx}\\cos x = -\\sin x$).")
def _sign(op, inputs, value):
    if isinstance(value, list):
        return [-v for v in value]
    return -value


@misconception("power_rule_exponent_kept", ("derivative",),
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
            shown = _as_display(ans, wrong, display)
        except (Degenerate, ZeroDivisionError, TypeError, ValueError, AttributeError, ArithmeticError):
            continue
        if not _finite(wrong) or _magnitude(wrong) > PLAUSIBLE * scale:
            continue
        if _distinct(wrong, seen, gap, ans.kind):
            seen.append(wrong)
            kept.append({"name": m.name, "value": wrong, "display": shown,
                         "feedback": feedback_text(m, ans.inputs)})
    return kept


def feedback_text(m: Misconception, inputs: dict) -> str:
    """The misconception's feedback for these inputs."""
    return m.feedback


def _finite(value) -> bool:
    import math
    return all(math.isfinite(v) for v in _numbers(value))


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
    wanted = int(mc.get("options", min(4, len(listed) + 1))) - 1
    if len(distractors) < min(wanted, 2) or len(distractors) < 1:
        raise Degenerate("too few distinct distractors")
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
    from .verify.symbolic import POINTS, _evaluate, _texts
    from .exprs import names_in, FUNCTIONS
    names = sorted(set().union(*(names_in(t) for t in _texts([a, b]))) - set(FUNCTIONS) - {"pi", "E"})
    if _shape(a) != _shape(b):
        return False
    for coords in POINTS:
        at = dict(zip(names, (coords * 3)[:len(names)]))
        try:
            if not close(_evaluate(a, at), _evaluate(b, at), 1e-9, 1e-9):
                return False
        except (ValueError, ZeroDivisionError, OverflowError):
            continue
    return True


def _shape(v):
    return [_shape(x) for x in v] if isinstance(v, list) else 0


def _as_display(ans, wrong, display):
    from dataclasses import replace
    return display(replace(ans, value=wrong, result=type(ans.result)(_parse(wrong), [])))


def _parse(value):
    """JSON value -> sympy, strings through the safe parser (never sympify), tidied like keys."""
    from .engine import tidy
    if isinstance(value, list):
        return [_parse(v) for v in value]
    if isinstance(value, str):
        return tidy(to_sympy(value, {}, AutoSymbols()))
    return value


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
    once = engine.run(op, dict(inputs, steps=1)).value
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
    return engine.run(op, dict(inputs, learning_rate=inputs["learning_rate"] / 2)).value


@misconception("chi2_sigma_not_squared", ("chi_squared", "linear_regression", "least_squares"),
               "Each squared residual is divided by $\\sigma_i^2$ (weight $1/\\sigma_i^2$), not by $\\sigma_i$.")
def _chi2_sigma_not_squared(op, inputs, value):
    if inputs.get("sigma") is None:
        raise Degenerate("no sigma")
    from . import engine
    return engine.run(op, dict(inputs, sigma=[sp.sqrt(exact_number(s)) for s in inputs["sigma"]])).value


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
    u, v = sp.fraction(sp.together(f))
    if not v.has(x) or not u.has(x):
        raise Degenerate("not a quotient of two functions of x")
    return u, v, x


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
    W = sp.Function("W")
    d = sp.diff(f.replace(sp.cos, W), x)
    d = d.replace(lambda e: isinstance(e, sp.Derivative) and getattr(e.expr, "func", None) == W,
                  lambda e: sp.sin(e.expr.args[0])).doit()
    return _at(d.replace(W, sp.cos), inputs)


@misconception("exp_derivative_power_rule", ("derivative",),
               "$e^u$ is not a power of $u$: $\\frac{d}{dx} e^{u} = e^{u}\\, u'$, not $u\\, e^{u - 1}\\, u'$ "
               "(the power rule is for $x^n$ with a constant exponent).")
def _exp_power_rule(op, inputs, value):
    f, x = _single(inputs)
    if not f.has(sp.exp):
        raise Degenerate("no exponential")
    W = sp.Function("W")
    d = sp.diff(f.replace(sp.exp, W), x)
    d = d.replace(lambda e: isinstance(e, sp.Derivative) and getattr(e.expr, "func", None) == W,
                  lambda e: e.expr.args[0] * sp.exp(e.expr.args[0] - 1)).doit()
    return _at(d.replace(W, sp.exp), inputs)


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
               "The factor 2 was dropped: $\\frac{d}{da}(a - y)^2 = 2(a - y)$.")
def _factor_two(op, inputs, value):
    if str(inputs.get("cost") or "squared_error") != "squared_error":
        raise Degenerate("the cost has no factor 2")
    from . import engine
    return engine.run(op, dict(inputs, cost="half_squared_error")).value


@misconception("weight_gradient_without_input", ("backprop",),
               "$\\frac{\\partial C}{\\partial w_{jk}} = \\delta_j\\, a_k$, where $a_k$ is the input the weight "
               "multiplies; that factor was left out.")
def _without_input(op, inputs, value):
    if str(inputs["wrt"]["param"]) != "weights":
        raise Degenerate("only for weights")
    from . import engine
    wrt = dict(inputs["wrt"], param="biases")
    delta = engine.run(op, dict(inputs, wrt=wrt)).value
    return [[d for _ in row] for d, row in zip(delta, value)]


@misconception("forward_without_activation", ("forward",),
               "The activation function was not applied: a neuron outputs $\\sigma(z)$, not $z = w x + b$.")
def _no_activation(op, inputs, value):
    from . import engine
    layers = [dict(layer, activation="linear") for layer in inputs["layers"]]
    return engine.run(op, dict(inputs, layers=layers)).value


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
    return engine.run(op, dict(inputs, layers=layers)).value


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
    return engine.run(op, dict(inputs, layers=[flip(layer) for layer in inputs["layers"]])).value
