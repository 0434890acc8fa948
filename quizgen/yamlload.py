"""YAML loading with line numbers for error messages, and JSON Schema validation."""

from __future__ import annotations

import datetime
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import jsonschema
import yaml

from . import limits
from .errors import QuizgenError, shorten
from .paths import schema_path


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """SafeLoader (libyaml's when present) that refuses duplicate keys (a silent overwrite hides mistakes)."""


def _mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, (str, int, float, bool)) or key is None:
            raise yaml.constructor.ConstructorError(
                None, None, f"a key must be plain text, not {type(key).__name__} {shorten(repr(key), 60)}",
                key_node.start_mark)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


class Document:
    """A parsed YAML file that can say on which line a value sits."""

    def __init__(self, path: Path, text: str):
        self.path = path
        loader = _Loader(text)
        try:
            self.node = loader.get_single_node()
            self._check_shape()
            self.data = loader.construct_document(self.node) if self.node is not None else None
        except yaml.YAMLError as exc:
            if "maximum nesting depth" in str(getattr(exc, "problem", "")):
                mark = getattr(exc, "problem_mark", None)
                raise self._too_deep(mark.line + 1 if mark else None) from None
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
            problem = getattr(exc, "problem", None) or str(exc)
            raise QuizgenError(f"not valid YAML: {problem}", file=str(path), where=where,
                               fix="check indentation, colons and quotes around text with ':' or '#'") from None
        except RecursionError:
            raise self._too_deep(_deep_line(text)) from None
        finally:
            loader.dispose()

    def _check_shape(self) -> None:
        """Refuse nesting deeper than MAX_YAML_DEPTH and alias expansion beyond MAX_YAML_NODES."""
        if self.node is None:
            return
        depth, nodes = limits.yaml_shape(self.node)
        if nodes > limits.MAX_YAML_NODES:
            raise QuizgenError(f"more than {limits.MAX_YAML_NODES:,} values once its aliases (*name) are expanded",
                               file=str(self.path), fix="write the values out, or use fewer and smaller aliases")
        if depth > limits.MAX_YAML_DEPTH:
            raise self._too_deep(limits.too_deep(self.node).start_mark.line + 1)

    def _too_deep(self, line: int | None) -> QuizgenError:
        return QuizgenError(f"nested more than {limits.MAX_YAML_DEPTH} levels deep",
                            file=str(self.path), where=f"line {line}" if line else None,
                            fix="a template needs only a few levels of keys and lists")

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

    def text_line(self, path: Sequence[Any], lineno: int) -> int | None:
        """File line of line ``lineno`` (1-based) of the text at ``path`` (a ``|`` block or one line)."""
        node = self.node
        for key in path:
            if not isinstance(node, yaml.MappingNode):
                return None
            node = next((v for k, v in node.value if k.value == str(key)), None)
        if not isinstance(node, yaml.ScalarNode):
            return None
        if node.style == "|":
            return node.start_mark.line + 1 + lineno
        if node.style in (None, "", "'", '"') and node.start_mark.line == node.end_mark.line:
            return node.start_mark.line + 1
        return None

    def where(self, path: Sequence[Any], line: int | None = None) -> str:
        dotted = ".".join(str(p) for p in path) or "top level"
        line = line or self.line(path)
        return f"line {line} ({dotted})" if line else dotted

    def error(self, path: Sequence[Any], message: str, fix: str | None = None,
              line: int | None = None) -> QuizgenError:
        """A QuizgenError at ``path`` (or at the given file ``line``, e.g. inside a text block)."""
        return QuizgenError(message, file=str(self.path), where=self.where(path, line), fix=fix)


def _deep_line(text: str) -> int | None:
    """The line where nesting first exceeds MAX_YAML_DEPTH, found by the (iterative) scanner."""
    depth = 0
    opening = (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken,
               yaml.FlowMappingStartToken, yaml.FlowSequenceStartToken)
    closing = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)
    try:
        for token in yaml.scan(text, Loader=_Loader):
            depth += isinstance(token, opening) - isinstance(token, closing)
            if depth > limits.MAX_YAML_DEPTH:
                return token.start_mark.line + 1
    except yaml.YAMLError:
        pass
    return None


def read_text(path: Path | str, what: str = "file") -> str:
    """A UTF-8 text file within MAX_FILE_BYTES, or one clear error naming it."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > limits.MAX_FILE_BYTES:
            raise QuizgenError(f"the {what} is {size:,} bytes; at most {limits.MAX_FILE_BYTES:,} are read",
                               file=str(path), fix="split it into smaller files")
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise QuizgenError(f"cannot read {what}: {exc.strerror}", file=str(path), fix="check the path") from None
    except UnicodeDecodeError as exc:
        raise QuizgenError(f"the {what} is not UTF-8 text (byte {exc.start + 1} cannot be read)", file=str(path),
                           fix="save the file as UTF-8 text") from None


def load_document(path: Path | str, what: str = "file") -> Document:
    return Document(Path(path), read_text(path, what))


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
        return f"this entry does not match any allowed form: {shorten(json.dumps(err.instance, default=str))}"
    if err.validator == "type":
        return f"{_shown(err.instance)} is {_type_name(err.instance)}, but {_wanted(err.validator_value)} is expected here"
    return shorten(err.message, 200)


TYPE_WORDS = {"string": "a text", "number": "a number", "integer": "a whole number", "boolean": "true or false",
              "array": "a list [...]", "object": "a mapping (key: value lines)", "null": "nothing"}


def _wanted(types) -> str:
    types = [types] if isinstance(types, str) else list(types)
    return " or ".join(TYPE_WORDS.get(t, t) for t in types)


def _type_name(value) -> str:
    if isinstance(value, datetime.date):
        return "a date (YAML reads 2024-01-01 as one; quote it to keep it text)"
    if isinstance(value, bool):
        return "true/false"
    return {dict: "a mapping", list: "a list", str: "a text", int: "a whole number",
            float: "a number", type(None): "empty"}.get(type(value), type(value).__name__)


def _shown(value) -> str:
    return shorten(json.dumps(value, default=str), 60)


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
        return f"write {_wanted(err.validator_value)}"
    return None
