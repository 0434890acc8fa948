"""Independent verification: every answer re-derived numerically from its provenance.

Checks read only the contract form (expression strings and numbers), evaluate with
mpmath closures built from the text (``numeric``), differentiate numerically, iterate
by hand and solve least squares with numpy; they share no code path with the sympy
engine. A check is registered per operation in ``checks``; adding an operation means
adding its check there.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from ..errors import VerificationError

CHECKS: dict[str, Callable[[dict], Any]] = {}
SYMBOLIC: set[str] = set()          # operations whose value is an expression without `at`
SEEDED: set[str] = set()            # checks that also take the engine's value, as extra starting points

REL, ABS = 1e-6, 1e-8


def check(name: str, *, symbolic: bool = False, seeded: bool = False):
    """Register ``fn(inputs) -> expected value`` as the independent check of op ``name``.

    ``seeded``: ``fn(inputs, value)`` also gets the engine's value, for searches (fits,
    Lagrange points) that must be at least as complete as the engine: they start from it
    too, and keep what their own method confirms from there.
    """

    def deco(fn):
        CHECKS[name] = fn
        if symbolic:
            SYMBOLIC.add(name)
        if seeded:
            SEEDED.add(name)
        return fn

    return deco


def close(a: Any, b: Any, rel: float = REL, abs_: float = ABS) -> bool:
    """Structural comparison of numbers, lists and dicts within a tolerance; labels (strings) equal."""
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k], rel, abs_) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(close(x, y, rel, abs_) for x, y in zip(a, b))
    try:
        x, y = float(a), float(b)
    except (TypeError, ValueError):
        return False
    return math.isfinite(x) and math.isfinite(y) and abs(x - y) <= abs_ + rel * max(abs(x), abs(y))


def verify_answer(op: str, inputs: dict, value: Any) -> None:
    """Raise VerificationError unless ``value`` agrees with the independent check."""
    from . import checks  # noqa: F401  (registers the checks)

    if op not in CHECKS:
        raise VerificationError(f"no independent check for operation {op!r}")
    if op in SYMBOLIC and (not inputs.get("at") or _has_text(value)):
        from .symbolic import verify_expression
        verify_expression(op, inputs, value)
        return
    expected = CHECKS[op](inputs, value) if op in SEEDED else CHECKS[op](inputs)
    if not close(value, expected):
        raise VerificationError(f"{op}: engine gave {value!r}, independent check gave {_plain(expected)!r}")


def _has_text(value: Any) -> bool:
    if isinstance(value, str):
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_text(v) for v in value)
    return False


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    try:
        return float(x)
    except (TypeError, ValueError):
        return x
