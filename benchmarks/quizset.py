"""Benchmark: time to build a per-student quiz set to JSON and Moodle XML.

    python benchmarks/quizset.py --students 1000 --questions 20 --jobs 2

Prints generation and export times and the time per variant, beside the R/exams
reference figure (about 25 ms per variant, as reported for exams2moodle).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from quizgen import export
from quizgen.bank import load_bank
from quizgen.quiz import QuizSpec, Student, answers_csv, build_quizset

R_EXAMS_MS_PER_VARIANT = 25.0


def spec_for(questions: int) -> QuizSpec:
    bank = load_bank()
    modules = sorted({t.module for t in bank})
    per = [questions // len(modules) + (i < questions % len(modules)) for i in range(len(modules))]
    sections = [{"modules": [m], "questions": n} for m, n in zip(modules, per) if n]
    spec = QuizSpec(Path("benchmark.yaml"), {"name": "benchmark", "title": "Benchmark", "seed": 1,
                                             "sections": sections})
    spec.sections = [[t for t in bank if t.module == s["modules"][0]] for s in sections]
    return spec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--students", type=int, default=1000)
    ap.add_argument("--questions", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--formats", default="json,moodle")
    args = ap.parse_args()
    spec = spec_for(args.questions)
    students = [Student(f"s{i:05d}", f"Student {i}") for i in range(args.students)]
    t0 = time.perf_counter()
    quizset = build_quizset(spec, students, jobs=args.jobs)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        export.export(args.formats.split(","), quizset, Path(out), args.jobs)
        (Path(out) / "answers.csv").write_text(answers_csv(quizset))
        size = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
    t2 = time.perf_counter()
    n = sum(len(p.questions) for p in quizset.papers)
    print(f"students {args.students}, questions per student {args.questions}, variants {n}, jobs {args.jobs}")
    print(f"generate + verify: {t1 - t0:8.1f} s  ({1000 * (t1 - t0) / n:.1f} ms per variant, wall clock)")
    print(f"export {args.formats}: {t2 - t1:8.1f} s  ({size / 1e6:.1f} MB)")
    print(f"total:             {t2 - t0:8.1f} s  ({1000 * (t2 - t0) / n:.1f} ms per variant)")
    print(f"R/exams reference: {R_EXAMS_MS_PER_VARIANT:.0f} ms per variant -> "
          f"{R_EXAMS_MS_PER_VARIANT * n / 1000:.0f} s for this set")


if __name__ == "__main__":
    main()
