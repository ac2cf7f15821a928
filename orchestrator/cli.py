"""Command line: the only place that catches linkmatrix errors and turns them into exit codes."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

import orchestrator.results.artifacts
import orchestrator.results.diff
import orchestrator.results.merge
from orchestrator import __version__
from orchestrator.bless.command import bless_run, bless_targets
from orchestrator.config.matrix import Matrix, ScenarioSources, load_matrix, require_matrix_file
from orchestrator.config.scenario import CrateType
from orchestrator.config.skeleton import NAME, SKELETON_TYPES, skeleton_files
from orchestrator.errors import (
    Interrupted,
    LinkmatrixError,
    SelectionError,
    UsageError,
    write_failures,
)
from orchestrator.layout import Layout
from orchestrator.lock import folders_locked
from orchestrator.log import Reporter
from orchestrator.plan import Plan, Shard, make_plan
from orchestrator.report import SUMMARY_MD, write_views
from orchestrator.report.junit import write_junit
from orchestrator.report.summary import render_step_summary
from orchestrator.resources import default_matrix
from orchestrator.results.artifacts import export_artifacts
from orchestrator.results.codec import load_results
from orchestrator.results.diff import diff_results, render_diff_text, require_complete
from orchestrator.results.merge import merge_results
from orchestrator.results.model import ResultsDocument, Selection
from orchestrator.serial import to_data, write_json_atomic

DEFAULT_OUT = Path("reports/latest")
DEFAULT_CACHE = Path(".cache/linkmatrix")
AGAIN = "Free some space or make the folder writable, then run the same command again."
# What a shell reports for a writer killed by SIGPIPE (128 + 13): our reader went away early.
BROKEN_PIPE_EXIT = 141
REPORT_URL_VARIABLE = "LINKMATRIX_REPORT_URL"

# allocations between two collections of the youngest objects (Python's default: 700)
GC_FIRST_GENERATION = 50_000


DESCRIPTION = """\
On which toolchain does this Rust linking pattern really work, and what does the binary it
produces export? Builds the scenarios of matrix.yaml on every toolchain, inspects and judges
every artifact, and writes results.json with its Markdown and HTML views."""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Descriptions as written, and every option's default."""


def exit_codes_text() -> str:
    """The exit codes, from the error classes themselves (so the help cannot drift from them)."""
    rows = [
        (0, "every cell is pass, xfail, flaky, skip or not-applicable"),
        (
            1,
            (
                "a cell failed (and `run --bless` did not bless it), erred or passed "
                "unexpectedly (xpass); `diff`: a cell regressed"
            ),
        ),
        (2, "the command line was misused"),
        (BROKEN_PIPE_EXIT, "stdout was closed early (`... | head`): output stopped quietly"),
    ]
    rows += [
        (kind.exit_code, (kind.__doc__ or kind.__name__).strip())
        for kind in _error_kinds(LinkmatrixError)
        if kind.exit_code != LinkmatrixError.exit_code
    ]
    return "exit codes:\n" + "\n".join(f"  {code:>3}  {text}" for code, text in sorted(rows))


def _error_kinds(root: type[LinkmatrixError]) -> list[type[LinkmatrixError]]:
    kinds = []
    for kind in root.__subclasses__():
        kinds += [kind, *_error_kinds(kind)]
    return [k for k in kinds if "exit_code" in vars(k)]


def _shard(text: str) -> Shard:
    """`--shard I/N`; a malformed one is a usage error (exit 2), said by argparse."""
    try:
        return Shard.parse(text)
    except SelectionError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _report_url(text: str) -> str:
    """`--report-url` (or LINKMATRIX_REPORT_URL): an http(s) address; else a usage error."""
    if not text.startswith(("https://", "http://")) or any(c.isspace() for c in text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) URL")
    return text


