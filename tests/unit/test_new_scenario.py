"""`linkmatrix new`: a scenario skeleton that the loader and planner take as it is written."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.config.matrix import ScenarioSources, load_matrix
from orchestrator.config.scenario import CrateType, Property, TargetKind
from orchestrator.config.skeleton import EXPORTED, SKELETON_TYPES
from orchestrator.inspect import inspect_file
from orchestrator.plan import make_plan

REPO = Path(__file__).resolve().parents[2]
NO_MANGLE = re.compile(r'#\[no_mangle\]\s*pub extern "C" fn (\w+)')
CARGO = shutil.which("cargo")


def write_new(tmp_path: Path, name: str, *options: str) -> Path:
    assert main(["new", name, "--dir", str(tmp_path), *options]) == 0
    return tmp_path / name


@pytest.mark.parametrize("crate_type", SKELETON_TYPES, ids=str)
def test_the_skeleton_loads_and_plans_with_the_project_matrix(
    tmp_path: Path, crate_type: CrateType
) -> None:
    folder = write_new(tmp_path, "my-pattern", "--crate-type", crate_type.value)
    matrix = load_matrix(
        REPO / "matrix.yaml", ScenarioSources(builtin=False, extra=(folder.resolve(),))
    )
    scenario = matrix.scenario("my-pattern")
    (artifact,) = scenario.artifacts
    (check,) = scenario.checks
    assert artifact.package == "my-pattern"
    is_bin = crate_type is CrateType.BIN
    assert artifact.target_kind is (TargetKind.BIN if is_bin else TargetKind.LIB)
    assert artifact.crate_type is (None if is_bin else crate_type)
    assert check.artifact == artifact.name
    cells = make_plan(matrix).cells
    assert "glibc/x86_64-unknown-linux-gnu/my-pattern" in [cell.id for cell in cells]
    assert all(cell.not_applicable is None for cell in cells)
    source = (folder / "my-pattern" / "src" / ("main.rs" if is_bin else "lib.rs")).read_text()
    assert NO_MANGLE.findall(source) == [EXPORTED]
    if is_bin:  # an executable exports nothing unless asked: the check is that it links
        assert (check.property, check.expected_flag) == (Property.BUILT, True)
    else:  # the check expects exactly what the crate exports
        assert check.property is Property.EXPORTS
        assert check.matcher is not None
        assert check.matcher.includes == (EXPORTED,)


def test_the_manifests_declare_the_crate_type(tmp_path: Path) -> None:
    folder = write_new(tmp_path, "st", "--crate-type", "staticlib")
    assert 'members = ["st"]' in (folder / "Cargo.toml").read_text()
    assert 'crate-type = ["staticlib"]' in (folder / "st" / "Cargo.toml").read_text()
    lock = (folder / "Cargo.lock").read_text()
    assert 'name = "st"' in lock
    assert "version = 4" in lock


@pytest.mark.skipif(CARGO is None, reason="no cargo on this host")
@pytest.mark.parametrize("crate_type", SKELETON_TYPES, ids=str)
def test_cargo_accepts_the_hand_written_lock_file(tmp_path: Path, crate_type: CrateType) -> None:
    folder = write_new(tmp_path, "locked", "--crate-type", crate_type.value)
    before = (folder / "Cargo.lock").read_text()
    subprocess.run(
        [str(CARGO), "metadata", "--locked", "--offline", "--format-version", "1"],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    assert (folder / "Cargo.lock").read_text() == before


@pytest.mark.skipif(CARGO is None, reason="no cargo on this host")
def test_the_built_cdylib_exports_what_the_check_expects(tmp_path: Path) -> None:
    folder = write_new(tmp_path, "exports")
    subprocess.run(
        [str(CARGO), "build", "--locked", "--offline", "--quiet"],
        cwd=folder,
        check=True,
        capture_output=True,
        env={**os.environ, "CARGO_TARGET_DIR": str(tmp_path / "target")},
    )
    (library,) = (tmp_path / "target" / "debug").glob("libexports.so")
    assert EXPORTED in inspect_file(library).exports


def test_an_existing_folder_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine\n")
    assert main(["new", "taken", "--dir", str(tmp_path)]) == 2
    assert f"{tmp_path / 'taken'} already exists" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["keep.txt"]


@pytest.mark.parametrize("name", ["_hidden", "two words", "a/b", "1st", ""])
def test_a_name_cargo_or_a_cell_id_cannot_carry_is_a_usage_error(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["new", name, "--dir", str(tmp_path)])
    assert exited.value.code == 2
    assert "a scenario name starts with a letter" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
