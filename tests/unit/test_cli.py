"""The command line: clear errors with their exit codes, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.cli import main
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
    assert "Traceback" not in capsys.readouterr().err


def test_help_lists_every_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    shown = capsys.readouterr().out
    for code in (0, 1, 2, 3, 4, 5, 6, 7, 8, 130):
        assert f"  {code:>3}  " in shown