def _add_report_url(command: argparse.ArgumentParser) -> None:
    # argparse converts a string default with `type` too: a bad variable is a usage error
    command.add_argument(
        "--report-url",
        type=_report_url,
        default=os.environ.get(REPORT_URL_VARIABLE) or None,
        metavar="URL",
        help="where the HTML report is published: the step summary (summary.md, diff "
        "--markdown) links to it and to each "
        f"failing cell's detail (default: ${REPORT_URL_VARIABLE}, now %(default)s)",
    )


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="linkmatrix",
        description=DESCRIPTION,
        epilog=exit_codes_text(),
        formatter_class=_HelpFormatter,
    )
    root.add_argument("--version", action="version", version=f"linkmatrix {__version__}")
    commands = root.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        formatter_class=_HelpFormatter,
        help="build and inspect the selected cells, write the report",
    )
    _matrix_arguments(run)
    run.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="GLOB",
        help="run only cells whose id matches (repeatable), e.g. 'glibc/*'",
    )
    run.add_argument("--shard", type=_shard, metavar="I/N", help="run the I-th of N shares")
    run.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results directory")
    run.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="cell cache directory")
    run.add_argument("--fresh", action="store_true", help="ignore cached cells and build again")
    run.add_argument("--list-cells", action="store_true", help="print the planned cells and exit")
    run.add_argument("--json", action="store_true", help="with --list-cells: JSON output")
    run.add_argument(
        "--baseline",
        type=Path,
        metavar="PATH",
        help="a previous results.json: the report classes every cell against it (see `diff`)",
    )
    _add_report_url(run)
    _junit_argument(run)
    run.add_argument(
        "--bless",
        action="store_true",
        help="after a complete run, write each failed check or run of the selected cells into "
        "its scenario.yaml: the suggested expectation (what was observed, narrowed to the cell "
        "by `when:`) after the entry, and the cell added to that entry's `unless:`; cells that "
        "passed, were skipped, erred or passed unexpectedly are not written",
    )
    diff = commands.add_parser(
        "diff",
        formatter_class=_HelpFormatter,
        help="class every cell of NEW against OLD (regressed, fixed, ...); exit 1 on a regression",
        description=orchestrator.results.diff.__doc__,
    )
    diff.add_argument("old", type=Path, metavar="OLD", help="the baseline results.json")
    diff.add_argument("new", type=Path, metavar="NEW", help="the results.json to judge")
    diff.add_argument("--all", action="store_true", help="also list the unchanged cells")
    diff.add_argument(
        "--markdown", action="store_true", help="print the CI step summary (Markdown) instead"
    )
    diff.add_argument(
        "--allow-incomplete",
        action="store_true",
        help="compare even when OLD or NEW is incomplete (a stopped run, a missing shard); "
        "without it such a file is refused (exit 7)",
    )
    _add_report_url(diff)
    merge = commands.add_parser(
        "merge",
        formatter_class=_HelpFormatter,
        help="combine shard results into one results.json and report",
        description=orchestrator.results.merge.__doc__,
    )
    merge.add_argument(
        "inputs", type=Path, nargs="+", metavar="RESULTS", help="results.json files (or folders)"
    )
    merge.add_argument("--out", type=Path, required=True, help="folder for the merged results")
    merge.add_argument("--baseline", type=Path, metavar="PATH", help="a previous results.json")
    merge.add_argument(
        "--allow-incomplete",
        action="store_true",
        help="merge even when an input stopped early or a shard is missing (the merged report "
        "says it is incomplete); without it that is refused (exit 7)",
    )
    _add_report_url(merge)
    _junit_argument(merge)
    report = commands.add_parser(
        "report",
        formatter_class=_HelpFormatter,
        help="write the views (HTML, Markdown) of an existing results.json again",
    )
    report.add_argument("results", type=Path, metavar="RESULTS", help="a results.json")
    report.add_argument("--baseline", type=Path, metavar="PATH", help="a previous results.json")
    _add_report_url(report)
    export = commands.add_parser(
        "export",
        help="copy the artifact files of selected cells out of the output folder",
        description=orchestrator.results.artifacts.__doc__,
    )
    export.add_argument("--out", type=Path, required=True, help="folder to copy the files to")
    export.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="GLOB",
        help="export only cells whose id matches (repeatable); default: every cell",
    )
    export.add_argument(
        "results",
        type=Path,
        nargs="?",
        default=DEFAULT_OUT / "results.json",
        metavar="RESULTS",
        help=f"a results.json (default: {DEFAULT_OUT / 'results.json'})",
    )
    prune = commands.add_parser(
        "prune",
        formatter_class=_HelpFormatter,
        help="remove the images and cache volumes that the matrix's current images no longer use",
    )
    _matrix_arguments(prune)
    prune.add_argument("--dry-run", action="store_true", help="say what would go; remove nothing")
    _images_parser(commands)
    _new_parser(commands)
    _check_parser(commands)
    return root


