"""The question bank: loading, validating and indexing YAML templates."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from . import limits
from .errors import QuizgenError, shorten
from .paths import bank_dir

if TYPE_CHECKING:
    from .yamlload import Document

# sympy, the engine, the schema validator and Jinja are imported where a template is checked,
# so that listing a bank whose templates were checked before needs none of them (see Summary)

MODULES = {
    "functions-and-derivatives": "Functions and derivatives",
    "multivariate-calculus": "Multivariate calculus",
    "chain-rule-and-networks": "Multivariate chain rule and neural networks",
    "taylor-series": "Taylor series and linearisation",
    "optimisation": "Optimisation",
    "regression": "Regression",
}
ANSWER_META = {"op", "label", "kind", "tolerance", "round", "nonzero", "bounds", "data", "misconceptions"}


class Listed:
    """What a template shows in listings (shared by :class:`Template` and :class:`Summary`)."""

    module: str
    topic: str
    data: dict

    @property
    def module_title(self) -> str:
        return MODULES[self.module]

    @property
    def topic_title(self) -> str:
        return self.data.get("topic_title") or self.topic.replace("-", " ").capitalize()


@dataclass
class Template(Listed):
    """One validated template, as data (nothing is executed at load time)."""

    id: str
    title: str
    module: str
    topic: str
    difficulty: int
    data: dict
    source: Path
    doc: Document = field(repr=False)

    @property
    def variables(self) -> list[str]:
        return list(self.data.get("variables") or ["x"])

    @property
    def parameters(self) -> dict:
        return self.data.get("parameters") or {}

    @property
    def answers(self) -> dict:
        return self.data["answers"]

    def error(self, path: list, message: str, fix: str | None = None, text_line: int | None = None) -> QuizgenError:
        """An error at ``path``; ``text_line`` is a line inside that text field (for its file line)."""
        line = self.doc.text_line(path, text_line) if text_line else None
        return self.doc.error(path, message, fix, line)


def load_template(path: Path | str) -> Template:
    """Load one template file: YAML, schema, then the checks a schema cannot express."""
    from .yamlload import load_document, validate
    doc = load_document(path)
    if not isinstance(doc.data, dict):
        raise doc.error([], "a template must be a YAML mapping (key: value lines)",
                        "start from the annotated example in the README")
    if "sections" in doc.data and "answers" not in doc.data:
        raise doc.error(["sections"], "this is a quiz spec, not a template, but it lies in a template bank",
                        "keep quiz specs outside the bank folder (the spec's bank: key points at the folder)")
    validate(doc, "template")
    d = doc.data
    tpl = Template(d["id"], d["title"], d["module"], d["topic"], d["difficulty"], d, Path(path), doc)
    _check_semantics(tpl)
    return tpl


def _check_semantics(tpl: Template) -> None:
    from .exprs import CONSTANTS, FAMILIES
    known = set(tpl.variables) | set(CONSTANTS)
    families = set()
    for name, spec in tpl.parameters.items():
        problem = limits.parameter_problem(spec)
        if problem:
            raise tpl.error(["parameters", name, *problem[0]], problem[1], problem[2])
        if name in tpl.variables:
            raise tpl.error(["parameters", name], f"{name!r} is both a parameter and a variable",
                            "rename the parameter")
        if "choice" in spec and any(isinstance(c, str) for c in spec["choice"]):
            bad = [c for c in spec["choice"] if not (isinstance(c, str) and c in FAMILIES)]
            if bad:
                raise tpl.error(["parameters", name, "choice"], f"{bad[0]!r} is not a function family",
                                f"a choice of functions may list: {', '.join(FAMILIES)}")
            families.add(name)
        if "dataset" in spec:
            _check_expr(tpl, ["parameters", name, "dataset", "model"], spec["dataset"]["model"],
                        known | {"x"}, families)
        known.add(name)
    for name, text in (tpl.data.get("define") or {}).items():
        _check_expr(tpl, ["define", name], text, known, families)
        known.add(name)
    for i, text in enumerate(tpl.data.get("constraints") or []):
        _check_expr(tpl, ["constraints", i], text, known, families)
    for name, spec in tpl.answers.items():
        _check_answer(tpl, name, spec, known, families)
    if tpl.data.get("figure"):
        _check_figure(tpl, tpl.data["figure"], known, families)
    _check_text_names(tpl)
    mc = tpl.data.get("multiple_choice")
    if mc and mc.get("answer", next(iter(tpl.answers))) not in tpl.answers:
        raise tpl.error(["multiple_choice", "answer"], f"no answer named {mc['answer']!r}",
                        f"use one of: {', '.join(tpl.answers)}")
    if mc:
        from .misconceptions import MISCONCEPTIONS
        for i, m in enumerate(mc["misconceptions"]):
            if m not in MISCONCEPTIONS:
                raise tpl.error(["multiple_choice", "misconceptions", i], f"unknown misconception {m!r}",
                                f"use one of: {', '.join(sorted(MISCONCEPTIONS))}")


TEXT_FIELDS = ("prompt", "solution")


def _check_text_names(tpl: Template) -> None:
    """Every ``steps.X`` / ``ans.X`` / ``val.X`` in the text names an answer (checked before sampling)."""
    from .render import TextError, answer_refs, missing_answer
    for field_name in TEXT_FIELDS:
        try:
            refs = answer_refs(tpl.data.get(field_name) or "")
        except TextError as exc:
            raise tpl.error([field_name], f"{field_name}: {exc}", exc.fix, exc.lineno) from None
        for kind, name, lineno in refs:
            if name not in tpl.answers:
                raise tpl.error([field_name], f"{field_name} (its line {lineno}): {missing_answer(kind, name, tpl.answers)}",
                                f"use one of: {', '.join(f'{kind}.{a}' for a in tpl.answers)}", lineno)


FIGURE_MATHS = ("expression", "at", "about", "start", "learning_rate", "h")
FIGURE_STEPS = 50                  # iterates a figure may draw


def _check_figure(tpl: Template, spec: dict, known: set, families: set) -> None:
    """Names, counts and ranges of a figure, checked before any variant is drawn."""
    path = ["figure"]
    if "data" in spec and "dataset" not in tpl.parameters.get(spec["data"], {}):
        raise tpl.error(path + ["data"], f"{shorten(str(spec['data']))!r} is not a dataset parameter",
                        "name a parameter declared with dataset:")
    if "fit" in spec and spec["fit"] not in tpl.answers:
        raise tpl.error(path + ["fit"], f"no answer named {shorten(str(spec['fit']))!r}",
                        f"use one of: {', '.join(tpl.answers)}")
    scope = known | set(tpl.variables)
    if "fit" in spec:
        scope |= set(_model_names(tpl.answers[spec["fit"]])) | {"x"}
    for key in FIGURE_MATHS + ("model",):
        if key in spec:
            for sub, text in _strings(spec[key], [key]):
                _check_expr(tpl, path + sub, text, scope, families)
    try:
        if "steps" in spec:
            limits.check_count("steps", spec["steps"], FIGURE_STEPS)
        for order in spec.get("orders") or []:
            limits.check_count("orders", order, limits.MAX_ORDER, 0)
    except limits.LimitError as exc:
        raise tpl.error(path + [("steps" if "steps" in str(exc) else "orders")], str(exc), exc.fix) from None
    if "range" in spec:
        r = spec["range"]
        if not (isinstance(r, list) and len(r) == 2):
            raise tpl.error(path + ["range"], f"range must be [low, high], not {shorten(str(r))}",
                            "e.g. range: [-3, 3] or [x0 - 1, x0 + 1]")
        for i, end in enumerate(r):
            _check_expr(tpl, path + ["range", i], end, scope, families)
        if all(isinstance(v, (int, float)) for v in r) and not r[0] < r[1]:
            raise tpl.error(path + ["range"], f"range needs low < high, not {shorten(str(r))}",
                            f"write [{r[1]}, {r[0]}]")


def _check_expr(tpl: Template, path: list, text: Any, known: set, families: set) -> None:
    from .exprs import FUNCTIONS, ExprError, names_in, parse_tree
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return
    try:
        parse_tree(str(text))
        used = names_in(str(text))
    except ExprError as exc:
        raise tpl.error(path, str(exc), "write maths in Python syntax, e.g. 3*x**2 + sin(2*x)") from None
    for name in sorted(used):
        if name not in known and name not in FUNCTIONS and name not in families:
            raise tpl.error(path, f"unknown name {name!r} in {shorten(str(text))!r}",
                            "declare it under parameters, define, or variables")


# inputs whose value is an expression, a name or a number, never a mapping
VALUE_KEYS = frozenset({"expression", "expressions", "model", "constraint", "variable", "variables",
                             "steps", "order", "learning_rate", "h"})


def _check_answer(tpl: Template, name: str, spec: dict, known: set, families: set) -> None:
    from . import engine
    from .inputs import NAME_KEYS, POINT_KEYS
    ops = engine.load_all()
    op = ops[spec["op"]]
    given = set(spec) - ANSWER_META
    if spec.get("data"):
        if spec["data"] not in tpl.parameters or "dataset" not in tpl.parameters[spec["data"]]:
            raise tpl.error(["answers", name, "data"], f"{spec['data']!r} is not a dataset parameter",
                            "declare it under parameters with dataset: {x: ..., model: ...}")
        given |= {"x", "y", "sigma"}
    missing = [k for k in op.required if k not in given]
    if missing:
        raise tpl.error(["answers", name], f"operation {op.name!r} needs input(s) {', '.join(missing)}",
                        f"add {', '.join(missing)} (inputs of {op.name}: {', '.join(op.required + op.optional)})")
    extra = sorted(given - set(op.required) - set(op.optional) - {"x", "y", "sigma"})
    if extra:
        raise tpl.error(["answers", name, extra[0]], f"operation {op.name!r} takes no input {extra[0]!r}",
                        f"inputs of {op.name}: {', '.join(op.required + op.optional)}")
    scope = known | {"x"} | set(_model_names(spec))
    _check_variables(tpl, name, spec)
    for key in sorted(given & set(spec)):
        if isinstance(spec[key], dict) and key in VALUE_KEYS:
            raise tpl.error(["answers", name, key], f"{key} is a mapping ({shorten(str(spec[key]), 60)}), "
                            f"but {op.name} takes an expression, a number or a list here",
                            f"write e.g. {key}: \"x**2\"" if key == "expression" else "remove the braces")
        if key in POINT_KEYS and key != "parameters" and not isinstance(spec[key], (dict, list, str, int, float)):
            raise tpl.error(["answers", name, key], f"{key} must be a point such as {{x: 1, y: 2}} or [1, 2]",
                            "write the point as a mapping from variables to values")
        for path, text in _strings(spec[key], [key]):
            if path[0] in NAME_KEYS or path[-1] in NAME_KEYS or path[0] in ("wrt",) or \
                    (path[0] == "parameters" and len(path) == 2 and isinstance(path[1], int)):
                continue
            _check_expr(tpl, ["answers", name] + path, text, scope, families)
        if key in POINT_KEYS and isinstance(spec[key], dict):
            for var in spec[key]:
                if var not in tpl.variables and key != "parameters":
                    raise tpl.error(["answers", name, key, var], f"{var!r} is not a variable",
                                    f"list it under variables (now: {', '.join(tpl.variables)})")


def _check_variables(tpl: Template, name: str, spec: dict) -> None:
    """``variable`` / ``variables`` of an answer name declared variables (the error is on that line)."""
    allowed = set(tpl.variables) | ({"x", *_model_names(spec)} if "model" in spec else set())
    for key in ("variable", "variables"):
        value = spec.get(key)
        items = list(enumerate(value)) if isinstance(value, list) else [(None, value)] if value is not None else []
        for i, var in items:
            if isinstance(var, str) and var not in allowed:
                path = ["answers", name, key] + ([i] if i is not None else [])
                raise tpl.error(path, f"{var!r} is not a variable of this template",
                                f"list it under variables (now: {', '.join(tpl.variables)})")


def _model_names(spec: dict) -> list[str]:
    params = spec.get("parameters") or spec.get("start") or []
    return [str(p) for p in params] if isinstance(params, (list, dict)) else []


def _strings(obj: Any, path: list) -> Iterable[tuple[list, Any]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _strings(v, path + [k])
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _strings(v, path + [i])
    else:
        yield path, obj


# ---- the bank ---------------------------------------------------------------------

ENV_BANK = "QUIZGEN_BANK"          # os.pathsep-separated folders of the instructor's templates


def template_files(paths: Iterable[Path | str] | None = None, where: str | None = None) -> list[Path]:
    """YAML files under ``paths`` (files or folders, each file once), default the built-in bank."""
    roots = [Path(p) for p in paths] if paths else [bank_dir()]
    files: list[Path] = []
    for root in roots:
        if root.is_dir():
            files += sorted(p for p in root.rglob("*.y*ml") if p.suffix in (".yaml", ".yml"))
        elif root.exists():
            files.append(root)
        else:
            raise QuizgenError("no such file or folder", file=str(root), where=where,
                               fix="check the path (a folder of templates or one .yaml file)")
    seen: set[Path] = set()
    return [f for f in files if not (f.resolve() in seen or seen.add(f.resolve()))]


Loader = Callable[[Path], Template]


def _load_unique(files: list[Path], known: dict[Path, Template] | None = None,
                 load: Loader = load_template) -> list[Template]:
    """Templates of ``files`` (reusing ``known`` ones by resolved path); ids must be unique."""
    templates, seen = [], {}
    for f in files:
        tpl = (known or {}).get(f.resolve()) or load(f)
        if tpl.id in seen:
            raise tpl.error(["id"], f"duplicate template id {tpl.id!r} (also in {seen[tpl.id]})",
                            "give every template its own id")
        seen[tpl.id] = f
        templates.append(tpl)
    return templates


def _ordered(templates: Iterable[Template]) -> list[Template]:
    return sorted(templates, key=lambda t: (list(MODULES).index(t.module), t.topic, t.id))


def load_bank(paths: Iterable[Path | str] | None = None, load: Loader = load_template) -> list[Template]:
    """All templates under ``paths`` (default: the built-in bank); ids must be unique."""
    return _ordered(_load_unique(template_files(paths), load=load))


@dataclass
class Bank:
    """The built-in bank merged with the instructor's templates (theirs win on a shared id)."""

    templates: list[Template]
    own: list[Template]
    warnings: list[str]
    roots: list[Path] = field(default_factory=list)

    @property
    def scope(self) -> list[Template]:
        """What "every template" means: the instructor's when they gave a bank, else the built-in."""
        return self.own if self.roots else self.templates

    def is_own(self, tpl: Template) -> bool:
        return any(t is tpl for t in self.own)


