"""Quiz sets (``quizgen build``): a spec, an optional roster, one paper per student or version."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import limits
from .bank import Bank, Template, resolve_bank, select
from .errors import QuizgenError
from .export import Paper, QuizSet
from .numfmt import plain_decimal, plain_value
from .paths import examples_dir
from .pipeline import iter_tasks
from .spill import Spill
from .sampling import derive_seed
from .yamlload import load_document, read_text, validate

DEFAULT_FORMATS = ["json", "html", "latex", "moodle"]


@dataclass
class Student:
    id: str
    name: str


@dataclass
class QuizSpec:
    path: Path
    data: dict
    sections: list[list[Template]] = field(default_factory=list)
    bank: Bank | None = None

    @property
    def name(self) -> str:
        return self.data.get("name") or self.path.stem

    @property
    def seed(self) -> int:
        return int(self.data.get("seed", 0))


def default_spec() -> Path:
    return examples_dir() / "example-quiz.yaml"


def spec_banks(doc, path: Path) -> list[Path]:
    """The folders of the spec's ``bank:`` key (one path or a list), relative to the spec."""
    value = doc.data.get("bank") or []
    folders = []
    for i, entry in enumerate([value] if isinstance(value, str) else value):
        folder = path.parent / entry
        if not folder.exists():
            where = ["bank"] if isinstance(value, str) else ["bank", i]
            raise doc.error(where, f"no such folder or file: {folder}",
                            "bank: is relative to the quiz spec, e.g. bank: course (a folder beside the spec)")
        folders.append(folder)
    return folders


def load_quiz(path: Path | str, bank: list[Template] | None = None, banks=()) -> QuizSpec:
    """Load and check a quiz spec against its schema and the bank (built-in + ``banks`` + ``bank:``)."""
    doc = load_document(path)
    if not isinstance(doc.data, dict):
        raise doc.error([], "a quiz spec must be a YAML mapping", "start from examples/example-quiz.yaml")
    validate(doc, "quiz")
    spec = QuizSpec(Path(path), doc.data)
    if bank is None:
        spec.bank = resolve_bank(list(banks) + spec_banks(doc, Path(path)))
        bank = spec.bank.templates
    for i, sec in enumerate(doc.data["sections"]):
        pool = _section_pool(doc, i, sec, bank)
        _check_fair(doc, i, sec, pool)
        spec.sections.append(pool)
    return spec


def _section_pool(doc, i: int, sec: dict, bank: list[Template]) -> list[Template]:
    """The templates a section draws from: selected, then narrowed by ``form`` and ``difficulty``."""
    try:
        pool = select(bank, modules=sec.get("modules", ()), topics=sec.get("topics", ()),
                      ids=sec.get("templates", ()))
    except QuizgenError as exc:
        raise doc.error(["sections", i], exc.message, exc.fix) from None
    if sec.get("form") == "multiple_choice":
        pool = [t for t in pool if t.data.get("multiple_choice")]
        if not pool:
            raise doc.error(["sections", i, "form"], "no template of this section has a multiple-choice form",
                            "choose form: numeric, or templates that have multiple_choice (quizgen list)")
    if "difficulty" in sec:
        found = sorted({t.difficulty for t in pool})
        pool = [t for t in pool if t.difficulty == sec["difficulty"]]
        if not pool:
            raise doc.error(["sections", i, "difficulty"],
                            f"no template of this section has difficulty {sec['difficulty']}",
                            f"use one of the difficulties it has: {', '.join(map(str, found))}")
    return pool


def template_marks(tpl: Template) -> float:
    """The marks a template's question carries when its section does not set ``marks:``."""
    return tpl.data.get("marks", 1)


def _check_fair(doc, i: int, sec: dict, pool: list[Template]) -> None:
    """Refuse a section whose pool would give papers of different marks or difficulty
    in the same question slot, unless the section says ``mix: true``."""
    if sec.get("mix"):
        return
    problems, fixes = [], []
    if "marks" not in sec and len({template_marks(t) for t in pool}) > 1:
        problems.append("marks (" + _grouped(pool, template_marks, lambda m: f"{m:g} mark{'s' * (m != 1)}") + ")")
        fixes.append("set marks: on the section (every question then counts the same)")
    if len({t.difficulty for t in pool}) > 1:
        problems.append("difficulties (" + _grouped(pool, lambda t: t.difficulty, lambda d: f"difficulty {d}") + ")")
        levels = ", ".join(str(d) for d in sorted({t.difficulty for t in pool}))
        fixes.append(f"narrow it with difficulty: (one of {levels}) or list templates: of one difficulty")
    if problems:
        name = f"section {i + 1}" + (f" ({sec['title']!r})" if sec.get("title") else "")
        raise doc.error(["sections", i], f"{name} mixes {' and '.join(problems)}, so students would get "
                        "papers of different weight", "; ".join(fixes) + "; or add mix: true to the section "
                        "if mixing is intended")


