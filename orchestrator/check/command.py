"""`linkmatrix check PATH`: build a crate's targets on the selected toolchains through the usual
plan and pipeline, show what each artifact exports, imports and needs, and compare the crate's
exports with its snapshot (or write it, `--bless`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from orchestrator.check.crate import crate_scenario, load_crate
from orchestrator.check.noise import Filter
from orchestrator.check.snapshot import (
    SNAPSHOT_FILE,
    Snapshot,
    bless,
    compare,
    read,
    render,
    render_diff,
)
from orchestrator.check.view import erred, observed_cells, table
from orchestrator.config.matrix import Matrix, load_matrix, require_matrix_file
from orchestrator.errors import ConfigError, write_failures
from orchestrator.lock import folders_locked
from orchestrator.log import Reporter
from orchestrator.plan import Plan, make_plan
from orchestrator.report import write_views
from orchestrator.results.model import ResultsDocument, Selection
from orchestrator.serial import write_text_atomic

# The glibc toolchain on the matrix's default release: the quickest cell (a prebuilt std, no
# std build) and the platform most crates are first built on.
DEFAULT_ONLY = ("glibc/*",)


@dataclass(frozen=True, kw_only=True)
class CheckOptions:
    """What `linkmatrix check` was asked for."""

    crate: Path
    matrix: Path
    only: tuple[str, ...]
    out: Path
    cache_dir: Path
    fresh: bool
    bless: bool


def run_check(options: CheckOptions, reporter: Reporter) -> int:
    """0 when the crate matches its snapshot (or built everywhere, without one); 1 otherwise.

    Everything that can be wrong with the input (the crate, its snapshot, the matrix, the
    selection) is refused before anything is built.
    """
    crate = load_crate(options.crate)
    made = crate_scenario(crate)
    if not made.scenario.artifacts:
        raise ConfigError(
            f"{crate.folder}: no library or binary target to build "
            f"({'; '.join(made.left_out) or 'no src/lib.rs, src/main.rs or [[bin]]'})."
        )
    path = crate.folder / SNAPSHOT_FILE
    snapshot = read(path)
    matrix = load_matrix(require_matrix_file(options.matrix))
    matrix = dataclasses.replace(matrix, scenarios=(made.scenario,))
    plan = make_plan(matrix, only=options.only or DEFAULT_ONLY)
    for note in made.left_out:
        reporter.event(f"left out: {note}")
    either = f"{options.out} or {options.cache_dir}"
    with folders_locked(options.out, options.cache_dir), write_failures(either, _AGAIN):
        document = _build(options, matrix, plan, reporter)
    rule = snapshot.filter if snapshot else Filter()
    for line in table(document.cells, rule):
        reporter.line(line)
    return _outcome(options, document, snapshot, path, reporter)


_AGAIN = "Free some space or make the folder writable, then run the same command again."


def _build(
    options: CheckOptions, matrix: Matrix, plan: Plan, reporter: Reporter
) -> ResultsDocument:
    from orchestrator.engine.client import connect  # noqa: PLC0415 - a bad input needs no engine
    from orchestrator.pipeline import RunOptions, run_plan  # noqa: PLC0415

    run = RunOptions(
        out_dir=options.out,
        cache_dir=options.cache_dir,
        fresh=options.fresh,
        selection=Selection(only=options.only or DEFAULT_ONLY, shard=None),
    )
    results = run_plan(connect(), matrix, plan, run, reporter)
    document = results.document()
    views = write_views(document, results.path.parent)
    reporter.summary(document.summary, [str(results.path), *map(str, views)])
    return document


def _outcome(
    options: CheckOptions,
    document: ResultsDocument,
    snapshot: Snapshot | None,
    path: Path,
    reporter: Reporter,
) -> int:
    rule = snapshot.filter if snapshot else Filter()
    observed = observed_cells(document.cells, rule)
    failed = erred(document.cells)
    for record in failed:
        reporter.line(f"not checked: {record.id} erred ({record.reason}); its log: {record.log}")
    if options.bless:
        with write_failures(path, _AGAIN):
            existed = path.exists()
            write_text_atomic(path, render(bless(snapshot, observed)))
            if not existed:
                path.chmod(0o644)  # a file of the user's repository, not a private one
        reporter.line(f"blessed {len(observed)} cells into {path}")
        return 1 if failed else 0
    if snapshot is None:
        reporter.line(f"no snapshot at {path}: run again with --bless to record these exports")
        return 1 if failed or not all(r.status.ok for r in document.cells) else 0
    diff = compare(snapshot, observed)
    for line in render_diff(diff, path):
        reporter.line(line)
    if diff.changes:
        reporter.line(
            f"{len(diff.changes)} differences from {path}; if intended, run again with --bless"
        )
    return 1 if diff.changes or failed else 0
