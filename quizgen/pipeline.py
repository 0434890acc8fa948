"""Template + seed -> one verified, rendered question object (docs/question-format.md).

bank -> sample -> engine -> verify -> render; nothing here knows about output formats.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterable, Iterator

import sympy as sp

from . import engine, limits
from .budget import OutOfTime, time_budget
from .bank import Template, load_bank, load_template
from .errors import Degenerate, VerificationError
from .exprs import ExprError, symbols_for
from .inputs import contract, json_value, resolve
from .numfmt import half_unit, num, tex_value
from .render import TexExpr, render_text, tex
from .sampling import (add_definitions, constraints_hold, derive_seed, rng_for, sample_parameters,
                       unsatisfiable)
from .texcheck import check_question
from .verify import verify_answer

MAX_TRIES = 300


@dataclass
class Answer:
    name: str
    spec: dict
    inputs: dict           # resolved (sympy)
    result: engine.Result
    value: Any             # JSON value
    kind: str
    digits: int


def _kind(value: Any, declared: str | None) -> str:
    if declared:
        return declared
    if isinstance(value, str) or (isinstance(value, list) and any(isinstance(v, str) for v in _flat(value))):
        return "expression"
    if isinstance(value, dict):
        return "named"
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return "point_set"
        return "matrix" if value and isinstance(value[0], list) else "vector"
    return "number"


def _flat(value):
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _flat(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _flat(v)
    else:
        yield value


def _raw_inputs(tpl: Template, spec: dict, plain: dict) -> dict:
    from .bank import ANSWER_META
    raw = {k: v for k, v in spec.items() if k not in ANSWER_META}
    if spec.get("data"):
        data = plain[spec["data"]]
        raw.setdefault("x", data["x"])
        raw.setdefault("y", data["y"])
        if data.get("sigma") is not None:
            raw.setdefault("sigma", data["sigma"])
    return raw


def _symbols_for_answer(tpl: Template, spec: dict, symbols: dict) -> dict:
    names = []
    if "model" in spec:                       # the model's x and its fit-parameter names are symbols
        names = ["x"] + [str(n) for n in (spec.get("parameters") or spec.get("start") or [])]
    return {**symbols, **symbols_for([n for n in names if n not in symbols])}


def compute_answer(tpl: Template, name: str, plain: dict, scope: dict, symbols: dict) -> Answer:
    """Resolve one answer's inputs and run its engine operation (may raise Degenerate)."""
    spec = tpl.answers[name]
    syms = _symbols_for_answer(tpl, spec, symbols)
    local = {k: v for k, v in scope.items() if k not in syms}
    try:
        inputs = resolve(_raw_inputs(tpl, spec, plain), local, syms)
    except ExprError as exc:
        raise tpl.error(["answers", name], str(exc), exc.fix) from None
    except (ZeroDivisionError, TypeError) as exc:
        raise Degenerate(f"answer {name}: {exc}") from None
    try:
        limits.check_inputs(inputs)
    except limits.LimitError as exc:
        raise tpl.error(["answers", name, exc.key], str(exc), exc.fix) from None
    try:
        result = engine.run(spec["op"], inputs, int(spec.get("round", 3)))
    except Degenerate as exc:
        raise Degenerate(f"answer {name}: {exc}") from None
    except (ValueError, KeyError) as exc:
        raise tpl.error(["answers", name], f"{spec['op']}: {exc}") from None
    except (ZeroDivisionError, TypeError, ArithmeticError) as exc:
        raise Degenerate(f"answer {name}: {exc}") from None
    value = json_value(result.value)
    if any(isinstance(v, float) and not math.isfinite(v) for v in _flat(value)):
        raise Degenerate(f"answer {name} is not finite")
    kind = "label" if result.labels is not None else _kind(value, spec.get("kind"))
    answer = Answer(name, spec, inputs, result, value, kind, int(spec.get("round", 3)))
    _check_acceptable(answer)
    return answer


def _check_acceptable(a: Answer) -> None:
    numbers = [v for v in _flat(a.value) if isinstance(v, float)]
    if a.spec.get("nonzero") and numbers and all(num(v, a.digits) == "0" for v in numbers):
        raise Degenerate(f"answer {a.name} is zero at {a.digits} decimals")
    if "bounds" in a.spec:
        lo, hi = a.spec["bounds"]
        if any(not lo <= v <= hi for v in numbers):
            raise Degenerate(f"answer {a.name} is outside bounds {lo}..{hi}")


def _provenance(a: Answer) -> dict:
    """The contract's ``{op, inputs}`` of an answer: all the independent check gets."""
    return {"op": a.spec["op"], "inputs": contract(a.inputs)}


