"""``quizgen solve``: the answer engine on contract-syntax requests, as a batch tool.

Each request is answered on its own: a good one gets ``value`` and ``steps`` (checked by
the independent method), a bad one gets ``error`` (one line: which input, what is
wrong), and one bad request never loses the others. Every request has a time budget.
"""

from __future__ import annotations

from typing import Any

from . import engine, limits
from .budget import OutOfTime, time_budget
from .errors import Degenerate, QuizgenError, VerificationError, shorten
from .exprs import AutoSymbols, ExprError
from .inputs import contract, json_value, resolve
from .verify import verify_answer

DEFAULT_TIMEOUT = 10.0          # seconds per request
MESSAGE_LIMIT = 400             # characters of an item's error (long quoted input is cut)


class RequestError(Exception):
    """One request cannot be answered; the message is the item's ``error``."""


def _checked(request: Any) -> tuple[str, dict]:
    if not isinstance(request, dict) or "op" not in request or not isinstance(request.get("inputs"), dict):
        raise RequestError('each request must be an object with "op" and "inputs", e.g. '
                           '{"op": "gradient", "inputs": {"expression": "x**2*y", "variables": ["x", "y"]}}')
    ops = engine.load_all()
    op = request["op"]
    if not isinstance(op, str) or op not in ops:
        raise RequestError(f"unknown operation {shorten(repr(op))}; use one of: {', '.join(sorted(ops))}")
    missing = [k for k in ops[op].required if k not in request["inputs"]]
    if missing:
        raise RequestError(f"{op} needs input(s) {', '.join(missing)} "
                           f"(inputs of {op}: {', '.join(ops[op].required + ops[op].optional)})")
    unknown = sorted(set(request["inputs"]) - set(ops[op].required) - set(ops[op].optional))
    if unknown:
        raise RequestError(f"{op} takes no input {unknown[0]!r} "
                           f"(inputs of {op}: {', '.join(ops[op].required + ops[op].optional)})")
    return op, request["inputs"]


def solve_one(request: Any) -> dict:
    """Value and steps of one request; raises RequestError with a one-line reason."""
    op, raw = _checked(request)
    symbols = AutoSymbols()
    inputs = {}
    for key, value in raw.items():
        try:
            inputs.update(resolve({key: value}, {}, symbols))
        except ExprError as exc:
            raise RequestError(f"{op}: inputs.{key}: {shorten(str(exc), MESSAGE_LIMIT)}") from None
        except RecursionError:
            raise RequestError(f"{op}: inputs.{key} is nested too deeply") from None
    try:
        limits.check_inputs(inputs)
    except limits.LimitError as exc:
        raise RequestError(f"{op}: inputs.{exc.key}: {exc}") from None
    try:
        result = engine.run(op, inputs)
        value = json_value(result.value)
    except (ExprError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise RequestError(f"{op}: {shorten(str(exc), MESSAGE_LIMIT)}") from None
    except Degenerate as exc:
        raise RequestError(f"{op}: {shorten(str(exc), MESSAGE_LIMIT)}") from None
    except (ZeroDivisionError, ArithmeticError) as exc:
        raise RequestError(f"{op}: no real value ({shorten(str(exc), MESSAGE_LIMIT)})") from None
    except RecursionError:
        raise RequestError(f"{op}: the input is nested too deeply") from None
    try:
        verify_answer(op, contract(inputs), value)
    except VerificationError as exc:
        raise RequestError(f"the independent check disagrees, so no value is given: {shorten(str(exc), MESSAGE_LIMIT)}") from None
    except (ValueError, ZeroDivisionError, ArithmeticError, KeyError, TypeError) as exc:
        raise RequestError(f"{op}: the independent check cannot evaluate it ({shorten(str(exc), MESSAGE_LIMIT)})") from None
    return {"value": value, "steps": result.steps}


def solve_request(request: Any, where: str, name: str, timeout: float | None = DEFAULT_TIMEOUT) -> dict:
    """One request with ``value`` and ``steps`` added, or a QuizgenError naming it."""
    item = solve_item(request, where, timeout)
    if "error" in item:
        raise QuizgenError(item["error"], file=name)
    return item


def solve_item(request: Any, where: str, timeout: float | None = DEFAULT_TIMEOUT) -> dict:
    """The request with ``value`` and ``steps``, or with ``error``: never raises for bad input."""
    base = dict(request) if isinstance(request, dict) else {"request": request}
    try:
        with time_budget(timeout, f"{where}") as token:
            return {**base, **solve_one(request)}
    except RequestError as exc:
        return {**base, "error": f"{where}: {exc}"}
    except OutOfTime as exc:
        if exc.token is not token:
            raise
        return {**base, "error": f"{where}: no answer within the time budget of {timeout:g} s "
                                 f"(raise it with --timeout, or simplify the problem)"}


def solve_requests(requests: Any, timeout: float | None = DEFAULT_TIMEOUT) -> tuple[list[dict], int]:
    """Answer every request; returns the items and how many of them failed."""
    if not isinstance(requests, list):
        requests = [requests]
    items = [solve_item(r, f"request {i + 1}", timeout) for i, r in enumerate(requests)]
    return items, sum("error" in item for item in items)
