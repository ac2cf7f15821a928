"""matrix.yaml → cells, selected and grouped one container per image. Pure: no Docker here."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.config.matrix import Matrix, TargetSpec, Toolchain
from orchestrator.config.scenario import ArtifactSpec, Check, RunSpec, Scenario
from orchestrator.errors import SelectionError
from orchestrator.layout import slug


@dataclass(frozen=True, kw_only=True)
class Cell:
    """One (toolchain, rustc release, target, scenario): the unit of work and of results."""

    id: str
    toolchain: str
    release: str
    target: str
    scenario: str
    image: str
    not_applicable: str | None

    @property
    def slug(self) -> str:
        """The id as a file name."""
        return slug(self.id)


@dataclass(frozen=True, kw_only=True)
class CellWork:
    """What one cell does, resolved once from its scenario: the runner and the judge share it.

    `artifacts` are those the cell's coordinates select; `checks` and `runs` those that apply to
    the cell (a check on an artifact that was not selected is left out later, by the judge).
    """

    cell: Cell
    scenario: Scenario
    artifacts: tuple[ArtifactSpec, ...]
    checks: tuple[Check, ...]
    runs: tuple[RunSpec, ...]


def cell_work(cell: Cell, scenario: Scenario) -> CellWork:
    """The artifacts, checks and runs of `scenario` that apply to `cell`."""
    where = {"toolchain": cell.toolchain, "target": cell.target, "release": cell.release}
    return CellWork(
        cell=cell,
        scenario=scenario,
        artifacts=tuple(a for a in scenario.artifacts if a.when.matches(**where)),
        checks=tuple(c for c in scenario.checks if c.applies(**where)),
        runs=tuple(r for r in scenario.runs if r.applies(**where)),
    )


@dataclass(frozen=True, kw_only=True)
class ImageKey:
    """What one container runs: a toolchain image (it holds every release) and the release
    its cells use (selected by the container's environment).
    """

    image: str
    release: str

    def __str__(self) -> str:
        return f"{self.image}@{self.release}"


@dataclass(frozen=True, kw_only=True)
class Group:
    """The cells that run in one container, in order."""

    key: ImageKey
    cells: tuple[Cell, ...]


# A CI system runs at most this many jobs of one matrix (GitHub Actions: 256), and far fewer
# shares than that are useful; the cap also keeps planning quick (its cost grows with N).
MAX_SHARDS = 256


@dataclass(frozen=True, kw_only=True)
class Shard:
    """`--shard I/N`: the I-th (1-based) of N shares, N at most MAX_SHARDS."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"([0-9]{1,9})/([0-9]{1,9})", text.strip())
        if not match or not 1 <= int(match[1]) <= int(match[2]):
            raise SelectionError(
                f"--shard {text!r}: expected I/N with 1 <= I <= N, e.g. --shard 2/4."
            )
        if int(match[2]) > MAX_SHARDS:
            raise SelectionError(
                f"--shard {text!r}: N may be at most {MAX_SHARDS} (more shares than a CI "
                "matrix runs jobs); e.g. --shard 2/4."
            )
        return cls(index=int(match[1]), count=int(match[2]))


@dataclass(frozen=True, kw_only=True)
class Plan:
    """What a run will do: every selected cell, and the containers to run them in."""

    cells: tuple[Cell, ...]
    groups: tuple[Group, ...]

    @property
    def images(self) -> tuple[str, ...]:
        """The toolchain images the groups run in, once each, in plan order."""
        return tuple(dict.fromkeys(group.key.image for group in self.groups))


def cell_id(
    *, toolchain: str, release: str, default_release: str, target: str, scenario: str
) -> str:
    """`toolchain[@release]/target/scenario`; the default release carries no suffix."""
    suffix = "" if release == default_release else f"@{release}"
    return f"{toolchain}{suffix}/{target}/{scenario}"


def all_cells(matrix: Matrix) -> tuple[Cell, ...]:
    """Every cell the matrix declares, in a stable order."""
    return tuple(
        _cell(matrix, toolchain, release, target, scenario)
        for toolchain in matrix.toolchains
        for release in toolchain.releases
        for target in toolchain.targets
        for scenario in matrix.scenarios
    )


def _cell(
    matrix: Matrix, toolchain: Toolchain, release: str, target: TargetSpec, scenario: Scenario
) -> Cell:
    return Cell(
        id=cell_id(
            toolchain=toolchain.name,
            release=release,
            default_release=matrix.default_release,
            target=target.triple,
            scenario=scenario.name,
        ),
        toolchain=toolchain.name,
        release=release,
        target=target.triple,
        scenario=scenario.name,
        image=toolchain.image,
        not_applicable=scenario.inapplicable_reason(
            toolchain=toolchain.name, target=target.triple, release=release
        ),
    )


def select(cells: Sequence[Cell], only: Sequence[str]) -> tuple[Cell, ...]:
    """The cells whose id matches any of the `only` globs (all cells when none is given)."""
    if not only:
        return tuple(cells)
    chosen = tuple(cell for cell in cells if any(fnmatch.fnmatchcase(cell.id, g) for g in only))
    if not chosen:
        examples = ", ".join(cell.id for cell in cells[:3])
        raise SelectionError(
            f"--only {' '.join(only)} matches no cell. Ids look like: {examples}. "
            "List them with --list-cells."
        )
    return chosen


def group_cells(cells: Sequence[Cell]) -> tuple[Group, ...]:
    """Runnable cells grouped one container per (image, release), in first-seen order."""
    groups: dict[ImageKey, list[Cell]] = {}
    for cell in cells:
        if cell.not_applicable is None:
            groups.setdefault(ImageKey(image=cell.image, release=cell.release), []).append(cell)
    return tuple(Group(key=key, cells=tuple(members)) for key, members in groups.items())


def shard_groups(groups: Sequence[Group], shard: Shard) -> tuple[Group, ...]:
    """A stable, balanced share: whole (image, target) batches go to the least-loaded shard.

    Cells that share an image and a std build stay together, so a shard builds each image and
    each std once; the cost of a batch is its number of cells plus one for the std it needs.
    """
    batches = sorted(_batches(groups), key=lambda b: (-(len(b) + 1), b[0].id))
    loads = [0] * shard.count
    mine: set[str] = set()
    for batch in batches:
        lightest = min(range(shard.count), key=lambda i: (loads[i], i))
        loads[lightest] += len(batch) + 1
        if lightest == shard.index - 1:
            mine.update(cell.id for cell in batch)
    return tuple(
        Group(key=g.key, cells=kept)
        for g in groups
        if (kept := tuple(c for c in g.cells if c.id in mine))
    )


def _batches(groups: Sequence[Group]) -> list[tuple[Cell, ...]]:
    batches: dict[tuple[ImageKey, str], list[Cell]] = {}
    for group in groups:
        for cell in group.cells:
            batches.setdefault((group.key, cell.target), []).append(cell)
    return [tuple(cells) for cells in batches.values()]


def make_plan(matrix: Matrix, *, only: Sequence[str] = (), shard: Shard | None = None) -> Plan:
    """The pure plan: select by glob, shard, group one container per image."""
    cells = select(all_cells(matrix), only)
    groups = group_cells(cells)
    if shard is not None:
        groups = shard_groups(groups, shard)
        runnable = {cell.id for group in groups for cell in group.cells}
        # not-applicable cells cost nothing and run nowhere: the first shard reports them
        cells = tuple(
            c for c in cells if c.id in runnable or (c.not_applicable and shard.index == 1)
        )
    return Plan(cells=cells, groups=groups)
