"""Benchmark: the speed targets of issue 14, each measured and marked met or NOT MET.

    python benchmarks/targets.py              # full sizes: about half an hour on 2 busy cores
    python benchmarks/targets.py --quick      # tiny sizes, only to see that every line prints

Every run is a fresh process; CPU is user + system time of it and its workers, memory
the largest resident set of any of them.

1. The whole bank, ``--count`` variants each (default 100), to JSON + Moodle with
   ``--jobs 2``: CPU ms per verified variant with figures (target < 10) and with the
   figures left out of the questions (target < 2).
2. Memory: max RSS of ``generate --template product-rule-at-point --format json,moodle``
   for 5,000 variants within 20 % of that for 1,000.
3. A roster build, 1,000 students x 20 questions, to every format (json, html, latex,
   moodle, practice) with ``--jobs 2`` and ``--no-pdf``: wall time (target < 2 min). The
   default build also compiles each paper with latexmk; that is timed for a few
   students and scaled, and printed apart.
4. ``quizgen list`` (target < 0.5 s wall, mean of 5 fresh processes, the listing cache
   warm) and ``quizgen --help``, beside a bare ``python -c pass`` for scale.
5. TeX printed once per expression shape (quizgen/texcache.py): share of CPU in the
   printers with the cache and without, and how many texts came from a form.
6. R/exams' ``exams2moodle`` side by side, when ``Rscript`` with the exams package exists.
7. ``quizgen generate --template product-rule-at-point --count 1000 --format moodle`` (a
   template with a figure), the whole command: CPU ms per variant against 130 ms (the
   issue's measurement before the work; target at least 10x faster) and R/exams' 33 ms
   (the issue's measurement of ``exams2moodle``; 6. measures it here when R is present).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
ENV = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))

# run a command, then print its wall time, CPU (with its waited-for descendants) and max RSS
MEASURE = """
import resource, subprocess, sys, time
t = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
if proc.returncode:
    sys.exit(proc.stderr[-2000:])
print(wall, r.ru_utime + r.ru_stime, r.ru_maxrss)
"""

BANK_RUN = """
import sys, tempfile
from pathlib import Path
from quizgen import export
from quizgen.bank import load_bank
from quizgen.pipeline import generate_questions
count, jobs, figures = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "figures"
questions = generate_questions(load_bank(), count, 1, jobs)
if not figures:
    questions = [{**q, "figure": None} for q in questions]
quizset = export.QuizSet(title="Benchmark", papers=[export.Paper("", questions)], name="bench")
with tempfile.TemporaryDirectory() as out:
    export.export(["json", "moodle"], quizset, Path(out), jobs)
"""

TEX_SHARE = """
import sys, time
from quizgen import pipeline, texcache
from quizgen.bank import load_bank
from quizgen.sampling import derive_seed
spent = [0.0]
for name in ("latex", "sstr"):
    def timed(expr, _f=getattr(texcache, name), **kw):
        t = time.process_time()
        try:
            return _f(expr, **kw)
        finally:
            spent[0] += time.process_time() - t
    setattr(texcache, name, timed)
templates, count = load_bank(), int(sys.argv[1])
t = time.process_time()
for tpl in templates:
    for k in range(1, count + 1):
        pipeline.generate_variant(tpl, derive_seed(1, tpl.id, k), k)
