"""``quizgen new``: a commented starter template for one engine operation.

The op-specific bodies are data files in ``quizgen/starters/<op>.yaml``; this module adds the
schema line for editors, a header that says what to do next, and the id (and module).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .bank import MODULES
from .errors import QuizgenError
from .paths import schema_path

STARTERS = Path(__file__).resolve().parent / "starters"
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")

HEADER = """\
# yaml-language-server: $schema={schema}
# A starter `{op}` template written by `quizgen new`; it validates as it is. Change the maths,
# the parameters and the text, then check it:
#   quizgen validate --bank {folder}
# Keys are explained in the README ("Writing a template"); `quizgen list --misconceptions`
# names the distractors you can list under multiple_choice.
id: {id}                      # unique in your bank; a built-in id here overrides the built-in template
"""


def starter_ops() -> list[str]:
    return sorted(p.stem for p in STARTERS.glob("*.yaml"))


def _schema_ref(target: Path) -> str:
    """The template schema as a path relative to the new file (absolute if there is none)."""
    schema = schema_path("template")
    try:
        return Path(os.path.relpath(schema, target.parent.resolve())).as_posix()
    except ValueError:                   # another drive (Windows)
        return schema.as_uri()


def starter_text(template_id: str, op: str, module: str | None, target: Path) -> str:
    """The full text of a starter template for ``op``."""
    if op not in starter_ops():
        raise QuizgenError(f"no starter for operation {op!r}", where="--op",
                           fix=f"use one of: {', '.join(starter_ops())}")
    if not ID_PATTERN.match(template_id):
        raise QuizgenError(f"{template_id!r} is not a template id", where="TEMPLATE-ID",
                           fix="use lower-case letters, digits and dashes, e.g. week3-gradient")
    body = (STARTERS / f"{op}.yaml").read_text(encoding="utf-8")
    if module:
        if module not in MODULES:
            raise QuizgenError(f"unknown module {module!r}", where="--module", fix=f"use one of: {', '.join(MODULES)}")
        body = re.sub(r"^module: \S+", f"module: {module}", body, count=1, flags=re.M)
    head = HEADER.format(schema=_schema_ref(target), op=op, folder=target.parent, id=template_id)
    return head + body


def write_starter(template_id: str, op: str, module: str | None, out: Path) -> Path:
    """Write ``out/<id>.yaml``; never overwrite an existing file."""
    target = Path(out) / f"{template_id}.yaml"
    text = starter_text(template_id, op, module, target)
    if target.exists():
        raise QuizgenError("the file exists already; quizgen new never overwrites", file=str(target),
                           fix="choose another TEMPLATE-ID or --out folder, or remove the file")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(target, "x", encoding="utf-8") as fh:
            fh.write(text)
    except FileExistsError:
        raise QuizgenError("the file exists already; quizgen new never overwrites", file=str(target),
                           fix="choose another TEMPLATE-ID or --out folder, or remove the file") from None
    return target
