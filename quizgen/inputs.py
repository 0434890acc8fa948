"""Operation inputs: resolving template/request data to sympy, and back to the contract form."""

from __future__ import annotations

from typing import Any, Mapping

import sympy as sp
from mpmath.libmp import dps_to_prec, from_rational, to_float
from sympy.core.numbers import mpf_norm

from .exprs import ExprError, to_sympy, to_text

# input keys whose values are names or words, never maths
NAME_KEYS = frozenset({"variable", "variables", "cost", "activation", "param"})
SYMBOL_KEYS = frozenset({"variable", "variables"})


# input keys whose dict values map variable names to values ({x: 1})
POINT_KEYS = frozenset({"at", "about", "start", "substitutions", "parameters"})


def resolve(raw: Any, scope: Mapping[str, Any], symbols: Mapping[str, sp.Symbol], key: str = "") -> Any:
    """Turn raw input data into sympy objects: strings are parsed as maths, names kept.

    ``key`` is the input name the data sits under; it decides how names are read.
    """
    if isinstance(raw, dict):
        if key in POINT_KEYS:
            return {_symbol(k, symbols): resolve(v, scope, symbols) for k, v in raw.items()}
        return {str(k): resolve(v, scope, symbols, str(k)) for k, v in raw.items()}
    if isinstance(raw, (list, tuple)):
        if key == "parameters":           # least_squares: a list of names
            return [_symbol(v, symbols) for v in raw]
        return [resolve(v, scope, symbols, key) for v in raw]
    if key in SYMBOL_KEYS:
        return _symbol(raw, symbols)
    if key in NAME_KEYS:
        return str(raw)
    if raw is None or isinstance(raw, bool):
        raise ExprError(f"expected a number or an expression, got {raw!r}")
    value = to_sympy(raw, scope, symbols)
    if isinstance(value, sp.MatrixBase):          # a vector expression: a list, as a vector parameter is
        return list(value) if 1 in value.shape else value.tolist()
    return value


def _symbol(name: Any, symbols: Mapping[str, sp.Symbol]) -> sp.Symbol:
    name = str(name)
    if name not in symbols:
        raise ExprError(f"unknown variable {name!r}: list it under 'variables'")
    return symbols[name]


def _leaves(obj: Any, leaf) -> Any:
    """``obj`` with every value inside its dicts and lists passed through ``leaf``."""
    if isinstance(obj, dict):
        return {str(k): _leaves(v, leaf) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_leaves(v, leaf) for v in obj]
    return leaf(obj)


def _contract_leaf(obj: Any) -> Any:
    if isinstance(obj, sp.Symbol):
        return obj.name
    if isinstance(obj, sp.Basic):
        if obj.free_symbols:
            return to_text(obj)
        if obj.is_Integer:
            return int(obj)
        if obj.is_Rational or obj.is_Float:
            return float(obj)
        return to_text(obj)          # exact constants such as pi/4 stay exact
    return obj


_PREC30 = dps_to_prec(30)


def float30(x: sp.Expr) -> float:
    """``float(sp.N(x, 30))``, bit for bit; a fraction without sympy's evalf machinery (the same
    steps: ``evalf_rational`` at 4 guard bits, ``Float._new`` at 30 digits, ``float`` at 53 bits)."""
    if isinstance(x, sp.Rational):
        return to_float(mpf_norm(mpf_norm(from_rational(x.p, x.q, _PREC30 + 4), _PREC30), 53))
    return float(sp.N(x, 30))


def _json_leaf(obj: Any) -> Any:
    if isinstance(obj, sp.Integer) and abs(obj.p) <= 2 ** 53:
        return float(obj.p)                 # what the 30-digit evaluation gives, without it
    if isinstance(obj, sp.Float) and obj._mpf_[1] and obj._mpf_[3] <= 53:   # a nonzero mantissa of <= 53 bits
        return float(obj)
    if isinstance(obj, sp.Basic):
        if obj.free_symbols:
            return to_text(obj)
        return float30(obj)
    if isinstance(obj, (int, float)):
        return float(obj)
    return obj


def contract(obj: Any) -> Any:
    """Resolved inputs -> the contract's plain form (expression strings, numbers, names)."""
    return _leaves(obj, _contract_leaf)


def json_value(obj: Any) -> Any:
    """An answer value in the contract: floats at full precision, expressions as strings."""
    return _leaves(obj, _json_leaf)
