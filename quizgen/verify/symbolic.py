"""Checking expression-valued answers: compare with the numeric check at sample points."""

from __future__ import annotations

import ast
from typing import Any

from ..errors import VerificationError
from ..exprs import FUNCTIONS, parse_tree
from . import CHECKS, close
from .numeric import value as evaluate

POINTS = ((0.37, -0.61, 0.83), (1.21, 0.45, -0.29), (-0.74, 1.13, 0.52), (0.58, 0.91, 1.37))


def _variables(inputs: dict) -> list[str]:
    if "variables" in inputs:
        return [str(v) for v in inputs["variables"]]
    if "variable" in inputs:
        return [str(inputs["variable"])]
    names: set[str] = set()
    for text in _texts(inputs):
        names |= {n.id for n in ast.walk(parse_tree(text)) if isinstance(n, ast.Name)}
    return sorted(names - set(FUNCTIONS) - {"pi", "E"})


def _texts(obj: Any):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _texts(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _texts(v)


def _evaluate(value: Any, at: dict) -> Any:
    if isinstance(value, (list, tuple)):
        return [_evaluate(v, at) for v in value]
    return evaluate(str(value), at)


def verify_expression(op: str, inputs: dict, value: Any, needed: int = 3) -> None:
    """The expression(s) ``value`` must match the numeric check at several points."""
    variables = _variables(inputs)
    if op == "chain_rule":
        outer = inputs.get("variables") or [inputs["variable"]]
        variables = [str(v) for v in outer]
    done = 0
    for coords in POINTS:
        at = dict(zip(variables, coords))
        try:
            expected = CHECKS[op]({**inputs, "at": at})
            got = _evaluate(value, at)
        except (ValueError, ZeroDivisionError, OverflowError):
            continue                      # a singular sample point: try the next one
        if not close(got, expected, 1e-6, 1e-8):
            raise VerificationError(f"{op}: expression {value!r} gives {got!r} at {at}, "
                                    f"independent check gives {expected!r}")
        done += 1
        if done == needed:
            return
    raise VerificationError(f"{op}: could not evaluate {value!r} at enough sample points to check it")
