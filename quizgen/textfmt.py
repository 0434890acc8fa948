"""Splitting template text (prose with ``$...$`` / ``$$...$$`` maths) into pieces.

Exporters share this so that every format reads the text format of
``docs/question-format.md`` the same way.
"""

from __future__ import annotations

import re
from typing import Iterator, NamedTuple

_TOKEN = re.compile(r"\\\$|\$\$(.+?)\$\$|\$(.+?)\$", re.S)


class Piece(NamedTuple):
    kind: str   # "prose" | "inline" | "display"
    text: str


def split_math(text: str) -> list[Piece]:
    """Split ``text`` into prose and maths pieces; ``\\$`` in prose becomes ``$``."""
    pieces: list[Piece] = []
    prose: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        prose.append(text[pos:m.start()])
        pos = m.end()
        if m.group(0) == "\\$":
            prose.append("$")
            continue
        if prose and "".join(prose):
            pieces.append(Piece("prose", "".join(prose)))
        prose = []
        if m.group(1) is not None:
            pieces.append(Piece("display", m.group(1).strip()))
        else:
            pieces.append(Piece("inline", m.group(2).strip()))
    prose.append(text[pos:])
    if "".join(prose):
        pieces.append(Piece("prose", "".join(prose)))
    return pieces


def paragraphs(text: str) -> Iterator[str]:
    """Yield the paragraphs of ``text`` (blank-line separated, display maths kept whole)."""
    buf: list[str] = []
    in_display = False
    for line in text.strip().split("\n"):
        if not line.strip() and not in_display:
            if buf:
                yield "\n".join(buf)
            buf = []
            continue
        buf.append(line)
        in_display ^= (len(re.findall(r"(?<!\\)\$\$", line)) % 2 == 1)
    if buf:
        yield "\n".join(buf)