def _verify(tpl: Template, a: Answer, provenance: dict, seed: int) -> None:
    """Re-derive the answer a second way; a mismatch names template, seed and both values."""
    try:
        verify_answer(provenance["op"], provenance["inputs"], a.value)
    except VerificationError as exc:
        raise VerificationError(f"template {tpl.id!r} ({tpl.source}), seed {seed}, answer {a.name!r}: {exc}") from None
    except (ValueError, ZeroDivisionError, OverflowError, ArithmeticError) as exc:
        raise Degenerate(f"answer {a.name}: the numeric check cannot evaluate it ({exc})") from None


def display(a: Answer) -> str:
    """TeX of an answer's value at exactly the decimals it asks for (0.540, not 0.54)."""
    if a.kind == "label":
        return rf"\text{{{a.value}}}"
    if a.kind == "expression" and a.result.display:
        return a.result.display
    if a.kind == "expression":
        return tex(a.result.value) if not isinstance(a.result.value, list) else \
            tex(sp.Matrix(a.result.value))
    if a.kind == "point_set":
        return r",\quad ".join(
            "(" + ", ".join(tex_value(v, a.digits, keep_zeros=True) for v in p["point"].values()) + ")"
            for p in _exact(a.result.value))
    return tex_value(_exact(a.result.value), a.digits, keep_zeros=True)


def _exact(value: Any) -> Any:
    """An engine value with its numbers kept exact, so that display rounding is of the exact value."""
    if isinstance(value, dict):
        return {str(k): _exact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_exact(v) for v in value]
    if isinstance(value, sp.MatrixBase):
        return _exact(value.tolist())
    return value if isinstance(value, sp.Basic) and value.is_number else json_value(value)


def _tolerance(a: Answer) -> dict | None:
    """The declared tolerance (default one unit of the last decimal), never tighter than
    :func:`~quizgen.numfmt.half_unit`: every correct rounding of the value is accepted.
    A label has none: it is right or wrong."""
    if a.kind == "label":
        return None
    tol = dict(a.spec.get("tolerance") or {"abs": 10.0 ** -a.digits})
    tol["abs"] = max(tol.get("abs", 0.0), half_unit(a.digits))
    return tol


def _steps_text(a: Answer) -> str:
    return "\n\n".join(f"$${line}$$" for line in a.result.steps)


def _answer_order(tpl: Template) -> list[str]:
    """Answer names, the multiple-choice one first (exporters grade choices against answers[0])."""
    names = list(tpl.answers)
    mc = tpl.data.get("multiple_choice")
    if mc and mc.get("answer") in names:
        names.remove(mc["answer"])
        names.insert(0, mc["answer"])
    return names


def build_variant(tpl: Template, seed: int, attempt: int, verify: bool = True) -> dict | None:
    """One attempt at a variant; None when it must be resampled.

    ``verify=False`` skips the independent check (only the benchmark does that, to time it).
    """
    rng = rng_for(seed, attempt)
    symbols = symbols_for(tpl.variables)
    plain, scope = sample_parameters(tpl, rng)
    try:
        add_definitions(tpl, scope, symbols)
    except (Degenerate, ZeroDivisionError):
        return None
    if not constraints_hold(tpl, scope):
        return None
    answers = [compute_answer(tpl, name, plain, scope, symbols) for name in _answer_order(tpl)]
    provenances = [_provenance(a) for a in answers]
    if verify:
        for a, provenance in zip(answers, provenances):
            _verify(tpl, a, provenance, seed)
    from .misconceptions import make_choices, wrong_answers
    from .figure_data import build_figures
    wrong = [wrong_answers(tpl, answers, i, display) for i in range(len(answers))]
    choices = make_choices(tpl, answers, provenances, display, rng, wrong[0]) \
        if tpl.data.get("multiple_choice") else None
    figure, solution_figure = build_figures(tpl, scope, symbols, {a.name: a for a in answers}) \
        if tpl.data.get("figure") else (None, None)
    context = dict(plain)
    context.update({k: TexExpr(tex(v)) for k, v in scope.items()
                    if k not in plain and isinstance(v, sp.Basic)})
    context["ans"] = {a.name: display(a) for a in answers}
    context["answers"] = context["ans"]
    context["val"] = {a.name: a.value for a in answers}
    context["steps"] = {a.name: _steps_text(a) for a in answers}
    objects = [{"name": a.name, "label": a.spec.get("label", a.name), "kind": a.kind, "value": a.value,
                **({"labels": list(a.result.labels)} if a.kind == "label" else {}),
                "display": context["ans"][a.name], "round": a.digits, "tolerance": _tolerance(a),
                "provenance": p, "steps": list(a.result.steps), "misconceptions": w}
               for a, p, w in zip(answers, provenances, wrong)]
    return {
        "template": tpl.id, "title": tpl.title, "module": tpl.module, "module_title": tpl.module_title,
        "topic": tpl.topic, "topic_title": tpl.topic_title, "difficulty": tpl.difficulty,
        "tags": list(tpl.data.get("tags") or []), "seed": seed,
        "marks": tpl.data.get("marks", 1), "parameters": plain,
        "prompt": render_text(tpl, "prompt", context),
        "solution": render_text(tpl, "solution", context) if tpl.data.get("solution")
        else "\n\n".join(_steps_text(a) for a in answers),
        "answers": objects, "choices": choices, "figure": figure, "solution_figure": solution_figure,
        **({"answer_space": tpl.data["answer_space"]} if "answer_space" in tpl.data else {}),
    }


