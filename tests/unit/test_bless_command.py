"""`linkmatrix run --bless` end to end on the fake engine (no Docker): what it writes, prints
and exits with, and what it refuses before anything is built.

The project is test_pipeline's: two toolchains (wasm, wasm-sdk) whose fake cargo "builds" a
wasm module exporting `answer`; here the scenario expects `question`, so both cells fail.
"""

from __future__ import annotations

import dataclasses
import errno
from pathlib import Path

import pytest

from orchestrator import cli
from orchestrator.bless.command import bless_run, bless_targets
from orchestrator.cli import main
from orchestrator.config.matrix import load_matrix
from orchestrator.log import Reporter
from orchestrator.plan import make_plan
from orchestrator.resources import BUNDLE
from orchestrator.results.codec import load_results
from tests.unit.fake_engine import FakeEngine
from tests.unit.test_pipeline import SCENARIO, toolchain_engine, write_project

WASM = "wasm/wasm32-unknown-unknown/answer"
PLACE = '{ toolchain: wasm, target: wasm32-unknown-unknown, release: "1.96" }'
EXPECTS_QUESTION = SCENARIO.replace(
    "    exports: { includes: [answer] }\n",
    "    exports: { includes: [question] }  # what the crate is for\n",
)


def project(root: Path, scenario: str = EXPECTS_QUESTION) -> Path:
    matrix = write_project(root)
    (root / "scenarios" / "answer" / "scenario.yaml").write_text(scenario)
    return matrix


def scenario_file(matrix: Path) -> Path:
    return matrix.parent / "scenarios" / "answer" / "scenario.yaml"


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    fake = toolchain_engine()
    monkeypatch.setattr("orchestrator.engine.client.connect", lambda: fake)
    return fake


def run(tmp_path: Path, matrix: Path, *extra: str) -> int:
    out, cache = tmp_path / "out", tmp_path / "cache"
    argv = ["run", "--matrix", str(matrix), "--out", str(out), "--cache-dir", str(cache)]
    return main([*argv, *extra])


