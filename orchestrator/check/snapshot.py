"""The snapshot file beside a checked crate: its exported names per cell and artifact. Pure.

`linkmatrix.lock.toml` is TOML written for review: one table per (toolchain[@release]/target,
artifact), tables and names sorted, one name per line, so a change to what the crate exports
is a diff of added and removed lines. Its `[filter]` table is the user's (`--bless` keeps it):
globs that override the built-in noise rule (check/noise.py). Reading it refuses anything else
with the file and line (exit 3).
"""

from __future__ import annotations

import enum
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.check.noise import Filter, matches
from orchestrator.errors import ConfigError
from orchestrator.layout import SNAPSHOT_FILE

VERSION = 1
HEADER = """\
# linkmatrix snapshot: what each artifact of this crate exports, per toolchain and target.
# `linkmatrix check PATH --bless` rewrites it; review a change to it as an API change.
# [filter] is yours and --bless keeps it: `ignore` globs drop names, `keep` globs keep names
# the built-in noise rule would drop (see the README, "Snapshots"). Other comments are not kept.
"""
__all__ = ["SNAPSHOT_FILE"]  # re-exported: the file name belongs to layout.py
TOP_KEYS = ("version", "filter", "cells")
FILTER_KEYS = ("ignore", "keep")
ENTRY_KEYS = ("built", "exports")


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One artifact in one cell: whether it built, and the crate's exported names."""

    built: bool
    exports: tuple[str, ...]


# column (`toolchain[@release]/target`) → artifact name → entry
Cells = Mapping[str, Mapping[str, Entry]]


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """A whole snapshot file."""

    filter: Filter
    cells: Cells


class ChangeKind(enum.StrEnum):
    """How one artifact of one cell differs from the snapshot."""

    NEW_ARTIFACT = "new artifact"
    GONE_ARTIFACT = "artifact gone"
    BUILT = "built changed"
    EXPORTS = "exports changed"


@dataclass(frozen=True, kw_only=True)
class Change:
    """One difference, with the names added and removed (EXPORTS) or the new `built`."""

    column: str
    artifact: str
    kind: ChangeKind
    built: bool
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class SnapshotDiff:
    """What a check found against the snapshot; `changes` fail it, new columns do not."""

    changes: tuple[Change, ...]
    new_columns: tuple[str, ...]  # checked now, not in the snapshot: --bless records them
    unchecked_columns: tuple[str, ...]  # in the snapshot, not selected this time


def render(snapshot: Snapshot) -> str:
    """The file's text: sorted tables, one name per line."""
    lines = [HEADER, f"version = {VERSION}", "", "[filter]"]
    lines += [f"{key} = {_array(getattr(snapshot.filter, key))}" for key in FILTER_KEYS]
    for column in sorted(snapshot.cells):
        for artifact, entry in sorted(snapshot.cells[column].items()):
            lines += ["", f"[cells.{_string(column)}.{_string(artifact)}]"]
            lines += [f"built = {str(entry.built).lower()}", f"exports = {_array(entry.exports)}"]
    return "\n".join(lines) + "\n"


def parse(text: str, path: Path) -> Snapshot:
    """The snapshot in `text`; a ConfigError naming `path`, the line and the fix otherwise."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}). {_FIX}") from exc
    where = _Locator(path, text.splitlines())
    _known_keys(document, TOP_KEYS, where, ())
    if document.get("version") != VERSION:
        raise where.fail(("version",), f"expected `version = {VERSION}`")
    return Snapshot(
        filter=_filter(document.get("filter", {}), where), cells=_cells(document, where)
    )


def read(path: Path) -> Snapshot | None:
    """The snapshot file at `path`, or None when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it ({exc}). {_FIX}") from exc
    return parse(text, path)


def bless(old: Snapshot | None, observed: Cells) -> Snapshot:
    """The snapshot with the observed columns replaced; other columns and the filter kept."""
    cells = dict(old.cells) if old else {}
    cells.update(observed)
    return Snapshot(filter=old.filter if old else Filter(), cells=cells)


def compare(snapshot: Snapshot, observed: Cells) -> SnapshotDiff:
    """Every difference of `observed` from `snapshot`, column by column, artifact by artifact.

    The snapshot's own names go through its `ignore` globs too (`keep` wins), so editing the
    filter changes what is compared without a --bless.
    """
    changes: list[Change] = []
    for column in sorted(set(observed) & set(snapshot.cells)):
        changes += _column_changes(
            column, snapshot.cells[column], observed[column], snapshot.filter
        )
    return SnapshotDiff(
        changes=tuple(changes),
        new_columns=tuple(sorted(set(observed) - set(snapshot.cells))),
        unchecked_columns=tuple(sorted(set(snapshot.cells) - set(observed))),
    )


def render_diff(diff: SnapshotDiff, path: Path) -> list[str]:
    """The differences name by name (`+` added, `-` removed), then new and unchecked columns."""
    lines = []
    for change in diff.changes:
        head = f"{change.column} {change.artifact}"
        built = "builds" if change.built else "does not build"
        match change.kind:
            case ChangeKind.EXPORTS:
                lines.append(f"{head}: exports changed")
                lines += [f"  + {name}" for name in change.added]
                lines += [f"  - {name}" for name in change.removed]
            case ChangeKind.BUILT:
                lines.append(f"{head}: now {built} (the snapshot says otherwise)")
            case ChangeKind.NEW_ARTIFACT:
                lines.append(f"{head}: new artifact, not in the snapshot ({built})")
            case ChangeKind.GONE_ARTIFACT:
                lines.append(f"{head}: in the snapshot, no longer an artifact of the crate")
    if diff.new_columns:
        lines.append(
            f"new, not in {path} (not a failure; --bless records them): "
            + ", ".join(diff.new_columns)
        )
    if diff.unchecked_columns:
        lines.append(f"in {path} but not selected this time: " + ", ".join(diff.unchecked_columns))
    return lines


