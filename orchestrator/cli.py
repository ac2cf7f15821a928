"""Command line: the only place that catches linkmatrix errors and turns them into exit codes."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from orchestrator import __version__
from orchestrator.config import load_matrix, require_matrix_file
from orchestrator.errors import Interrupted, LinkmatrixError
from orchestrator.log import Reporter
from orchestrator.outcome import Status
from orchestrator.plan import Plan, Shard, make_plan
from orchestrator.serial import to_data

DEFAULT_OUT = Path("reports/latest")
DEFAULT_CACHE = Path(".cache/linkmatrix")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="linkmatrix", description=__doc__)
    root.add_argument("--version", action="version", version=f"linkmatrix {__version__}")
    commands = root.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="build and inspect the selected cells, write the report")
    run.add_argument("--matrix", type=Path, default=Path("matrix.yaml"), help="the matrix file")
    run.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="GLOB",
        help="run only cells whose id matches (repeatable), e.g. 'glibc/*'",
    )
    run.add_argument("--shard", type=Shard.parse, metavar="I/N", help="run the I-th of N shares")
    run.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results directory")
    run.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="cell cache directory")
    run.add_argument("--fresh", action="store_true", help="ignore cached cells and build again")
    run.add_argument("--list-cells", action="store_true", help="print the planned cells and exit")
    run.add_argument("--json", action="store_true", help="with --list-cells: JSON output")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    reporter = Reporter()
    try:
        return _run(args, reporter)
    except KeyboardInterrupt:
        error: LinkmatrixError = Interrupted(
            f"Interrupted. Every finished cell is kept in {args.out / 'results.json'}; "
            "run the same command again to finish (cached cells are not rebuilt)."
        )
    except LinkmatrixError as exc:
        error = exc
    print(f"linkmatrix: error: {error}", file=sys.stderr)
    return error.exit_code


def _run(args: argparse.Namespace, reporter: Reporter) -> int:
    matrix = load_matrix(require_matrix_file(args.matrix))
    plan = make_plan(matrix, only=args.only, shard=args.shard)
    if args.list_cells:
        _list_cells(plan, as_json=args.json)
        return 0
    from orchestrator.engine import connect  # noqa: PLC0415 - listing needs no engine
    from orchestrator.execute import RunOptions, run_plan  # noqa: PLC0415

    client = connect()
    options = RunOptions(
        out_dir=args.out,
        cache_dir=args.cache_dir,
        fresh=args.fresh,
        selection={
            "only": args.only,
            "shard": f"{args.shard.index}/{args.shard.count}" if args.shard else None,
        },
    )
    results = run_plan(client, matrix, plan, options, reporter)
    document = results.document()
    reporter.summary(
        document["summary"], [str(results.path), str(results.path.parent / "matrix.md")]
    )
    return 0 if all(Status(r["status"]).ok for r in document["cells"]) else 1


def _list_cells(plan: Plan, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps([to_data(cell) for cell in plan.cells], indent=2))
        return
    for cell in plan.cells:
        suffix = f"  (not applicable: {cell.not_applicable})" if cell.not_applicable else ""
        print(f"{cell.id}{suffix}")
