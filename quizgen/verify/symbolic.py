"""Checking expression-valued answers: compare with the numeric check at sample points.

An expression answer may hold symbols that are not differentiation variables (``a`` in
``d/dx a*x**2``, the data ``x1, y1`` of a gradient with respect to model parameters):
they are constants. Each sample point gives every free name a value: the variables are
passed to the check as its point, the constants are written into the texts as numbers.
"""

from __future__ import annotations

import ast
from typing import Any

from ..errors import VerificationError
from ..exprs import FUNCTIONS, parse_tree
from . import CHECKS, close
from .numeric import value as evaluate

# irrational-looking sample values; point k gives the j-th name SAMPLES[(5k + j) % len]
SAMPLES = (0.37, -0.61, 0.83, 1.21, 0.45, -0.29, -0.74, 1.13, 0.52, 0.58, 0.91, 1.37, -1.07, 0.26, 0.69,
           1.62, -0.43, 0.77)
TRIES, NEEDED = 10, 3
POINTS = tuple(tuple(SAMPLES[(5 * k + j) % len(SAMPLES)] for j in range(3)) for k in range(4))
TEXT_KEYS = ("expression", "expressions", "substitutions", "model", "constraint")


def _names(obj: Any) -> set[str]:
    return {n.id for text in _texts(obj) for n in ast.walk(parse_tree(text)) if isinstance(n, ast.Name)} \
        - set(FUNCTIONS) - {"pi", "E"}


def _variables(op: str, inputs: dict) -> list[str]:
    """The names the check takes as its point."""
    if op == "chain_rule":
        return [str(v) for v in (inputs.get("variables") or [inputs["variable"]])]
    if "variables" in inputs:
        return [str(v) for v in inputs["variables"]]
    if "variable" in inputs:
        return [str(inputs["variable"])]
    return sorted(_names({k: inputs[k] for k in TEXT_KEYS if k in inputs}))


def _constants(op: str, inputs: dict, value: Any, variables: list[str]) -> list[str]:
    """Free names that are neither the check's variables nor a chain rule's inner variables."""
    inner = set(map(str, inputs.get("substitutions") or {}))
    texts = {k: inputs[k] for k in TEXT_KEYS if k in inputs}
    return sorted((_names(texts) | _names(value)) - set(variables) - inner)


def _texts(obj: Any):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _texts(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _texts(v)


class _Bind(ast.NodeTransformer):
    """Replace names by numbers in a parsed expression (the tree is data; nothing is run)."""

    def __init__(self, values: dict[str, float]):
        self.values = values

    def visit_Name(self, node):
        if node.id in self.values:
            v = self.values[node.id]
            number = ast.Constant(abs(v))
            return ast.copy_location(ast.UnaryOp(ast.USub(), number) if v < 0 else number, node)
        return node


def _bind(obj: Any, values: dict[str, float]) -> Any:
    """``obj`` (texts, in lists and dicts) with the constants ``values`` written in."""
    if not values:
        return obj
    if isinstance(obj, str):
        import copy
        tree = _Bind(values).visit(copy.deepcopy(parse_tree(obj)))
        return ast.unparse(ast.fix_missing_locations(tree))
    if isinstance(obj, dict):
        return {k: _bind(v, values) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_bind(v, values) for v in obj]
    return obj


def _evaluate(value: Any, at: dict) -> Any:
    if isinstance(value, (list, tuple)):
        return [_evaluate(v, at) for v in value]
    return evaluate(str(value), at)


def sample_points(names: list[str], tries: int = TRIES):
    """Deterministic sample points {name: value} for ``names``."""
    for k in range(tries):
        yield {n: SAMPLES[(5 * k + j) % len(SAMPLES)] for j, n in enumerate(names)}


def verify_expression(op: str, inputs: dict, value: Any, needed: int = NEEDED) -> None:
    """The expression(s) ``value`` must match the numeric check at several points."""
    variables = _variables(op, inputs)
    given = {str(k): v for k, v in (inputs.get("at") or {}).items()}     # a point that fixes some names
    constants = [c for c in _constants(op, inputs, value, variables) if c not in given]
    done = 0
    for point in sample_points(variables + constants):
        at = {v: given.get(v, point[v]) for v in variables}
        fixed = {c: point[c] for c in constants}
        fixed.update({k: v for k, v in given.items() if k not in variables})
        bound = {k: (_bind(v, fixed) if k in TEXT_KEYS else v) for k, v in inputs.items()}
        try:
            expected = CHECKS[op]({**bound, "at": at})
            got = _evaluate(_bind(value, fixed), at)
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            continue                      # a singular sample point: try the next one
        if not close(got, expected, 1e-6, 1e-8):
            raise VerificationError(f"{op}: expression {value!r} gives {got!r} at {point}, "
                                    f"independent check gives {expected!r}")
        done += 1
        if done == needed:
            return
    raise VerificationError(f"{op}: could not evaluate {value!r} at enough sample points to check it")