def _grouped(pool: list[Template], key, label) -> str:
    """``difficulty 1: a, b; difficulty 2: c`` — the pool's templates grouped by ``key``."""
    groups: dict = {}
    for t in pool:
        groups.setdefault(key(t), []).append(t.id)
    return "; ".join(f"{label(k)}: {', '.join(ids)}" for k, ids in sorted(groups.items()))


# Roster headers understood, in order of preference (compared by header_key: case, spaces,
# "_", "-" and "." ignored).
ID_HEADERS = ("id", "student id", "studentid", "id number", "student number", "student no", "sis user id",
              "matriculation number", "matriculation", "matriculation no", "matric number", "matric no",
              "matric", "matrikelnummer", "registration number", "candidate number", "username", "user name",
              "login", "sis login id", "user id", "userid", "email", "email address", "e mail")
NAME_HEADERS = ("name", "full name", "fullname", "student name", "display name", "student")
FIRST_HEADERS = ("first name", "firstname", "given name", "given names", "forename", "forenames", "first")
LAST_HEADERS = ("last name", "lastname", "surname", "family name", "last")


def header_key(header: str) -> str:
    """``"Student_ID "`` -> ``"student id"``: how roster headers are compared."""
    return " ".join(header.replace("_", " ").replace("-", " ").replace(".", " ").lower().split())


def load_roster(path: Path | str, id_column: str | None = None, name_column: str | None = None) -> list[Student]:
    """Students from a CSV roster (comma, semicolon or tab separated; a BOM is fine).

    The id and name columns are found by their usual headers (``ID_HEADERS``,
    ``NAME_HEADERS``, or first + last name joined), or named by ``id_column`` /
    ``name_column`` (``"first name+last name"`` joins columns).
    """
    path = Path(path)
    text = read_text(path, "roster")
    if "\0" in text:
        raise QuizgenError("the roster contains NUL bytes, so it is not a CSV text file", file=str(path),
                           fix="export the roster from the spreadsheet as CSV (UTF-8)")
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as exc:
        raise QuizgenError(f"the roster is not valid CSV: {exc}", file=str(path),
                           fix="export the roster from the spreadsheet as CSV (UTF-8)") from None
    header = rows[0] if rows else []
    id_of = _id_column(path, header, id_column)
    name_of = _name_column(path, header, name_column)
    return _students(path, rows[1:], id_of, name_of)


def _found(header: list[str]) -> str:
    return ", ".join(repr(h) for h in header) if any(h.strip() for h in header) else "none"


def _column(path: Path, header: list[str], wanted: str, option: str) -> int:
    """The index of the column named ``wanted`` (compared by header_key)."""
    keys = [header_key(h) for h in header]
    if header_key(wanted) not in keys:
        raise QuizgenError(f"{option} {wanted!r}: the roster has no such column (its columns: {_found(header)})",
                           file=str(path), where="line 1", fix=f"give {option} one of the columns above")
    return keys.index(header_key(wanted))


def _first_of(header: list[str], names: tuple[str, ...]) -> int | None:
    keys = [header_key(h) for h in header]
    return next((keys.index(n) for n in names if n in keys), None)


def _id_column(path: Path, header: list[str], option: str | None) -> int:
    if option:
        return _column(path, header, option, "--id-column")
    found = _first_of(header, ID_HEADERS)
    if found is None:
        raise QuizgenError(f"the roster has no id column (its columns: {_found(header)})", file=str(path),
                           where="line 1", fix="make the first line a header with an id column (id, student id, "
                           "username, email, matriculation number ...) and a name column, or say which column "
                           "holds the ids with --id-column COLUMN")
    return found


