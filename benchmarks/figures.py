"""Benchmark: Moodle export of figure-bearing templates, figures per kind, start-up time.

    python benchmarks/figures.py --count 1000
    python benchmarks/figures.py --count 200 --kinds tangent,newton --skip-r

In one process (CPU seconds, ``time.process_time``):

1. ``quizgen generate --template product-rule-at-point --count N --format moodle`` work:
   N variants generated and verified, then written as Moodle XML (each question with its
   question figure and, in the general feedback, its solution figure).
   The same without the figure, for comparison.
2. For one bank template of each figure kind: N figure specs, then the time to draw
   them as PNG, SVG and PDF (ms per figure), the solution figure and the question figure.
   Then every figure-bearing template of the bank, ``--bank-variants`` variants each
   (both figures): ms per figure per format, first with the label, font and style caches
   of ``quizgen.figures_canvas`` empty, then again with them warm.
3. R/exams side by side: ``exams2moodle`` on its shipped ``deriv`` exercise for the same
   N, when ``Rscript`` with the ``exams`` package is present ("R/exams not installed
   here" otherwise).
4. Start-up: wall time of ``quizgen --help`` and ``quizgen list`` in fresh processes, and
   whether they import matplotlib.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from quizgen import export
from quizgen.bank import load_bank
from quizgen.export import Paper, QuizSet
from quizgen.pipeline import generate_variant
from quizgen.sampling import derive_seed

HEADLINE = "product-rule-at-point"
ROOT = Path(__file__).resolve().parents[1]


def variants(tpl, count: int, seed: int = 1) -> list[dict]:
    return [generate_variant(tpl, derive_seed(seed, tpl.id, k), k) for k in range(1, count + 1)]


def cpu(fn, *args):
    """(result, CPU seconds of this process) of ``fn(*args)``."""
    t = time.process_time()
    out = fn(*args)
    return out, time.process_time() - t


def moodle_export(questions: list[dict], options: dict | None = None) -> int:
    quizset = QuizSet(title="Benchmark", papers=[Paper("", questions)], name="bench",
                      options=dict(options or {}))
    with tempfile.TemporaryDirectory() as out:
        paths = export.export(["moodle"], quizset, Path(out), 1)
        return sum(Path(p).stat().st_size for p in paths)


def _ms(seconds: float, n: int) -> str:
    return f"{seconds:8.2f} s CPU {1000 * seconds / n:8.1f} ms/variant"


def headline(bank: dict, count: int, figure_options: list[dict]) -> None:
    tpl = bank[HEADLINE]
    questions, gen_s = cpu(variants, tpl, count)
    print(f"{HEADLINE} x {count}: generate + verify            {_ms(gen_s, count)}")
    for options in figure_options:
        size, exp_s = cpu(moodle_export, questions, options)
        label = ", ".join(f"{k}={v}" for k, v in options.items()) or "default figures"
        print(f"  + Moodle export ({label:22}) {_ms(exp_s, count)}   "
              f"total {_ms(gen_s + exp_s, count)}  {size / 1e6:.1f} MB")
    bare = [{**q, "figure": None, "solution_figure": None} for q in questions]
    _, bare_s = cpu(moodle_export, bare)
    print(f"  + Moodle export (no figure)              {_ms(bare_s, count)}   "
          f"total {_ms(gen_s + bare_s, count)}")


def per_kind(bank: dict, count: int, kinds: list[str] | None) -> None:
    first: dict[str, object] = {}
    for tpl in bank.values():
        kind = (tpl.data.get("figure") or {}).get("kind")
        if kind and (kinds is None or kind in kinds):
            first.setdefault(kind, tpl)
    print(f"figures per kind, {count} specs each (ms per figure, CPU): solution figure "
          "(everything), question figure (only what is given)")
    print(f"  {'kind':14}{'template':34}{'png':>8}{'svg':>8}{'pdf':>8}{'q png':>8}{'q svg':>8}{'q pdf':>8}")
    for kind, tpl in sorted(first.items()):
        questions = variants(tpl, count)
        cells = []
        for key in ("solution_figure", "figure"):
            specs = [q[key] for q in questions]
            for fmt in ("png", "svg", "pdf"):
                _, s = cpu(draw_all, specs, fmt)
                cells.append(f"{1000 * s / count:8.1f}")
        print(f"  {kind:14}{tpl.id:34}{''.join(cells)}")


def draw_all(specs: list[dict], fmt: str) -> None:
    from quizgen import figures
    for spec in specs:
        figures.draw(spec, fmt)


def bank_formats(bank: dict, count: int) -> None:
    """ms CPU per figure per format over every figure spec of the bank, caches cold then warm."""
    from quizgen import figures_canvas as fc
    specs = [q[key] for tpl in bank.values() if tpl.data.get("figure") for q in variants(tpl, count)
             for key in ("figure", "solution_figure") if q.get(key)]
    fc.clear_caches()
    cold = {fmt: cpu(draw_all, specs, fmt)[1] for fmt in ("svg", "pdf", "png")}
    warm = {fmt: cpu(draw_all, specs, fmt)[1] for fmt in ("svg", "pdf", "png")}
    print(f"every figure spec of the bank ({len(specs)}: {count} variants of each figure template, "
          "both figures), ms CPU per figure, caches cold / warm:")
    print("  " + "   ".join(f"{fmt} {1000 * cold[fmt] / len(specs):.2f} / {1000 * warm[fmt] / len(specs):.2f}"
                          for fmt in cold))


def r_exams(count: int) -> None:
    """exams2moodle on its ``deriv`` exercise, when R and exams are installed."""
    rscript = shutil.which("Rscript")
    if not rscript or subprocess.run([rscript, "-e", "library(exams)"], capture_output=True).returncode:
        print("R/exams not installed here (no Rscript with package exams): no side-by-side figure")
        return
    with tempfile.TemporaryDirectory() as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        code = (f'library(exams); set.seed(1); exams2moodle("deriv.Rmd", n = {count}, '
                f'dir = "{out}", name = "deriv")')
        subprocess.run([rscript, "-e", code], check=True, capture_output=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"R/exams exams2moodle deriv x {count}:            {_ms(s, count)}")


def startup() -> None:
    """Wall time (best of 3) of ``quizgen --help`` / ``list`` in fresh processes."""
    probe = ("import runpy, sys, time; t = time.perf_counter(); sys.argv = ['quizgen'] + sys.argv[1:]\n"
             "try:\n    runpy.run_module('quizgen', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             "sys.stderr.write('MPL=%d\\n' % ('matplotlib' in sys.modules))")
    for args in (["--help"], ["list"]):
        best, mpl = float("inf"), "?"
        for _ in range(3):
            t = time.perf_counter()
            proc = subprocess.run([sys.executable, "-c", probe, *args], cwd=ROOT,
                                  capture_output=True, text=True)
            best = min(best, time.perf_counter() - t)
            mpl = "imports matplotlib" if "MPL=1" in proc.stderr else "no matplotlib"
        print(f"quizgen {' '.join(args):8} {best:6.2f} s wall ({mpl})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=200, help="variants (default 200)")
    ap.add_argument("--kinds", help="only these figure kinds, comma-separated")
    ap.add_argument("--skip-r", action="store_true", help="do not look for R/exams")
    ap.add_argument("--bank-variants", type=int, default=10,
                    help="variants of each figure template for the per-format line (default 10)")
    ap.add_argument("--moodle-figures", default="png,svg", help="figure formats to time in Moodle")
    args = ap.parse_args()
    if args.count < 1:
        sys.exit("--count must be at least 1")
    bank = {t.id: t for t in load_bank()}
    moodle_export(variants(bank[HEADLINE], 1))          # imports and warm-up, not timed
    options = [{"moodle_figures": f} for f in args.moodle_figures.split(",") if f]
    headline(bank, args.count, options)
    per_kind(bank, min(args.count, 50), args.kinds.split(",") if args.kinds else None)
    bank_formats(bank, min(args.count, args.bank_variants))
    if not args.skip_r:
        r_exams(args.count)
    startup()


if __name__ == "__main__":
    main()
