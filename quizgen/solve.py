"""``quizgen solve``: the answer engine on contract-syntax requests."""

from __future__ import annotations

from typing import Any

from . import engine
from .errors import Degenerate, QuizgenError
from .exprs import AutoSymbols, ExprError
from .inputs import contract, json_value, resolve
from .verify import verify_answer


def solve_request(request: Any, where: str, name: str) -> dict:
    if not isinstance(request, dict) or "op" not in request or not isinstance(request.get("inputs"), dict):
        raise QuizgenError("each request must be an object with \"op\" and \"inputs\"", file=name, where=where,
                           fix='e.g. {"op": "gradient", "inputs": {"expression": "x**2*y", "variables": ["x", "y"]}}')
    ops = engine.load_all()
    op = request["op"]
    if op not in ops:
        raise QuizgenError(f"unknown operation {op!r}", file=name, where=where,
                           fix=f"use one of: {', '.join(sorted(ops))}")
    missing = [k for k in ops[op].required if k not in request["inputs"]]
    if missing:
        raise QuizgenError(f"{op} needs input(s) {', '.join(missing)}", file=name, where=where,
                           fix=f"inputs of {op}: {', '.join(ops[op].required + ops[op].optional)}")
    try:
        inputs = resolve(request["inputs"], {}, AutoSymbols())
        result = engine.run(op, inputs)
    except (ExprError, ValueError, KeyError, TypeError) as exc:
        raise QuizgenError(f"{op}: {exc}", file=name, where=where) from None
    except (Degenerate, ZeroDivisionError, ArithmeticError) as exc:
        raise QuizgenError(f"{op}: no real value ({exc})", file=name, where=where) from None
    value = json_value(result.value)
    verify_answer(op, contract(inputs), value)
    return {**request, "value": value, "steps": result.steps}


def solve_requests(requests: Any, name: str = "<stdin>") -> list[dict]:
    if not isinstance(requests, list):
        requests = [requests]
    return [solve_request(r, f"request {i + 1}", name) for i, r in enumerate(requests)]
