"""The command line: clear errors with their exit codes, never a traceback."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from orchestrator.cli import BROKEN_PIPE_EXIT, main
from orchestrator.plan import MAX_SHARDS
from tests.unit.conftest import MATRIX, ProjectFactory


def test_list_cells_as_json_needs_no_engine(
    make_project: ProjectFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_project()
    assert main(["run", "--matrix", str(path), "--list-cells", "--json", "--only", "wasm/*"]) == 0
    cells = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in cells] == [
        "wasm/wasm32-unknown-unknown/alpha",
        "wasm/wasm32-unknown-unknown/beta",
    ]
    assert cells[0]["image"] == "wasm"


def test_broken_matrix_exits_3_with_one_line_naming_file_and_key(
    make_project: ProjectFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_project(MATRIX.replace("limits:", "limts:"))
    assert main(["run", "--matrix", str(path)]) == 3
    error = capsys.readouterr().err
    assert error.startswith(f"linkmatrix: error: {path}:")
    assert "unknown key 'limts'. Did you mean 'limits'?" in error
    assert "Traceback" not in error


def test_missing_matrix_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--matrix", str(tmp_path / "nope.yaml")]) == 3
    assert "no such matrix file" in capsys.readouterr().err


def test_no_engine_exits_5_and_says_how_to_point_at_one(
    make_project: ProjectFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--matrix", str(make_project()), "--out", "/nonexistent/out"]) == 5
    error = capsys.readouterr().err
    assert "No Docker engine answered" in error
    assert "DOCKER_HOST" in error


def test_selection_matching_nothing_exits_4(
    make_project: ProjectFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["run", "--matrix", str(make_project()), "--only", "nothing/*", "--list-cells"]) == 4
    )
    assert "matches no cell" in capsys.readouterr().err


@pytest.mark.parametrize(
    "arguments",
    [
        ["run", "--shard", "0/4", "--list-cells"],
        ["run", "--shard", "5/4", "--list-cells"],
        ["run", "--shard", "two", "--list-cells"],
        ["run", "--shard", "x", "--list-cells"],
        ["run", "--shard", "0/0", "--list-cells"],
        ["run", "--shard", "1/20000000", "--list-cells"],
        ["run", "--shard", "1/257", "--list-cells"],
        ["run", "--shard", "-1/4", "--list-cells"],
        ["run", "--shard", "\u0663/4", "--list-cells"],  # an Arabic-Indic 3: not I/N
        ["run", "--shard", "1/" + "9" * 4000, "--list-cells"],
        ["run", "--json"],
        ["images", "--recipe", "--shard", "0/1"],
    ],
)
def test_misuse_is_a_usage_error_before_any_work(
    arguments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(arguments)
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "Traceback" not in error
    assert error.splitlines()[-1].startswith("linkmatrix")  # one line: what is wrong
    assert "error: " in error.splitlines()[-1]


def test_the_most_shards_plan_at_once(
    make_project: ProjectFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_project()
    started = time.monotonic()
    for index in (1, 2, MAX_SHARDS):
        assert (
            main(["run", "--matrix", str(path), "--shard", f"{index}/{MAX_SHARDS}", "--list-cells"])
            == 0
        )
    assert time.monotonic() - started < 5
    assert "/alpha" in capsys.readouterr().out  # the first shard has cells; the last none


def test_a_reader_that_goes_away_ends_the_listing_quietly(
    make_project: ProjectFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = make_project()
    reader, writer = os.pipe()
    os.close(reader)  # `linkmatrix run --list-cells | head -0`: the reader is gone
    with open(writer, "w", encoding="utf-8") as stdout:  # noqa: PTH123 - a descriptor
        monkeypatch.setattr(sys, "stdout", stdout)
        assert main(["run", "--matrix", str(path), "--list-cells"]) == BROKEN_PIPE_EXIT
        print("after", file=stdout, flush=True)  # stdout is /dev/null now: nothing fails
    assert capsys.readouterr().err == ""


def test_help_lists_every_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    shown = capsys.readouterr().out
    for code in (0, 1, 2, 3, 4, 5, 6, 7, 8, 130, 141):
        assert f"  {code:>3}  " in shown
