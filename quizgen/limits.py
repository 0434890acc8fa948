"""Documented limits on input, checked before the work they would cause.

A template, quiz spec or ``solve`` request is data from someone else. Each limit below
stops one kind of resource bomb (deep nesting, alias expansion, huge powers, huge
ranges, endless loops) with a clear message instead of a hang or a MemoryError. The
values are far above anything a course question needs; the README lists them.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

# files
MAX_FILE_BYTES = 1_000_000          # a template, quiz spec, roster or request file
MAX_YAML_DEPTH = 40                 # nesting levels of mappings and lists
MAX_YAML_NODES = 50_000             # values in a document, counted with aliases expanded

# maths text
MAX_EXPR_CHARS = 4_000              # characters of one expression
MAX_EXPR_NODES = 2_000              # syntax-tree nodes of one expression
MAX_EXPR_DEPTH = 60                 # nesting depth of one expression
MAX_EXPONENT = 1_000                # |n| of a numeric exponent (x**n, 2**n)
MAX_NUMBER_DIGITS = 1_000           # digits of an exact number built from constant powers

# parameters and data
MAX_RANGE_VALUES = 1_000_000        # values one int/decimal range may take
MAX_ENTRIES = 400                   # entries of a vector or matrix parameter
MAX_DATA_POINTS = 10_000            # points of a data set

# operations
MAX_STEPS = 1_000                   # iterations of Newton, gradient descent, fits
MAX_ORDER = 12                      # order of a Taylor polynomial

# rendering
MAX_RENDER_CHARS = 200_000          # characters of one rendered text field
MAX_RENDER_ARGUMENT = 100_000       # a number passed to a call, range or repetition in a template
RENDER_SECONDS = 2.0                # CPU time to render one text field
VARIANT_SECONDS = 30.0              # CPU time to build and verify one variant

# runs
MAX_SECTION_QUESTIONS = 200         # questions per quiz-spec section (the schema's maximum; a test keeps them equal)
MAX_STUDENTS = 5_000                # lines of a roster


class LimitError(ValueError):
    """Input over a documented limit; the message says which and by how much, ``fix`` what to do."""

    def __init__(self, message: str, fix: str = "see the limits table in the README") -> None:
        super().__init__(message)
        self.fix = fix
        self.key = ""


def yaml_shape(root) -> tuple[int, int]:
    """(depth, node count with aliases expanded) of a composed YAML node graph.

    Iterative and memoised by node identity, so an alias bomb is measured without being
    expanded; stops counting once over :data:`MAX_YAML_NODES`. A recursive alias
    (a list that contains itself) counts as too many nodes.
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in size:
            continue
        children = _children(node)
        if not done:
            if key in open_:
                return MAX_YAML_DEPTH + 1, MAX_YAML_NODES + 1
            open_.add(key)
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in size)
            continue
        open_.discard(key)
        size[key] = 1 + sum(size[id(c)] for c in children)
        depth[key] = 1 + max((depth[id(c)] for c in children), default=0)
        if size[key] > MAX_YAML_NODES:
            return depth[key], size[key]
    return depth.get(id(root), 0), size.get(id(root), 0)


def too_deep(root, limit: int = MAX_YAML_DEPTH):
    """The first node found nested more than ``limit`` levels down (for the error's line)."""
    stack, seen = [(root, 1)], set()
    while stack:
        node, d = stack.pop()
        if d > limit:
            return node
        if id(node) not in seen:
            seen.add(id(node))
            stack.extend((c, d + 1) for c in _children(node))
    return root


def _children(node) -> list:
    value = getattr(node, "value", None)
    if isinstance(value, list):
        out = []
        for item in value:
            out.extend(item if isinstance(item, tuple) else (item,))
        return out
    return []


def check_power(base: Any, exponent: Any) -> None:
    """Refuse ``base ** exponent`` when the exponent or an exact result is too large."""
    n = _number(exponent)
    if n is None:
        return
    if abs(n) > MAX_EXPONENT:
        raise LimitError(f"the exponent {_short(n)} is larger than {MAX_EXPONENT:,} "
                         f"(a power this large is not a course question)",
                         f"use exponents of at most {MAX_EXPONENT:,}")
    b = _number(base)
    if b is not None and abs(b) > 1 and abs(n) * math.log10(abs(b)) > MAX_NUMBER_DIGITS:
        raise LimitError(f"this power has more than {MAX_NUMBER_DIGITS:,} digits",
                         "use smaller numbers; a course question needs no number this long")