_FIX = "Fix the file, or delete it and run `linkmatrix check PATH --bless` to write it again."


def _column_changes(
    column: str, before: Mapping[str, Entry], after: Mapping[str, Entry], rule: Filter
) -> list[Change]:
    changes = []
    for artifact in sorted(set(before) | set(after)):
        old, new = before.get(artifact), after.get(artifact)
        if old is None:
            assert new is not None
            changes.append(
                Change(
                    column=column, artifact=artifact, kind=ChangeKind.NEW_ARTIFACT, built=new.built
                )
            )
        elif new is None:
            changes.append(
                Change(column=column, artifact=artifact, kind=ChangeKind.GONE_ARTIFACT, built=False)
            )
        elif old.built != new.built:
            changes.append(
                Change(column=column, artifact=artifact, kind=ChangeKind.BUILT, built=new.built)
            )
        else:
            stored = {n for n in old.exports if not _ignored(n, rule)}
            added, removed = sorted(set(new.exports) - stored), sorted(stored - set(new.exports))
            if added or removed:
                changes.append(
                    Change(
                        column=column,
                        artifact=artifact,
                        kind=ChangeKind.EXPORTS,
                        built=new.built,
                        added=tuple(added),
                        removed=tuple(removed),
                    )
                )
    return changes


def _ignored(name: str, rule: Filter) -> bool:
    return not matches(name, rule.keep) and matches(name, rule.ignore)


def _string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    escaped = []
    for char in text:
        if char in '"\\':
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04X}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def _array(values: Sequence[str]) -> str:
    if not values:
        return "[]"
    return "[\n" + "".join(f"    {_string(v)},\n" for v in sorted(set(values))) + "]"


@dataclass(frozen=True)
class _Locator:
    """Finds the line of a key path in the file's text (tomllib reports none for values)."""

    path: Path
    lines: list[str]

    def fail(self, key_path: tuple[str, ...], problem: str) -> ConfigError:
        line = self._line(key_path)
        place = f"{self.path}:{line}" if line else str(self.path)
        dotted = ".".join(key_path)
        return ConfigError(f"{place}: {dotted}: {problem}. {_FIX}")

    def _line(self, key_path: tuple[str, ...]) -> int | None:
        """The header of the table the path names, else its last key under its table's header."""
        header = self._header(key_path)
        if header is not None:
            return header
        start = self._header(key_path[:-1]) or 1 if len(key_path) > 1 else 1
        key = re.compile(rf'\s*["\']?{re.escape(key_path[-1])}["\']?\s*=')
        found = (n for n in range(start, len(self.lines) + 1) if key.match(self.lines[n - 1]))
        return next(found, start if len(key_path) > 1 else None)

    def _header(self, tables: tuple[str, ...]) -> int | None:
        if not tables:
            return None
        return next(
            (
                number
                for number, text in enumerate(self.lines, start=1)
                if text.lstrip().startswith("[") and all(part in text for part in tables)
            ),
            None,
        )


def _known_keys(
    table: dict[str, Any], keys: Sequence[str], where: _Locator, path: tuple[str, ...]
) -> None:
    for key in table:
        if key not in keys:
            raise where.fail((*path, key), f"unknown key; expected one of {', '.join(keys)}")


def _filter(value: Any, where: _Locator) -> Filter:
    if not isinstance(value, dict):
        raise where.fail(("filter",), "must be a table of `ignore` and `keep` globs")
    _known_keys(value, FILTER_KEYS, where, ("filter",))
    return Filter(
        **{key: _names(value.get(key, []), where, ("filter", key)) for key in FILTER_KEYS}
    )


def _cells(document: dict[str, Any], where: _Locator) -> dict[str, dict[str, Entry]]:
    cells = document.get("cells", {})
    if not isinstance(cells, dict):
        raise where.fail(("cells",), "must be a table of cells")
    result: dict[str, dict[str, Entry]] = {}
    for column, artifacts in cells.items():
        if "/" not in column or not isinstance(artifacts, dict):
            raise where.fail(
                ("cells", column),
                "expected a table per `toolchain/target`, of a table per artifact",
            )
        result[column] = {
            artifact: _entry(entry, where, ("cells", column, artifact))
            for artifact, entry in artifacts.items()
        }
    return result


def _entry(value: Any, where: _Locator, path: tuple[str, ...]) -> Entry:
    if not isinstance(value, dict):
        raise where.fail(path, "expected a table with `built` and `exports`")
    _known_keys(value, ENTRY_KEYS, where, path)
    built = value.get("built")
    if not isinstance(built, bool):
        raise where.fail((*path, "built"), "expected true or false")
    return Entry(built=built, exports=_names(value.get("exports", []), where, (*path, "exports")))


def _names(value: Any, where: _Locator, path: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise where.fail(path, "expected a list of strings")
    return tuple(value)
