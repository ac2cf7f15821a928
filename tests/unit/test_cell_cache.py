"""The cell cache: cell outputs round-trip, a damaged entry is a miss, and the key follows
what a cell builds from, not what the scenario expects of it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrator.cell.cache import OUTPUT_FILE, BuildDigests, CellCache, cell_key
from orchestrator.cell.observation import BuildOutput, BuiltFile, CellOutput, Failure, ToolInfo
from orchestrator.config.matrix import Matrix, Runner, load_matrix
from orchestrator.config.scenario import ArtifactSpec, Selector, TargetKind
from orchestrator.inspect.model import ArtifactFormat
from orchestrator.status import Reason
from tests.unit.conftest import SCENARIO, ProjectFactory

TOOLS = ToolInfo(rustc="1.96.0", cargo="1.96.0", llvm="19.1", linker_version="LLD 19")
OUTPUT = CellOutput(
    tools=TOOLS,
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
    assert cache.load("k1", ()) is None
    cache.store("k1", OUTPUT)
    assert cache.load("k1", ()) == OUTPUT
    cache.discard("k1")
    assert cache.load("k1", ()) is None


def test_the_runners_version_is_kept_and_an_entry_written_before_it_reads_without_one(
    tmp_path: Path,
) -> None:
    cache = CellCache(root=tmp_path)
    probed = dataclasses.replace(
        OUTPUT, tools=dataclasses.replace(TOOLS, runner_version="wine-8.0 (Debian)")
    )
    cache.store("k1", probed)
    assert cache.load("k1", ()) == probed
    stored = cache.folder("k1") / OUTPUT_FILE
    older = json.loads(stored.read_text())
    del older["tools"]["runner_version"]
    stored.write_text(json.dumps(older))
    loaded = cache.load("k1", ())
    assert loaded is not None
    assert loaded.tools == TOOLS  # no version recorded, not a miss


def test_the_key_follows_the_runners_version_probe(make_project: ProjectFactory) -> None:
    """The probe's output is in the cached output: a new probe must run the cell again."""
    matrix = load_matrix(make_project())
    glibc = next(t for t in matrix.toolchains if t.name == "glibc")
    target = glibc.targets[0]
    keys = set()
    for version in (None, ("wine64", "--version"), ("wine", "--version")):
        runner = Runner(command=("wine-run", "{file}"), file_glob=None, version=version)
        keys.add(
            cell_key(
                cell_id="glibc/x86_64-unknown-linux-gnu/alpha",
                image_id="sha256:abc",
                target=dataclasses.replace(target, runner=runner),
                scenario=matrix.scenario("alpha"),
            )
        )
    assert len(keys) == 3


def test_a_damaged_entry_is_a_miss(tmp_path: Path) -> None:
    cache = CellCache(root=tmp_path)
    cache.store("k1", OUTPUT)
    stored = cache.folder("k1") / OUTPUT_FILE
    stored.write_text('{"tools": null, "builds": [')  # cut short
    assert cache.load("k1", ()) is None
    stored.write_text('{"something": "else"}')  # an older layout
    assert cache.load("k1", ()) is None


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


def built_output(cache: CellCache, key: str) -> CellOutput:
    """A finished cell (no failure) with one build, `lib`, whose file is in the cache."""
    files = cache.files(key) / "lib"
    files.mkdir(parents=True)
    (files / "liblib.so").write_bytes(b"\x7fELF....")
    build = BuildOutput(
        name="lib",
        package="cdy",
        target_kind="lib",
        crate_type="cdylib",
        command=("cargo", "rustc"),
        env=(("RUSTFLAGS", "-Cpanic=abort"),),
        exit_code=0,
        duration_s=2.0,
        diagnostics=(),
        files=(
            BuiltFile(
                file="liblib.so",
                path="artifacts/cell/lib/liblib.so",
                source="/w/liblib.so",
                sha256="0" * 64,
                size=8,
                format=ArtifactFormat.ELF,
            ),
        ),
        primary="liblib.so",
        log_end=10,
    )
    return dataclasses.replace(OUTPUT, builds=(build,), failure=None)


LIB = (
    ArtifactSpec(
        name="lib",
        package="cdy",
        target_kind=TargetKind.LIB,
        bin_name="cdy",
        crate_type=None,
        rustc_args=(),
        when=Selector(),
    ),
)


