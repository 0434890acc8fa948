"""Plain text for the inside of a Moodle cloze blank (feedback and choice texts).

Inside ``{1:NUMERICAL:...}`` a ``}`` ends the blank, ``~`` starts the next alternative,
``#`` starts the feedback and HTML is not allowed, so TeX cannot be used there. The
feedback's maths is written in Unicode instead: ``\\frac{a}{b}`` -> ``(a)/(b)``,
``\\sigma`` -> ``σ``, ``x^{n-1}`` -> ``x^(n-1)``. :func:`cloze_plain` never returns
``{ } ~ # < > &`` or a backslash.
"""

from __future__ import annotations

import re

from ..textfmt import split_math

_SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "eta": "η", "theta": "θ", "lambda": "λ", "mu": "μ", "pi": "π", "sigma": "σ", "tau": "τ",
    "phi": "φ", "chi": "χ", "omega": "ω", "Delta": "Δ", "Sigma": "Σ", "nabla": "∇",
    "partial": "∂", "sum": "Σ", "cdot": "·", "times": "×", "top": "ᵀ", "infty": "∞",
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "to": "→",
    "approx": "≈", "pm": "±", "prime": "′", "ldots": "…", "dots": "…", "cdots": "…",
    "quad": " ", "qquad": " ", "left": "", "right": "",
}
_SPACES = re.compile(r"\\[,;:! ]")
_GROUP = r"\{((?:[^{}]|\{[^{}]*\})*)\}"           # one brace group, one level of nesting
_ARG = rf"(?:{_GROUP}|\s*(\\[A-Za-z]+|[^\s{{}}\\]))"  # a group or a single token
_FRAC = re.compile(rf"\\[dt]?frac{_ARG}{_ARG}")
_WRAPPER = re.compile(rf"\\(?:mathbf|mathrm|mathit|boldsymbol|text|operatorname|bm){_GROUP}")
_BAR = re.compile(rf"\\(?:bar|overline){_ARG}")
_SCRIPT = re.compile(rf"([\^_]){_GROUP}")
_COMMAND = re.compile(r"\\([A-Za-z]+)")


def _arg(m: re.Match, i: int) -> str:
    group, token = m.group(i), m.group(i + 1)
    return group if group is not None else token


def _wrap(text: str) -> str:
    """``text`` in brackets unless it is one token."""
    text = text.strip()
    if re.fullmatch(r"[\w.′']+|\\[A-Za-z]+|\([^()]*\)", text):
        return text
    return f"({text})"


def _frac(m: re.Match) -> str:
    return f"{_wrap(_arg(m, 1))}/{_wrap(_arg(m, 3))}"


def _script(m: re.Match) -> str:
    return m.group(1) + _wrap(m.group(2))


def _command(m: re.Match) -> str:
    name = m.group(1)
    if name in _SYMBOLS:
        return _SYMBOLS[name]
    before = m.string[m.start() - 1:m.start()]
    return (" " if before.isalnum() else "") + name        # \cos, \exp, ...


def tex_plain(tex: str) -> str:
    """One TeX formula as plain Unicode text."""
    text = _SPACES.sub(" ", tex)
    for _ in range(4):                                   # nested fractions and wrappers
        text = _WRAPPER.sub(lambda m: "{" + m.group(1) + "}", text)
        text = _FRAC.sub(_frac, text)
        text = _BAR.sub(lambda m: _arg(m, 1) + "\u0304", text)
        text = _SCRIPT.sub(_script, text)
    text = text.replace("^ᵀ", "ᵀ").replace("^\\top", "ᵀ")
    text = _COMMAND.sub(_command, text)
    return re.sub(r"\s+", " ", text).strip()


_FORBIDDEN = str.maketrans({"{": "", "}": "", "\\": "", "~": " ", "#": "no. ", "<": "‹",
                            ">": "›", "&": "and", "\n": " "})


def cloze_plain(text: str | None) -> str:
    """Prose with ``$TeX$`` as text that is safe inside a cloze blank."""
    out = "".join(tex_plain(p.text) if p.kind != "prose" else p.text
                  for p in split_math(text or ""))
    return re.sub(r"\s+", " ", out.translate(_FORBIDDEN)).strip()
