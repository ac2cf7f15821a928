"""Whether a results document holds every cell its run was asked for, and if not, what is missing.

A run records the id of every planned cell (`provenance.planned`) and whether it went through
its whole plan (`provenance.complete`); a merged document records each input's shard (`I/N`).
A document is *incomplete* when a planned cell has no result, when a shard of a merge is
missing, or when a run that stopped early did not say what it planned (an older writer).
Every view says so in its first lines; `diff` and `merge` refuse such a document unless told
otherwise (`--allow-incomplete`). Documents older than these keys read as complete: nothing
says otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.results.model import ResultsDocument


@dataclass(frozen=True, kw_only=True)
class Completeness:
    """Planned against present cells of one document."""

    planned: int | None  # cells the run (or the merged runs) asked for; None: not recorded
    present: int
    missing: tuple[str, ...]  # planned ids with no result, in id order
    missing_shards: tuple[str, ...]  # `I/N` of the shards a merge lacks
    stopped: bool  # the run said it stopped before the end of its plan

    @property
    def incomplete(self) -> bool:
        return bool(self.missing or self.missing_shards) or (self.stopped and self.planned is None)

    @property
    def headline(self) -> str:
        """`incomplete: 208 of 442 cells`; `complete: 442 of 442 cells` when it is."""
        word = "incomplete" if self.incomplete else "complete"
        if self.planned is None:
            return f"{word}: {self.present} cells (the planned cells were not recorded)"
        of = f"more than {self.planned}" if self.missing_shards else f"{self.planned}"
        return f"{word}: {self.present} of {of} cells"

    def reasons(self) -> list[str]:
        """Why it is incomplete, one sentence each; none when it is complete."""
        if not self.incomplete:
            return []
        said = []
        if self.stopped:
            said.append("the run stopped before the end of its plan (interrupted, or an error)")
        if self.missing:
            count = len(self.missing)
            said.append(f"{count} planned cell{'s have' if count > 1 else ' has'} no result")
        if self.missing_shards:
            shards = ", ".join(self.missing_shards)
            said.append(f"shard {shards} of the merge is missing (its cells are not counted)")
        return said

    def sentence(self) -> str:
        """The headline and its reasons: what a view's banner says."""
        reasons = self.reasons()
        return self.headline + (": " + "; ".join(reasons) if reasons else "")


def completeness(document: ResultsDocument) -> Completeness:
    made = document.provenance
    present = {cell.id for cell in document.cells}
    planned = made.planned
    missing = tuple(sorted(set(planned) - present)) if planned is not None else ()
    return Completeness(
        planned=len(set(planned) | present) if planned is not None else None,
        present=len(present),
        missing=missing,
        missing_shards=missing_shards(document),
        stopped=_stopped(document),
    )


def _stopped(document: ResultsDocument) -> bool:
    """The run stopped early; for a merge, one of its inputs did (a missing shard is apart)."""
    made = document.provenance
    if made.merged_from is None:
        return made.complete is False
    return any(shard.complete is False for shard in made.merged_from)


def missing_shards(document: ResultsDocument) -> tuple[str, ...]:
    """The `I/N` a merged document lacks, when its inputs are shards of one count N."""
    return lacking_shards([i.selection.shard for i in document.provenance.merged_from or ()])


def lacking_shards(shards: Sequence[str | None]) -> tuple[str, ...]:
    """The `I/N` not among `shards` (each input's --shard), when all are shares of one N."""
    if not shards or None in shards:
        return ()
    parsed = {tuple(shard.split("/", 1)) for shard in shards if shard}
    counts = {count for _, count in parsed}
    if len(counts) != 1 or not all(i.isdigit() and c.isdigit() for i, c in parsed):
        return ()
    (count,) = counts
    have = {int(index) for index, _ in parsed}
    return tuple(f"{i}/{count}" for i in range(1, int(count) + 1) if i not in have)
