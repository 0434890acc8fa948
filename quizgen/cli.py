"""The ``quizgen`` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__, limits
from .errors import QuizgenError, VerificationError


class Command(click.Command):
    """Bad input -> one message and exit code 2, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except QuizgenError as exc:
            click.echo(f"error: {exc.format()}", err=True)
            ctx.exit(2)
        except VerificationError as exc:
            click.echo(f"error: answer key failed independent verification: {exc}", err=True)
            ctx.exit(1)


class Group(click.Group):
    command_class = Command


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="quizgen")
def main():
    """quizgen: randomised, independently verified calculus exercises.

    \b
    Examples:
      quizgen list
      quizgen validate --samples 50
      quizgen generate --all --count 3 --seed 7 --format json
      quizgen solve requests.json
    """


def _formats(value: str) -> list[str]:
    from . import export
    names = [v.strip() for v in value.split(",") if v.strip()]
    for n in names:
        if n not in export.available():
            raise click.BadParameter(f"unknown format {n!r}; use one of: {', '.join(export.available())}")
    if not names:
        raise click.BadParameter("give at least one format")
    return names


BANK_HELP = ("Folder of your own templates (searched recursively) or one .yaml file; extends the built-in "
             "bank, a template with a built-in id overrides it. Repeatable; also $QUIZGEN_BANK.")


def bank_option(f):
    return click.option("--bank", "banks", type=click.Path(exists=True), multiple=True, help=BANK_HELP)(f)


def _bank(banks=(), listing=False):
    """The merged bank of the built-in templates and the instructor's; warnings go to stderr.

    ``listing``: summaries of the templates (checked once per file content, see bank.Summaries)."""
    from .bank import listing_bank, resolve_bank
    bank = (listing_bank if listing else resolve_bank)(banks)
    for line in bank.warnings:
        click.echo(line, err=True)
    return bank


MOODLE_FIGURES = click.option(
    "--moodle-figures", type=click.Choice(["svg", "png"]), default="svg", show_default=True,
    help="Figure file type embedded in Moodle XML (Moodle 4.5 shows both; SVG is faster and sharp).")


@main.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--misconceptions", "show_misconceptions", is_flag=True,
              help="List the named misconceptions (for multiple_choice) with their operations instead.")
@bank_option
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
def list_cmd(as_json, show_misconceptions, banks, paths):
    """List the modules, topics and templates of the bank (yours marked [yours]).

    PATHS are extra bank folders or files, like --bank.

    \b
    Example:
      quizgen list
      quizgen list --bank course/
      quizgen list --json > bank.json
      quizgen list --misconceptions
    """
    if show_misconceptions:
        return _list_misconceptions(as_json)
    bank = _bank(banks + paths, listing=True)
    templates = bank.templates
    rows = [{"id": t.id, "title": t.title, "module": t.module, "topic": t.topic,
             "difficulty": t.difficulty, "multiple_choice": bool(t.data.get("multiple_choice")),
             "file": str(t.source), "origin": "instructor" if bank.is_own(t) else "built-in"}
            for t in templates]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    module = topic = None
    for r, t in zip(rows, templates):
        if r["module"] != module:
            module, topic = r["module"], None
            click.echo(f"{t.module_title} ({module})")
        if r["topic"] != topic:
            topic = r["topic"]
            click.echo(f"  {t.topic_title} ({topic})")
        mc = "  [multiple choice]" if r["multiple_choice"] else ""
        mine = f"  [yours: {r['file']}]" if r["origin"] == "instructor" else ""
        click.echo(f"    {r['id']:<34} d{r['difficulty']}  {r['title']}{mc}{mine}")
    click.echo(f"{len(rows)} templates in {len({r['module'] for r in rows})} modules, "
               f"{len({r['topic'] for r in rows})} topics")


def _list_misconceptions(as_json: bool) -> None:
    from .misconceptions import MISCONCEPTIONS
    rows = [{"name": m.name, "ops": list(m.ops), "description": m.description}
            for m in sorted(MISCONCEPTIONS.values(), key=lambda m: m.name)]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for r in rows:
        click.echo(f"{r['name']:<38} {', '.join(r['ops'])}")
        click.echo(f"    {r['description']}")
    click.echo(f"{len(rows)} misconceptions; name them under multiple_choice: misconceptions: [...]")


