"""The grid every view shares: scenarios as rows, (toolchain, rustc release, target) as columns.

Columns read in a fixed, meaningful order: the host toolchain (glibc) first, then the other
Linux routes, Windows, macOS (each vendor route beside its stand-in), wasm and PTX; a toolchain
this list does not know goes after them, alphabetically. Within a toolchain each target's
default rustc release comes first, then the older ones, newest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from orchestrator.layout import slug
from orchestrator.results.model import CellRecord
from orchestrator.status import Reason, Status

TOOLCHAIN_ORDER = (
    "glibc",
    "musl",
    "musl-dynamic",
    "windows-gnu",
    "msvc",
    "msvc-xwin",
    "macos",
    "macos-sdk",
    "wasm",
    "emscripten",
    "ptx",
)

# The word under a grid cell's symbol: why it is what it is, short enough for a narrow column.
SHORT_REASONS: dict[Reason, str] = {
    Reason.BUILD_ERROR: "build",
    Reason.LINK_ERROR: "link",
    Reason.PREPARE_ERROR: "prepare",
    Reason.SYMBOL_MISSING: "missing sym",
    Reason.SYMBOL_UNEXPECTED: "extra sym",
    Reason.CHECK_FAILED: "check",
    Reason.RUN_FAILED: "run",
    Reason.INSPECTION_ERROR: "inspect",
    Reason.KNOWN_UPSTREAM: "upstream",
    Reason.UNEXPECTED_PASS: "xpass",
    Reason.NOT_APPLICABLE: "n/a",
    Reason.TIMEOUT: "timeout",
    Reason.OOM: "oom",
    Reason.TOOLCHAIN_MISSING: "no image",
    Reason.SDK_MISSING: "no SDK",
    Reason.ENGINE_ERROR: "engine",
}


def short_word(record: CellRecord) -> str:
    """`link`, `no SDK`, `pass`: the reason in a word, or the status when there is none."""
    if record.reason is None:
        return record.status.value
    return SHORT_REASONS.get(record.reason, record.reason.value)


def cell_anchor(cell_id: str) -> str:
    """The HTML id of a cell's detail: `cell-` and the id as the run names its log file."""
    return "cell-" + slug(cell_id)


def page_name(scenario: str) -> str:
    """A scenario's name as a file name."""
    return slug(scenario)


def short_target(triple: str) -> str:
    """`x86_64-unknown-linux-gnu` → `x86_64-linux-gnu`: the vendor parts say nothing here."""
    parts = [part for part in triple.split("-") if part not in {"unknown", "pc"}]
    return "-".join(parts) or triple


@dataclass(frozen=True, kw_only=True)
class Column:
    """One (toolchain, release, target) and the route its cells link with."""

    key: str
    toolchain: str
    release: str
    target: str
    linker: str
    libraries: str
    stand_in: bool

    @property
    def default_release(self) -> bool:
        """The matrix's default release: the one a cell id does not spell out."""
        return "@" not in self.key

    @property
    def short_target(self) -> str:
        return short_target(self.target)


def toolchain_rank(toolchain: str) -> int:
    """Where a toolchain sits in TOOLCHAIN_ORDER; one it does not know, after all of them."""
    return (
        TOOLCHAIN_ORDER.index(toolchain) if toolchain in TOOLCHAIN_ORDER else len(TOOLCHAIN_ORDER)
    )


def column_order(column: Column) -> tuple[int, str, str, int, tuple[int, ...], str]:
    known = toolchain_rank(column.toolchain)
    newest_first = tuple(-int(part) if part.isdigit() else 0 for part in column.release.split("."))
    default_first = 0 if column.default_release else 1
    return (known, column.toolchain, column.target, default_first, newest_first, column.release)


def grid_columns(cells: Iterable[CellRecord], missing: Iterable[str] = ()) -> list[Column]:
    """Every column once, in the grid's order (see the module's docstring).

    `missing`: ids of planned cells without a result; a column only they name is shown too.
    """
    cells = list(cells)
    columns: dict[str, Column] = {}
    default = next((r.release for r in cells if "@" not in r.column), "")
    for cell_id in missing:
        key, _, _ = cell_id.rpartition("/")  # see missing_places
        head, _, target = key.partition("/")
        toolchain, _, release = head.partition("@")
        columns[key] = Column(
            key=key,
            toolchain=toolchain,
            release=release or default,
            target=target,
            linker="",
            libraries="",
            stand_in=False,
        )
    for record in cells:
        if record.column not in columns or not columns[record.column].linker:
            columns[record.column] = Column(
                key=record.column,
                toolchain=record.toolchain,
                release=record.release,
                target=record.target,
                linker=record.route.linker,
                libraries=record.route.libraries,
                stand_in=record.route.stand_in,
            )
    return sorted(columns.values(), key=column_order)


def scenario_names(cells: Iterable[CellRecord], missing: Iterable[str] = ()) -> list[str]:
    """Every scenario once, sorted; `missing` (planned ids without a result) adds theirs."""
    named = {cell_id.rpartition("/")[2] for cell_id in missing}  # see missing_places
    return sorted({record.scenario for record in cells} | named)


def missing_places(missing: Iterable[str]) -> set[tuple[str, str]]:
    """(scenario, column key) of planned cells without a result.

    A missing cell has no record, only its id: `toolchain[@release]/target/scenario`, whose
    scenario is the part after the last `/` (scenario names and targets hold none).
    """
    places = set()
    for cell_id in missing:
        column, _, scenario = cell_id.rpartition("/")
        places.add((scenario, column))
    return places


@dataclass(frozen=True, kw_only=True)
class Collapsed:
    """A toolchain whose every cell is skipped (or not applicable) for one reason: one column."""

    status: Status
    reason: Reason | None
    cells: int
    detail: str  # the first cell's detail, first line: usually the same for all
    anchor: str  # the first cell's detail


def collapsed_toolchain(records: Sequence[CellRecord]) -> Collapsed | None:
    """The one reason all of a toolchain's cells share when none of them ran, if so."""
    if not records:
        return None
    first = records[0]
    quiet = (Status.SKIP, Status.NOT_APPLICABLE)
    if first.status not in quiet or any(
        r.status is not first.status or r.reason is not first.reason for r in records
    ):
        return None
    detail = next((line.strip() for line in first.detail.splitlines() if line.strip()), "")
    return Collapsed(
        status=first.status,
        reason=first.reason,
        cells=len(records),
        detail=detail,
        anchor=cell_anchor(first.id),
    )
