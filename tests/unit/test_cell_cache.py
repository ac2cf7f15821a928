"""The cell cache: cell outputs round-trip, a damaged entry is a miss, and the key follows
what a cell builds from, not what the scenario expects of it.
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.cell.cache import OUTPUT_FILE, CellCache, cell_key
from orchestrator.cell.observation import CellOutput, Failure, ToolInfo
from orchestrator.config.matrix import Matrix, load_matrix
from orchestrator.status import Reason
from tests.unit.conftest import SCENARIO, ProjectFactory

OUTPUT = CellOutput(
    tools=ToolInfo(rustc="1.96.0", cargo="1.96.0", llvm="19.1", linker_version="LLD 19"),
    builds=(),
    runs=(),
    failure=Failure(reason=Reason.PREPARE_ERROR, step="prepare `make`", detail="no make"),
    log="== prepare ==\n",
    duration_s=1.5,
)


def key_of(matrix: Matrix) -> str:
    toolchain = next(t for t in matrix.toolchains if t.name == "glibc")
    return cell_key(
        cell_id="glibc/1.96/x86_64-unknown-linux-gnu/alpha",
        image_id="sha256:abc",
        target=toolchain.targets[0],
        scenario=matrix.scenario("alpha"),
    )


def test_a_stored_output_loads_as_it_was(tmp_path: Path) -> None:
    cache = CellCache(root=tmp_path)
    assert cache.load("k1") is None
    cache.store("k1", OUTPUT)
    assert cache.load("k1") == OUTPUT
    cache.discard("k1")
    assert cache.load("k1") is None


def test_a_damaged_entry_is_a_miss(tmp_path: Path) -> None:
    cache = CellCache(root=tmp_path)
    cache.store("k1", OUTPUT)
    stored = cache.folder("k1") / OUTPUT_FILE
    stored.write_text('{"tools": null, "builds": [')  # cut short
    assert cache.load("k1") is None
    stored.write_text('{"something": "else"}')  # an older layout
    assert cache.load("k1") is None


def test_the_key_follows_sources_and_build_settings_not_expectations(
    make_project: ProjectFactory,
) -> None:
    path = make_project()
    scenario = path.parent / "scenarios" / "alpha"
    before = key_of(load_matrix(path))

    (scenario / "scenario.yaml").write_text(SCENARIO.replace("[answer]", "[answer, another]"))
    assert key_of(load_matrix(path)) == before  # a changed check re-judges, it does not rebuild

    (scenario / "Cargo.toml").write_text("[workspace]\nmembers = []\n")
    after_source = key_of(load_matrix(path))
    assert after_source != before

    (scenario / "scenario.yaml").write_text(
        SCENARIO.replace("[-Zexport-executable-symbols]", "[-Zexport-executable-symbols, -g]")
    )
    assert key_of(load_matrix(path)) != after_source
