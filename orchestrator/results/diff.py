"""Compare two results documents cell by cell, as crater does: what regressed, what got fixed.

A status is *ok* when it leaves the exit code at 0 (pass, xfail, skip, not-applicable) and
*bad* otherwise (fail, error, xpass). Each cell id found in either document gets one class:

- regressed: ok before, bad now (pass → fail, skip → error, xfail → fail, ...).
- fixed upstream?: xfail before, xpass now. The known upstream failure no longer happens;
  not a regression (drop the `xfail:` marker once the fix is confirmed), listed right after
  the regressions because it asks for an edit.
- fixed: bad before, ok now.
- still failing: bad before and now (the status or reason may have changed; both are shown).
- missing: in one document only, and planned by the run of the other, which has no result
  for it (the run stopped early, or a shard of a merge is missing): not compared, never
  "removed" or "new".
- new: only in the new document. removed: only in the old one, and not planned by the new run.
- unchanged: ok before and now. A move between ok statuses (pass → skip) is still listed.

Only `regressed` makes `linkmatrix diff` exit 1. An incomplete document (see
orchestrator.results.completeness) makes it exit 7 before comparing anything, unless
`--allow-incomplete` is given: a stopped run must not pass for one whose cells all held.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass

from orchestrator.errors import ResultsError
from orchestrator.results.completeness import completeness
from orchestrator.results.model import CellRecord, ResultsDocument
from orchestrator.status import Reason, Status


class Change(enum.StrEnum):
    """How one cell moved between two runs; members are in report order."""

    REGRESSED = "regressed"
    FIXED_UPSTREAM = "fixed-upstream"
    FIXED = "fixed"
    STILL_FAILING = "still-failing"
    MISSING = "missing"
    NEW = "new"
    REMOVED = "removed"
    UNCHANGED = "unchanged"

    @property
    def label(self) -> str:
        return CHANGE_LABELS[self]


CHANGE_LABELS: dict[Change, str] = {
    Change.REGRESSED: "regressed",
    Change.FIXED_UPSTREAM: "fixed upstream?",
    Change.FIXED: "fixed",
    Change.STILL_FAILING: "still failing",
    Change.MISSING: "missing",
    Change.NEW: "new",
    Change.REMOVED: "removed",
    Change.UNCHANGED: "unchanged",
}

CHANGE_MEANINGS: dict[Change, str] = {
    Change.REGRESSED: "ok before (pass, xfail, skip, not-applicable), fail/error/xpass now",
    Change.FIXED_UPSTREAM: "xfail before, xpass now: the upstream issue may be fixed",
    Change.FIXED: "fail/error/xpass before, ok now",
    Change.STILL_FAILING: "fail/error/xpass before and now",
    Change.MISSING: "planned, but without a result in one of the two (a stopped run, a missing "
    "shard): not compared",
    Change.NEW: "a cell the baseline did not have",
    Change.REMOVED: "a baseline cell this run did not plan",
    Change.UNCHANGED: "ok before and now",
}


def classify(old: Status | None, new: Status | None, *, planned: bool = False) -> Change:
    """The class of a cell whose status went from `old` to `new` (None: absent).

    `planned`: the document that lacks the cell planned it (its run has no result for it).
    """
    if old is None and new is None:
        raise ValueError("a cell must be present in at least one of the two documents")
    if (old is None or new is None) and planned:
        return Change.MISSING
    if old is None:
        return Change.NEW
    if new is None:
        return Change.REMOVED
    if old is Status.XFAIL and new is Status.XPASS:
        return Change.FIXED_UPSTREAM
    if old.ok:
        return Change.UNCHANGED if new.ok else Change.REGRESSED
    return Change.FIXED if new.ok else Change.STILL_FAILING


@dataclass(frozen=True, kw_only=True)
class CellChange:
    """One cell id's class, its statuses before and after, and why it is what it is now."""

    id: str
    change: Change
    old_status: Status | None
    old_reason: Reason | None
    new_status: Status | None
    new_reason: Reason | None
    detail: str  # why the cell is what it is now (or was, when it is gone): CellRecord.why

    @property
    def status_moved(self) -> bool:
        return self.old_status != self.new_status or self.old_reason != self.new_reason

    @property
    def transition(self) -> str:
        """`pass → fail (symbol-missing)`, or one status when it did not move."""
        old = _status_text(self.old_status, self.old_reason)
        new = _status_text(self.new_status, self.new_reason)
        return new if old == new else f"{old} → {new}"


def _status_text(status: Status | None, reason: Reason | None) -> str:
    if status is None:
        return "absent"
    if reason is None or reason.value == status.value:
        return status.value
    return f"{status.value} ({reason.value})"


