"""Benchmark: N variants of every bank template to JSON, per operation and overall.

    python benchmarks/generate.py --count 20
    python benchmarks/generate.py --count 20 --per-variant     # no shared symbolic work
    python benchmarks/generate.py --count 50 --module optimisation
    python benchmarks/generate.py --count 20 --profile 25      # where the verified run's time goes

Generates ``--count`` variants of each template in one process, twice: with the
independent verification and without it, then writes the verified set as JSON. Prints
variants per second and milliseconds per variant overall and per operation (templates
grouped by the operation of their first answer), and for every operation the time per
answer spent in the engine (inputs resolved + operation run) and in verification.

Derivatives are worked out once per expression shape and shared by the variants
(quizgen/engine/derivatives.py); ``--per-variant`` redoes them for every variant, for
comparison. Last line: a naive sympy loop (a 2x2 Jacobian, a Hessian and their TeX per
variant) as a yardstick for this machine (about 2.5 ms on a typical one).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import nullcontext
from pathlib import Path

import sympy as sp

from quizgen import export, pipeline
from quizgen.bank import load_bank, select
from quizgen.engine import derivatives
from quizgen.errors import QuizgenError
from quizgen.sampling import derive_seed


class OpTimer:
    """Wraps pipeline.compute_answer and pipeline._verify to add up seconds per operation."""

    def __init__(self):
        self.engine = defaultdict(float)
        self.verify = defaultdict(float)
        self.answers = defaultdict(int)
        self._saved = (pipeline.compute_answer, pipeline._verify)

    def __enter__(self):
        compute, verify = self._saved

        def timed_compute(tpl, name, *args):
            op, t = tpl.answers[name]["op"], time.perf_counter()
            try:
                return compute(tpl, name, *args)
            finally:
                self.engine[op] += time.perf_counter() - t
                self.answers[op] += 1

        def timed_verify(tpl, a, *args):
            t = time.perf_counter()
            try:
                return verify(tpl, a, *args)
            finally:
                self.verify[a.spec["op"]] += time.perf_counter() - t

        pipeline.compute_answer, pipeline._verify = timed_compute, timed_verify
        return self

    def __exit__(self, *exc):
        pipeline.compute_answer, pipeline._verify = self._saved


def run(templates, count: int, seed: int, verify: bool):
    """(questions, seconds per template, OpTimer) for ``count`` variants of each template."""
    questions, seconds = [], {}
    with OpTimer() as timer:
        for tpl in templates:
            t = time.perf_counter()
            for k in range(1, count + 1):
                questions.append(pipeline.generate_variant(tpl, derive_seed(seed, tpl.id, k), k,
                                                           verify=verify))
            seconds[tpl.id] = time.perf_counter() - t
    return questions, seconds, timer


def naive_reference(n: int = 200) -> float:
    """ms per variant of a plain sympy loop: random 2x2 Jacobian and Hessian, and their TeX."""
    x, y = sp.symbols("x y", real=True)
    rng = random.Random(0)
    t = time.perf_counter()
    for _ in range(n):
        a, b, c, d = (rng.randint(2, 9) for _ in range(4))
        f = [a * x ** 2 * y + sp.sin(b * y), c * x * sp.exp(d * y)]
        sp.latex(sp.Matrix(f).jacobian([x, y]))
        sp.latex(sp.hessian(f[0], (x, y)))
    return 1000 * (time.perf_counter() - t) / n


def _rate(seconds: float, variants: int) -> str:
    return f"{1000 * seconds / variants:8.1f} {variants / seconds:7.1f}"


def report(templates, count, checked, unchecked, json_s, json_bytes, mode, shared) -> None:
    (_, sec_v, timer), (_, sec_n, _) = checked, unchecked
    by_op = defaultdict(list)
    for tpl in templates:
        by_op[next(iter(tpl.answers.values()))["op"]].append(tpl.id)
    print(f"{len(templates)} templates x {count} variants, one process, {mode}")
    print(f"{'':26}{'':13}  {'verified':>16}  {'unverified':>16}   per answer (ms)")
    print(f"{'operation':26}{'tpl':>4}{'variants':>9}  {'ms/var':>8} {'var/s':>7}  {'ms/var':>8} {'var/s':>7}"
          f"   {'answers':>7} {'engine':>7} {'verify':>7}")
    for op in sorted(set(by_op) | set(timer.answers)):
        ids = by_op.get(op, [])
        n = len(ids) * count
        rates = f"{_rate(sum(sec_v[i] for i in ids), n)}  {_rate(sum(sec_n[i] for i in ids), n)}" \
            if ids else f"{'':16}  {'':16}"
        k = max(timer.answers[op], 1)
        print(f"{op:26}{len(ids):4}{n:9}  {rates}   {timer.answers[op]:7} "
              f"{1000 * timer.engine[op] / k:7.1f} {1000 * timer.verify[op] / k:7.1f}")
    total = len(templates) * count
    print(f"{'overall':26}{len(templates):4}{total:9}  {_rate(sum(sec_v.values()), total)}  "
          f"{_rate(sum(sec_n.values()), total)}")
    print(f"JSON export of the verified set: {json_s:.2f} s, {json_bytes / 1e6:.1f} MB")
    if mode.startswith("derivatives once"):
        print(f"derivatives (verified run): {shared['calls']} asked for, "
              f"{shared['shapes']} expression shapes differentiated by sympy")
    print(f"naive sympy loop (2x2 Jacobian + Hessian + TeX): {naive_reference():.1f} ms per variant")


def profile(templates, count: int, seed: int, top: int) -> None:
    """A third, verified run under cProfile: quizgen's ``top`` functions by cumulative time,
    as a share of the profiled total (profiling slows sympy's many small calls most, so the
    shares, not the seconds, are what carries over to an unprofiled run)."""
    import cProfile
    import pstats
    prof = cProfile.Profile()
    prof.runcall(run, templates, count, seed, True)
    stats = pstats.Stats(prof).stats          # (file, line, name) -> (cc, nc, tt, ct, callers)
    package = Path(pipeline.__file__).resolve().parent
    own = sorted(((ct, nc, f"{Path(f).relative_to(package.parent)}:{line}({name})")
                  for (f, line, name), (_cc, nc, _tt, ct, _c) in stats.items()
                  if Path(f).is_relative_to(package)), reverse=True)
    # the profiled total: every function's own time (cProfile's overhead correction can leave
    # it a hair below the top function's cumulative time, hence the max)
    total = max(sum(tt for _cc, _nc, tt, _ct, _c in stats.values()), own[0][0])
    print(f"profile of the verified run ({total:.1f} s profiled): quizgen functions by cumulative time")
    for ct, calls, where in own[:top]:
        print(f"  {100 * ct / total:5.1f} %  {calls:8d} calls  {where}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=20, help="variants per template (default 20)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--module", action="append", default=[], help="only this module (repeatable)")
    ap.add_argument("--per-variant", action="store_true",
                    help="redo the symbolic derivatives for every variant (the cost without sharing)")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="also profile a verified run and print quizgen's N costliest functions")
    args = ap.parse_args()
    if args.count < 1:
        sys.exit("--count must be at least 1")
    try:
        templates = select(load_bank(), modules=args.module)
    except QuizgenError as exc:
        sys.exit(str(exc))
    pipeline.generate_variant(templates[0], derive_seed(0, "warm-up", 0), 0)   # imports, not timed
    derivatives.clear_cache()
    mode = "derivatives redone per variant" if args.per_variant else "derivatives once per expression shape"
    with derivatives.per_variant() if args.per_variant else nullcontext():
        checked = run(templates, args.count, args.seed, verify=True)
        shared = derivatives.cache_info()
        derivatives.clear_cache()
        unchecked = run(templates, args.count, args.seed, verify=False)
    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        quizset = export.QuizSet(title="Benchmark", papers=[export.Paper("", checked[0])], seed=args.seed)
        paths = export.export(["json"], quizset, Path(out), 1)
        json_s = time.perf_counter() - t
        json_bytes = sum(Path(p).stat().st_size for p in paths)
    report(templates, args.count, checked, unchecked, json_s, json_bytes, mode, shared)
    if args.profile > 0:
        profile(templates, args.count, args.seed, args.profile)


if __name__ == "__main__":
    main()
