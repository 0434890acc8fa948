"""Rendering template text (TeX inside Jinja) in a sandboxed Jinja environment."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2
import sympy as sp
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .numfmt import num, tex_value


class TexExpr(str):
    """A TeX string standing for an expression: ``{{ u }}`` prints it as it is."""


def tex(obj: Any, digits: int = 4) -> str:
    """TeX for whatever a template hands us: expressions, numbers, vectors, matrices."""
    if isinstance(obj, TexExpr):
        return obj
    if isinstance(obj, (sp.Basic, sp.MatrixBase)):
        return sp.latex(_clean_floats(obj), mat_str="pmatrix", mat_delim="")
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


@lru_cache(maxsize=1)
def environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False,
                                        keep_trailing_newline=False)
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
        return compile_text(text).render(**context).strip()
    except jinja2.TemplateSyntaxError as exc:
        raise tpl.error([field], f"Jinja syntax error in {field} (its line {exc.lineno}): {exc.message}",
                        "check {{ }} and {% %} pairs") from None
    except jinja2.UndefinedError as exc:
        raise tpl.error([field], f"{field} uses something undefined: {exc.message}",
                        "use parameters, defined names, ans.NAME, val.NAME, steps.NAME, "
                        "or tex/num/signed/coef/row/vec") from None
    except jinja2.exceptions.SecurityError as exc:
        raise tpl.error([field], f"{field} tried something the sandbox forbids: {exc}",
                        "templates may only format values") from None
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        raise tpl.error([field], f"cannot render {field}: {exc}") from None
