"""`linkmatrix run --bless`: after a complete run, each failed expectation of the selected cells
written into its scenario.yaml as what was observed there (choose.py picks them, edit.py writes
them), for the user to review as a diff.

Before anything is built, every scenario file the run could bless is read and must be one the
user can edit: not the installed linkmatrix's own copy, and writable. After the run, a file that
changed meanwhile is left alone (the blessings name its entries by position); every other is
written whole or not at all, once it loads with the validating loader.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from orchestrator.bless.choose import Blessed, CellBlessings, cell_blessings
from orchestrator.bless.edit import UneditableError, blessed_text
from orchestrator.config.matrix import Matrix
from orchestrator.config.scenario import load_scenario
from orchestrator.errors import ConfigError, LinkmatrixError, UsageError, write_failures
from orchestrator.log import Reporter
from orchestrator.plan import Plan, cell_work
from orchestrator.resources import is_installed_data
from orchestrator.results.model import ResultsDocument
from orchestrator.serial import write_text_atomic

SCENARIO_FILE = "scenario.yaml"
_AGAIN = "Make it writable, then run the same command again (finished cells are cached)."


@dataclass(frozen=True, kw_only=True)
class BlessTarget:
    """A scenario file the run may bless, as it was when the run started."""

    scenario: str
    path: Path  # its scenario.yaml, as the matrix names it (what the lines printed say)
    real: Path  # the file written: through a symbolic link, the one it names
    text: str
    mode: int  # its permission bits, kept when it is rewritten


def bless_targets(matrix: Matrix, plan: Plan) -> dict[str, BlessTarget]:
    """The scenario files of the planned cells, each one --bless can write, read now.

    Refused before any build (UsageError, exit 2): the installed linkmatrix's own scenarios
    (package data, not a checkout) and files that cannot be rewritten in place.
    """
    names = dict.fromkeys(cell.scenario for cell in plan.cells if cell.not_applicable is None)
    files = {name: matrix.scenario(name).folder / SCENARIO_FILE for name in names}
    installed = [name for name, path in files.items() if is_installed_data(path)]
    if installed:
        raise UsageError(_installed_message(installed, files[installed[0]]))
    return {name: _target(name, path) for name, path in files.items()}


def _installed_message(names: Sequence[str], example: Path) -> str:
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return (
        f"--bless writes the expectations into each scenario's {SCENARIO_FILE}, and {shown} "
        f"are the installed linkmatrix's own ({example.parent.parent}): package data, not a "
        "checkout. Run from a checkout of linkmatrix, or copy the scenario folder "
        f"(`cp -r {example.parent} DIR/`) and run it with --scenarios DIR "
        "--no-builtin-scenarios --bless; or leave those cells out with --only."
    )


def _target(name: str, path: Path) -> BlessTarget:
    real = path.resolve()
    if not (os.access(real, os.W_OK) and os.access(real.parent, os.W_OK)):
        raise UsageError(
            f"{real}: --bless cannot rewrite it (the file or its folder is not writable); "
            "make both writable, or leave its cells out with --only."
        )
    return BlessTarget(
        scenario=name,
        path=path,
        real=real,
        text=real.read_bytes().decode("utf-8"),  # the loader read it as UTF-8 already
        mode=stat.S_IMODE(real.stat().st_mode),
    )


@dataclass(frozen=True, kw_only=True)
class _Chosen:
    """What the run's cells ask of one scenario file."""

    blessed: list[Blessed]
    cells: set[str]  # the cells with a blessing there


def bless_run(
    document: ResultsDocument,
    matrix: Matrix,
    plan: Plan,
    targets: dict[str, BlessTarget],
    reporter: Reporter,
) -> int:
    """Bless the failed cells of a finished run; 0 when every cell that was not ok is settled
    (the next run judges it ok), 1 otherwise (an error, an xpass, a failure left).
    """
    if not document.provenance.complete:
        reporter.line(
            "nothing blessed: the run stopped before the end of its plan, and --bless writes "
            "only what a complete run observed"
        )
        return 1
    cells = {cell.id: cell for cell in plan.cells}
    chosen: dict[str, _Chosen] = {}
    unsettled: set[str] = set()
    for record in document.cells:
        work = cell_work(cells[record.id], matrix.scenario(record.scenario))
        found: CellBlessings = cell_blessings(record, work)
        for line in found.left:
            reporter.line(line)
        if not found.settled:
            unsettled.add(record.id)
        if found.blessed:
            entry = chosen.setdefault(record.scenario, _Chosen(blessed=[], cells=set()))
            entry.blessed.extend(found.blessed)
            entry.cells.add(record.id)
    written = []
    for name, entry in chosen.items():
        if _bless_file(targets[name], entry.blessed, matrix, reporter):
            written.append(entry)
        else:
            unsettled |= entry.cells
    reporter.line(_summary(written, unsettled=bool(unsettled)))
    return 1 if unsettled else 0


def _bless_file(
    target: BlessTarget, blessed: list[Blessed], matrix: Matrix, reporter: Reporter
) -> bool:
    """Write one file's blessings; False when it is left alone: it changed during the run, or
    an entry to bless is written in a way a text edit cannot follow (edit.py says which).
    """
    current = target.real.read_bytes().decode("utf-8", errors="replace")
    if current != target.text:
        reporter.line(
            f"{target.path}: not blessed: it changed during the run, and its failed entries "
            "are known by their place in it; run the same command again"
        )
        return False
    try:
        text = blessed_text(target.text, [b.blessing for b in blessed], source=str(target.path))
    except UneditableError as exc:
        reporter.line(f"not blessed: {exc}")
        return False
    folder = matrix.scenario(target.scenario).folder
    try:
        load_scenario(folder, matrix.coordinates, text=text)
    except ConfigError as exc:  # a blessing that does not load is linkmatrix's own mistake
        raise LinkmatrixError(
            f"{target.path}: not blessed: the blessed file would not load ({exc}); it is left "
            "as it was: paste the suggestions from the report by hand, and report this."
        ) from exc
    with write_failures(target.real, _AGAIN):
        write_text_atomic(target.real, text, mode=target.mode)
    for item in blessed:
        reporter.line(f"blessed {target.path}: {item.label} on {item.cell}")
    return True


def _summary(written: list[_Chosen], *, unsettled: bool) -> str:
    if not written:
        return "nothing blessed (see above)" if unsettled else "nothing to bless: no cell failed"
    expectations = sum(len(entry.blessed) for entry in written)
    cells = sum(len(entry.cells) for entry in written)
    return (
        f"blessed {_count(expectations, 'failed expectation')} of {_count(cells, 'cell')} "
        f"into {_count(len(written), 'scenario file')}: review the diff (`git diff`) before "
        "committing"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")
