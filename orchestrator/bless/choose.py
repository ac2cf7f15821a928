"""Which expectations of a judged cell --bless writes, and which it leaves, saying why. Pure.

Only a failed check or run (outcome `fail`) of a cell whose status is `fail` is blessed, with
the suggestion its result carries. A cell that passed, was skipped or does not apply has
nothing to bless; one that erred was not judged to the end (a timeout, a build error no check
accounts for, an engine failure), so what it showed is no expectation; an unexpected pass
(`xpass`) means an upstream fix to confirm, and its `xfail:` marker is the user's to drop.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from orchestrator.bless.edit import Blessing, Section, Where
from orchestrator.config.scenario import Check, RunSpec, Selector
from orchestrator.judge import RunCheck
from orchestrator.plan import Cell, CellWork
from orchestrator.results.model import CellRecord, CheckRecord
from orchestrator.status import CheckOutcome, Status

_GLOB = "*?["
# an entry of scenario.yaml: its list, its position there, what it says
Entry = tuple[Section, int, Check | RunSpec]


@dataclass(frozen=True, kw_only=True)
class Blessed:
    """One failed expectation of one cell, to be written into its scenario's file."""

    cell: str  # the cell's id
    label: str  # the expectation as the report names it: `lib: exports: includes ['x']`
    blessing: Blessing


@dataclass(frozen=True, kw_only=True)
class CellBlessings:
    """What --bless does with one cell.

    `left`: each failure (or the whole cell) left as it is, and why. `settled`: nothing of the
    cell is left, so the next run judges it ok (a cell that was ok already is settled).
    """

    blessed: tuple[Blessed, ...] = ()
    left: tuple[str, ...] = ()
    settled: bool = True


def cell_blessings(record: CellRecord, work: CellWork) -> CellBlessings:
    """The blessings of one judged cell; `work` is what it was judged against."""
    if record.status.ok:
        return CellBlessings()
    if record.status is Status.ERROR:
        reason = f" ({record.reason})" if record.reason else ""
        why = f"it erred{reason}, so it was not judged to the end: {record.why}"
        return CellBlessings(left=(f"{record.id}: not blessed: {why}",), settled=False)
    blessed = []
    left = []
    for check, entry in zip(record.checks, _aligned(record.checks, work), strict=True):
        found = _blessing(record.id, check, entry, work.cell)
        if isinstance(found, Blessed):
            blessed.append(found)
        elif found is not None:
            left.append(found)
    return CellBlessings(blessed=tuple(blessed), left=tuple(left), settled=not left)


def _blessing(
    cell_id: str, check: CheckRecord, entry: Entry | None, cell: Cell
) -> Blessed | str | None:
    """One result's blessing, or the line saying why it is left; None: nothing to bless."""
    label = _label(check, entry)
    if check.outcome is CheckOutcome.XPASS:
        return (
            f"{cell_id}: {label}: not blessed: it passed unexpectedly (xpass); once the "
            "upstream fix is confirmed, drop its xfail: marker by hand"
        )
    if check.outcome is not CheckOutcome.FAIL:
        return None
    if entry is None:  # the scenario differs from the one the cell was judged against
        return f"{cell_id}: {label}: not blessed: no entry of the scenario says it"
    if check.suggestion is None:
        return f"{cell_id}: {label}: not blessed: nothing observed to suggest from"
    section, index, expectation = entry
    where = (cell.toolchain, cell.target, cell.release)
    blessing = Blessing(
        section=section,
        index=index,
        where=where,
        suggestion=check.suggestion,
        replace=_only_at(expectation, where),
    )
    return Blessed(cell=cell_id, label=label, blessing=blessing)


def _aligned(results: tuple[CheckRecord, ...], work: CellWork) -> list[Entry | None]:
    """The scenario entry each result judged, or None where none is found.

    The judge gives one result per check that applies to the cell (in file order, less those
    on artifacts the cell did not build), then one per run: so each result is the next entry
    that names the same artifact, property and expectation.
    """
    entries = list(_applying(work))
    found: list[Entry | None] = []
    cursor = 0
    for result in results:
        at = next(
            (i for i in range(cursor, len(entries)) if _same(entries[i][2], result)),
            None,
        )
        found.append(entries[at] if at is not None else None)
        cursor = at + 1 if at is not None else cursor
    return found


def _applying(work: CellWork) -> Iterator[Entry]:
    """Every check, then every run, of the scenario that applies to the cell, with its index."""
    cell = work.cell
    where = {"toolchain": cell.toolchain, "target": cell.target, "release": cell.release}
    for index, check in enumerate(work.scenario.checks):
        if check.applies(**where):
            yield Section.CHECKS, index, check
    for index, run in enumerate(work.scenario.runs):
        if run.applies(**where):
            yield Section.RUNS, index, run


def _same(expectation: Check | RunSpec, result: CheckRecord) -> bool:
    kind = RunCheck.RUN.value if isinstance(expectation, RunSpec) else expectation.property.value
    return (expectation.artifact, kind, expectation.describe()) == (
        result.artifact,
        result.property,
        result.expectation,
    )


def _only_at(expectation: Check | RunSpec, cell: Where) -> bool:
    """The entry applies to this one cell and no other: its `when:` names the cell's
    toolchain, target and release without a glob, and it has no `unless:` (an earlier blessing).
    """
    if expectation.unless is not None:
        return False
    return _exactly(expectation.when, cell)


def _exactly(selector: Selector, cell: Where) -> bool:
    if len(selector.places) != 1:
        return False
    place = selector.places[0]
    axes = (place.toolchain, place.target, place.release)
    return all(
        len(globs) == 1 and globs[0] == value and not any(c in value for c in _GLOB)
        for globs, value in zip(axes, cell, strict=True)
    )


def _label(check: CheckRecord, entry: Entry | None) -> str:
    """The expectation as the report names it; a run by its name too."""
    if entry is not None and isinstance(entry[2], RunSpec):
        return f"{check.artifact}: run {entry[2].name}: {check.expectation.removeprefix('run: ')}"
    return f"{check.artifact}: {check.expectation}"
