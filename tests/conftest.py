import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def solve():
    """Run one engine request through the public `solve` path (engine + verification)."""
    from quizgen.solve import solve_request

    def run(op, **inputs):
        return solve_request({"op": op, "inputs": inputs}, "test", "test")["value"]
    return run