def test_a_finished_entry_with_its_builds_and_files_is_a_hit(tmp_path: Path) -> None:
    cache = CellCache(root=tmp_path)
    output = built_output(cache, "k1")
    cache.store("k1", output)
    assert cache.load("k1", LIB) == output


# Each damage is applied to the stored JSON of `built_output`.
WRONG_TYPES: dict[str, Callable[[dict[str, Any]], object]] = {
    "a string for a number": lambda d: d.update(duration_s="1.5"),
    "a list for an object": lambda d: d.update(tools=[1, 2]),
    "a number for a list": lambda d: d.update(builds=5),
    "a number for a name": lambda d: d["builds"][0].update(name=7),
    "an unknown format": lambda d: d["builds"][0]["files"][0].update(format="jpeg"),
    "an env pair of three": lambda d: d["builds"][0].update(env=[["A", "b", "c"]]),
    "an unknown reason": lambda d: d.update(failure={"reason": "?", "step": "s", "detail": "d"}),
    "a bool for a size": lambda d: d["builds"][0]["files"][0].update(size=True),
}


@pytest.mark.parametrize("damage", WRONG_TYPES)
def test_an_entry_of_the_wrong_types_is_a_miss(tmp_path: Path, damage: str) -> None:
    cache = CellCache(root=tmp_path)
    cache.store("k1", built_output(cache, "k1"))
    stored = cache.folder("k1") / OUTPUT_FILE
    data = json.loads(stored.read_text())
    WRONG_TYPES[damage](data)
    stored.write_text(json.dumps(data))
    assert cache.load("k1", LIB) is None


@pytest.mark.parametrize(
    "text", ["[" * 100_000 + "]" * 100_000, "[1, 2]", "null", "\udcff", "\xff\xfe"]
)
def test_an_entry_that_is_not_an_object_is_a_miss(tmp_path: Path, text: str) -> None:
    cache = CellCache(root=tmp_path)
    cache.store("k1", OUTPUT)
    (cache.folder("k1") / OUTPUT_FILE).write_bytes(text.encode("utf-8", "surrogateescape"))
    assert cache.load("k1", ()) is None


def test_a_finished_entry_without_a_build_of_each_artifact_is_a_miss(tmp_path: Path) -> None:
    cache = CellCache(root=tmp_path)
    cache.store("k1", dataclasses.replace(built_output(cache, "k1"), builds=()))
    assert cache.load("k1", LIB) is None  # `builds: []` must not replay as a pass
    assert cache.load("k1", ()) is not None  # a cell that builds nothing has no builds


def test_an_aborted_entry_may_have_fewer_builds(tmp_path: Path) -> None:
    cache = CellCache(root=tmp_path)
    cache.store("k1", OUTPUT)  # the prepare step failed: nothing was built
    assert cache.load("k1", LIB) == OUTPUT


def test_an_entry_whose_files_are_gone_or_cut_short_is_a_miss(tmp_path: Path) -> None:
    cache = CellCache(root=tmp_path)
    cache.store("k1", built_output(cache, "k1"))
    stored = cache.files("k1") / "lib" / "liblib.so"
    stored.write_bytes(b"\x7fELF")
    assert cache.load("k1", LIB) is None
    stored.unlink()
    assert cache.load("k1", LIB) is None


def test_one_runs_build_digests_hash_a_scenario_once_and_agree_with_the_key(
    make_project: ProjectFactory,
) -> None:
    path = make_project()
    matrix = load_matrix(path)
    scenario = matrix.scenarios[0]
    digests = BuildDigests()
    first = digests.of(scenario)
    (scenario.folder / "Cargo.toml").write_text("[workspace]\nmembers = []\n")
    assert digests.of(scenario) == first  # read once per run: this run's cells agree
    assert BuildDigests().of(scenario) != first  # the next run sees the edit
    target = next(t for t in matrix.toolchains if t.name == "glibc").targets[0]
    memo = cell_key(
        cell_id="c", image_id="i", target=target, scenario=scenario, digests=BuildDigests()
    )
    assert memo == cell_key(cell_id="c", image_id="i", target=target, scenario=scenario)
