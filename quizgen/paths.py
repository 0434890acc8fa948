"""Where the built-in data lives, in a source checkout and in an installed package."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    """The installed copy (``quizgen/<name>``) or the checkout's top-level folder."""
    for candidate in (_PKG / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"quizgen data folder {name!r} not found beside {_PKG}")


def bank_dir() -> Path:
    return _data_dir("question_bank")


def templates_dir() -> Path:
    return _data_dir("templates")


def examples_dir() -> Path:
    return _data_dir("examples")


def schema_path(name: str = "template") -> Path:
    return _PKG / "schema" / f"{name}.schema.json"