def _matrix_arguments(command: argparse.ArgumentParser) -> None:
    """--matrix and the scenario folders: for every command that plans cells."""
    command.add_argument(
        "--matrix",
        type=Path,
        metavar="PATH",
        help="the matrix file; scenarios/ and images/ are read beside it (default: matrix.yaml "
        "of the working directory, else the one installed with linkmatrix)",
    )
    command.add_argument(
        "--scenarios",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="add the scenarios of DIR (repeatable): DIR is one scenario folder (it holds a "
        "scenario.yaml) or a folder of them; names must be unique",
    )
    command.add_argument(
        "--no-builtin-scenarios",
        action="store_true",
        help="plan only the --scenarios folders, not the matrix's own scenarios",
    )


def _junit_argument(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--junit",
        type=Path,
        metavar="FILE",
        help="also write the cells as JUnit XML to FILE (one testcase per cell), for CI",
    )


def _new_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    new = commands.add_parser(
        "new",
        formatter_class=_HelpFormatter,
        help="write a scenario to start from: a Cargo workspace of one crate and a scenario.yaml",
    )
    new.add_argument("name", type=_scenario_name, metavar="NAME", help="the scenario's name")
    new.add_argument(
        "--crate-type",
        type=CrateType,
        choices=SKELETON_TYPES,
        default=CrateType.CDYLIB,
        help="what the crate builds",
    )
    new.add_argument(
        "--dir", type=Path, default=Path(), help="the folder to write the scenario folder NAME in"
    )


def _scenario_name(text: str) -> str:
    """NAME of `new`: a scenario folder's and a cargo package's name (exit 2 otherwise)."""
    if not NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r}: a scenario name starts with a letter and holds only letters, digits, "
            "'-' and '_' (at most 64)"
        )
    return text


# --- linkmatrix check -----------------------------------------------------------------------


def _check_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from orchestrator.check.command import DEFAULT_ONLY  # noqa: PLC0415
    from orchestrator.layout import SNAPSHOT_FILE  # noqa: PLC0415

    check = commands.add_parser(
        "check",
        formatter_class=_HelpFormatter,
        help="build a crate's library and binary targets on the selected toolchains, show what "
        f"each artifact exports, imports and needs, and compare its exports with {SNAPSHOT_FILE}",
    )
    check.add_argument("crate", type=Path, metavar="PATH", help="a crate or workspace folder")
    check.add_argument(
        "--matrix",
        type=Path,
        metavar="PATH",
        help="the matrix file (default: matrix.yaml of the working directory, else the one "
        "installed with linkmatrix)",
    )
    check.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="GLOB",
        help=f"check only cells whose id matches (repeatable); default: {' '.join(DEFAULT_ONLY)}",
    )
    check.add_argument("--out", type=Path, default=Path("reports/check"), help="results directory")
    check.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="cell cache directory")
    check.add_argument("--fresh", action="store_true", help="ignore cached cells and build again")
    check.add_argument(
        "--bless",
        action="store_true",
        help=f"write what was observed into PATH/{SNAPSHOT_FILE} instead of comparing with it",
    )


def _check(args: argparse.Namespace, reporter: Reporter) -> int:
    from orchestrator.check.command import CheckOptions, run_check  # noqa: PLC0415

    options = CheckOptions(
        crate=args.crate,
        matrix=args.matrix or default_matrix(),
        only=tuple(args.only),
        out=args.out,
        cache_dir=args.cache_dir,
        fresh=args.fresh,
        bless=args.bless,
    )
    return run_check(options, reporter)