def test_bless_writes_the_failed_cells_expectation_and_the_next_run_passes_it(
    engine: FakeEngine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    matrix = project(tmp_path / "project")
    path = scenario_file(matrix)
    path.chmod(0o664)
    assert run(tmp_path, matrix, "--bless", "--only", "wasm/*") == 0  # every failure blessed
    out = capsys.readouterr().out
    assert f"blessed {path}: lib: exports: includes ['question'] on {WASM}\n" in out
    assert (
        "blessed 1 failed expectation of 1 cell into 1 scenario file: review the diff "
        "(`git diff`) before committing\n"
    ) in out
    assert path.read_text() == EXPECTS_QUESTION.replace(
        "# what the crate is for\n",
        f"# what the crate is for\n    unless: {PLACE}\n"
        "  - artifact: lib\n"
        "    exports: { excludes: [question] }\n"
        f"    when: {PLACE}\n",
    )
    assert path.stat().st_mode & 0o777 == 0o664
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []

    execs = len(engine.execs)
    assert run(tmp_path, matrix, "--only", "wasm/*") == 0
    assert len(engine.execs) == execs  # expectations are no build input: judged again only
    assert run(tmp_path, matrix) == 1  # wasm-sdk was not selected: still failing, unchanged
    assert "wasm-sdk" not in path.read_text()


def test_a_run_with_nothing_failed_blesses_nothing(
    engine: FakeEngine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    matrix = project(tmp_path / "project", SCENARIO)
    assert run(tmp_path, matrix, "--bless") == 0
    assert "nothing to bless: no cell failed\n" in capsys.readouterr().out
    assert scenario_file(matrix).read_text() == SCENARIO


def test_the_installed_scenarios_are_refused_before_anything_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    package = tmp_path / "site-packages" / "orchestrator"
    matrix = project(package / BUNDLE)
    monkeypatch.setattr("importlib.resources.files", lambda _name: package)
    monkeypatch.setattr("orchestrator.engine.client.connect", pytest.fail)
    assert run(tmp_path, matrix, "--bless") == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith(
        "linkmatrix: error: --bless writes the expectations into each scenario's "
        "scenario.yaml, and answer are the installed linkmatrix's own ("
    )
    assert "package data, not a checkout" in error
    assert "--scenarios DIR --no-builtin-scenarios --bless" in error
    assert scenario_file(matrix).read_text() == EXPECTS_QUESTION


def test_a_file_that_cannot_be_rewritten_is_refused_before_anything_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    matrix = project(tmp_path / "project")
    monkeypatch.setattr("orchestrator.engine.client.connect", pytest.fail)
    monkeypatch.setattr("orchestrator.bless.command.os.access", lambda *_: False)  # even as root
    assert run(tmp_path, matrix, "--bless") == 2
    error = capsys.readouterr().err
    assert error == (
        f"linkmatrix: error: {scenario_file(matrix).resolve()}: --bless cannot rewrite it (the "
        "file or its folder is not writable); make both writable, or leave its cells out with "
        "--only.\n"
    )


def test_bless_is_no_option_of_a_listing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    matrix = project(tmp_path / "project")
    with pytest.raises(SystemExit) as stopped:
        run(tmp_path, matrix, "--bless", "--list-cells")
    assert stopped.value.code == 2
    assert "--bless goes with a run, not with --list-cells" in capsys.readouterr().err


def test_an_interrupted_run_blesses_nothing_and_says_why(
    engine: FakeEngine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    matrix = project(tmp_path / "project")

    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_run_locked", interrupted)
    assert run(tmp_path, matrix, "--bless") == 130
    error = capsys.readouterr().err
    assert error.endswith(
        "Nothing was blessed: --bless writes only what a complete run observed.\n"
    )
    assert scenario_file(matrix).read_text() == EXPECTS_QUESTION


def test_an_incomplete_document_is_not_blessed(
    engine: FakeEngine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    matrix_path = project(tmp_path / "project")
    assert run(tmp_path, matrix_path) == 1
    document = load_results(tmp_path / "out" / "results.json")
    stopped = dataclasses.replace(
        document, provenance=dataclasses.replace(document.provenance, complete=False)
    )
    matrix = load_matrix(matrix_path)
    plan = make_plan(matrix)
    capsys.readouterr()
    code = bless_run(stopped, matrix, plan, bless_targets(matrix, plan), Reporter())
    assert code == 1
    assert capsys.readouterr().out == (
        "nothing blessed: the run stopped before the end of its plan, and --bless writes only "
        "what a complete run observed\n"
    )
    assert scenario_file(matrix_path).read_text() == EXPECTS_QUESTION


def test_a_file_edited_during_the_run_is_left_alone(
    engine: FakeEngine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    matrix = project(tmp_path / "project")
    path = scenario_file(matrix)
    real = cli._run_locked

    def edited_meanwhile(*args: object) -> object:
        document = real(*args)  # type: ignore[arg-type]
        path.write_text(path.read_text() + "# edited\n")
        return document

    monkeypatch.setattr(cli, "_run_locked", edited_meanwhile)
    assert run(tmp_path, matrix, "--bless") == 1
    out = capsys.readouterr().out
    assert f"{path}: not blessed: it changed during the run" in out
    assert "nothing blessed (see above)\n" in out
    assert path.read_text() == EXPECTS_QUESTION + "# edited\n"


def test_a_write_that_fails_exits_7_naming_the_file(
    engine: FakeEngine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    matrix = project(tmp_path / "project")
    path = scenario_file(matrix).resolve()

    def full(target: Path, _text: str, *, mode: int | None = None) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr("orchestrator.bless.command.write_text_atomic", full)
    assert run(tmp_path, matrix, "--bless") == 7
    error = capsys.readouterr().err
    assert error.startswith(f"linkmatrix: error: {path}: cannot write (No space left on device)")
    assert "Traceback" not in error
    assert path.read_text() == EXPECTS_QUESTION


def test_the_check_command_keeps_its_own_bless(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    assert "--bless" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "after a complete run, write each failed check or run of the selected cells" in (
        help_text
    )


def test_a_linked_scenario_file_is_written_through_its_link(
    engine: FakeEngine, tmp_path: Path
) -> None:
    matrix = project(tmp_path / "project")
    path = scenario_file(matrix)
    shared = tmp_path / "shared.yaml"
    path.rename(shared)
    path.symlink_to(shared)
    assert run(tmp_path, matrix, "--bless", "--only", "wasm/*") == 0
    assert path.is_symlink()
    assert f"    when: {PLACE}\n" in shared.read_text()


def test_a_file_bless_cannot_edit_is_left_saying_why(
    engine: FakeEngine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flow = SCENARIO.replace(
        "checks:\n  - artifact: lib\n    exports: { includes: [answer] }\n",
        "checks: [{ artifact: lib, exports: { includes: [question] } }]\n",
    )
    matrix = project(tmp_path / "project", flow)
    assert run(tmp_path, matrix, "--bless") == 1
    out = capsys.readouterr().out
    assert (
        f"not blessed: {scenario_file(matrix)}:7: --bless cannot edit this file: `checks:` is a "
        "flow list ([...]); write it as a block list; paste the suggestion from the report"
    ) in out
    assert "nothing blessed (see above)\n" in out
    assert scenario_file(matrix).read_text() == flow
