"""Numeric evaluation straight from the expression text, with mpmath.

This is the verifier's own path: it parses the contract's plain-syntax strings with the
same whitelisted AST check as the engine, but evaluates them with mpmath closures and
never touches sympy. Derivatives here are numerical (``mpmath.diff``).
"""

from __future__ import annotations

import ast
from functools import lru_cache
from typing import Callable, Mapping, Sequence

import mpmath as mp
import numpy as np

from ..exprs import parse_tree

mp.mp.dps = 30

_FUNCS = {
    "sin": mp.sin, "cos": mp.cos, "tan": mp.tan, "exp": mp.exp, "log": mp.log,
    "sqrt": mp.sqrt, "tanh": mp.tanh, "sinh": mp.sinh, "cosh": mp.cosh,
    "asin": mp.asin, "acos": mp.acos, "atan": mp.atan, "abs": abs, "Abs": abs,
    "sigmoid": lambda z: 1 / (1 + mp.exp(-z)), "min": min, "max": max,
}
_CONSTS = {"pi": mp.pi, "E": mp.e}

# the same closures over numpy, for evaluating on whole arrays (figures)
_NP_FUNCS = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log,
    "sqrt": np.sqrt, "tanh": np.tanh, "sinh": np.sinh, "cosh": np.cosh,
    "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan, "abs": np.abs, "Abs": np.abs,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "min": np.minimum, "max": np.maximum,
}
_NP_CONSTS = {"pi": np.pi, "E": np.e}
_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
        ast.Pow: lambda a, b: a ** b, ast.Mod: lambda a, b: a % b}

Env = Mapping[str, object]


def _compile(node: ast.expr, lib: str) -> Callable[[Env], object]:
    funcs, consts = (_FUNCS, _CONSTS) if lib == "mpmath" else (_NP_FUNCS, _NP_CONSTS)
    if isinstance(node, ast.Constant):
        value = (mp.mpf(repr(node.value)) if isinstance(node.value, float) else mp.mpf(node.value)) \
            if lib == "mpmath" else float(node.value)
        return lambda env: value
    if isinstance(node, ast.Name):
        name = node.id
        if name in consts:
            const = consts[name]
            return lambda env: env[name] if name in env else const
        return lambda env: env[name]
    if isinstance(node, ast.BinOp):
        op, left, right = _OPS[type(node.op)], _compile(node.left, lib), _compile(node.right, lib)
        return lambda env: op(left(env), right(env))
    if isinstance(node, ast.UnaryOp):
        inner = _compile(node.operand, lib)
        return (lambda env: -inner(env)) if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.Call):
        fn, args = funcs[node.func.id], [_compile(a, lib) for a in node.args]
        return lambda env: fn(*(a(env) for a in args))
    raise ValueError(f"not a numeric expression: {ast.dump(node)}")


@lru_cache(maxsize=4096)
def compile_text(text: str, lib: str = "mpmath") -> Callable[[Env], object]:
    """A function env -> value for the plain-syntax expression ``text``.

    ``lib="mpmath"`` (high precision, the verifier) or ``"numpy"`` (arrays, figures).
    """
    return _compile(parse_tree(text), lib)


def function(text: str, variables: Sequence[str]) -> Callable[..., object]:
    """``f(*values)`` evaluating ``text`` with ``variables`` bound positionally."""
    fn = compile_text(text)
    names = tuple(variables)
    return lambda *vals: fn(dict(zip(names, vals)))


def value(text: str, at: Mapping[str, float] | None = None) -> mp.mpf:
    """Evaluate ``text`` at the point ``at`` (high precision); complex results raise ValueError."""
    result = compile_text(str(text))({k: mp.mpf(v) for k, v in (at or {}).items()})
    if isinstance(result, mp.mpc):
        if abs(result.imag) > 1e-20:
            raise ValueError(f"{text} is complex at {at}")
        result = result.real
    return mp.mpf(result)


def partial(text: str, variables: Sequence[str], point: Sequence[float],
            orders: Sequence[int]) -> float:
    """A numerical mixed partial derivative of ``text`` at ``point``."""
    f = function(text, variables)
    pt = [mp.mpf(p) for p in point]
    result = mp.diff(f, pt, tuple(orders)) if len(pt) > 1 else mp.diff(f, pt[0], orders[0])
    return mp.re(result)


def gradient(text: str, variables: Sequence[str], point: Sequence[float]) -> list[float]:
    n = len(variables)
    return [partial(text, variables, point, [int(i == j) for j in range(n)]) for i in range(n)]


def hessian(text: str, variables: Sequence[str], point: Sequence[float]) -> list[list[float]]:
    n = len(variables)
    rows = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):          # (i, j) and (j, i) are the same derivative: computed once
            orders = [0] * n
            orders[i] += 1
            orders[j] += 1
            rows[i][j] = rows[j][i] = partial(text, variables, point, orders)
    return rows
