"""Roster builds split across machines: ``quizgen build --shard K/N`` and ``quizgen merge``.

Shard K of N generates (and verifies) papers K-1, K-1+N, K-1+2N, ... of the roster (or
of the versions) and writes them, with the set's title and options, to
``<name>-shard-K-of-N.jsonl``: a header line, then one line per paper, so neither side
holds a shard as one text. ``merge`` reads the N shard files, checks that they are the N
slices of one build (same spec, roster, formats and options: one fingerprint), puts the
papers back in roster order and runs the exporters, so it writes exactly the bytes a
single ``quizgen build`` writes. Generation and verification are spread over the
machines; the exporters (figures, MathML) run once, in ``merge``.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Iterator

from .errors import QuizgenError
from .export import Paper, QuizSet
from .fsutil import atomic_writer
from .spill import Spill

FORMAT = "quizgen-shard/2"          # JSON Lines: a header, then one paper per line
_NAME = re.compile(r".+-shard-(\d+)-of-(\d+)\.jsonl$")
_OLD_NAME = re.compile(r".+-shard-(\d+)-of-(\d+)\.json$")     # quizgen-shard/1: refused with a fix


def parse(value: str) -> tuple[int, int]:
    """``"K/N"`` -> (K, N) with 1 <= K <= N; a QuizgenError otherwise."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", value or "")
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)) or int(m.group(2)) > 100_000:
        raise QuizgenError(f"--shard {value!r} is not K/N with 1 <= K <= N", where="--shard",
                           fix="e.g. --shard 3/8 builds the third of eight slices")
    return int(m.group(1)), int(m.group(2))


def indices(total: int, shard: tuple[int, int]) -> list[int]:
    """The paper indices of shard K of N: every N-th paper from K-1 (balanced slices)."""
    k, n = shard
    return list(range(k - 1, total, n))


def fingerprint(spec_data: dict, paper_keys: list[str], formats: list[str], options: dict) -> str:
    """What makes shards belong together: spec, every paper's key, formats and options."""
    blob = json.dumps([spec_data, paper_keys, formats, options], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def write(out_dir: Path, quizset: QuizSet, shard: tuple[int, int], numbers: list[int], total: int,
          formats: list[str], stamp: str) -> Path:
    """Write this shard's papers (``numbers``: their indices in the whole set), one line each
    after a header line (JSON Lines: a large shard is never one text in memory)."""
    k, n = shard
    meta = {key: getattr(quizset, key) for key in
            ("title", "name", "subtitle", "date", "instructions", "seed", "options")}
    header = {"format": FORMAT, "shard": [k, n], "papers_total": total, "fingerprint": stamp,
              "formats": formats, "quizset": meta}
    path = Path(out_dir) / f"{quizset.name}-shard-{k}-of-{n}.jsonl"
    with atomic_writer(path) as fh:
        fh.write(_line(header))
        for i, p in zip(numbers, quizset.papers):
            fh.write(_line({"index": i, "label": p.label, "student_id": p.student_id,
                            "student_name": p.student_name, "questions": list(p.questions)}))
    return path


def _line(obj) -> bytes:
    return (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8")      # key order is kept: it shows


def _files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(f for f in p.iterdir() if _NAME.match(f.name) or _OLD_NAME.match(f.name))
        elif p.is_file():
            found.append(p)
        else:
            raise QuizgenError("no such file or folder", file=str(p), fix="give the shard folders or files")
    if not found:
        raise QuizgenError("no shard files (<name>-shard-K-of-N.jsonl) found", file=", ".join(map(str, paths)),
                           fix="run quizgen build --shard K/N for every K first")
    return found


def _again(path: Path, why: str) -> QuizgenError:
    return QuizgenError(why, file=str(path), fix="build this shard again with quizgen build --shard K/N")


def _lines(path: Path) -> Iterator[dict]:
    """The JSON objects of a shard file, one per line, read one at a time."""
    try:
        with open(path, encoding="utf-8") as fh:
            for no, text in enumerate(fh, 1):
                try:
                    yield json.loads(text)
                except json.JSONDecodeError as exc:
                    raise _again(path, f"cannot read the shard: line {no}: {exc.msg}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _again(path, f"cannot read the shard: {exc}") from None


def _header(path: Path) -> dict:
    lines = _lines(path)
    try:
        doc = next(lines, None)
    finally:
        lines.close()
    if isinstance(doc, dict) and doc.get("format") == "quizgen-shard/1":
        raise _again(path, "this shard was written by an earlier quizgen (one JSON document)")
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise QuizgenError("not a quizgen shard file", file=str(path),
                           fix="give the files written by quizgen build --shard K/N")
    return doc


def merge(paths: list[Path]) -> tuple[QuizSet, list[str]]:
    """The whole set from its N shard files, in roster order, and the build's formats.
    The papers' questions wait on disk (quizgen.spill), so memory does not grow with the set."""
    heads: dict[int, tuple[Path, dict]] = {}
    for path in _files(paths):
        doc = _header(path)
        first = next(iter(heads.values()), (path, doc))[1]
        if (doc["fingerprint"], doc["shard"][1]) != (first["fingerprint"], first["shard"][1]):
            raise QuizgenError("this shard belongs to another build (spec, roster, formats, options "
                               "or N differ)", file=str(path), fix="merge the shards of one build only")
        if doc["shard"][0] in heads:
            raise QuizgenError(f"shard {doc['shard'][0]} of {doc['shard'][1]} is given twice", file=str(path),
                               fix="give each shard once")
        heads[doc["shard"][0]] = (path, doc)
    n = first["shard"][1]
    missing = sorted(set(range(1, n + 1)) - set(heads))
    if missing:
        raise QuizgenError(f"shard(s) {', '.join(map(str, missing))} of {n} are missing",
                           file=", ".join(map(str, paths)), fix="build them with quizgen build --shard K/N")
    store, papers = Spill(), []
    for path, _ in heads.values():
        lines = _lines(path)
        next(lines)
        for p in lines:
            start = len(store)
            store.extend(p["questions"])
            papers.append((p["index"], Paper(p["label"], store.view(start), p["student_id"], p["student_name"])))
    papers.sort(key=lambda ip: ip[0])
    if [i for i, _ in papers] != list(range(first["papers_total"])):
        raise QuizgenError("the shards do not hold every paper once", file=", ".join(map(str, paths)),
                           fix="build every shard again")
    return QuizSet(papers=[p for _, p in papers], **first["quizset"]), first["formats"]