# --- end of linkmatrix check ----------------------------------------------------------------


def _images_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    images = commands.add_parser(
        "images",
        formatter_class=_HelpFormatter,
        help="what the selected cells' images are made of, or which of them the engine has "
        "(to keep built images and std caches in a CI cache between runs)",
    )
    _matrix_arguments(images)
    images.add_argument("--only", action="append", default=[], metavar="GLOB", help="as `run`")
    images.add_argument("--shard", type=_shard, metavar="I/N", help="as `run`")
    what = images.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--recipe",
        action="store_true",
        help="print a digest of everything that makes these images (no engine needed): a cache key",
    )
    what.add_argument(
        "--present",
        action="store_true",
        help="print the tags of these images and their parents that the engine has",
    )
    what.add_argument(
        "--volumes",
        action="store_true",
        help="print the std/cargo cache volumes of these images that the engine has",
    )


def main(argv: Sequence[str] | None = None) -> int:
    command_line = parser()
    args = command_line.parse_args(argv)
    if args.command == "run" and args.json and not args.list_cells:
        command_line.error("--json goes with --list-cells (a run writes results.json anyway)")
    if args.command == "run" and args.bless and args.list_cells:
        command_line.error("--bless goes with a run, not with --list-cells (it blesses results)")
    if getattr(args, "no_builtin_scenarios", False) and not args.scenarios:
        command_line.error("--no-builtin-scenarios leaves no scenario: add --scenarios DIR")
    reporter = Reporter()
    # A CI job's cancellation (SIGTERM) ends the run as Ctrl-C does: containers removed, every
    # finished cell written to results.json.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        code = _run(args, reporter)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's final flush
    except KeyboardInterrupt:
        error: LinkmatrixError = Interrupted(
            f"Interrupted. Every finished cell is kept in {args.out / 'results.json'}; "
            "run the same command again to finish (cached cells are not rebuilt)."
            + _unblessed(args)
            if args.command == "run" and not args.list_cells
            else "Interrupted."
        )
    except LinkmatrixError as exc:
        error = exc
    except BrokenPipeError:
        # whoever read our output went away (`--list-cells | head`): stop quietly with the
        # status a shell gives a writer killed by SIGPIPE, as shell tools do
        _silence_stdout()
        return BROKEN_PIPE_EXIT
    else:
        return code
    print(f"linkmatrix: error: {error}", file=sys.stderr)
    return error.exit_code


def _unblessed(args: argparse.Namespace) -> str:
    """What an interrupted `run --bless` did not do, and why."""
    if not args.bless:
        return ""
    return " Nothing was blessed: --bless writes only what a complete run observed."