def bank_roots(banks: Iterable[Path | str] = (), environ=None) -> list[Path]:
    """The instructor's folders: ``$QUIZGEN_BANK`` first, then the ones given."""
    env = (os.environ if environ is None else environ).get(ENV_BANK, "")
    return [Path(p) for p in env.split(os.pathsep) if p.strip()] + [Path(b) for b in banks]


def resolve_bank(banks: Iterable[Path | str] = (), environ=None, load: Loader = load_template) -> Bank:
    """The bank every command reads: built-in templates, extended / overridden by the instructor's."""
    builtin = load_bank(load=load)
    roots = bank_roots(banks, environ)
    if not roots:
        return Bank(builtin, [], [])
    env_roots = len(bank_roots((), environ))
    files = [f for i, root in enumerate(roots)
             for f in template_files([root], where=ENV_BANK if i < env_roots else None)]
    own = _load_unique(template_files(files) if files else [], {t.source.resolve(): t for t in builtin}, load)
    warnings = [] if own else [f"warning: no templates (*.yaml) in {', '.join(map(str, roots))}"]
    by_id = {t.id: t for t in builtin}
    for tpl in own:
        old = by_id.get(tpl.id)
        if old is not None and old is not tpl:
            warnings.append(f"warning: {tpl.source} overrides built-in template {tpl.id!r} ({old.source})")
        by_id[tpl.id] = tpl
    return Bank(_ordered(by_id.values()), _ordered(own), warnings, roots)


