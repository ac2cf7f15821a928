"""Where the rustc releases differ: for each (toolchain, target, scenario) run on more than one
release, what changed from each release to the next. Pure: a results document in, data out.

Releases are compared in version order, each with the next newer one present (1.85 → 1.96):
"added" is what the newer release has and the older has not, "removed" the reverse.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from orchestrator.results.model import ArtifactRecord, CellRecord, ResultsDocument
from orchestrator.results.names import NameKind, name_kind, summarize_names
from orchestrator.status import Status

HEADING = "## Where the rustc releases differ"
BUILT_WORDS = {None: "absent", True: "yes", False: "no"}
NAMES_SHOWN = 40


@dataclass(frozen=True, kw_only=True)
class ArtifactChange:
    """One artifact between two releases: whether it was built, and its exports."""

    name: str
    built: tuple[bool | None, bool | None]  # (older, newer); None: no such artifact in that cell
    exports_added: tuple[str, ...]
    exports_removed: tuple[str, ...]

    @property
    def built_changed(self) -> bool:
        return self.built[0] != self.built[1]

    @property
    def empty(self) -> bool:
        return not (self.built_changed or self.exports_added or self.exports_removed)

    @property
    def bulk_only(self) -> bool:
        """Only mangled, compiler-rt or LLVM-internal names came or went (see results.names)."""
        names = (*self.exports_added, *self.exports_removed)
        return not self.built_changed and all(name_kind(n) is not NameKind.PLAIN for n in names)


@dataclass(frozen=True, kw_only=True)
class ReleaseChange:
    """What differs between one release's cell and the next newer release's cell of a place."""

    older: str
    newer: str
    older_id: str
    newer_id: str
    status: tuple[str, str] | None  # (older, newer) when status or reason differ
    artifacts: tuple[ArtifactChange, ...]  # only the artifacts that differ
    diagnostics_added: tuple[str, ...]
    diagnostics_removed: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (
            self.status or self.artifacts or self.diagnostics_added or self.diagnostics_removed
        )

    @property
    def bulk_only(self) -> bool:
        """Something changed, but only names nobody links against by hand: the views fold it."""
        return (
            not self.empty
            and not (self.status or self.diagnostics_added or self.diagnostics_removed)
            and all(artifact.bulk_only for artifact in self.artifacts)
        )


@dataclass(frozen=True, kw_only=True)
class PlaceDiff:
    """One (toolchain, target, scenario) present in more than one release."""

    toolchain: str
    target: str
    scenario: str
    releases: tuple[str, ...]  # in version order
    changes: tuple[ReleaseChange, ...]  # one per consecutive pair of releases, empty ones too

    @property
    def place(self) -> str:
        return f"{self.toolchain}/{self.target}/{self.scenario}"

    @property
    def differs(self) -> bool:
        return any(not change.empty for change in self.changes)


def release_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Version order for release names: 1.85 < 1.96 < 1.100; non-numeric parts sort after."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in name.split("."))


def release_diffs(document: ResultsDocument) -> tuple[PlaceDiff, ...]:
    """Every place of the document's cells that ran on more than one release, and its changes.

    A place whose cells are all not-applicable is left out: there is nothing to compare.
    """
    places: dict[tuple[str, str, str], dict[str, CellRecord]] = {}
    for cell in document.cells:
        key = (cell.toolchain, cell.target, cell.scenario)
        places.setdefault(key, {})[cell.release] = cell
    diffs = []
    for (toolchain, target, scenario), by_release in sorted(places.items()):
        if len(by_release) < 2 or all(
            c.status is Status.NOT_APPLICABLE for c in by_release.values()
        ):
            continue
        releases = tuple(sorted(by_release, key=release_key))
        changes = tuple(
            _change(by_release[older], by_release[newer])
            for older, newer in itertools.pairwise(releases)
        )
        diffs.append(
            PlaceDiff(
                toolchain=toolchain,
                target=target,
                scenario=scenario,
                releases=releases,
                changes=changes,
            )
        )
    return tuple(diffs)


def _change(older: CellRecord, newer: CellRecord) -> ReleaseChange:
    status = (_status(older), _status(newer))
    old_diagnostics, new_diagnostics = _diagnostics(older), _diagnostics(newer)
    return ReleaseChange(
        older=older.release,
        newer=newer.release,
        older_id=older.id,
        newer_id=newer.id,
        status=status if status[0] != status[1] else None,
        artifacts=tuple(a for a in _artifact_changes(older, newer) if not a.empty),
        diagnostics_added=_missing_from(new_diagnostics, old_diagnostics),
        diagnostics_removed=_missing_from(old_diagnostics, new_diagnostics),
    )


def _status(cell: CellRecord) -> str:
    status, reason = cell.status.value, cell.reason
    return f"{status} ({reason.value})" if reason and reason.value != status else status


def _diagnostics(cell: CellRecord) -> tuple[str, ...]:
    """Each diagnostic as `level: message`, once, in the order rustc gave them."""
    lines = (" ".join(f"{d.level}: {d.message}".split()) for d in cell.diagnostics)
    return tuple(dict.fromkeys(lines))


def _artifact_changes(older: CellRecord, newer: CellRecord) -> Iterable[ArtifactChange]:
    old = {a.name: a for a in older.artifacts}
    new = {a.name: a for a in newer.artifacts}
    for name in dict.fromkeys([*old, *new]):
        before, after = old.get(name), new.get(name)
        old_exports = (before.exports or ()) if before else ()
        new_exports = (after.exports or ()) if after else ()
        yield ArtifactChange(
            name=name,
            built=(_built(before), _built(after)),
            exports_added=_missing_from(new_exports, old_exports),
            exports_removed=_missing_from(old_exports, new_exports),
        )


def _built(artifact: ArtifactRecord | None) -> bool | None:
    return None if artifact is None else artifact.built


def _missing_from(these: Sequence[str], others: Sequence[str]) -> tuple[str, ...]:
    """The items of `these` that `others` lacks, in their order."""
    known = set(others)
    return tuple(item for item in these if item not in known)


# -- Markdown ------------------------------------------------------------------------------


def render_release_diff(diffs: Sequence[PlaceDiff], *, heading: str = HEADING) -> list[str]:
    """Markdown lines: each place where releases differ, then the places where they do not.

    No lines at all when no place ran on more than one release.
    """
    if not diffs:
        return []
    lines = [heading, ""]
    differing = [diff for diff in diffs if diff.differs]
    if not differing:
        lines += ["No difference between the releases in any cell run on more than one.", ""]
    for diff in differing:
        lines += [f"### `{diff.place}`", ""]
        for change in diff.changes:
            if change.empty:
                lines.append(f"- **{change.older} → {change.newer}:** no difference")
                continue
            lines.append(f"- **{change.older} → {change.newer}:**")
            lines += [f"  {item}" for item in _change_items(change)]
        lines.append("")
    same = [diff for diff in diffs if not diff.differs]
    if same:
        lines.append("Identical on every release they ran on:")
        lines += [f"- `{diff.place}` ({', '.join(diff.releases)})" for diff in same]
        lines.append("")
    return lines


def _change_items(change: ReleaseChange) -> list[str]:
    """Markdown list items (two-space indented) of one change: one name per line."""
    items = []
    if change.status:
        items.append(f"- status: {change.status[0]} → {change.status[1]}")
    for artifact in change.artifacts:
        items.append(f"- artifact `{artifact.name}`:")
        if artifact.built_changed:
            before, after = (BUILT_WORDS[b] for b in artifact.built)
            items.append(f"  - built: {before} → {after}")
        for label, names in (
            ("exports added", artifact.exports_added),
            ("exports removed", artifact.exports_removed),
        ):
            if names:
                items.append(f"  - {label} ({len(names)}):")
                items += [f"    - {line}" for line in _name_lines(names)]
    items += [f"- diagnostic added: {_code(d)}" for d in change.diagnostics_added]
    items += [f"- diagnostic removed: {_code(d)}" for d in change.diagnostics_removed]
    return items


def _name_lines(names: Sequence[str]) -> list[str]:
    """Plain names one per line (up to NAMES_SHOWN); the bulk counted on one last line.

    Between releases every std symbol's hash or crate disambiguator changes and compiler-rt's
    builtins come and go together, so hundreds of names move with no change in what a program
    can link against; results.json keeps each of them.
    """
    summary = summarize_names(names, limit=NAMES_SHOWN)
    lines = [_code(name) for name in summary.listed]
    if bulk := summary.bulk_text():
        lines.append(f"{'and ' if lines else ''}{bulk} (in results.json)")
    return lines


def _code(text: str) -> str:
    """`text` as a Markdown code span, whatever backticks it holds."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
