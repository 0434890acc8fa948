"""``quizgen validate``: sample, verify and count the variants of each template; with
``--tex``, also compile the samples with LaTeX."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from .errors import QuizgenError, VerificationError
from .pipeline import generate_variant
from .sampling import derive_seed


FEW_OPTIONS = 3          # a multiple-choice variant with fewer options than this is warned about


def validate_template(tpl, samples: int, seed: int = 0, keep: bool = False) -> dict:
    """Generate ``samples`` verified, TeX-checked variants; return counts (raises on any
    problem), and with ``keep`` the variants themselves (``questions``).

    For a multiple-choice template also the fewest options of a variant (``options``) and
    how many variants had fewer than ``FEW_OPTIONS`` (``few``)."""
    keys, options, kept = set(), [], []
    for k in range(1, samples + 1):
        q = generate_variant(tpl, derive_seed(seed, tpl.id, k), k)
        keys.add(json.dumps(q["parameters"], sort_keys=True))
        if q.get("choices"):
            options.append(len(q["choices"]))
        if keep:
            kept.append(q)
    stats = {"samples": samples, "distinct": len(keys), "questions": kept}
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


def validate_templates(templates, samples: int, seed: int, echo: Callable[[str], None],
                       keep: list | None = None) -> int:
    """Validate each template, echo a line per template; return the number that failed.

    ``keep``, when given, receives ``(template, questions)`` of each valid template."""
    failed = 0
    for tpl in templates:
        try:
            stats = validate_template(tpl, samples, seed, keep=keep is not None)
        except (QuizgenError, VerificationError) as exc:
            failed += 1
            echo(f"FAIL {tpl.id}: {exc}")
            continue
        if keep is not None:
            keep.append((tpl, stats["questions"]))
        options = f", at least {stats['options']} options" if "options" in stats else ""
        echo(f"ok   {tpl.id:<34} {stats['samples']} samples verified, {stats['distinct']} distinct variants{options}")
        warning = few_options_warning(tpl, stats)
        if warning:
            echo(warning)
    return failed


def compile_samples(sampled: list[tuple], echo: Callable[[str], None]) -> None:
    """Typeset the sampled variants (one paper per template, worksheet and key) with the
    LaTeX exporter and latexmk in a scratch folder; a TeX error names template and variant.

    Figures are left out: they are drawn by matplotlib, not typeset from template TeX.
    The scratch folder is removed, unless TeX fails: then its log stays for reading.
    """
    from .export import Paper, QuizSet
    from .export.latex import ENGINES, build_view, compile_tex, export_latex
    from .texcheck import describe_variant
    missing = [e for e in ENGINES if shutil.which(e) is None]
    if missing:
        raise QuizgenError(f"validate --tex needs {' and '.join(missing)}, not found on PATH",
                           where="quizgen validate --tex",
                           fix="install TeX Live and latexmk (see Install in the README), or leave out --tex")
    papers = [Paper(tpl.id, [dict(q, figure=None, solution_figure=None) for q in questions]) for tpl, questions in sampled]
    quizset = QuizSet("quizgen validate --tex", papers, name="validate")
    where = build_view(quizset)[1]
    tags = [t for t in where if t.startswith("q")]
    for tag, (tpl, q) in zip(tags, [(tpl, q) for tpl, qs in sampled for q in qs]):
        where[tag] = f"template {tpl.id} ({tpl.source}), {describe_variant(q)}"
    scratch = Path(tempfile.mkdtemp(prefix="quizgen-validate-tex-"))
    texs = [p for p in export_latex(quizset, scratch) if p.suffix == ".tex"]
    for tex in texs:
        compile_tex(tex, where)                      # raises with the log kept in scratch
    shutil.rmtree(scratch, ignore_errors=True)
    echo(f"LaTeX: worksheet and key of {len(tags)} variants of {len(sampled)} templates compile")
