"""Benchmark: the answer engine on problems from outside the bank (course quizzes, textbook).

    python benchmarks/engine.py [--repeat 5] [--points 100]

For each problem prints the median wall time of the engine alone (inputs resolved, the
operation run: what a variant costs before its check) and of the whole `solve` path
(engine plus the independent numerical check), in milliseconds. The regression rows are
the issue's target: a Gaussian fitted to POINTS data points, 50 descent steps.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

from quizgen import engine
from quizgen.exprs import AutoSymbols
from quizgen.inputs import resolve
from quizgen.solve import solve_item

GAUSS = "exp(-(x - mu)**2/(2*sig**2))/(sqrt(2*pi)*sig)"


def heights(points: int) -> tuple[list, list]:
    """Height-like data, a Gaussian with a little deterministic noise (as in the course's Week 6)."""
    x = np.round(np.linspace(150, 190, points), 3)
    y = np.exp(-(x - 171.3) ** 2 / (2 * 7.2 ** 2)) / (math.sqrt(2 * math.pi) * 7.2)
    y = y + 0.002 * np.sin(np.arange(points) * 1.7)
    return [float(v) for v in x], [float(v) for v in y]


def problems(points: int) -> dict[str, dict]:
    x, y = heights(points)
    return {
        f"chi_squared Gaussian, {points} points": {"op": "chi_squared", "inputs": {
            "model": GAUSS, "parameters": {"mu": 170, "sig": 8}, "x": x, "y": y}},
        f"least_squares Gaussian, {points} points": {"op": "least_squares", "inputs": {
            "model": GAUSS, "parameters": ["mu", "sig"], "x": x, "y": y, "start": {"mu": 165, "sig": 10}}},
        f"fit_gradient_descent Gaussian, {points} points x 50 steps": {"op": "fit_gradient_descent", "inputs": {
            "model": GAUSS, "start": {"mu": 168, "sig": 9}, "x": x, "y": y, "learning_rate": 300, "steps": 50}},
        "newton_raphson x**3 - 3*x + 1 from 1.00001, 200 steps": {"op": "newton_raphson", "inputs": {
            "expression": "x**3 - 3*x + 1", "variable": "x", "start": 1.00001, "steps": 200}},
        "lagrange exp(-(x**2 + y**2)) * x on cosh constraint": {"op": "lagrange_critical_points", "inputs": {
            "expression": "x*exp(-(x**2 + y**2))", "constraint": "y - cosh(x) + 2", "variables": ["x", "y"]}},
        "lagrange on an off-centre ellipse": {"op": "lagrange_critical_points", "inputs": {
            "expression": "x + y", "constraint": "(x - 1)**2/4 + (y + 2)**2 - 1", "variables": ["x", "y"]}},
        "hessian a*x**2*y + k*sin(y) (free parameters)": {"op": "hessian", "inputs": {
            "expression": "a*x**2*y + k*sin(y)", "variables": ["x", "y"]}},
        "gradient of a model's chi-squared wrt its parameters": {"op": "gradient", "inputs": {
            "expression": "(y_i - (m*x_i + c))**2", "variables": ["m", "c"]}},
    }


def engine_only(request: dict) -> None:
    inputs = resolve(request["inputs"], {}, AutoSymbols())
    engine.run(request["op"], inputs)


def whole_solve(request: dict) -> None:
    item = solve_item(request, "benchmark", timeout=None)
    if "error" in item:
        raise SystemExit(f"benchmark problem failed: {item['error']}")


def median_ms(fn, request: dict, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(request)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5, help="runs per problem; the median is reported")
    ap.add_argument("--points", type=int, default=100, help="data points of the regression problems")
    args = ap.parse_args()
    if args.repeat < 1 or args.points < 3:
        ap.error("--repeat must be at least 1 and --points at least 3")
    engine.load_all()
    print(f"{'problem':62s} {'engine ms':>10s} {'solve ms':>10s}")
    for name, request in problems(args.points).items():
        whole_solve(request)                               # warm caches once, as a real run would
        print(f"{name:62s} {median_ms(engine_only, request, args.repeat):10.1f} "
              f"{median_ms(whole_solve, request, args.repeat):10.1f}", flush=True)


if __name__ == "__main__":
    main()
