"""The validating loader: good input becomes dataclasses, bad input one clear message."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.config.matrix import Matrix, load_matrix
from orchestrator.config.scenario import CrateType, Property, TargetKind
from orchestrator.errors import ConfigError
from tests.unit.conftest import MATRIX, SCENARIO, ProjectFactory


def error_for(make_project: ProjectFactory, matrix: str = MATRIX, scenario: str = SCENARIO) -> str:
    path = make_project(matrix, {"alpha": scenario})
    with pytest.raises(ConfigError) as caught:
        load_matrix(path)
    return str(caught.value)


def test_valid_matrix_loads_into_frozen_values(matrix: Matrix) -> None:
    assert [t.name for t in matrix.toolchains] == ["glibc", "wasm"]
    assert matrix.default_release == "1.96"
    wasm = matrix.toolchains[1]
    assert wasm.releases == ("1.96",)
    assert wasm.targets[0].build_std == ("std", "panic_abort")
    # std is built apart: the target's own crates need no RUSTC_BOOTSTRAP, but a -Z rustflag does
    assert not wasm.targets[0].needs_bootstrap
    assert replace(wasm.targets[0], rustflags=("-Zfoo",)).needs_bootstrap
    assert not matrix.toolchains[0].targets[0].needs_bootstrap
    scenario = matrix.scenario("alpha")
    assert scenario.artifacts[0].crate_type is CrateType.CDYLIB
    assert scenario.artifacts[1].target_kind is TargetKind.BIN
    assert scenario.artifacts[1].needs_bootstrap
    assert scenario.checks[0].property is Property.EXPORTS
    with pytest.raises(AttributeError):
        matrix.default_release = "1.85"  # type: ignore[misc]


def test_unknown_key_names_file_line_and_nearest_key(make_project: ProjectFactory) -> None:
    message = error_for(
        make_project, MATRIX.replace("  wasm:\n    image: wasm", "  wasm:\n    imgae: wasm")
    )
    assert re.search(
        r"matrix\.yaml:\d+: toolchains\.wasm\.imgae: unknown key 'imgae'\. "
        r"Did you mean 'image'\?",
        message,
    ), message
    line = int(message.split(":")[1])
    assert MATRIX.splitlines()[line - 1].strip().startswith("image: wasm")


def test_release_written_as_number_is_refused_with_a_hint(make_project: ProjectFactory) -> None:
    message = error_for(
        make_project, MATRIX.replace('default_release: "1.96"', "default_release: 1.96")
    )
    assert "default_release" in message
    assert "quote it" in message


def test_unknown_image_parent_suggests_a_valid_one(make_project: ProjectFactory) -> None:
    message = error_for(
        make_project, MATRIX.replace("glibc: { parent: rust }", "glibc: { parent: rsut }")
    )
    assert "images.glibc.parent" in message
    assert "Did you mean 'rust'?" in message


def test_bad_scenario_check_names_the_scenario_file(make_project: ProjectFactory) -> None:
    bad = SCENARIO.replace('excludes_matching: ["^_ZN"]', 'excludes_matching: ["^(_ZN"]')
    message = error_for(make_project, scenario=bad)
    assert "scenarios/alpha/scenario.yaml:" in message
    assert "checks[0].exports.excludes_matching[0]: not a valid regular expression" in message


def test_check_must_name_exactly_one_property(make_project: ProjectFactory) -> None:
    bad = SCENARIO.replace(
        "    exports: { includes: [exported_from_exe] }",
        "    exports: { includes: [x] }\n    static: true",
    )
    message = error_for(make_project, scenario=bad)
    assert "checks[1]" in message
    assert "exactly one of" in message


def test_check_on_unknown_artifact(make_project: ProjectFactory) -> None:
    message = error_for(make_project, scenario=SCENARIO.replace("artifact: exe", "artifact: exx"))
    assert "checks[1].artifact: 'exx' is not one of lib, exe. Did you mean 'exe'?" in message


def test_yaml_syntax_error_names_line(make_project: ProjectFactory) -> None:
    message = error_for(make_project, MATRIX.replace("images:\n", "images:\n  : [\n"))
    assert re.search(r"matrix\.yaml:\d+: not valid YAML", message), message


def test_missing_dockerfile(make_project: ProjectFactory, tmp_path: Path) -> None:
    path = make_project()
    (tmp_path / "images/wasm/Dockerfile").unlink()
    with pytest.raises(ConfigError, match=r"images\.wasm: there is no .*images/wasm/Dockerfile"):
        load_matrix(path)


def test_missing_required_key(make_project: ProjectFactory) -> None:
    message = error_for(make_project, MATRIX.replace("    description: wasm\n", ""))
    assert "toolchains.wasm: missing required key 'description'" in message
