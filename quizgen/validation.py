"""``quizgen validate``: sample, verify and count the variants of each template."""

from __future__ import annotations

import json
from typing import Callable

from .errors import QuizgenError, VerificationError
from .pipeline import generate_variant
from .sampling import derive_seed


FEW_OPTIONS = 3          # a multiple-choice variant with fewer options than this is warned about


def validate_template(tpl, samples: int, seed: int = 0) -> dict:
    """Generate ``samples`` verified variants; return counts (raises on any problem).

    For a multiple-choice template also the fewest options of a variant (``options``) and
    how many variants had fewer than ``FEW_OPTIONS`` (``few``)."""
    keys, options = set(), []
    for k in range(1, samples + 1):
        q = generate_variant(tpl, derive_seed(seed, tpl.id, k), k)
        keys.add(json.dumps(q["parameters"], sort_keys=True))
        if q.get("choices"):
            options.append(len(q["choices"]))
    stats = {"samples": samples, "distinct": len(keys)}
    if options:
        stats.update(options=min(options), few=sum(n < FEW_OPTIONS for n in options))
    return stats


def few_options_warning(tpl, stats: dict) -> str | None:
    """The warning for a multiple-choice template with too few options in some variants, naming
    the misconceptions of its operation that it does not list yet (they could add options)."""
    if not stats.get("few"):
        return None
    from .misconceptions import MISCONCEPTIONS
    mc = tpl.data["multiple_choice"]
    op = tpl.answers[mc.get("answer", next(iter(tpl.answers)))]["op"]
    more = [m.name for m in sorted(MISCONCEPTIONS.values(), key=lambda m: m.name)
            if op in m.ops and m.name not in mc["misconceptions"]]
    where = tpl.doc.where(["multiple_choice", "misconceptions"])
    fix = (f"add some of the misconceptions of {op!r} to multiple_choice.misconceptions: {', '.join(more)}"
           if more else f"no other misconception applies to {op!r}; see quizgen list --misconceptions")
    return (f"warning: {tpl.source}, {where}: template {tpl.id} has only "
            f"{stats['options']} options in {stats['few']} of {stats['samples']} samples (fewer than "
            f"{FEW_OPTIONS}); {fix}")


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
        options = f", at least {stats['options']} options" if "options" in stats else ""
        echo(f"ok   {tpl.id:<34} {stats['samples']} samples verified, {stats['distinct']} distinct variants{options}")
        warning = few_options_warning(tpl, stats)
        if warning:
            echo(warning)
    return failed
