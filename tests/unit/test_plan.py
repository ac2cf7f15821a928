"""Planning is pure: ids, selection, grouping and sharding, with no Docker."""

from __future__ import annotations

import pytest

from orchestrator.config.matrix import Matrix
from orchestrator.errors import SelectionError
from orchestrator.plan import MAX_SHARDS, Shard, all_cells, make_plan
from tests.unit.conftest import ProjectFactory


def test_cells_cover_toolchains_releases_targets_scenarios(matrix: Matrix) -> None:
    ids = [cell.id for cell in all_cells(matrix)]
    assert ids == [
        "glibc/x86_64-unknown-linux-gnu/alpha",
        "glibc/x86_64-unknown-linux-gnu/beta",
        "glibc@1.85/x86_64-unknown-linux-gnu/alpha",
        "glibc@1.85/x86_64-unknown-linux-gnu/beta",
        "wasm/wasm32-unknown-unknown/alpha",
        "wasm/wasm32-unknown-unknown/beta",
    ]
    assert all_cells(matrix) == all_cells(matrix)


def test_only_selects_by_glob_and_groups_one_container_per_image(matrix: Matrix) -> None:
    plan = make_plan(matrix, only=["glibc*/*/alpha"])
    assert [c.id for c in plan.cells] == [
        "glibc/x86_64-unknown-linux-gnu/alpha",
        "glibc@1.85/x86_64-unknown-linux-gnu/alpha",
    ]
    assert [str(g.key) for g in plan.groups] == ["glibc@1.96", "glibc@1.85"]


def test_only_matching_nothing_is_an_error_listing_example_ids(matrix: Matrix) -> None:
    with pytest.raises(SelectionError, match=r"matches no cell\. Ids look like: glibc/"):
        make_plan(matrix, only=["musl/*"])


def test_not_applicable_cells_are_planned_but_run_nowhere(make_project: ProjectFactory) -> None:
    from orchestrator.config.matrix import load_matrix
    from tests.unit.conftest import MATRIX

    matrix = load_matrix(make_project(MATRIX.replace('    releases: ["1.96"]\n', "")))
    plan = make_plan(matrix, only=["wasm*"])
    not_applicable = [c for c in plan.cells if c.not_applicable]
    assert [c.id for c in not_applicable] == [
        "wasm@1.85/wasm32-unknown-unknown/alpha",
        "wasm@1.85/wasm32-unknown-unknown/beta",
    ]
    assert not_applicable[0].not_applicable == "not on old wasm"
    assert all(c.not_applicable is None for g in plan.groups for c in g.cells)


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_shards_are_disjoint_cover_everything_and_keep_batches_together(
    matrix: Matrix, count: int
) -> None:
    whole = make_plan(matrix)
    shards = [make_plan(matrix, shard=Shard(index=i, count=count)) for i in range(1, count + 1)]
    ids = [c.id for s in shards for g in s.groups for c in g.cells]
    assert sorted(ids) == sorted(c.id for g in whole.groups for c in g.cells)
    assert len(ids) == len(set(ids))
    for shard in shards:
        batches = {(str(g.key), c.target) for g in shard.groups for c in g.cells}
        for other in shards:
            if other is not shard:
                assert not batches & {(str(g.key), c.target) for g in other.groups for c in g.cells}


def test_shard_text_is_validated() -> None:
    assert Shard.parse("2/4") == Shard(index=2, count=4)
    for text in ("0/4", "5/4", "x", "1/0"):
        with pytest.raises(SelectionError, match="expected I/N"):
            Shard.parse(text)


def test_shard_count_is_capped() -> None:
    assert Shard.parse(f"{MAX_SHARDS}/{MAX_SHARDS}") == Shard(index=MAX_SHARDS, count=MAX_SHARDS)
    for text in (f"1/{MAX_SHARDS + 1}", "1/20000000"):
        with pytest.raises(SelectionError, match=f"N may be at most {MAX_SHARDS}"):
            Shard.parse(text)
