"""Safe parsing of template maths: Python syntax -> whitelisted AST -> sympy.

Template text is data. We only ever call :func:`ast.parse` on it (which never runs
code) and then walk the tree, accepting a fixed set of node types, operators and
function names. Nothing from a template reaches ``eval``/``exec``/``sympify``.

Vectors: ``[a, b]`` is a column vector, a vector parameter is one where it is used in
arithmetic, ``u[0]`` is its first component; ``dot(u, v)``, ``norm(u)``, ``u/norm(u)``,
``2*u + v`` and a matrix times a vector work as in maths (sympy matrices underneath).
"""

from __future__ import annotations

import ast
import operator
from functools import lru_cache
from typing import Any, Callable, Mapping

import sympy as sp

from . import limits, texcache
from .errors import shorten


# name in template syntax -> sympy callable
FUNCTIONS: dict[str, Callable] = {
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "exp": sp.exp, "log": sp.log,
    "sqrt": sp.sqrt, "tanh": sp.tanh, "sinh": sp.sinh, "cosh": sp.cosh,
    "asin": sp.asin, "acos": sp.acos, "atan": sp.atan, "abs": sp.Abs, "Abs": sp.Abs,
    "sigmoid": lambda z: 1 / (1 + sp.exp(-z)),
    "min": sp.Min, "max": sp.Max,
    "dot": lambda u, v: _dot(u, v), "norm": lambda u: _norm(u),
}
VECTOR_FUNCTIONS = frozenset({"dot", "norm"})      # the functions that take vectors
CONSTANTS: dict[str, Any] = {"pi": sp.pi, "E": sp.E}
FAMILIES = ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sinh", "cosh", "sigmoid")

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Pow: operator.pow, ast.Mod: operator.mod}
_CMPOPS = {ast.Lt: sp.Lt, ast.LtE: sp.Le, ast.Gt: sp.Gt, ast.GtE: sp.Ge,
           ast.Eq: sp.Eq, ast.NotEq: sp.Ne}