def select(templates: list[Template], *, modules=(), topics=(), ids=()) -> list[Template]:
    """Templates matching any of the given modules / topics / ids (all when none given)."""
    for value, attr in [(v, "module") for v in modules] + [(v, "topic") for v in topics] + \
            [(v, "id") for v in ids]:
        if not any(getattr(t, attr) == value for t in templates):
            options = sorted({getattr(t, attr) for t in templates})
            raise QuizgenError(f"no template has {attr} {value!r}", where=f"--{attr if attr != 'id' else 'template'}",
                               fix=f"use one of: {', '.join(options)}")
    if not (modules or topics or ids):
        return list(templates)
    return [t for t in templates if t.module in modules or t.topic in topics or t.id in ids]


# ---- listing without loading ------------------------------------------------------

CACHE_ENV = "QUIZGEN_CACHE"        # folder of the listing cache, or "off"
SUMMARY_KEYS = ("id", "title", "module", "topic", "difficulty")


@dataclass
class Summary(Listed):
    """A template file that passed every check of :func:`load_template`, as listings show it."""

    id: str
    title: str
    module: str
    topic: str
    difficulty: int
    data: dict                     # only topic_title and multiple_choice
    source: Path

    def error(self, path: list, message: str, fix: str | None = None) -> QuizgenError:
        return load_template(self.source).error(path, message, fix)


