"""Faults around a run on the fake engine: damaged cache entries, failing writes, a second run.

None of them may end in a traceback or lose a finished cell.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrator.cell.cache import OUTPUT_FILE
from orchestrator.config.matrix import Matrix, load_matrix
from tests.unit.test_pipeline import by_toolchain, run, toolchain_engine, write_project


@pytest.fixture
def matrix(tmp_path: Path) -> Matrix:
    return load_matrix(write_project(tmp_path / "project"))


def cache_entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "cells").glob(f"*/{OUTPUT_FILE}"))


@pytest.mark.parametrize(
    "damage",
    [
        lambda entry: entry.update(builds=[]),  # replayed, it would judge nothing: a pass
        lambda entry: entry.update(duration_s="soon"),
        lambda entry: entry["builds"][0].update(files={"liblib.so": 1}),
    ],
    ids=["no builds", "a string for a number", "an object for a list"],
)
def test_a_damaged_cell_cache_entry_is_built_again(
    matrix: Matrix, tmp_path: Path, damage: Callable[[dict[str, Any]], None]
) -> None:
    engine = toolchain_engine()
    run(engine, matrix, tmp_path)
    for path in cache_entries(tmp_path):
        entry = json.loads(path.read_text())
        damage(entry)
        path.write_text(json.dumps(entry))
    started = len(engine.containers.started)

    cells = by_toolchain(run(engine, matrix, tmp_path))

    assert len(engine.containers.started) == started + 2
    for cell in cells.values():
        assert (cell["status"], cell["cached"]) == ("pass", False)
        assert cell["artifacts"][0]["exports"] == ["answer"]
