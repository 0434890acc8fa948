"""Rendering template text (TeX inside Jinja) in a sandboxed Jinja environment."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re

import jinja2
import sympy as sp
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from . import limits, texcache
from .budget import OutOfTime, time_budget
from .numfmt import num, tex_value


class TexExpr(str):
    """A TeX string standing for an expression: ``{{ u }}`` prints it as it is."""


def tex(obj: Any, digits: int = 4) -> str:
    """TeX for whatever a template hands us: expressions, numbers, vectors, matrices."""
    if isinstance(obj, TexExpr):
        return obj
    if isinstance(obj, (sp.Basic, sp.MatrixBase)):
        return texcache.latex(_clean_floats(obj), mat_str="pmatrix", mat_delim="")
    if isinstance(obj, (int, float)):
        return num(obj, digits)
    if isinstance(obj, (list, tuple, dict)):
        return tex_value(obj, digits)
    return str(obj)


def _clean_floats(obj):
    """Whole or short floats inside an expression print as 2, 0.5 rather than 2.00000000000000."""
    floats = obj.atoms(sp.Float)
    if not floats:
        return obj
    return obj.xreplace({f: sp.nsimplify(f, rational=True) if abs(f - round(float(f), 6)) < 1e-12 else f
                         for f in floats})


def signed(obj: Any, digits: int = 4) -> str:
    """``+ 3`` / ``- 3``: for writing ``a x {{ signed(b) }}``."""
    text = tex(obj, digits)
    return f"- {text[1:]}" if text.startswith("-") else f"+ {text}"


def row(values, digits: int = 4) -> str:
    """Entries separated by ``&`` (for data tables in an ``array``)."""
    return " & ".join(tex(v, digits) for v in values)


def coef(obj: Any, digits: int = 4) -> str:
    """A coefficient in front of a term: ``''`` for 1, ``'-'`` for -1, else the number."""
    text = tex(obj, digits)
    return {"1": "", "-1": "-"}.get(text, text)


# filters a template may use: the formatting ones that can be asked for gigabytes
# (center, indent, format, wordwrap, truncate, ...) are left out
SAFE_FILTERS = ("abs", "capitalize", "count", "d", "default", "dictsort", "e", "escape", "first",
                "float", "int", "items", "join", "last", "length", "list", "lower", "map", "max", "min",
                "reject", "rejectattr", "reverse", "round", "select", "selectattr", "sort", "string",
                "sum", "title", "trim", "unique", "upper")
_WIDE_FORMAT = re.compile(r"%[-+ #0]*(\*|\d{6,})|%[-+ #0]*\d*\.(\*|\d{6,})")


class _Generator(CodeGenerator):
    """Compiles ``a ~ b`` through a length check (the one operator the sandbox cannot intercept)."""

    def visit_Concat(self, node, frame):
        self.write("environment.checked_text(")
        super().visit_Concat(node, frame)
        self.write(")")


class Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox for template text, with limits on what one text field may cost.

    Repetition, powers, concatenation, string formatting, numbers passed to calls and
    the length of the output are checked against :mod:`quizgen.limits`; rendering has a
    time budget (:func:`render_text`).
    """

    code_generator_class = _Generator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(self, context, operator, left, right):
        if operator == "**" and _is_number(left) and _is_number(right):
            try:
                limits.check_power(left, right)
            except limits.LimitError as exc:
                raise SecurityError(str(exc)) from None
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and _is_number(n) and len(seq) * n > limits.MAX_RENDER_CHARS:
                    raise SecurityError(f"a repetition of {len(seq) * n:,} items is over the limit of "
                                        f"{limits.MAX_RENDER_CHARS:,}")
        if operator == "%" and isinstance(left, str) and _WIDE_FORMAT.search(left):
            raise SecurityError("a %-format with a huge or computed width is not allowed")
        result = super().call_binop(context, operator, left, right)
        if isinstance(result, (str, list, tuple)):
            self.checked_text(result)
        return result

    def call(__self, __context, __obj, *args, **kwargs):
        for value in (*args, *kwargs.values()):
            if _is_number(value) and abs(value) > limits.MAX_RENDER_ARGUMENT:
                raise SecurityError(f"the number {value:.3g} passed to a call is over the limit of "
                                    f"{limits.MAX_RENDER_ARGUMENT:,}")
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value):
        """No ``str.format``/``format_map`` at all (Jinja would hand out a wrapped one before
        asking :meth:`is_safe_attribute`): ``'{:>999999999}'.format(1)`` asks for a gigabyte."""
        return None

    def is_safe_attribute(self, obj, attr, value):
        if isinstance(obj, str) and attr in ("format", "format_map"):
            return False
        return super().is_safe_attribute(obj, attr, value)

    @staticmethod
    def checked_text(value):
        if len(value) > limits.MAX_RENDER_CHARS:
            raise SecurityError(f"a text of {len(value):,} characters is over the limit of "
                                f"{limits.MAX_RENDER_CHARS:,}")
        return value

    def concat(self, parts):            # joins a template's output; stops at the limit
        out, total = [], 0
        for part in parts:
            total += len(part)
            if total > limits.MAX_RENDER_CHARS:
                raise SecurityError(f"the rendered text is over the limit of {limits.MAX_RENDER_CHARS:,} characters")
            out.append(part)
        return "".join(out)