def _silence_stdout() -> None:
    """stdout to /dev/null, so that the interpreter's final flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError):  # a stdout without a file descriptor
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _run(args: argparse.Namespace, reporter: Reporter) -> int:
    commands: dict[str, Callable[[argparse.Namespace, Reporter], int]] = {
        "run": _run_matrix,
        "diff": _diff,
        "merge": _merge,
        "report": _report,
        "export": _export,
        "prune": _prune,
        "images": _images,
        "new": _new,
        "check": _check,
    }
    return commands[args.command](args, reporter)


def _load_matrix(args: argparse.Namespace) -> Matrix:
    """The matrix of `--matrix` (or the default), with the scenarios the command line asks for."""
    sources = ScenarioSources(builtin=not args.no_builtin_scenarios, extra=tuple(args.scenarios))
    return load_matrix(require_matrix_file(args.matrix or default_matrix()), sources)


def _run_matrix(args: argparse.Namespace, reporter: Reporter) -> int:
    matrix = _load_matrix(args)
    plan = make_plan(matrix, only=args.only, shard=args.shard)
    if args.list_cells:
        _list_cells(plan, as_json=args.json)
        return 0
    baseline = load_results(args.baseline) if args.baseline else None  # fail before any build
    blessing = bless_targets(matrix, plan) if args.bless else None  # so is a file not to bless
    # one run at a time per output folder and per cache: a second one refuses at once; a write
    # that fails without the OS naming its file (the disk filled) was in one of the two
    either = f"{args.out} or {args.cache_dir}"
    with folders_locked(args.out, args.cache_dir), write_failures(either, _run_hint(args)):
        document = _run_locked(args, reporter, matrix, plan, baseline)
    if blessing is not None:  # the same verdicts, the next run's once blessed
        return bless_run(document, matrix, plan, blessing, reporter)
    return 0 if all(record.status.ok for record in document.cells) else 1


def _run_hint(args: argparse.Namespace) -> str:
    cells = Layout(out_dir=args.out, cache_dir=args.cache_dir).cells
    return (
        "Free some space or make the folder writable, then run the same command again: every "
        f"finished cell is kept in the cell cache ({cells}) and is not built again."
    )


def _run_locked(
    args: argparse.Namespace,
    reporter: Reporter,
    matrix: Matrix,
    plan: Plan,
    baseline: ResultsDocument | None,
) -> ResultsDocument:
    from orchestrator.engine.client import connect  # noqa: PLC0415 - listing needs no engine
    from orchestrator.pipeline import (  # noqa: PLC0415
        RunOptions,
        run_plan,
        write_estimate_trace,
    )

    # A run keeps what it builds (cell records, inspections: millions of small objects) to the
    # end; the default thresholds had the collector walk them over and over for nothing.
    gc.set_threshold(GC_FIRST_GENERATION, *gc.get_threshold()[1:])
    client = connect()
    options = RunOptions(
        out_dir=args.out,
        cache_dir=args.cache_dir,
        fresh=args.fresh,
        selection=Selection(
            only=tuple(args.only),
            shard=f"{args.shard.index}/{args.shard.count}" if args.shard else None,
            baseline=str(args.baseline) if args.baseline else None,
        ),
    )
    try:
        results = run_plan(client, matrix, plan, options, reporter, final_write=False)
    except BaseException:  # stopped: its estimate's course so far is worth a replay too
        write_estimate_trace(options, wall_s=None)
        raise
    document = results.document()
    views_from = time.monotonic()
    try:  # results.json is written while the views render (two processes on a large run)
        views = write_views(
            document,
            results.path.parent,
            baseline,
            args.report_url,
            results.write_final,
            memo_dir=Layout(out_dir=args.out, cache_dir=args.cache_dir).views,
        )
    finally:
        results.write_final()  # had the views failed first
    views += _ci_outputs(args, document, results.path.parent)
    options.phases.views_s = time.monotonic() - views_from
    options.phases.wall_s += options.phases.views_s  # the views are host work too
    write_json_atomic(
        Layout(out_dir=args.out, cache_dir=args.cache_dir).phases, to_data(options.phases)
    )
    # judged against the wall time phases.json has, as `nox -s bench` judges the estimate
    write_estimate_trace(options, wall_s=options.phases.wall_s)
    reporter.event(options.links.line())
    for line in options.phases.lines(os.cpu_count() or 1):
        reporter.event(line)
    reporter.summary(document.summary, [str(results.path), *map(str, views)])
    return document


def _diff(args: argparse.Namespace, _reporter: Reporter) -> int:
    old, new = load_results(args.old), load_results(args.new)
    require_complete(old, args.old, allow=args.allow_incomplete)
    require_complete(new, args.new, allow=args.allow_incomplete)
    diff = diff_results(old, new)
    if args.markdown:
        print(render_step_summary(new, diff, args.report_url), end="")
    else:
        print(render_diff_text(diff, show_unchanged=args.all), end="")
    return 1 if diff.regressed else 0


def _merge(args: argparse.Namespace, reporter: Reporter) -> int:
    baseline = load_results(args.baseline) if args.baseline else None
    with write_failures(args.out, AGAIN):
        document, results_path = merge_results(
            args.inputs, args.out, baseline=args.baseline, allow_incomplete=args.allow_incomplete
        )
        views = write_views(document, args.out, baseline, args.report_url)
        views += _ci_outputs(args, document, args.out)
    reporter.summary(document.summary, [str(results_path), *map(str, views)])
    return 0


def _ci_outputs(args: argparse.Namespace, document: ResultsDocument, folder: Path) -> list[Path]:
    """--junit FILE, and the step summary appended to $GITHUB_STEP_SUMMARY when CI sets it."""
    written = []
    if args.junit:
        with write_failures(args.junit, AGAIN):
            write_junit(document, folder, args.junit)
        written.append(args.junit)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with (
            write_failures(step_summary, AGAIN),
            Path(step_summary).open("a", encoding="utf-8") as stream,
        ):
            stream.write((folder / SUMMARY_MD).read_text(encoding="utf-8"))
    return written


def _new(args: argparse.Namespace, _reporter: Reporter) -> int:
    folder = args.dir / args.name
    if folder.exists() or folder.is_symlink():
        raise UsageError(f"{folder} already exists; choose another NAME or --dir.")
    with write_failures(folder, "Pass a --dir you can write to."):
        for relative, text in skeleton_files(args.name, args.crate_type).items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    print(
        f"wrote {folder}/: edit its crate and scenario.yaml, then "
        f"`linkmatrix run --scenarios {folder} --list-cells`"
    )
    return 0


def _report(args: argparse.Namespace, reporter: Reporter) -> int:
    document = load_results(args.results)
    baseline = load_results(args.baseline) if args.baseline else None
    folder = args.results.parent
    with folders_locked(folder), write_failures(folder, AGAIN):
        views = write_views(document, folder, baseline, args.report_url)
    reporter.summary(document.summary, [str(args.results), *map(str, views)])
    return 0


def _export(args: argparse.Namespace, _reporter: Reporter) -> int:
    document = load_results(args.results)
    with write_failures(args.out, AGAIN):
        exported = export_artifacts(document, args.results.parent, args.out, args.only)
    print(
        f"exported {exported.files} files ({exported.bytes / 1024 / 1024:.1f} MiB) of "
        f"{exported.cells} cells to {args.out}"
    )
    return 0


def _prune(args: argparse.Namespace, _reporter: Reporter) -> int:
    from orchestrator.engine.client import connect  # noqa: PLC0415 - the other commands need no engine
    from orchestrator.images.build import Images  # noqa: PLC0415
    from orchestrator.images.prune import apply_prune, read_prune_plan  # noqa: PLC0415

    matrix = _load_matrix(args)
    client = connect()
    images = Images(client, matrix, lambda _: None, downloads=DEFAULT_CACHE / "downloads")
    plan = read_prune_plan(client, images, list(make_plan(matrix).images))
    verb = "would remove" if args.dry_run else "removing"
    for tag in plan.stale_tags:
        print(f"{verb} image {tag}")
    for volume in plan.stale_volumes:
        print(f"{verb} volume {volume}")
    print(f"keeping {len(plan.kept_tags)} current images and their cache volumes")
    if args.dry_run:
        return 0
    problems = apply_prune(client, plan)
    for problem in problems:
        print(f"not removed: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _images(args: argparse.Namespace, _reporter: Reporter) -> int:
    from orchestrator.images.lineage import recipe_digest  # noqa: PLC0415

    matrix = _load_matrix(args)
    names = list(make_plan(matrix, only=args.only, shard=args.shard).images)
    if args.recipe:
        print(recipe_digest(matrix, names))
        return 0
    from orchestrator.engine.client import connect  # noqa: PLC0415 - --recipe needs no engine
    from orchestrator.images.build import Images  # noqa: PLC0415
    from orchestrator.images.volumes import present_volumes  # noqa: PLC0415

    client = connect()
    present = Images(client, matrix, lambda _: None, downloads=DEFAULT_CACHE / "downloads")
    tagged = present.needs(names).present
    releases = [release.name for release in matrix.releases]
    found = sorted(tagged) if args.present else present_volumes(client, tagged.values(), releases)
    for name in found:
        print(name)
    return 0


def _list_cells(plan: Plan, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps([to_data(cell) for cell in plan.cells], indent=2))
        return
    for cell in plan.cells:
        suffix = f"  (not applicable: {cell.not_applicable})" if cell.not_applicable else ""
        print(f"{cell.id}{suffix}")
