"""The benchmark scripts run and report what they promise (their figures go in the README
and the notes; no test times anything)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> str:
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_generate_benchmark_reports_every_operation_with_and_without_verification():
    out = run("benchmarks/generate.py", "--count", "1", "--module", "taylor-series")
    assert "verified" in out and "unverified" in out
    for op in ("taylor_coefficients", "taylor_polynomial", "taylor_evaluate", "overall"):
        line = next(l for l in out.splitlines() if l.startswith(op))
        assert "." in line                       # a figure, not an empty row
    assert "expression shapes differentiated" in out
    assert "naive sympy loop" in out


def test_generate_benchmark_profile_lists_quizgen_functions_by_share():
    out = run("benchmarks/generate.py", "--count", "1", "--module", "taylor-series", "--profile", "6")
    lines = out.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("profile of the verified run"))
    rows = lines[start + 1:start + 7]
    assert len(rows) == 6 and all("quizgen/" in r for r in rows)
    shares = [float(r.split("%")[0]) for r in rows]
    assert shares == sorted(shares, reverse=True) and 0 < shares[-1] <= shares[0] <= 100
    assert any("generate_variant" in r for r in rows)     # the whole run is at the top


def test_generate_benchmark_rejects_an_unknown_module():
    proc = subprocess.run([sys.executable, "benchmarks/generate.py", "--module", "nope"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0 and "nope" in proc.stderr and "Traceback" not in proc.stderr


def test_quizset_benchmark_runs_a_small_class():
    out = run("benchmarks/quizset.py", "--students", "2", "--questions", "3", "--jobs", "1")
    assert "variants 6" in out and "R/exams reference" in out


def test_engine_benchmark_reports_every_outside_problem():
    out = run("benchmarks/engine.py", "--repeat", "1", "--points", "20")
    rows = [l for l in out.splitlines()[1:] if l.strip()]
    assert len(rows) == 8 and any("fit_gradient_descent" in r and "20 points" in r for r in rows)
    for row in rows:
        engine_ms, solve_ms = map(float, row.split()[-2:])
        assert engine_ms > 0 and solve_ms > 0            # two figures per row: engine alone, engine + check