def generate_variant(tpl: Template, seed: int, variant: int = 1, tries: int = MAX_TRIES,
                     verify: bool = True) -> dict:
    """The question for (template, derived seed): resampled until acceptable and verified.

    All tries together have ``limits.VARIANT_SECONDS``; when none is acceptable the error
    says which answer was rejected how often, and why.
    """
    reasons: Counter = Counter()
    try:
        with time_budget(limits.VARIANT_SECONDS, f"template {tpl.id}") as token:
            for attempt in range(tries):
                try:
                    question = build_variant(tpl, seed, attempt, verify)
                except Degenerate as exc:
                    reasons[str(exc)] += 1
                    continue
                if question is None:
                    reasons["a definition or constraint rejected the parameters"] += 1
                    continue
                question = {"template": question.pop("template"), **question}
                question["variant"] = variant
                check_question(tpl, question)        # broken TeX: an error before anything is written
                return _ordered(question)
    except OutOfTime as exc:
        if exc.token is not token:
            raise
        raise tpl.error(["answers"], f"one variant took longer than {limits.VARIANT_SECONDS:g} s to build "
                        f"and verify (seed {seed}, after {sum(reasons.values())} rejected tries)",
                        "simplify the expressions, lower steps/order, or use smaller data sets") from None
    raise unsatisfiable(tpl, tries, reasons)


_ORDER = ("template", "title", "module", "module_title", "topic", "topic_title", "difficulty", "tags",
          "variant", "seed", "marks", "parameters", "prompt", "solution", "answers", "choices", "figure",
          "solution_figure")


_OPTIONAL = ("answer_space",)


def _ordered(q: dict) -> dict:
    return {k: q[k] for k in _ORDER + _OPTIONAL if k in q}


# ---- sets --------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _template_at(path: str) -> Template:
    return load_template(path)


def _task(args) -> dict:
    path, run_seed, tid, k, extra = args
    tpl = _template_at(path)
    return generate_variant(tpl, derive_seed(run_seed, tid, k, *extra), k)


def iter_tasks(tasks: list[tuple[Template, int, int, tuple]], jobs: int = 1,
               progress: Callable[[int], None] | None = None) -> Iterator[dict]:
    """Run (template, run seed, variant, extra seed parts) tasks in ``jobs`` processes and
    yield the questions one by one, in task order (for a caller that streams them on)."""
    if jobs <= 1 or len(tasks) < 2:
        for t, seed, k, extra in tasks:
            q = generate_variant(t, derive_seed(seed, t.id, k, *extra), k)
            if progress:
                progress(1)
            yield q
        return
    from .workers import parallel_map
    work = [(str(t.source), seed, t.id, k, extra) for t, seed, k, extra in tasks]
    for q in parallel_map(_task, work, jobs, chunksize=_chunk(len(work), jobs)):
        if progress:
            progress(1)
        yield q


def generate_tasks(tasks: list[tuple[Template, int, int, tuple]], jobs: int = 1,
                   progress: Callable[[int], None] | None = None) -> list[dict]:
    """Run (template, run seed, variant, extra seed parts) tasks, in order, in ``jobs`` processes."""
    return list(iter_tasks(tasks, jobs, progress))


MAX_CHUNK = 16      # tasks a worker takes at a time: few enough that progress moves steadily


def _chunk(n_tasks: int, jobs: int) -> int:
    return max(1, min(MAX_CHUNK, n_tasks // (jobs * 8)))


def question_tasks(templates: Iterable[Template] | None = None, count: int = 1,
                   seed: int = 0) -> list[tuple[Template, int, int, tuple]]:
    """The tasks of ``count`` variants of each template (default: the whole built-in bank)."""
    templates = list(templates) if templates is not None else load_bank()
    return [(t, seed, k, ()) for t in templates for k in range(1, count + 1)]


def generate_questions(templates: Iterable[Template] | None = None, count: int = 1, seed: int = 0,
                       jobs: int = 1, progress: Callable[[int], None] | None = None) -> list[dict]:
    """``count`` variants of each template (default: the whole built-in bank)."""
    return generate_tasks(question_tasks(templates, count, seed), jobs, progress)