class Summaries:
    """A loader of :class:`Summary`: a file whose bytes passed the checks before is not read
    as YAML again. The cache maps a file's SHA-256 to its summary, for one version of
    quizgen's code and schemas (any change to them, or to the file, checks the file again);
    it lives in ``$QUIZGEN_CACHE`` (``off``: none), else ``$XDG_CACHE_HOME/quizgen``."""

    def __init__(self, environ=None):
        self.path = _cache_path(os.environ if environ is None else environ)
        self.stamp = _code_stamp()
        self.known = self._read()
        self.used: dict[str, dict] = {}

    def __call__(self, path: Path) -> Summary:
        import hashlib
        key = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        entry = self.known.get(key)
        if not (isinstance(entry, dict) and set(entry) == {*SUMMARY_KEYS, "data"}):
            tpl = load_template(path)
            entry = {**{k: getattr(tpl, k) for k in SUMMARY_KEYS},
                     "data": {k: tpl.data[k] for k in ("topic_title", "multiple_choice") if k in tpl.data}}
        self.used[key] = entry
        return Summary(**entry, source=Path(path))

    def _read(self) -> dict:
        import json
        try:
            cached = json.loads(self.path.read_text(encoding="utf-8")) if self.path else {}
        except (OSError, ValueError):
            return {}
        return cached.get("templates", {}) if isinstance(cached, dict) and cached.get("stamp") == self.stamp else {}

    def save(self) -> None:
        """Keep the summaries of this listing (and the others of this code, up to a limit)."""
        if not self.path or all(self.known.get(k) == v for k, v in self.used.items()):
            return
        import json
        import tempfile
        keep = dict(list(self.known.items())[-1000:])
        keep.update(self.used)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=self.path.parent, delete=False, suffix=".tmp",
                                             encoding="utf-8") as out:
                json.dump({"stamp": self.stamp, "templates": keep}, out)
            os.replace(out.name, self.path)
        except OSError:
            pass                       # a cache that cannot be written only costs time


def _cache_path(environ) -> Path | None:
    folder = environ.get(CACHE_ENV)
    if folder == "off":
        return None
    if not folder:
        folder = Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "quizgen"
    return Path(folder) / "templates.json"


def _code_stamp() -> str:
    """A hash of quizgen's code and schemas: what decides whether a template passes."""
    import hashlib
    from . import __version__
    digest = hashlib.sha256(__version__.encode())
    root = Path(__file__).parent
    for f in sorted([*root.rglob("*.py"), *root.rglob("*.json")]):
        digest.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()


def listing_bank(banks: Iterable[Path | str] = (), environ=None) -> Bank:
    """:func:`resolve_bank` of :class:`Summary` objects: what ``quizgen list`` shows, the same
    templates and the same errors, without loading templates that were checked before."""
    summaries = Summaries(environ)
    bank = resolve_bank(banks, environ, load=summaries)
    summaries.save()
    return bank