@main.command()
@click.argument("template_id", metavar="TEMPLATE-ID")
@click.option("--op", required=True, help="Engine operation of the answer, e.g. gradient (see the error for the list).")
@click.option("--module", help="Course module (default: the operation's usual one).")
@click.option("--out", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Folder to write TEMPLATE-ID.yaml into (your bank folder).")
def new(template_id, op, module, out):
    """Write a commented starter template TEMPLATE-ID.yaml for an engine operation.

    The file validates as written and starts with the schema line for editors;
    an existing file is never overwritten.

    \b
    Examples:
      quizgen new week3-gradient --op gradient --out course/
      quizgen new my-fit --op least_squares --module regression --out course/
    """
    from .starter import write_starter
    path = write_starter(template_id, op, module, Path(out))
    click.echo(str(path))
    click.echo(f"next: edit it, then  quizgen validate --bank {Path(out)}", err=True)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@bank_option
@click.option("--samples", default=20, show_default=True, type=click.IntRange(1, 100000),
              help="Variants to sample, verify and count per template.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the sampling run.")
@click.option("--tex", is_flag=True, help="Also typeset the samples with LaTeX (latexmk, as --pdf does).")
def validate(paths, banks, samples, seed, tex):
    """Check templates: schema, expressions, and SAMPLES verified variants each.

    Checks your templates (PATHS, --bank, $QUIZGEN_BANK: files or folders) when
    you give any, else the built-in bank. Each sample is verified and its TeX
    checked (prompt, solution, choices, feedback, steps: braces, environments,
    known macros, MathML). For each template, prints the number of distinct
    variants among the samples; exits 2 on a bad template, 1 when an answer
    fails independent verification. --tex also compiles the samples with LaTeX.

    \b
    Example:
      quizgen validate --samples 200
      quizgen validate --bank course/ --samples 50 --tex
    """
    from .validation import compile_samples, validate_templates
    templates = _bank(banks + paths).scope
    sampled: list = []
    problems = validate_templates(templates, samples, seed, echo=click.echo, keep=sampled if tex else None)
    if problems:
        raise QuizgenError(f"{problems} template(s) failed validation (see above)")
    if tex:
        compile_samples(sampled, echo=click.echo)
    click.echo(f"all {len(templates)} templates valid")


@main.command()
@click.option("--module", "modules", multiple=True, help="Select templates of this module (repeatable).")
@click.option("--topic", "topics", multiple=True, help="Select templates of this topic (repeatable).")
@click.option("--template", "ids", multiple=True, help="Select this template id (repeatable).")
@click.option("--all", "all_", is_flag=True,
              help="Select every template: yours when --bank / $QUIZGEN_BANK is given, else the built-in bank.")
@bank_option
@click.option("--count", default=1, show_default=True, type=click.IntRange(1, 100000), help="Variants per template.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the whole run.")
@click.option("--format", "fmt", default="json", show_default=True,
              help="Output format(s), comma-separated: json, html, latex, moodle, practice.")
@click.option("--out", default="output", show_default=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--name", default="quizgen", show_default=True, help="File name stem of the outputs.")
@click.option("--title", default="Practice set", show_default=True, help="Title printed on worksheets.")
@click.option("--pdf", is_flag=True, help="Also compile LaTeX output to PDF (needs latexmk).")
@click.option("--moodle-form", type=click.Choice(["auto", "numeric", "multichoice"]), default="auto",
              show_default=True, help="Moodle question type for templates that have both forms.")
@MOODLE_FIGURES
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
def generate(modules, topics, ids, all_, banks, count, seed, fmt, out, name, title, pdf, moodle_form,
             moodle_figures, jobs):
    """Generate COUNT verified variants of the selected templates into OUT.

    \b
    Examples:
      quizgen generate --all --count 2 --seed 1
      quizgen generate --module optimisation --count 5 --format json --out week5
      quizgen generate --template jacobian-at-point --count 30 --format moodle
      quizgen generate --bank course/ --all --count 3 --format html,json
    """
    from . import export
    from .bank import select
    from .export import Paper, QuizSet
    from .fsutil import all_or_nothing
    from .pipeline import iter_tasks, question_tasks
    from .spill import Spill
    if not (all_ or modules or topics or ids):
        raise QuizgenError("no templates selected", where="quizgen generate",
                           fix="add --all, or --module / --topic / --template (see quizgen list)")
    try:
        formats = _formats(fmt)
    except click.BadParameter as exc:
        raise QuizgenError(str(exc.message), where="--format") from None
    bank = _bank(banks)
    templates = select(bank.templates, modules=modules, topics=topics, ids=ids) \
        if (modules or topics or ids) else bank.scope
    from .progress import Progress
    with Progress("generating", len(templates) * count) as bar:
        spill = Spill()                         # on disk until written: memory stays flat
        spill.extend(iter_tasks(question_tasks(templates, count, seed), jobs, progress=bar.update))
        questions = spill.view()
    quizset = QuizSet(title=title, papers=[Paper("", questions)], name=name, seed=seed,
                      options={"pdf": pdf, "moodle_form": moodle_form, "moodle_figures": moodle_figures})
    out = Path(out)
    with all_or_nothing(out) as stage:          # every file of the set, or none of them
        try:
            with Progress("writing", eta=False) as bar:
                made = export.export(formats, quizset, stage, jobs, progress=bar.step)
        except QuizgenError as exc:
            raise _rescue_logs(exc, stage, out) from None
        written = [out / Path(p).relative_to(stage) for p in made]
    for path in written:
        click.echo(str(path))
    click.echo(f"{len(questions)} questions from {len(templates)} templates, {len(written)} files in {out}",
               err=True)


MARKER = ".quizgen-build"


def _rescue_logs(exc: QuizgenError, stage: Path, target: Path) -> QuizgenError:
    """Keep the TeX logs of a failed build beside the output (the staging folder goes away)."""
    import shutil
    logs = sorted(stage.glob("*.log"))
    if not logs:
        return exc
    keep = target.parent / f"{target.name}-failed-logs"
    keep.mkdir(parents=True, exist_ok=True)
    for log in logs:
        shutil.copy2(log, keep / log.name)
    def moved(text):
        return text.replace(str(stage), str(keep)) if text else text
    return QuizgenError(moved(exc.message), file=moved(exc.file), where=exc.where, fix=moved(exc.fix))


@main.command()
@click.argument("spec", required=False, type=click.Path(dir_okay=False))
@click.option("--roster", type=click.Path(dir_okay=False),
              help="CSV roster, one paper per student: an id column (id, student id, username, email, "
                   "matriculation number ...) and a name column (name, full name, or first + last name).")
@click.option("--id-column", metavar="COLUMN", help="The roster column holding student ids (default: found by header).")
@click.option("--name-column", metavar="COLUMN",
              help="The roster column holding names; \"first name+last name\" joins two (default: found by header).")
@click.option("--variants", type=click.IntRange(1, 26), help="Versions A, B, ... without a roster (default: the spec's).")
@click.option("--format", "fmt", default=None, help="Output format(s), comma-separated (default: the spec's).")
@click.option("--out", type=click.Path(file_okay=False), help="Output folder (default: output/<quiz name>).")
@click.option("--pdf/--no-pdf", default=None, help="Compile LaTeX to PDF (default: the spec's, on).")
@click.option("--duplex/--no-duplex", default=None,
              help="Pad every paper to an even number of pages, so double-sided printing never puts "
                   "one student's page on the back of another's (default: on with a roster).")
@click.option("--moodle-form", type=click.Choice(["auto", "numeric", "multichoice"]), default=None,
              help="Moodle question type for every question (default: the spec's moodle_form, else "
                   "auto: each section's form).")
@MOODLE_FIGURES
@click.option("--shard", metavar="K/N", help="Build only the K-th of N slices of the papers into a shard file "
              "(default folder: output/<quiz name>-shards); join them with quizgen merge.")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@bank_option
def build(spec, roster, id_column, name_column, variants, fmt, out, pdf, duplex, moodle_form, moodle_figures,
          shard, jobs, banks):
    """Build a quiz set from SPEC (default: the example quiz shipped with quizgen).

    Writes worksheets, answer keys, Moodle XML and JSON into one folder, replacing
    it atomically: an interrupted build leaves the previous output untouched. With a
    roster, every student gets their own paper, seeded by (quiz seed, student id),
    plus an instructor key and answers.csv for marking.

    \b
    Examples:
      quizgen build
      quizgen build week3.yaml --variants 3
      quizgen build week3.yaml --roster class.csv --jobs 2
      quizgen build week3.yaml --roster moodle-export.csv --id-column "ID number"
      quizgen build week3.yaml --bank course/
      quizgen build week3.yaml --roster class.csv --shard 2/8 --out shards
    """
    import time
    from . import export, shards
    from .quiz import build_quizset, default_spec, load_quiz, load_roster, marks_per_paper, paper_keys
    started = time.perf_counter()
    slice_ = shards.parse(shard) if shard else None
    spec_path = Path(spec) if spec else default_spec()
    quiz = load_quiz(spec_path, banks=banks)
    for line in quiz.bank.warnings:
        click.echo(line, err=True)
    roster = roster or (str(spec_path.parent / quiz.data["roster"]) if quiz.data.get("roster") else None)
    if (id_column or name_column) and not roster:
        raise QuizgenError("--id-column and --name-column need a roster", where="quizgen build",
                           fix="add --roster CLASS.csv (or roster: in the quiz spec)")
    students = load_roster(roster, id_column, name_column) if roster else None
    try:
        formats = _formats(fmt) if fmt else list(quiz.data.get("formats") or export.available())
    except click.BadParameter as exc:
        raise QuizgenError(str(exc.message), where="--format") from None
    keys = paper_keys(quiz, students, variants)
    numbers = shards.indices(len(keys), slice_) if slice_ else None
    if not slice_:
        target = Path(out) if out else Path("output") / quiz.name
        _check_target(target)
    from .progress import Progress
    with Progress("generating") as bar:
        quizset = build_quizset(quiz, students, variants, jobs, progress=bar.update,
                                on_total=bar.set_total, only=numbers)
    if pdf is not None:
        quizset.options["pdf"] = pdf
    if moodle_form is not None:
        quizset.options["moodle_form"] = moodle_form
    quizset.options["duplex"] = duplex if duplex is not None else quiz.data.get("duplex", students is not None)
    quizset.options["moodle_figures"] = moodle_figures
    if slice_:
        stamp = shards.fingerprint(quiz.data, keys, formats, quizset.options)
        path = shards.write(Path(out) if out else Path("output") / f"{quiz.name}-shards", quizset, slice_,
                            numbers, len(keys), formats, stamp)
        click.echo(str(path))
        click.echo(f"shard {slice_[0]} of {slice_[1]}: {len(numbers)} of {len(keys)} papers "
                   f"({marks_per_paper(quizset.papers)}) in {time.perf_counter() - started:.1f} s -> {path}",
                   err=True)
        return
    _write_set(quizset, formats, target, jobs, started)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--out", type=click.Path(file_okay=False), help="Output folder (default: output/<quiz name>).")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
def merge(paths, out, jobs):
    """Join the N shards of a build (folders or files) into the files one build writes.

    \b
    Example:
      quizgen build week3.yaml --roster class.csv --shard 1/2 --out shards
      quizgen build week3.yaml --roster class.csv --shard 2/2 --out shards
      quizgen merge shards --out week3
    """
    import time
    from . import shards
    started = time.perf_counter()
    quizset, formats = shards.merge([Path(p) for p in paths])
    target = Path(out) if out else Path("output") / quizset.name
    _check_target(target)
    _write_set(quizset, formats, target, jobs, started)


def _check_target(target: Path) -> None:
    if target.exists() and any(target.iterdir()) and not (target / MARKER).exists():
        raise QuizgenError("the output folder exists and was not made by quizgen build", file=str(target),
                           fix="choose another --out, or empty the folder first")


def _write_set(quizset, formats: list[str], target: Path, jobs: int, started: float) -> None:
    """Every file of the set, the answers CSV and the marker, replacing ``target`` atomically."""
    import time
    from . import export
    from .fsutil import atomic_write, staging_dir
    from .progress import Progress
    from .quiz import answers_csv, marks_per_paper
    with staging_dir(target) as stage:
        with Progress("writing", eta=False) as bar:
            try:
                written = export.export(formats, quizset, stage, jobs,
                                        progress=lambda step, steps: bar.step(step, steps + 1))
            except QuizgenError as exc:
                raise _rescue_logs(exc, stage, target) from None
            bar.step("answers.csv")
            written.append(atomic_write(stage / f"{quizset.name}-answers.csv", answers_csv(quizset)))
        atomic_write(stage / MARKER, "made by quizgen build\n")
    n_q = sum(len(p.questions) for p in quizset.papers)
    for path in written:
        click.echo(str(target / Path(path).relative_to(stage)))
    click.echo(f"{len(written)} files, {len(quizset.papers)} papers ({marks_per_paper(quizset.papers)}), "
               f"{n_q} questions in {time.perf_counter() - started:.1f} s -> {target}", err=True)


@main.command()
@click.argument("file", type=click.File("rb"))
@click.option("--timeout", default=10.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="CPU seconds allowed per request; a request that takes longer gets an error.")
def solve(file, timeout):
    """Run answer-engine requests: a JSON list of {op, inputs}; '-' reads stdin.

    Prints the same list with "value" and "steps" added to each request; every
    value is also checked by the independent numerical method. A request that
    cannot be answered gets "error" (which input, what is wrong) instead, the others
    are still answered, and the exit code is 2.

    \b
    Example:
      echo '[{"op": "derivative", "inputs": {"expression": "x**3", "variable": "x", "at": {"x": 2}}}]' \\
        | quizgen solve -
    """
    from .solve import solve_requests
    name = getattr(file, "name", "<stdin>")
    name = "<stdin>" if name in ("-", "<stdin>") else name
    requests = _read_json(file.read(limits.MAX_FILE_BYTES + 1), name)
    items, failed = solve_requests(requests, timeout)
    click.echo(json.dumps(items, indent=2))
    if failed:
        click.echo(f"error: {failed} of {len(items)} request(s) could not be answered (see their \"error\")",
                   err=True)
        sys.exit(2)


def _read_json(data: bytes, name: str):
    """The parsed JSON of a requests file, or one clear QuizgenError."""
    if len(data) > limits.MAX_FILE_BYTES:
        raise QuizgenError(f"the requests are over {limits.MAX_FILE_BYTES:,} bytes", file=name,
                           fix="split them into several files")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise QuizgenError(f"not UTF-8 text (byte {exc.start})", file=name,
                           fix="save the requests as UTF-8 JSON") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise QuizgenError(f"not valid JSON: {exc.msg}", file=name, where=f"line {exc.lineno}, column {exc.colno}",
                           fix="give a JSON list of {\"op\": ..., \"inputs\": {...}} objects") from None
    except RecursionError:
        raise QuizgenError("the JSON is nested too deeply", file=name,
                           fix="give a flat list of {\"op\": ..., \"inputs\": {...}} objects") from None


@main.command()
@click.option("--module", "modules", multiple=True, help="Select templates of this module (repeatable).")
@click.option("--topic", "topics", multiple=True, help="Select templates of this topic (repeatable).")
@click.option("--template", "ids", multiple=True, help="Select this template id (repeatable).")
@click.option("--all", "all_", is_flag=True, help="Select every template of the bank.")
@bank_option
@click.option("--count", default=20, show_default=True, type=click.IntRange(1, 1000),
              help="Variants per template in the page's pool (\"New variant\" cycles through them).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the whole run.")
@click.option("--out", default="output", show_default=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--name", default="quizgen", show_default=True, help="File name stem: NAME-practice-check.html.")
@click.option("--title", default="Practice set", show_default=True, help="Title of the page.")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.pass_context
def practice(ctx, modules, topics, ids, all_, banks, count, seed, out, name, title, jobs):
    """Write one offline practice page that checks typed answers.

    The page (OUT/NAME-practice-check.html) holds COUNT variants of each selected
    template, reads typed maths (2x, x(1+x), sin^2 x, e^x, ln x, x**2), checks numbers
    within the key's tolerance and expressions by equivalence, names the misconception
    behind a typical wrong answer, and shows hints and worked solutions. It makes no
    network request: send it by email, put it on a USB stick or in the LMS file area.

    \b
    Examples:
      quizgen practice --module multivariate-calculus
      quizgen practice --template jacobian-at-point --template hessian-at-point --count 30
    """
    if not (all_ or modules or topics or ids):
        raise QuizgenError("no templates selected", where="quizgen practice",
                           fix="add --all, or --module / --topic / --template (see quizgen list)")
    ctx.invoke(generate, modules=modules, topics=topics, ids=ids, all_=all_, banks=banks, count=count,
               seed=seed, fmt="practice", out=out, name=name, title=title, pdf=False,
               moodle_form="auto", moodle_figures="svg", jobs=jobs)


if __name__ == "__main__":
    main()
