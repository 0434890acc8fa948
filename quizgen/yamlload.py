"""YAML loading with line numbers for error messages, and JSON Schema validation."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import jsonschema
import yaml

from .errors import QuizgenError
from .paths import schema_path


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (a silent overwrite hides mistakes)."""


def _mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


class Document:
    """A parsed YAML file that can say on which line a value sits."""

    def __init__(self, path: Path, text: str):
        self.path = path
        try:
            self.node = yaml.compose(text, Loader=_Loader)
            self.data = yaml.load(text, Loader=_Loader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
            problem = getattr(exc, "problem", None) or str(exc)
            raise QuizgenError(f"not valid YAML: {problem}", file=str(path), where=where,
                               fix="check indentation, colons and quotes around text with ':' or '#'") from None

    def line(self, path: Sequence[Any]) -> int | None:
        """1-based line of the value at ``path`` (keys / indices), or of its nearest parent."""
        node, line = self.node, (self.node.start_mark.line + 1 if self.node else None)
        for key in path:
            child = None
            if isinstance(node, yaml.MappingNode):
                child = next((v for k, v in node.value if k.value == str(key)), None)
                key_node = next((k for k, v in node.value if k.value == str(key)), None)
                if key_node is not None:
                    line = key_node.start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
                child = node.value[key]
                line = child.start_mark.line + 1
            if child is None:
                break
            node = child
        return line

    def where(self, path: Sequence[Any]) -> str:
        dotted = ".".join(str(p) for p in path) or "top level"
        line = self.line(path)
        return f"line {line} ({dotted})" if line else dotted

    def error(self, path: Sequence[Any], message: str, fix: str | None = None) -> QuizgenError:
        return QuizgenError(message, file=str(self.path), where=self.where(path), fix=fix)


def load_document(path: Path | str) -> Document:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise QuizgenError(f"cannot read file: {exc.strerror}", file=str(path),
                           fix="check the path") from None
    except UnicodeDecodeError:
        raise QuizgenError("not UTF-8 text", file=str(path), fix="save the file as UTF-8") from None
    return Document(path, text)


@lru_cache(maxsize=None)
def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads(schema_path(name).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def validate(doc: Document, schema: str) -> None:
    """Raise one clear QuizgenError for the first schema violation (by line)."""
    errors = list(validator(schema).iter_errors(doc.data))
    if not errors:
        return
    err = min(errors, key=lambda e: (doc.line(list(e.absolute_path)) or 0, len(e.absolute_path)))
    err = _deepest(err)
    path = list(err.absolute_path)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        path += extra[:1]
    raise doc.error(path, _describe(err), _fix(err))


def _deepest(err):
    """For oneOf/anyOf failures, the most specific sub-error is the useful one."""
    while err.context:
        best = max(err.context, key=lambda e: (len(e.absolute_path), -len(e.context or [])))
        if len(best.absolute_path) < len(err.absolute_path):
            break
        if best.validator == "required" and err.validator == "oneOf":
            break
        err = best
    return err


def _describe(err) -> str:
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        return f"unknown key {', '.join(map(repr, extra))}"
    if err.validator == "oneOf" and isinstance(err.instance, dict):
        return f"this entry does not match any allowed form: {json.dumps(err.instance)[:120]}"
    return err.message


def _fix(err) -> str | None:
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        return f"allowed keys here: {', '.join(allowed)}" if allowed else "remove it"
    if err.validator == "enum":
        return f"use one of: {', '.join(map(str, err.validator_value))}"
    if err.validator == "required":
        return "add the missing key"
    if err.validator == "oneOf":
        return "see the template format in the README (parameters: int, decimal+step, choice, vector, matrix, dataset)"
    if err.validator == "type":
        return f"give a value of type {err.validator_value}"
    return None
