"""``quizgen validate``: sample, verify and count the variants of each template."""

from __future__ import annotations

import json
from typing import Callable

from .errors import QuizgenError, VerificationError
from .pipeline import generate_variant
from .sampling import derive_seed


def validate_template(tpl, samples: int, seed: int = 0) -> dict:
    """Generate ``samples`` verified variants; return counts (raises on any problem)."""
    keys = set()
    for k in range(1, samples + 1):
        q = generate_variant(tpl, derive_seed(seed, tpl.id, k), k)
        keys.add(json.dumps(q["parameters"], sort_keys=True))
    return {"samples": samples, "distinct": len(keys)}


def validate_templates(templates, samples: int, seed: int, echo: Callable[[str], None]) -> int:
    """Validate each template, echo a line per template; return the number that failed."""
    failed = 0
    for tpl in templates:
        try:
            stats = validate_template(tpl, samples, seed)
        except (QuizgenError, VerificationError) as exc:
            failed += 1
            echo(f"FAIL {tpl.id}: {exc}")
            continue
        echo(f"ok   {tpl.id:<34} {stats['samples']} samples verified, {stats['distinct']} distinct variants")
    return failed
