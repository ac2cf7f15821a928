"""Faults around a run on the fake engine: damaged cache entries, failing writes, a second run.

None of them may end in a traceback or lose a finished cell.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any

import pytest

from orchestrator import serial
from orchestrator.cell.cache import OUTPUT_FILE, CellCache
from orchestrator.cell.observation import CellOutput
from orchestrator.cli import main
from orchestrator.config.matrix import Matrix, load_matrix
from orchestrator.report import INDEX_HTML
from orchestrator.results.document import RESULTS_FILE
from tests.unit.fake_engine import FakeEngine
from tests.unit.test_pipeline import (
    by_toolchain,
    read_results,
    run,
    toolchain_engine,
    write_project,
)
from tests.unit.test_schema import SAMPLE


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


# -- writes that fail: exit 7 naming the file, nothing finished lost ---------------------------


def run_cli(
    monkeypatch: pytest.MonkeyPatch, engine: FakeEngine, matrix: Matrix, tmp_path: Path
) -> int:
    """`linkmatrix run` on the fake engine, into tmp_path/out and tmp_path/cache."""
    monkeypatch.setattr("orchestrator.engine.client.connect", lambda: engine)
    out, cache = tmp_path / "out", tmp_path / "cache"
    return main(["run", "--matrix", str(matrix.path), "--out", str(out), "--cache-dir", str(cache)])


def test_a_results_file_that_cannot_be_written_exits_7_and_the_cells_stay_cached(
    matrix: Matrix,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    blocked = tmp_path / "out" / RESULTS_FILE
    blocked.mkdir(parents=True)  # a folder where the file goes: the write fails, even as root
    engine = toolchain_engine()
    assert run_cli(monkeypatch, engine, matrix, tmp_path) == 7
    error = capsys.readouterr().err
    assert error.startswith(f"linkmatrix: error: {blocked}: cannot write results (")
    assert "Traceback" not in error
    # the cell whose results write failed, and the next (built while the first was published,
    # the error raised when the next is handed over): both kept for the next run
    assert len(cache_entries(tmp_path)) == 2

    blocked.rmdir()
    started = len(engine.containers.started)
    assert run_cli(monkeypatch, engine, matrix, tmp_path) == 0
    cells = by_toolchain(read_results(tmp_path))
    assert (cells["wasm"]["cached"], cells["wasm-sdk"]["cached"]) == (True, True)
    assert len(engine.containers.started) == started  # nothing built twice


def test_a_full_cell_cache_exits_7_naming_the_entry_and_keeps_what_finished(
    matrix: Matrix,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = CellCache.store
    stored: list[str] = []

    def fill_up(cache: CellCache, key: str, output: CellOutput) -> None:
        if stored:  # the second cell finds the disk full, once the first is published
            wait_for(tmp_path / "out" / RESULTS_FILE)  # (in the finisher's thread, meanwhile)
            write_to_a_full_disk(monkeypatch)
        store(cache, key, output)
        stored.append(key)

    monkeypatch.setattr(CellCache, "store", fill_up)
    assert run_cli(monkeypatch, toolchain_engine(), matrix, tmp_path) == 7
    error = capsys.readouterr().err
    entry = tmp_path / "cache" / "cells"
    assert error.startswith(f"linkmatrix: error: {entry}/")
    assert f"/{OUTPUT_FILE}: cannot write (No space left on device). Free some space" in error
    assert f"every finished cell is kept in the cell cache ({entry})" in error
    assert [path.parent.name for path in cache_entries(tmp_path)] == stored[:1]
    (finished,) = read_results(tmp_path)["cells"]  # written as the run ended
    assert (finished["toolchain"], finished["status"]) == ("wasm", "pass")


def wait_for(path: Path, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def write_to_a_full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """serial's atomic writes go to /dev/full from now on: every write finds the disk full."""

    def full(fd: int, mode: str, *, encoding: str) -> IO[str]:
        os.close(fd)
        return Path("/dev/full").open(mode, encoding=encoding)  # the caller closes it

    monkeypatch.setattr(serial, "os", SimpleNamespace(fdopen=full))


def test_an_atomic_write_that_finds_the_disk_full_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "entry.json"
    write_to_a_full_disk(monkeypatch)
    with pytest.raises(OSError, match="No space left on device") as failed:
        serial.write_json_atomic(path, {"a": "b" * 100_000})
    assert (failed.value.errno, failed.value.filename) == (errno.ENOSPC, str(path))
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind


def test_views_that_cannot_be_written_exit_7_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / RESULTS_FILE
    shutil.copy(SAMPLE, results)
    (tmp_path / INDEX_HTML).mkdir()
    assert main(["report", str(results)]) == 7
    error = capsys.readouterr().err
    assert error.startswith(f"linkmatrix: error: {tmp_path / INDEX_HTML}: cannot write (")
    assert "run the same command again" in error


def test_a_write_that_does_not_say_which_file_names_both_folders(
    matrix: Matrix,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def full(*_args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")  # as a write() says it

    monkeypatch.setattr("orchestrator.pipeline.link_tree", full)
    assert run_cli(monkeypatch, toolchain_engine(), matrix, tmp_path) == 7
    error = capsys.readouterr().err
    out, cache = tmp_path / "out", tmp_path / "cache"
    assert error.startswith(
        f"linkmatrix: error: {out} or {cache}: cannot write (No space left on device). "
    )
    # stored before their files were linked out: the cell whose link failed and the next,
    # built while the first was published (the error is raised when the next is handed over)
    assert len(cache_entries(tmp_path)) == 2


def test_views_that_cannot_be_written_still_leave_the_finished_results(
    matrix: Matrix,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def full(*_args: object, **_kwargs: object) -> list[Path]:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("orchestrator.cli.write_views", full)
    assert run_cli(monkeypatch, toolchain_engine(), matrix, tmp_path) == 7
    assert "Traceback" not in capsys.readouterr().err
    written = json.loads((tmp_path / "out" / RESULTS_FILE).read_text())
    assert written["provenance"]["complete"] is True  # the results' last write came first