total = time.process_time() - t
info = texcache.cache_info()
print(total, spent[0], info["calls"], info["filled"], info["shapes"], len(templates) * count)
"""


def measure(*cmd: str) -> tuple[float, float, int]:
    """(wall s, CPU s, max RSS KB) of ``cmd`` run in a fresh measuring process."""
    out = subprocess.run([PYTHON, "-c", MEASURE, *cmd], cwd=ROOT, env=ENV, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stderr}")
    wall, cpu, rss = out.stdout.split()
    return float(wall), float(cpu), int(rss)


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def bank_targets(count: int, jobs: int) -> None:
    n = count * len(list((ROOT / "question_bank").rglob("*.yaml")))
    print(f"1. whole bank x {count} ({n} variants) -> JSON + Moodle, --jobs {jobs}")
    for mode, target in (("figures", 10.0), ("no-figures", 2.0)):
        wall, cpu, _ = measure(PYTHON, "-c", BANK_RUN, str(count), str(jobs), mode)
        ms = 1000 * cpu / n
        print(f"   {mode:11} {cpu:8.1f} s CPU {wall:7.1f} s wall {ms:7.1f} ms CPU/variant "
              f"(target < {target:g}): {verdict(ms < target)}")


def memory_target(small: int, large: int) -> None:
    print(f"2. memory: generate --template product-rule-at-point --format json,moodle")
    rss = {}
    with tempfile.TemporaryDirectory() as out:
        for count in (small, large):
            _, cpu, rss[count] = measure(PYTHON, "-m", "quizgen", "generate", "--template", "product-rule-at-point",
                                         "--count", str(count), "--format", "json,moodle", "--out", out)
            print(f"   {count:6} variants: max RSS {rss[count] / 1024:7.1f} MB, {cpu:7.1f} s CPU")
    growth = rss[large] / rss[small] - 1
    print(f"   growth {100 * growth:+.0f} % from {small} to {large} (target within 20 %): {verdict(growth <= 0.2)}")


def _roster_files(folder: Path, students: int, questions: int) -> tuple[Path, Path]:
    modules = sorted(p.name for p in (ROOT / "question_bank").iterdir() if p.is_dir())
    per = [questions // len(modules) + (i < questions % len(modules)) for i in range(len(modules))]
    spec = {"name": "roster", "title": "Roster benchmark", "seed": 1,
            "sections": [{"modules": [m], "questions": k, "mix": True} for m, k in zip(modules, per) if k]}
    (folder / "quiz.yaml").write_text(json.dumps(spec))          # JSON is YAML
    (folder / "class.csv").write_text("id,name\n" + "".join(f"s{i:05d},Student {i}\n" for i in range(students)))
    return folder / "quiz.yaml", folder / "class.csv"


def _roster_build(tmp: Path, students: int, questions: int, jobs: int, pdf: str):
    """(wall, CPU, max RSS) of one roster build to every format."""
    spec, roster = _roster_files(tmp, students, questions)
    return measure(PYTHON, "-m", "quizgen", "build", str(spec), "--roster", str(roster), "--jobs", str(jobs),
                   pdf, "--format", "json,html,latex,moodle,practice", "--out", str(tmp / f"out{pdf}"))


def roster_target(students: int, questions: int, jobs: int, pdf_students: int) -> None:
    print(f"3. roster build: {students} students x {questions} questions, --jobs {jobs}")
    with tempfile.TemporaryDirectory() as tmp:
        wall, cpu, rss = _roster_build(Path(tmp), students, questions, jobs, "--no-pdf")
        print(f"   every format, --no-pdf: {wall:7.1f} s wall, {cpu:7.1f} s CPU, max RSS {rss / 1024:.0f} MB "
              f"(target < 120 s wall): {verdict(wall < 120)}")
        if not shutil.which("latexmk"):
            print("   PDF: latexmk not installed here, not timed")
            return
        wall_pdf, _, _ = _roster_build(Path(tmp), pdf_students, questions, jobs, "--pdf")
        print(f"   the default build (with PDF via latexmk), {pdf_students} students: {wall_pdf:.1f} s wall, "
              f"about {wall_pdf / pdf_students * students / 60:.0f} min for {students} (not part of the target)")


def startup_target(runs: int = 5) -> None:
    print(f"4. start-up, mean wall of {runs} fresh processes")
    subprocess.run([PYTHON, "-m", "quizgen", "list"], cwd=ROOT, env=ENV, capture_output=True)   # warm the cache
    for label, args, target in (("python -c pass", ["-c", "pass"], None), ("quizgen --help", ["-m", "quizgen", "--help"], None),
                                ("quizgen list", ["-m", "quizgen", "list"], 0.5)):
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run([PYTHON, *args], cwd=ROOT, env=ENV, capture_output=True, check=True)
            times.append(time.perf_counter() - t)
        mean = sum(times) / runs
        tail = f" (target < {target:g} s): {verdict(mean < target)}" if target else ""
        print(f"   {label:15} {mean:6.3f} s (min {min(times):.3f}){tail}")


def tex_target(count: int) -> None:
    print(f"5. TeX once per shape: whole bank x {count}, one process")
    for mode in ("on", "off"):
        env = dict(ENV, QUIZGEN_TEXCACHE="" if mode == "on" else "off")
        out = subprocess.run([PYTHON, "-c", TEX_SHARE, str(count)], cwd=ROOT, env=env, capture_output=True,
                             text=True, check=True).stdout.split()
        total, spent, calls, filled, shapes, n = (float(v) for v in out)
        filled_text = f", {filled:.0f} of {calls:.0f} texts filled from {shapes:.0f} shapes " \
                      f"({100 * filled / max(calls, 1):.0f} %)" if mode == "on" else ""
        print(f"   cache {mode:3}: printing {spent:6.2f} s of {total:6.1f} s CPU ({100 * spent / total:4.1f} %), "
              f"{1000 * total / n:.1f} ms/variant{filled_text}")


def r_exams(count: int) -> None:
    rscript = shutil.which("Rscript")
    if not rscript or subprocess.run([rscript, "-e", "library(exams)"], capture_output=True).returncode:
        print("6. R/exams not installed here (no Rscript with package exams): no side-by-side figure")
        return
    with tempfile.TemporaryDirectory() as out:
        code = f'library(exams); set.seed(1); exams2moodle("deriv.Rmd", n = {count}, dir = "{out}", name = "d")'
        _, cpu, _ = measure(rscript, "-e", code)
    print(f"6. R/exams exams2moodle deriv x {count}: {1000 * cpu / count:.1f} ms CPU/variant")


BEFORE_MS, R_EXAMS_MS = 130.0, 33.0        # the figures for the same job on a 2-core machine


def moodle_target(count: int, runs: int = 3) -> None:
    print(f"7. generate --template product-rule-at-point --count {count} --format moodle, median of {runs}")
    with tempfile.TemporaryDirectory() as out:
        cpus = sorted(measure(PYTHON, "-m", "quizgen", "generate", "--template", "product-rule-at-point",
                              "--count", str(count), "--format", "moodle", "--out", out)[1] for _ in range(runs))
    ms = 1000 * cpus[runs // 2] / count
    print(f"   {ms:6.1f} ms CPU/variant: {BEFORE_MS / ms:4.1f}x faster than {BEFORE_MS:g} ms (target >= 10x): "
          f"{verdict(BEFORE_MS / ms >= 10)}; R/exams {R_EXAMS_MS:g} ms (target faster): {verdict(ms < R_EXAMS_MS)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=100, help="variants per template for 1. (default 100)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--students", type=int, default=1000)
    ap.add_argument("--questions", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="tiny sizes: check that the script works")
    ap.add_argument("--only", help="comma-separated parts to run (1-7)")
    args = ap.parse_args()
    quick = args.quick
    parts = set((args.only or "1,2,3,4,5,6,7").split(","))
    if "1" in parts:
        bank_targets(2 if quick else args.count, args.jobs)
    if "2" in parts:
        memory_target(*((20, 100) if quick else (1000, 5000)))
    if "3" in parts:
        roster_target(*((4, 3) if quick else (args.students, args.questions)), args.jobs, 2 if quick else 4)
    if "4" in parts:
        startup_target(2 if quick else 5)
    if "5" in parts:
        tex_target(2 if quick else 30)
    if "6" in parts:
        r_exams(5 if quick else 1000)
    if "7" in parts:
        moodle_target(5 if quick else 1000, 1 if quick else 3)


if __name__ == "__main__":
    main()
