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


def validate_template(tpl, samples: int, seed: int = 0, keep: bool = False) -> dict:
    """Generate ``samples`` verified, TeX-checked variants; return counts (raises on any
    problem), and with ``keep`` the variants themselves."""
    keys, kept = set(), []
    for k in range(1, samples + 1):
        q = generate_variant(tpl, derive_seed(seed, tpl.id, k), k)
        keys.add(json.dumps(q["parameters"], sort_keys=True))
        if keep:
            kept.append(q)
    return {"samples": samples, "distinct": len(keys), "questions": kept}


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
        echo(f"ok   {tpl.id:<34} {stats['samples']} samples verified, {stats['distinct']} distinct variants")
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
    papers = [Paper(tpl.id, [dict(q, figure=None) for q in questions]) for tpl, questions in sampled]
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
