"""Scenarios from outside the matrix's folder: `--scenarios DIR`, `--no-builtin-scenarios`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.config.matrix import ScenarioSources, load_matrix
from orchestrator.errors import ConfigError
from orchestrator.plan import make_plan
from tests.unit.conftest import SCENARIO, ProjectFactory


def write_scenario(folder: Path, text: str = SCENARIO) -> Path:
    folder.mkdir(parents=True)
    (folder / "scenario.yaml").write_text(textwrap.dedent(text))
    (folder / "Cargo.toml").write_text("[workspace]\n")
    return folder


def scenario_names(matrix_path: Path, sources: ScenarioSources) -> list[str]:
    return [s.name for s in load_matrix(matrix_path, sources).scenarios]


def test_one_scenario_folder_is_added_to_the_builtin_ones(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    mine = write_scenario(tmp_path / "elsewhere" / "mine")
    matrix = load_matrix(make_project(), ScenarioSources(extra=(mine,)))
    assert [s.name for s in matrix.scenarios] == ["alpha", "beta", "mine"]
    assert matrix.scenario("mine").folder == mine.resolve()
    ids = [cell.id for cell in make_plan(matrix).cells]
    assert "glibc/x86_64-unknown-linux-gnu/mine" in ids


def test_a_folder_of_scenario_folders_adds_each_as_scenarios_all_would(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    mine = tmp_path / "mine"
    write_scenario(mine / "one")
    write_scenario(mine / "two")
    write_scenario(mine / "_wip")  # left out, as from `scenarios: all`
    (mine / "README.md").write_text("my scenarios\n")
    names = scenario_names(make_project(), ScenarioSources(extra=(mine,)))
    assert names == ["alpha", "beta", "one", "two"]


def test_no_builtin_scenarios_keeps_only_the_given_ones(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    mine = write_scenario(tmp_path / "mine")
    names = scenario_names(make_project(), ScenarioSources(builtin=False, extra=(mine,)))
    assert names == ["mine"]


def test_the_same_folder_given_twice_counts_once(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    mine = write_scenario(tmp_path / "parent" / "mine")
    sources = ScenarioSources(extra=(mine, tmp_path / "parent" / "." / "mine", mine.parent))
    assert scenario_names(make_project(), sources) == ["alpha", "beta", "mine"]


def test_a_name_clash_with_a_builtin_scenario_names_both_folders(
    make_project: ProjectFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_project()
    clash = write_scenario(tmp_path / "elsewhere" / "alpha")
    code = main(["run", "--matrix", str(path), "--scenarios", str(clash), "--list-cells"])
    assert code == 3
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "Traceback" not in error
    assert f"two scenarios are named 'alpha': {tmp_path / 'scenarios' / 'alpha'} and {clash}" in (
        error
    )
    assert "--no-builtin-scenarios" in error


def test_a_name_clash_between_two_given_folders_is_refused(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    one = write_scenario(tmp_path / "a" / "mine")
    two = write_scenario(tmp_path / "b" / "mine")
    with pytest.raises(ConfigError, match=f"named 'mine': {one} and {two}") as raised:
        load_matrix(make_project(), ScenarioSources(extra=(one, two)))
    assert "--no-builtin-scenarios" not in str(raised.value)  # neither is built in


@pytest.mark.parametrize(
    ("layout", "said"),
    [
        ("crate", "holds no scenario.yaml, so it is not a scenario"),
        ("misnamed", "holds no scenario.yml"),
        ("nested", "holds no scenario.yaml, so it is not a scenario"),
        ("empty", "holds no scenario.yaml and no folder with one"),
    ],
)
def test_a_folder_without_scenario_yaml_exits_3_naming_it(
    make_project: ProjectFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    layout: str,
    said: str,
) -> None:
    given = tmp_path / "given"
    given.mkdir()
    if layout == "crate":  # a scenario that lacks its file: its crate folders are not blamed
        (given / "Cargo.toml").write_text("[workspace]\n")
        (given / "crate").mkdir()
        blamed = given
    elif layout == "misnamed":
        (given / "Cargo.toml").write_text("[workspace]\n")
        (given / "scenario.yml").write_text("description: x\n")
        said = f"{given} holds no scenario.yaml (there is scenario.yml: rename it to scenario.yaml)"
        blamed = given
    elif layout == "nested":  # a folder of scenarios, one of them without its file
        write_scenario(given / "good")
        (given / "bad").mkdir()
        blamed = given / "bad"
    else:
        blamed = given
    code = main(["run", "--matrix", str(make_project()), "--scenarios", str(given), "--list-cells"])
    assert code == 3
    error = capsys.readouterr().err
    assert error.startswith(f"linkmatrix: error: --scenarios {given}: {blamed}")
    assert said in error
    assert error.count("\n") == 1
    assert "Traceback" not in error


def test_a_missing_folder_exits_3(
    make_project: ProjectFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope"
    code = main(["run", "--matrix", str(make_project()), "--scenarios", str(missing)])
    assert code == 3
    assert f"--scenarios {missing}: {missing} is not a folder" in capsys.readouterr().err


def test_an_invalid_given_scenario_is_a_config_error_naming_its_file(
    make_project: ProjectFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = write_scenario(tmp_path / "mine", SCENARIO.replace("checks:", "chekcs:"))
    code = main(["run", "--matrix", str(make_project()), "--scenarios", str(mine), "--list-cells"])
    assert code == 3
    error = capsys.readouterr().err
    assert f"{mine / 'scenario.yaml'}:" in error
    assert "Did you mean 'checks'?" in error


def test_no_builtin_scenarios_without_scenarios_is_a_usage_error(
    make_project: ProjectFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run", "--matrix", str(make_project()), "--no-builtin-scenarios", "--list-cells"])
    assert exited.value.code == 2
    assert "add --scenarios DIR" in capsys.readouterr().err


def test_list_cells_and_images_plan_the_given_scenarios(
    make_project: ProjectFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_project()
    mine = write_scenario(tmp_path / "elsewhere" / "mine")
    flags = ["--matrix", str(path), "--scenarios", str(mine), "--no-builtin-scenarios"]
    assert main(["run", *flags, "--list-cells", "--only", "glibc/*"]) == 0
    assert capsys.readouterr().out.split() == ["glibc/x86_64-unknown-linux-gnu/mine"]
    assert main(["images", *flags, "--recipe", "--only", "wasm/*"]) == 0
    assert capsys.readouterr().out.strip()
    # prune plans every cell too: a bad folder is refused before any engine is asked
    assert main(["prune", "--matrix", str(path), "--scenarios", str(tmp_path / "nope")]) == 3
