"""Every command that reads a results file turns a damaged one into exit 7 naming the file and
what is wrong: never a traceback, and for `run --baseline` before any engine or cell.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from orchestrator.cli import main
from tests.unit.conftest import ProjectFactory
from tests.unit.test_results import DAMAGES
from tests.unit.test_schema import SAMPLE

COMMANDS = {
    "diff (old)": lambda bad, good, out: ["diff", str(bad), str(good)],
    "diff (new)": lambda bad, good, out: ["diff", str(good), str(bad)],
    "merge": lambda bad, good, out: ["merge", str(good), str(bad), "--out", str(out)],
    "merge --baseline": lambda bad, good, out: [
        "merge",
        str(good),
        "--out",
        str(out),
        "--baseline",
        str(bad),
    ],
    "report": lambda bad, good, out: ["report", str(bad)],
    "report --baseline": lambda bad, good, out: ["report", str(good), "--baseline", str(bad)],
    "export": lambda bad, good, out: ["export", str(bad), "--out", str(out)],
}


# every damage through the one read every command shares; every command with a few of them
CASES = [("report --baseline", damage) for damage in DAMAGES] + [
    (command, damage)
    for command in COMMANDS
    if command != "report --baseline"
    for damage in ("random bytes", "a list", "deep nesting", "a summary without every status")
]


@pytest.mark.parametrize(("command", "damage"), CASES)
def test_a_damaged_results_file_exits_7_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str, command: str
) -> None:
    good = tmp_path / "good" / "results.json"
    good.parent.mkdir()
    shutil.copy(SAMPLE, good)
    bad = tmp_path / "bad.json"
    DAMAGES[damage](bad)
    out = tmp_path / "out"
    assert main(COMMANDS[command](bad, good, out)) == 7
    error = capsys.readouterr().err
    assert error.startswith(f"linkmatrix: error: {bad}: ")
    assert "Traceback" not in error
    assert not out.exists()


@pytest.mark.parametrize("damage", DAMAGES)
def test_run_checks_its_baseline_before_any_engine_or_cell(
    make_project: ProjectFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    damage: str,
) -> None:
    bad = tmp_path / "previous.json"
    DAMAGES[damage](bad)
    out = tmp_path / "out"
    arguments = ["run", "--matrix", str(make_project()), "--out", str(out), "--baseline", str(bad)]
    assert main(arguments) == 7  # not 5: the engine (unreachable here) was never asked
    assert capsys.readouterr().err.startswith(f"linkmatrix: error: {bad}: ")
    assert not out.exists()