class ExprError(ValueError):
    """An expression that does not parse or uses something not allowed (``fix`` says what to do)."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.fix = fix


def as_vector(value: Any) -> Any:
    """A list (a vector or matrix parameter) as a sympy matrix; anything else as it is."""
    if isinstance(value, (list, tuple)):
        rows = [list(v) if isinstance(v, (list, tuple)) else [v] for v in value]
        if not rows or len({len(r) for r in rows}) != 1:
            raise ExprError("a vector needs at least one component, and a matrix rows of equal length")
        return sp.ImmutableMatrix(rows)
    return value


def _column(u: Any, what: str) -> sp.MatrixBase:
    u = as_vector(u)
    if not isinstance(u, sp.MatrixBase) or 1 not in u.shape:
        raise ExprError(f"{what} takes vectors, e.g. {what}([1, 2], v)" if what == "dot" else
                        f"{what} takes a vector, e.g. {what}([3, 4])")
    return u.reshape(len(u), 1)


def _dot(u: Any, v: Any) -> sp.Expr:
    a, b = _column(u, "dot"), _column(v, "dot")
    if len(a) != len(b):
        raise ExprError(f"dot of vectors of different lengths ({len(a)} and {len(b)})")
    return sum((x * y for x, y in zip(a, b)), sp.Integer(0))


def _norm(u: Any) -> sp.Expr:
    return sp.sqrt(_dot(_column(u, "norm"), _column(u, "norm")))


@lru_cache(maxsize=4096)
def parse_tree(text: str) -> ast.expr:
    """Parse ``text`` as one Python expression and check every node is allowed."""
    if not isinstance(text, str):
        text = str(text)
    if len(text) > limits.MAX_EXPR_CHARS:
        raise ExprError(f"{shorten(text, 60)!r} is {len(text):,} characters long; an expression may have "
                        f"at most {limits.MAX_EXPR_CHARS:,} (define parts of it under define:)")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ExprError(f"cannot parse {shorten(text)!r}: {exc.msg} (write maths in Python syntax: "
                        f"2*x, x**2, exp(x); no implicit multiplication)") from None
    except (RecursionError, MemoryError):
        raise ExprError(f"{shorten(text, 60)!r} is nested too deeply to read") from None
    _check(tree, text)
    _check_size(tree, text)
    return tree


def _check_size(tree: ast.expr, text: str) -> None:
    """At most MAX_EXPR_NODES nodes, nested at most MAX_EXPR_DEPTH deep (checked iteratively)."""
    count, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > limits.MAX_EXPR_NODES:
            raise ExprError(f"{shorten(text, 60)!r} has more than {limits.MAX_EXPR_NODES:,} parts; "
                            f"split it into named parts under define:")
        if depth > limits.MAX_EXPR_DEPTH:
            raise ExprError(f"{shorten(text, 60)!r} is nested more than {limits.MAX_EXPR_DEPTH} levels deep")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _check(node: ast.AST, text: str) -> None:
    ok = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Constant,
          ast.Compare, ast.BoolOp, ast.Load, ast.USub, ast.UAdd, ast.Not, ast.And, ast.Or,
          ast.List, ast.Subscript, *_BINOPS, *_CMPOPS)
    for sub in ast.walk(node):
        if not isinstance(sub, ok):
            raise ExprError(f"{shorten(text)!r}: {type(sub).__name__} is not allowed in maths "
                            f"(only numbers, names, + - * / ** %, comparisons, and/or/not, "
                            f"vectors [a, b] and components u[0], "
                            f"and calls of {', '.join(sorted(FUNCTIONS))})")
        if isinstance(sub, ast.Subscript) and not (isinstance(sub.slice, ast.Constant)
                                                   and type(sub.slice.value) is int):
            raise ExprError(f"{shorten(text)!r}: a component is picked by a whole number, e.g. u[0] "
                            f"(the first), u[1] (the second)")
        if isinstance(sub, ast.Constant) and (isinstance(sub.value, bool)
                                              or not isinstance(sub.value, (int, float))):
            raise ExprError(f"{shorten(text)!r}: only numeric literals are allowed, not {shorten(repr(sub.value), 40)}")
        if isinstance(sub, ast.Call) and (not isinstance(sub.func, ast.Name) or sub.keywords):
            raise ExprError(f"{shorten(text)!r}: this call is not allowed; call functions by name with plain arguments, e.g. sin(2*x)")


def names_in(text: str) -> set[str]:
    """All names used in ``text`` (function names included)."""
    return set(_names_in(text))


@lru_cache(maxsize=4096)
def _names_in(text: str) -> frozenset[str]:
    return frozenset(n.id for n in ast.walk(parse_tree(text)) if isinstance(n, ast.Name))


def _number(value: Any) -> sp.Expr:
    if isinstance(value, float):
        return sp.Rational(repr(value)) if value == value and abs(value) != float("inf") \
            else sp.Float(value)
    return sp.Integer(value)


class Builder:
    """Turns a checked AST into sympy, resolving names through ``scope``.

    ``scope`` maps a name to a sympy object (a parameter value or a defined quantity);
    a name bound to a string that is a function family (``g: cos``) can be called.
    Names not in scope become symbols when listed in ``symbols``.
    """

    def __init__(self, scope: Mapping[str, Any], symbols: Mapping[str, sp.Symbol]):
        self.scope = scope
        self.symbols = symbols

    def build(self, node: ast.expr) -> Any:
        method = getattr(self, f"_{type(node).__name__}")
        return method(node)

    def _Constant(self, node):
        return _number(node.value)

    def _Name(self, node):
        name = node.id
        if name in self.scope:
            value = self.scope[name]
            if isinstance(value, str):
                raise ExprError(f"{name!r} is the function family {value!r}: call it, e.g. {name}(x)")
            return value
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in self.symbols:
            return self.symbols[name]
        raise ExprError(f"unknown name {name!r}")

    def _BinOp(self, node):
        left, right = as_vector(self.build(node.left)), as_vector(self.build(node.right))
        if isinstance(left, sp.MatrixBase) or isinstance(right, sp.MatrixBase):
            return _vector_op(node.op, left, right)
        if isinstance(node.op, ast.Mod):
            return sp.Mod(left, right)
        if isinstance(node.op, ast.Pow):
            try:
                limits.check_power(left, right)
            except limits.LimitError as exc:
                raise ExprError(str(exc), exc.fix) from None
        return _BINOPS[type(node.op)](left, right)

    def _List(self, node):
        items = [self.build(e) for e in node.elts]
        if not items or any(isinstance(as_vector(v), sp.MatrixBase) for v in items):
            raise ExprError("a vector [a, b, ...] has one or more numbers or expressions as components")
        return sp.ImmutableMatrix(items)

    def _Subscript(self, node):
        vec, i = as_vector(self.build(node.value)), node.slice.value
        if not isinstance(vec, sp.MatrixBase) or 1 not in vec.shape:
            raise ExprError("only a vector has components u[0], u[1], ...")
        if not 0 <= i < len(vec):
            raise ExprError(f"component [{i}] of a vector with {len(vec)} components: they are numbered from 0 to {len(vec) - 1}")
        return vec[i]

    def _UnaryOp(self, node):
        operand = as_vector(self.build(node.operand))
        if isinstance(operand, sp.MatrixBase) and not isinstance(node.op, ast.Not):
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node.op, ast.Not):
            return sp.Not(operand)
        return -operand if isinstance(node.op, ast.USub) else operand

    def _Call(self, node):
        name = node.func.id
        target = self.scope.get(name, name)
        if not isinstance(target, str) or target not in FUNCTIONS:
            raise ExprError(f"unknown function {name!r}")
        args = [self.build(a) for a in node.args]
        if target not in VECTOR_FUNCTIONS and any(isinstance(as_vector(a), sp.MatrixBase) for a in args):
            raise ExprError(f"{name}() takes numbers, not a vector (dot and norm take vectors)")
        try:
            return FUNCTIONS[target](*args)
        except TypeError:
            raise ExprError(f"{name}() got {len(args)} arguments") from None

    def _Compare(self, node):
        terms = [self.build(node.left)] + [self.build(c) for c in node.comparators]
        if any(isinstance(as_vector(t), sp.MatrixBase) for t in terms):
            raise ExprError("vectors cannot be compared; compare numbers such as norm(u) or u[0]")
        parts = [_CMPOPS[type(op)](a, b) for op, a, b in zip(node.ops, terms, terms[1:])]
        return sp.And(*parts) if len(parts) > 1 else parts[0]

    def _BoolOp(self, node):
        values = [self.build(v) for v in node.values]
        return sp.And(*values) if isinstance(node.op, ast.And) else sp.Or(*values)


def _vector_op(op: ast.operator, left: Any, right: Any) -> sp.MatrixBase:
    """Vector arithmetic: u + v, u - v, number * u, u / number, matrix * vector."""
    vl, vr = isinstance(left, sp.MatrixBase), isinstance(right, sp.MatrixBase)
    if isinstance(op, ast.Mult) and vl and vr and left.shape[1] == 1 and right.shape[1] == 1:
        raise ExprError("two vectors are multiplied with dot(u, v), not u*v")
    try:
        if isinstance(op, (ast.Add, ast.Sub)) and vl and vr:
            return left + right if isinstance(op, ast.Add) else left - right
        if isinstance(op, ast.Mult):
            return left * right
        if isinstance(op, ast.Div) and vl and not vr:
            return left / right
    except sp.ShapeError as exc:
        raise ExprError(f"vector shapes do not fit: {exc}") from None
    symbol = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.Mod: "%"}[type(op)]
    raise ExprError(f"{'vector' if vl else 'number'} {symbol} {'vector' if vr else 'number'} is not defined "
                    f"(vectors add and subtract, are scaled by or divided by a number; dot(u, v) multiplies "
                    f"two, norm(u) is the length)")


def to_sympy(text: str | int | float, scope: Mapping[str, Any] | None = None,
             symbols: Mapping[str, sp.Symbol] | None = None) -> Any:
    """Parse ``text`` safely and build the sympy object it denotes."""
    if isinstance(text, bool):
        raise ExprError(f"expected a number or an expression, got {text!r}")
    if isinstance(text, (int, float)):
        return _number(text)
    return Builder({} if scope is None else scope, {} if symbols is None else symbols).build(parse_tree(text))


def symbols_for(names) -> dict[str, sp.Symbol]:
    """Real symbols for free variables, keyed by name."""
    return {n: sp.Symbol(n, real=True) for n in names}


def to_text(expr: Any) -> str:
    """An expression in the contract's plain syntax (``**``, ``exp``, ``log``, ...)."""
    return texcache.sstr(expr, order="lex")


class AutoSymbols(dict):
    """A symbol table that makes a real symbol for any name asked for (requests, not templates)."""

    def __contains__(self, name) -> bool:
        return True

    def __missing__(self, name: str) -> sp.Symbol:
        self[name] = sp.Symbol(name, real=True)
        return self[name]