def _name_column(path: Path, header: list[str], option: str | None) -> list[int]:
    """The column(s) whose cells, joined by spaces, are a student's name."""
    if option:
        return [_column(path, header, part, "--name-column") for part in option.split("+")]
    whole = _first_of(header, NAME_HEADERS)
    if whole is not None:
        return [whole]
    parts = [i for i in (_first_of(header, FIRST_HEADERS), _first_of(header, LAST_HEADERS)) if i is not None]
    if not parts:
        raise QuizgenError(f"the roster has no name column (its columns: {_found(header)})", file=str(path),
                           where="line 1", fix="add a name column (name, full name, or first name and last "
                           "name), or say which column holds the names with --name-column COLUMN "
                           "(\"first name+last name\" joins two)")
    return parts


def _students(path: Path, rows: list[list[str]], id_of: int, name_of: list[int]) -> list[Student]:
    students, seen = [], {}
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue                                   # blank lines, trailing ,,, rows
        cell = (lambda k: row[k].strip() if k < len(row) else "")
        sid = cell(id_of)
        if not sid:
            raise QuizgenError("empty student id", file=str(path), where=f"line {line}",
                               fix="give every student an id, or take the ids from another column with --id-column")
        if sid in seen:
            raise QuizgenError(f"duplicate student id {sid!r} (also on line {seen[sid]})", file=str(path),
                               where=f"line {line}", fix="student ids must be unique")
        seen[sid] = line
        if len(seen) > limits.MAX_STUDENTS:
            raise QuizgenError(f"the roster lists more than {limits.MAX_STUDENTS:,} students", file=str(path),
                               where=f"line {line}", fix="split the roster into several builds")
        students.append(Student(sid, " ".join(cell(k) for k in name_of if cell(k))))
    if not students:
        raise QuizgenError("the roster lists no students", file=str(path), fix="add one line per student")
    return students


def _papers(spec: QuizSpec, students: list[Student] | None, variants: int):
    if students:
        return [(f"student:{s.id}", f"{s.name} ({s.id})" if s.name else s.id, s) for s in students]
    return [(f"version:{chr(65 + i)}", f"Version {chr(65 + i)}", None) for i in range(variants)]


def _pick(spec: QuizSpec, key: str) -> list[tuple[int, Template]]:
    """The (section index, template) list of one paper, deterministic in (seed, key)."""
    picks = []
    for i, (sec, pool) in enumerate(zip(spec.data["sections"], spec.sections)):
        rng = np.random.default_rng([derive_seed(spec.seed, key, "section", i)])
        n = int(sec["questions"])
        order = list(rng.permutation(len(pool)))
        while len(order) < n:                      # more questions than templates: reuse
            order += list(rng.permutation(len(pool)))
        picks += [(i, pool[int(j)]) for j in order[:n]]
    return picks


def paper_keys(spec: QuizSpec, students: list[Student] | None = None, variants: int | None = None) -> list[str]:
    """The seed key of every paper of the set, in order."""
    return [key for key, _, _ in _papers(spec, students, variants or int(spec.data.get("variants", 1)))]


def build_quizset(spec: QuizSpec, students: list[Student] | None = None, variants: int | None = None,
                  jobs: int = 1, progress: Callable[[int], None] | None = None,
                  on_total: Callable[[int], None] | None = None, only: list[int] | None = None) -> QuizSet:
    """Generate every paper of the quiz (verified), or the papers at indices ``only``
    (a shard), and return the set for the exporters."""
    variants = variants or int(spec.data.get("variants", 1))
    papers = _papers(spec, students, variants)
    if only is not None:
        papers = [papers[i] for i in only]
    plans = [(key, label, student, _pick(spec, key)) for key, label, student in papers]
    tasks = [(tpl, spec.seed, n, (key,)) for key, _, _, picks in plans for n, (_, tpl) in enumerate(picks, 1)]
    if on_total:
        on_total(len(tasks))
    questions = iter_tasks(tasks, jobs, progress)
    store = Spill()                             # the papers' questions wait on disk: memory stays flat
    out = []
    for key, label, student, picks in plans:
        first = len(store)
        for sec_index, _ in picks:
            q = dict(next(questions))
            sec = spec.data["sections"][sec_index]
            for key in ("marks", "answer_space"):
                if key in sec:
                    q[key] = sec[key]
            if sec.get("form", "numeric") == "numeric" and all(a["kind"] != "expression" for a in q["answers"]):
                q["choices"] = None     # symbolic answers keep their choices: that is how they are graded
            if sec.get("form") == "multiple_choice" and q.get("choices"):
                q["form"] = "multiple_choice"     # exporters (Moodle) ask for a choice, as on paper
            q["section"] = sec.get("title", "")
            store.append(q)
        out.append(Paper(label, store.view(first), student.id if student else None, student.name if student else None))
    next(questions, None)                       # lets the workers finish
    d = spec.data
    subtitle = " · ".join(str(v) for v in (d.get("course"), f"Week {d['week']}" if d.get("week") else None) if v)
    return QuizSet(title=d["title"], papers=out, name=spec.name, subtitle=subtitle, date=str(d.get("date", "")),
                   instructions=d.get("instructions", ""), seed=spec.seed,
                   options={"pdf": d.get("pdf", True), "moodle_form": d.get("moodle_form", "auto")})