ANSWER_NAMESPACES = ("steps", "ans", "val", "answers")


class AnswerNames(dict):
    """``steps`` / ``ans`` / ``val`` in template text: knows its own name for messages."""

    def __init__(self, kind: str, values: dict):
        super().__init__(values)
        self.kind = kind


def missing_answer(kind: str, name: str, answers) -> str:
    names = ", ".join(answers) or "none"
    return f"{kind}.{name}: no answer named {name}; answers are {names}"


class _Undefined(jinja2.StrictUndefined):
    """StrictUndefined whose message for ``steps.X`` lists the answers that exist."""

    @property
    def _undefined_message(self) -> str:
        obj = self._undefined_obj
        if isinstance(obj, AnswerNames) and isinstance(self._undefined_name, str):
            return missing_answer(obj.kind, self._undefined_name, obj)
        return super()._undefined_message


class TextError(Exception):
    def __init__(self, message: str, lineno: int | None, fix: str):
        super().__init__(message)
        self.lineno, self.fix = lineno, fix


def answer_refs(text: str) -> list[tuple[str, str, int]]:
    """(namespace, answer name, line in ``text``) of each literal ``steps.X`` / ``ans['X']`` in ``text``."""
    from jinja2 import nodes
    try:
        tree = environment().parse(text)
    except jinja2.TemplateSyntaxError as exc:
        raise TextError(f"Jinja syntax error (its line {exc.lineno}): {exc.message}", exc.lineno,
                        "check {{ }} and {% %} pairs") from None
    refs = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        base = node.node
        if not (isinstance(base, nodes.Name) and base.name in ANSWER_NAMESPACES and base.ctx == "load"):
            continue
        key = node.attr if isinstance(node, nodes.Getattr) else \
            (node.arg.value if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str) else None)
        if key is not None:
            refs.append((base.name, key, node.lineno))
    return sorted(refs, key=lambda r: r[2])


def _named(context: dict) -> dict:
    return {**context, **{k: AnswerNames(k, v) for k, v in context.items()
                          if k in ANSWER_NAMESPACES and isinstance(v, dict)}}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@lru_cache(maxsize=1)
def environment() -> Sandbox:
    env = Sandbox(undefined=_Undefined, autoescape=False, keep_trailing_newline=False)
    env.filters = {name: env.filters[name] for name in SAFE_FILTERS}
    for name in ("lipsum", "cycler", "joiner", "namespace"):
        env.globals.pop(name, None)
    env.globals.update(tex=tex, num=num, signed=signed, row=row, coef=coef, vec=tex_value)
    env.filters.update(tex=tex, num=num, signed=signed)
    return env


@lru_cache(maxsize=2048)
def compile_text(text: str) -> jinja2.Template:
    return environment().from_string(text)


def render_text(tpl, field: str, context: dict) -> str:
    """Render ``tpl.data[field]``; template errors name the file, line and field."""
    text = tpl.data.get(field) or ""
    try:
        with time_budget(limits.RENDER_SECONDS, f"rendering {field}") as token:
            return compile_text(text).render(**_named(context)).strip()
    except OutOfTime as exc:
        if exc.token is not token:
            raise
        raise tpl.error([field], f"rendering {field} took longer than {limits.RENDER_SECONDS:g} s",
                        "loops in template text must be short; compute values under define:") from None
    except RecursionError:
        raise tpl.error([field], f"{field} calls a macro that never stops calling itself",
                        "give the recursion an end, or write the text out") from None
    except jinja2.TemplateSyntaxError as exc:
        raise tpl.error([field], f"Jinja syntax error in {field} (its line {exc.lineno}): {exc.message}",
                        "check {{ }} and {% %} pairs") from None
    except jinja2.UndefinedError as exc:
        fix = f"use one of: {', '.join(tpl.answers)}" if "no answer named" in str(exc.message) else \
            "use parameters, defined names, ans.NAME, val.NAME, steps.NAME, or tex/num/signed/coef/row/vec"
        raise tpl.error([field], f"{field} uses something undefined: {exc.message}", fix) from None
    except jinja2.exceptions.SecurityError as exc:
        raise tpl.error([field], f"{field} tried something the sandbox forbids: {exc}",
                        "templates may only format values") from None
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        raise tpl.error([field], f"cannot render {field}: {exc}") from None