@dataclass(frozen=True, kw_only=True)
class ResultsDiff:
    """Every cell of two documents, classed; regressions first, then by the order of `Change`."""

    old_run: str
    new_run: str
    changes: tuple[CellChange, ...]

    @property
    def regressed(self) -> bool:
        return any(c.change is Change.REGRESSED for c in self.changes)

    def counts(self) -> dict[Change, int]:
        """Cells per class, every class present (zeros included)."""
        counted = Counter(c.change for c in self.changes)
        return {change: counted[change] for change in Change}

    def of(self, change: Change) -> tuple[CellChange, ...]:
        return tuple(c for c in self.changes if c.change is change)

    def notable(self) -> tuple[CellChange, ...]:
        """Every cell but the unchanged ones whose status and reason stayed the same."""
        return tuple(c for c in self.changes if c.change is not Change.UNCHANGED or c.status_moved)

    def by_id(self) -> dict[str, CellChange]:
        return {c.id: c for c in self.changes}

    def summary_line(self) -> str:
        counted = [f"{n} {change.label}" for change, n in self.counts().items() if n]
        return ", ".join(counted) or "no cells in either document"


def run_label(document: ResultsDocument) -> str:
    """`run 6d3f9b4578 (finished 2026-11-21T16:13:53+00:00)`: which run a document holds.

    An incomplete document says so: `run … (finished …; incomplete: 208 of 442 cells)`.
    """
    provenance = document.provenance
    when = provenance.finished or f"started {provenance.started}, unfinished"
    done = completeness(document)
    return f"run {provenance.run_id} ({when}{'; ' + done.headline if done.incomplete else ''})"


def require_complete(document: ResultsDocument, path: object, *, allow: bool) -> None:
    """Refuse (ResultsError, exit 7) an incomplete document unless `allow` (--allow-incomplete)."""
    done = completeness(document)
    if done.incomplete and not allow:
        raise ResultsError(
            f"{path} is {done.sentence()}. Its missing cells would read as gone or fixed; "
            "finish the run (run the same command again: cached cells are not rebuilt) or "
            "pass --allow-incomplete to go on with what it has."
        )


def diff_results(old: ResultsDocument, new: ResultsDocument) -> ResultsDiff:
    """Class every cell id of `old` and `new`."""
    old_cells = {c.id: c for c in old.cells}
    new_cells = {c.id: c for c in new.cells}
    old_planned = set(old.provenance.planned or ())
    new_planned = set(new.provenance.planned or ())
    changes = [
        _cell_change(
            cell_id,
            old_cells.get(cell_id),
            new_cells.get(cell_id),
            planned=cell_id in (new_planned if cell_id in old_cells else old_planned),
        )
        for cell_id in old_cells.keys() | new_cells.keys()
    ]
    order = {change: index for index, change in enumerate(Change)}
    changes.sort(key=lambda c: (order[c.change], c.id))
    return ResultsDiff(old_run=run_label(old), new_run=run_label(new), changes=tuple(changes))


def _cell_change(
    cell_id: str, old: CellRecord | None, new: CellRecord | None, *, planned: bool
) -> CellChange:
    shown = new if new is not None else old
    assert shown is not None
    old_status = old.status if old else None
    new_status = new.status if new else None
    return CellChange(
        id=cell_id,
        change=classify(old_status, new_status, planned=planned),
        old_status=old_status,
        old_reason=old.reason if old else None,
        new_status=new_status,
        new_reason=new.reason if new else None,
        detail=shown.why,
    )


def render_diff_text(diff: ResultsDiff, *, show_unchanged: bool = False) -> str:
    """The diff as plain text for a terminal: one section per non-empty class."""
    lines = [f"baseline: {diff.old_run}", f"this run: {diff.new_run}", diff.summary_line()]
    for change in Change:
        members = diff.of(change)
        heading = f"{change.label} ({len(members)}): {CHANGE_MEANINGS[change]}"
        if change is Change.UNCHANGED and not show_unchanged:
            members = tuple(m for m in members if m.status_moved)
            heading = f"unchanged, but moved between ok statuses ({len(members)})"
        if not members:
            continue
        lines += ["", heading]
        for member in members:
            lines.append(f"  {member.id}  {member.transition}{_why(member)}")
    return "\n".join(lines) + "\n"


DETAIL_CHARACTERS = 160


def _why(member: CellChange) -> str:
    """`: <first line of detail>` for a cell that is bad now; nothing for the others."""
    if not member.detail or member.new_status is None or member.new_status.ok:
        return ""
    if len(member.detail) <= DETAIL_CHARACTERS:
        return f": {member.detail}"
    return f": {member.detail[: DETAIL_CHARACTERS - 1]}…"