ANSWERS_CSV_COLUMNS = ["paper", "student_id", "student_name", "question", "marks", "template", "seed",
                       "answer", "blank", "value", "choice", "tolerance"]


def answers_csv(quizset: QuizSet) -> str:
    """For a marker with a pen: one row per gradable blank of every paper (a matrix entry,
    a vector component, a named value, a point's coordinate each), the value as plain text
    at the decimals asked, the accepted distance as a plain decimal; a multiple-choice
    answer is one row with the correct letter and that choice's text."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(ANSWERS_CSV_COLUMNS)
    for paper in quizset.papers:
        head = [paper.label, paper.student_id or "", paper.student_name or ""]
        for n, q in enumerate(paper.questions, 1):
            for i, a in enumerate(q["answers"]):
                start = head + [n, f"{q.get('marks', 1):g}", q["template"], q["seed"], a["name"]]
                letter = _correct_letter(q.get("choices")) if i == 0 else None
                if letter:
                    w.writerow(start + [a["name"], plain_value(a["value"], a["round"]), letter, ""])
                    continue
                for blank, value in answer_blanks(a):
                    w.writerow(start + [blank, plain_value(value, a["round"]), "", blank_tolerance(a, value)])
    return buf.getvalue()


def _correct_letter(choices: list[dict] | None) -> str | None:
    """A, B, ... of the correct choice (as the worksheet letters them), or None."""
    for k, c in enumerate(choices or []):
        if c.get("correct"):
            return chr(65 + k)
    return None


def answer_blanks(a: dict) -> list[tuple[str, object]]:
    """(blank name, value) for each gradable blank of an answer: ``J[1,2]`` for a matrix
    entry, ``g[2]`` for a vector component (1-based), the part's name for a named answer,
    ``point 1: x`` for a point set (points in increasing order, as Moodle asks)."""
    value, name = a["value"], a["name"]
    if a["kind"] == "point_set":
        points = sorted(value, key=lambda p: [*p["point"].values(), p.get("multiplier", 0), p.get("value", 0)])
        return [(f"point {k}: {field}", v) for k, p in enumerate(points, 1)
                for field, v in [*p["point"].items(), *((f, p[f]) for f in ("multiplier", "value") if f in p)]]
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, list) and value and isinstance(value[0], list):
        return [(f"{name}[{r},{c}]", v) for r, row in enumerate(value, 1) for c, v in enumerate(row, 1)]
    if isinstance(value, list):
        return [(f"{name}[{k}]", v) for k, v in enumerate(value, 1)]
    return [(name, value)]


def blank_tolerance(a: dict, value) -> str:
    """The distance from ``value`` a response may be and still count (``max(abs, rel·|value|)``),
    as a plain decimal to 6 significant figures; empty for expressions and labels."""
    tol = a.get("tolerance")
    if not tol or isinstance(value, str):
        return ""
    return plain_decimal(float(f"{max(tol.get('abs', 0.0), tol.get('rel', 0.0) * abs(value)):.6g}"))


def marks_per_paper(papers: list[Paper]) -> str:
    """``23 marks per paper``, or the range when sections say ``mix: true``."""
    totals = sorted({sum(q.get("marks", 1) for q in p.questions) for p in papers})
    if not totals:
        return "no papers"
    if len(totals) == 1:
        return f"{totals[0]:g} marks per paper"
    return f"{totals[0]:g}–{totals[-1]:g} marks per paper, mixed by mix: true"