def _number(x: Any) -> float | None:
    """A plain number for a sympy/Python number, None for anything symbolic."""
    try:
        if getattr(x, "is_Number", False) or isinstance(x, (int, float, Fraction)):
            return float(x) if not isinstance(x, int) or abs(x) < 10**300 else math.inf
    except (TypeError, OverflowError):
        return math.inf
    return None


def _short(n: float) -> str:
    return f"{n:.3g}" if abs(n) >= 1e6 else f"{n:g}"


def range_size(spec: dict) -> int:
    """How many values an ``int`` or ``decimal`` range spans (before exclusions)."""
    if "int" in spec:
        lo, hi = spec["int"]
        return max(0, math.floor(hi) - math.ceil(lo) + 1)
    lo, hi = (Fraction(str(v)) for v in spec["decimal"])
    step = Fraction(str(spec["step"]))
    return max(0, math.floor((hi - lo) / step + Fraction(1, 10**9)) + 1) if step > 0 else 0


def check_count(name: str, value: Any, limit: int, lowest: int = 1) -> int:
    """A whole-number count such as ``steps`` or ``order``, within [lowest, limit]."""
    number = _number(value)
    if number is None or not math.isfinite(number) or number != int(number):
        raise LimitError(f"{name} must be a whole number, not {_short_value(value)}",
                         f"write a whole number from {lowest} to {limit:,}")
    if not lowest <= number <= limit:
        raise LimitError(f"{name} must be between {lowest} and {limit:,}, not {_short(number)}",
                         f"write a whole number from {lowest} to {limit:,}")
    return int(number)


def _short_value(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


# inputs of operations that are counts, with their limits and least values
COUNT_INPUTS = {"steps": (MAX_STEPS, 1), "order": (MAX_ORDER, 1)}


def check_inputs(inputs: dict) -> None:
    """Counts within their limits, learning rates positive (resolved inputs of one answer).

    The LimitError's ``key`` is the offending input's name.
    """
    try:
        for key, (limit, lowest) in COUNT_INPUTS.items():
            if key in inputs:
                check_count(key, inputs[key], limit, lowest)
        key = "learning_rate"
        if key in inputs:
            rate = _number(inputs[key])
            if rate is None or not math.isfinite(rate) or rate <= 0:
                raise LimitError(f"{key} must be a positive number, not {_short_value(inputs[key])} "
                                 f"(descent steps against the gradient)", "e.g. learning_rate: 0.1")
    except LimitError as exc:
        exc.key = key
        raise


def parameter_problem(spec: dict) -> tuple[list, str, str] | None:
    """What is wrong with a parameter's range or data set, as (sub-path, message, fix)."""
    for key in ("int", "decimal"):
        if key in spec:
            lo, hi = spec[key]
            if key == "int" and (lo != int(lo) or hi != int(hi)):
                return [key], f"int range bounds must be whole numbers, not {lo:g} and {hi:g}", \
                    "write whole numbers, or use decimal: [low, high] with step:"
            if lo > hi:
                return [key], f"the range [{lo:g}, {hi:g}] is reversed (low > high)", \
                    f"write it as [{hi:g}, {lo:g}]"
            size = range_size(spec)
            if size > MAX_RANGE_VALUES:
                return [key], f"this range has {size:,} values; at most {MAX_RANGE_VALUES:,} are allowed", \
                    "narrow the range or use a larger step"
            if size - _excluded(spec, key) < 1:
                return ["exclude"], "every value of the range is excluded", "exclude fewer values or widen the range"
    if "matrix" in spec and spec["matrix"][0] * spec["matrix"][1] > MAX_ENTRIES:
        return ["matrix"], f"a matrix may have at most {MAX_ENTRIES} entries", "use a smaller matrix"
    data = spec.get("dataset")
    if isinstance(data, dict):
        xs = data.get("x")
        if isinstance(xs, dict) and "linspace" in xs:
            n = xs["linspace"][2]
            if n != int(n) or not 2 <= n <= MAX_DATA_POINTS:
                return ["dataset", "x", "linspace"], \
                    f"the number of points must be a whole number from 2 to {MAX_DATA_POINTS:,}, not {n:g}", \
                    "linspace: [first, last, number of points]"
        elif isinstance(xs, list) and len(xs) > MAX_DATA_POINTS:
            return ["dataset", "x"], f"a data set may have at most {MAX_DATA_POINTS:,} points", "use fewer points"
    return None


def _excluded(spec: dict, key: str) -> int:
    lo = Fraction(str(spec[key][0]))
    step = Fraction(1) if key == "int" else Fraction(str(spec["step"]))
    n = range_size(spec)
    positions = {(Fraction(str(v)) - lo) / step for v in spec.get("exclude", [])}
    return sum(1 for k in positions if k.denominator == 1 and 0 <= k < n)
