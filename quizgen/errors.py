"""Error types. A ``QuizgenError`` is bad input: the CLI prints it and exits 2."""

from __future__ import annotations


QUOTE_LIMIT = 120            # characters of user text quoted in a message


def shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters (an ellipsis and the length say it was cut)."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit - 1]}… ({len(text)} characters)"


class QuizgenError(Exception):
    """Bad input from a user: one message naming the file, the place and the fix."""

    def __init__(self, message: str, *, file: str | None = None, where: str | None = None,
                 fix: str | None = None):
        self.message = message
        self.file = file
        self.where = where
        self.fix = fix
        super().__init__(self.format())

    def format(self) -> str:
        head = ""
        if self.file:
            head = str(self.file)
            if self.where:
                head += f": {self.where}"
            head += ": "
        elif self.where:
            head = f"{self.where}: "
        text = head + self.message
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text


class VerificationError(Exception):
    """The engine and the independent check disagree: a key we must not ship."""


class Degenerate(Exception):
    """A sampled variant is degenerate (division by zero, complex value, ...): resample."""
