"""`run_plan` end to end on the fake engine: images, containers, cells, cache, results.json.

Two toolchains on two images (two groups, two containers), one scenario whose cdylib the fake
"builds": cargo's JSON names a file, the collect step makes it exist, and `get_archive` hands
back a real 41-byte wasm module exporting `answer`, so inspection and the judge run for real.
Results are read from the written results.json, as a user would.
"""

from __future__ import annotations

import io
import json
import posixpath
import shutil
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import requests

from orchestrator.cell.runner import HostTimes
from orchestrator.config.matrix import Matrix, load_matrix
from orchestrator.engine.container import HOST_LABEL, LABEL, PID_LABEL
from orchestrator.estimate import load_durations
from orchestrator.images.releases import DEFAULT_RUST_INFO, ENGINE_DEFAULT_PATH
from orchestrator.log import Reporter
from orchestrator.phases import Phases
from orchestrator.pipeline import RunOptions, _count_host, run_plan
from orchestrator.plan import make_plan
from orchestrator.report import INDEX_HTML, MATRIX_MD
from orchestrator.results.codec import expand
from orchestrator.results.document import RESULTS_FILE
from orchestrator.results.model import Selection
from tests.unit.fake_engine import FakeEngine, Reply, prints

# (module (func (export "answer") (result i32) i32.const 42)), byte by byte
ANSWER_WASM = (
    bytes.fromhex("0061736d01000000")  # magic, version 1
    + bytes.fromhex("0105016000017f")  # types: () -> i32
    + bytes.fromhex("03020100")  # functions: one, of type 0
    + bytes.fromhex("070a0106")
    + b"answer"
    + bytes.fromhex("0000")  # exports: "answer" = function 0
    + bytes.fromhex("0a06010400412a0b")  # code: i32.const 42, end
)
BASE_TAG = "linkmatrix/debian:bookworm"
MATRIX = """\
schema_version: 1
base:
  tag: linkmatrix/debian:bookworm
  suite: bookworm
  mirror: http://deb.debian.org/debian
  security_mirror: http://deb.debian.org/debian-security
releases:
  "1.96": { rustc_web: "1.96.0+dfsg1-1~deb12u2" }
default_release: "1.96"
limits: { memory: 1g, pids: 64, cell_timeout_s: 60, idle_timeout_s: 30 }
images:
  rust: { parent: base }
  wasm: { parent: rust }
  wasm-sdk: { parent: rust }
toolchains:
  wasm:
    image: wasm
    description: rust-lld
    route: { linker: rust-lld, libraries: none, stand_in: false }
    targets:
      wasm32-unknown-unknown: { linker_version: [rust-lld, -flavor, wasm, --version] }
  wasm-sdk:
    image: wasm-sdk
    description: rust-lld from a vendor SDK
    route: { linker: rust-lld, libraries: none, stand_in: false }
    targets:
      wasm32-unknown-unknown: { linker_version: [rust-lld, -flavor, wasm, --version] }
scenarios: all
"""
SCENARIO = """\
description: a cdylib exporting one function
artifacts:
  - name: lib
    package: cdy
    target_kind: lib
    crate_type: cdylib
checks:
  - artifact: lib
    exports: { includes: [answer] }
"""
CELL_EXECS_PER_RUN = 4  # probe, linker probe, workdir, cargo (no copy: nothing runs after it)
BUILT_WASM = "/cache/wasm32-unknown-unknown/x/release/cdy.wasm"


def write_project(root: Path) -> Path:
    """matrix.yaml, three image folders and the scenario `answer` in `root`."""
    for image in ("rust", "wasm", "wasm-sdk"):
        folder = root / "images" / image
        folder.mkdir(parents=True)
        (folder / "Dockerfile").write_text(f"ARG BASE\nFROM ${{BASE}}\nLABEL x={image}\n")
    scenario = root / "scenarios" / "answer"
    (scenario / "src").mkdir(parents=True)
    (scenario / "scenario.yaml").write_text(SCENARIO)
    (scenario / "Cargo.toml").write_text('[package]\nname = "cdy"\nversion = "0.1.0"\n')
    (scenario / "src" / "lib.rs").write_text('#[no_mangle]\npub extern "C" fn answer() {}\n')
    (root / "matrix.yaml").write_text(MATRIX)
    return root / "matrix.yaml"


def cargo_artifact_line(argv: Sequence[str]) -> str:
    """The compiler-artifact message cargo prints for the scenario's cdylib."""
    manifest = argv[argv.index("--manifest-path") + 1]
    message = {
        "reason": "compiler-artifact",
        "manifest_path": manifest,
        "package_id": f"path+file://{posixpath.dirname(manifest)}#cdy@0.1.0",
        "target": {"kind": ["cdylib"], "name": "cdy"},
        "filenames": [BUILT_WASM],
        "executable": None,
    }
    return json.dumps(message) + "\n"


def toolchain_engine() -> FakeEngine:
    """An engine with the base image whose containers answer like a working toolchain."""
    engine = FakeEngine()

    def script(argv: Sequence[str]) -> Reply:
        if list(argv) in (["cat", DEFAULT_RUST_INFO], ["cat", "/opt/rust/1.85/rust.json"]):
            return prints('{"rustc": "1.96.0", "cargo": "1.96.0", "llvm": "19.1"}')
        if argv[0] == "rust-lld":
            return prints("LLD 19.1.7\n")
        if argv[0] == "cargo":
            engine.files[BUILT_WASM] = ANSWER_WASM  # what rustc would have written
            return prints(cargo_artifact_line(argv))
        return Reply()

    engine.script = script
    engine.add_image(BASE_TAG)
    return engine


def step(argv: Sequence[str]) -> str:
    """A cell's exec, named by what it is for."""
    if argv[0] == "cat":
        return "probe"
    if argv[0] in {"rust-lld", "cargo"}:
        return argv[0]
    if list(argv[3:4]) == ["workdir"]:
        return argv[3]
    return "other"


def container_story(engine: FakeEngine, container: str) -> list[str]:
    """What happened in `container`, in order: start, each exec's step, files in and out."""
    commands = iter(engine.commands())
    story = []
    for event in engine.events:
        verb, _, rest = event.partition(" ")
        if verb == "exec":
            argv = next(commands)
            if rest.split(" ")[0] == container:
                story.append(step(argv))
        elif verb in {"start", "put", "get", "remove"} and rest.split(" ")[0] == container:
            story.append(verb)
    return story


def run_options(tmp_path: Path) -> RunOptions:
    return RunOptions(
        out_dir=tmp_path / "out",
        cache_dir=tmp_path / "cache",
        fresh=False,
        selection=Selection(only=(), shard=None, baseline=None),  # as `linkmatrix run` has it
    )


def run(engine: FakeEngine, matrix: Matrix, tmp_path: Path) -> dict[str, Any]:
    options = run_options(tmp_path)
    run_plan(engine, matrix, make_plan(matrix), options, Reporter(stream=io.StringIO()))
    return read_results(tmp_path)


def read_results(tmp_path: Path) -> dict[str, Any]:
    """results.json as parsed JSON, its symbol references expanded (the names themselves)."""
    return expand(json.loads((tmp_path / "out" / RESULTS_FILE).read_text()))


def by_toolchain(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {cell["toolchain"]: cell for cell in document["cells"]}


@pytest.fixture
def matrix(tmp_path: Path) -> Matrix:
    return load_matrix(write_project(tmp_path / "project"))


def test_a_cache_miss_builds_in_a_container_inspects_and_judges(
    matrix: Matrix, tmp_path: Path
) -> None:
    engine = toolchain_engine()
    document = run(engine, matrix, tmp_path)

    cells = by_toolchain(document)
    assert sorted(cells) == ["wasm", "wasm-sdk"]
    for cell in cells.values():
        assert (cell["status"], cell["reason"], cell["cached"]) == ("pass", None, False)
        (artifact,) = cell["artifacts"]
        assert (artifact["format"], artifact["exports"], artifact["built"]) == (
            "wasm",
            ["answer"],
            True,
        )
        copied = tmp_path / "out" / artifact["file"]
        assert copied.read_bytes() == ANSWER_WASM
    assert document["provenance"]["finished"] is not None
    assert document["provenance"]["complete"] is True
    assert document["provenance"]["planned"] == [c.id for c in make_plan(matrix).cells]

    assert [call.tag.split(":")[0] for call in engine.builds] == [
        "linkmatrix/rust",
        "linkmatrix/wasm",
        "linkmatrix/wasm-sdk",
    ]
    expected = ["start", "probe", "rust-lld", "put", "workdir", "cargo", "get"]
    # no cleanup exec: the next cell's workdir command removes what a cell left
    assert container_story(engine, "c1") == [*expected, "remove"]
    assert container_story(engine, "c2") == [*expected, "remove"]
    assert engine.running_ids() == []

    (sources, _) = engine.puts
    assert "src/answer/src/lib.rs" in sources.names()
    cargo = next(call for call in engine.execs if call.command[0] == "cargo")
    assert cargo.user == "1000:1000"
    assert cargo.env["SRC"] == "/src/answer"
    assert cargo.workdir is not None
    assert cargo.workdir.startswith("/home/builder/work/")
    options = engine.containers.started[0].options
    assert (options["network_mode"], options["user"]) == ("none", "1000:1000")


def test_a_cache_hit_starts_no_container_and_gives_the_same_verdict(
    matrix: Matrix, tmp_path: Path
) -> None:
    engine = toolchain_engine()
    first = by_toolchain(run(engine, matrix, tmp_path))
    started, execs, builds = len(engine.containers.started), len(engine.execs), len(engine.builds)

    second = by_toolchain(run(engine, matrix, tmp_path))

    assert (len(engine.containers.started), len(engine.execs), len(engine.builds)) == (
        started,
        execs,
        builds,
    )
    for name, cell in second.items():
        assert cell["cached"] is True
        assert (cell["status"], cell["artifacts"]) == (
            first[name]["status"],
            first[name]["artifacts"],
        )
        assert (tmp_path / "out" / cell["artifacts"][0]["file"]).read_bytes() == ANSWER_WASM


def test_an_interrupted_run_removes_its_container_and_keeps_what_finished(
    matrix: Matrix, tmp_path: Path
) -> None:
    engine = toolchain_engine()
    # the first cell's execs succeed, then Ctrl-C in the second cell, after its two probes
    engine.fail("api.exec_create", KeyboardInterrupt(), after=CELL_EXECS_PER_RUN + 2)
    with pytest.raises(KeyboardInterrupt):
        run(engine, matrix, tmp_path)

    document = read_results(tmp_path)
    (finished,) = document["cells"]
    assert (finished["toolchain"], finished["status"]) == ("wasm", "pass")
    assert document["provenance"]["finished"] is not None
    assert document["provenance"]["complete"] is False  # it says it stopped, and what it planned
    assert len(document["provenance"]["planned"]) == len(make_plan(matrix).cells) == 2
    assert container_story(engine, "c2") == ["start", "probe", "rust-lld", "put", "remove"]
    assert engine.running_ids() == []
    for view in (MATRIX_MD, INDEX_HTML):
        assert (tmp_path / "out" / view).is_file()
    assert "incomplete: 1 of 2 cells" in (tmp_path / "out" / INDEX_HTML).read_text()


def test_a_failed_image_build_errors_its_cells_and_the_run_goes_on(
    matrix: Matrix, tmp_path: Path
) -> None:
    engine = toolchain_engine()
    engine.break_build("wasm")
    cells = by_toolchain(run(engine, matrix, tmp_path))

    broken = cells["wasm"]
    assert (broken["status"], broken["reason"]) == ("error", "toolchain-missing")
    assert "wasm/Dockerfile failed" in broken["detail"]
    assert (cells["wasm-sdk"]["status"], cells["wasm-sdk"]["reason"]) == ("pass", None)
    assert len(engine.containers.started) == 1  # only the image that exists gets a container


def test_a_missing_sdk_skips_its_cells_and_builds_nothing_for_them(
    matrix: Matrix, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LINKMATRIX_TEST_SDK", raising=False)
    fetch = matrix.image("wasm-sdk").context / "fetch.yaml"
    fetch.write_text("local:\n  sdk: { env: LINKMATRIX_TEST_SDK, what: the vendor's SDK }\n")
    engine = toolchain_engine()
    cells = by_toolchain(run(engine, matrix, tmp_path))

    skipped = cells["wasm-sdk"]
    assert (skipped["status"], skipped["reason"]) == ("skip", "sdk-missing")
    assert "LINKMATRIX_TEST_SDK" in skipped["detail"]
    assert cells["wasm"]["status"] == "pass"
    assert not any(call.tag.startswith("linkmatrix/wasm-sdk:") for call in engine.builds)


def test_each_release_runs_in_the_one_toolchain_image_with_its_own_environment(
    tmp_path: Path,
) -> None:
    text = MATRIX.replace(
        '  "1.96": { rustc_web: "1.96.0+dfsg1-1~deb12u2" }\n',
        '  "1.96": { rustc_web: "1.96.0+dfsg1-1~deb12u2" }\n'
        '  "1.85": { rustc_web: "1.85.0+dfsg3-1~deb12u3", build_dir: false }\n',
    ).replace("    image: wasm-sdk\n", '    image: wasm-sdk\n    releases: ["1.96"]\n')
    path = write_project(tmp_path / "project")
    path.write_text(text)
    engine = toolchain_engine()
    document = run(engine, load_matrix(path), tmp_path)

    assert sorted(cell["id"] for cell in document["cells"]) == [
        "wasm-sdk/wasm32-unknown-unknown/answer",
        "wasm/wasm32-unknown-unknown/answer",
        "wasm@1.85/wasm32-unknown-unknown/answer",
    ]
    assert [call.tag.split(":")[0] for call in engine.builds] == [
        "linkmatrix/rust",
        "linkmatrix/wasm",
        "linkmatrix/wasm-sdk",
    ]
    assert engine.builds[0].buildargs["OTHER_RUSTC_WEB_VERSIONS"] == "1.85.0+dfsg3-1~deb12u3"
    wasm, older = (c for c in engine.containers.started if c.image.startswith("linkmatrix/wasm:"))
    assert wasm.image == older.image  # one image for both releases
    assert wasm.options["environment"] == {}
    assert older.options["environment"] == {
        "PATH": f"/opt/rust/1.85/usr/bin:{ENGINE_DEFAULT_PATH}",
        "CARGO_HOME": "/opt/cargo/1.85",
    }
    assert sorted(wasm.options["volumes"]) != sorted(older.options["volumes"])
    assert [v for v in older.options["volumes"] if v.endswith("-1.85")]
    probes = [call.command for call in engine.execs if call.command[0] == "cat"]
    assert ("cat", "/opt/rust/1.85/rust.json") in probes


def test_a_container_killed_under_a_cell_is_an_engine_error_and_the_group_goes_on(
    tmp_path: Path,
) -> None:
    root = tmp_path / "project"
    write_project(root)
    shutil.copytree(root / "scenarios" / "answer", root / "scenarios" / "second")
    matrix = load_matrix(root / "matrix.yaml")
    engine = toolchain_engine()
    working = engine.script
    killed: list[str] = []

    def kill_the_first_build(argv: Sequence[str]) -> Reply:
        # `docker kill` of the container mid-build; the script answers twice per exec (its
        # stream, then its inspect): both say killed
        if argv[0] == "cargo" and len(killed) < 2:
            killed.append(" ".join(argv))
            return Reply(exit_code=137, kills_container=137)
        return working(argv)

    engine.script = kill_the_first_build
    cells = run(engine, matrix, tmp_path)["cells"]

    first, *others = (c for c in cells if c["toolchain"] == "wasm")
    assert (first["scenario"], first["status"], first["reason"]) == (
        "answer",
        "error",
        "engine-error",
    )
    assert "the cell's container is exited (exit code 137)" in first["detail"]
    assert [(c["scenario"], c["status"]) for c in others] == [("second", "pass")]
    assert container_story(engine, "c1")[-2:] == ["cargo", "remove"]  # replaced at once
    assert container_story(engine, "c2")[0] == "start"
    assert engine.running_ids() == []

    again = {(c["toolchain"], c["scenario"]): c for c in run(engine, matrix, tmp_path)["cells"]}
    assert (again["wasm", "answer"]["status"], again["wasm", "answer"]["cached"]) == ("pass", False)
    assert again["wasm", "second"]["cached"] is True


def test_a_run_first_removes_what_dead_runs_of_this_host_left_and_says_so(
    matrix: Matrix, tmp_path: Path
) -> None:
    engine = toolchain_engine()
    process = subprocess.Popen(["true"])
    process.wait()
    labels = {LABEL: "gone", PID_LABEL: str(process.pid), HOST_LABEL: socket.gethostname()}
    engine.containers.run(BASE_TAG, ["sleep", "infinity"], labels=labels)
    stream = io.StringIO()
    options = run_options(tmp_path)
    run_plan(engine, matrix, make_plan(matrix), options, Reporter(stream=stream))
    assert engine.removed_ids[0] == "c1"  # before any cell's container started
    assert (
        "removed 1 container(s) and 0 scratch image(s) left by linkmatrix run(s) no longer "
        "running on this host: gone"
    ) in stream.getvalue()


def test_a_step_over_the_output_limit_is_killed_reported_and_not_cached(
    matrix: Matrix, tmp_path: Path
) -> None:
    engine = toolchain_engine()
    working = engine.script
    chunk = b"y\n" * (32 << 10)  # 64 KiB, 2,048 times: 128 MiB if nothing stopped it

    def flood_in_wasm(argv: Sequence[str]) -> Reply:
        if argv[0] == "cargo" and engine.execs[-1].container == "c1":
            return Reply(stdout=chunk, repeat=2048)
        return working(argv)

    engine.script = flood_in_wasm
    cells = by_toolchain(run(engine, matrix, tmp_path))
    flooded = cells["wasm"]
    assert (flooded["status"], flooded["reason"]) == ("error", "output-limit")
    assert "more than 64 MiB" in flooded["detail"]
    assert cells["wasm-sdk"]["status"] == "pass"
    assert engine.running_ids() == []

    engine.script = working
    again = by_toolchain(run(engine, matrix, tmp_path))
    assert (again["wasm"]["status"], again["wasm"]["cached"]) == ("pass", False)
    assert again["wasm-sdk"]["cached"] is True


def test_an_engine_that_fails_the_orphan_sweep_is_said_and_the_run_goes_on(
    matrix: Matrix, tmp_path: Path
) -> None:
    engine = toolchain_engine()
    engine.fail("containers.list", requests.exceptions.ConnectionError("engine away"))
    stream = io.StringIO()
    options = run_options(tmp_path)
    run_plan(engine, matrix, make_plan(matrix), options, Reporter(stream=stream))
    assert "could not look for containers left by earlier runs: engine away" in stream.getvalue()
    assert {c["status"] for c in read_results(tmp_path)["cells"]} == {"pass"}


def phases_of_a_run(matrix: Matrix, tmp_path: Path) -> tuple[FakeEngine, Phases]:
    """A whole run on the fake engine, and where its time went."""
    engine = toolchain_engine()
    options = run_options(tmp_path)
    run_plan(engine, matrix, make_plan(matrix), options, Reporter(stream=io.StringIO()))
    return engine, options.phases


def test_the_phases_count_every_image_built_the_parent_included(
    matrix: Matrix, tmp_path: Path
) -> None:
    engine, phases = phases_of_a_run(matrix, tmp_path)
    assert len(engine.builds) == 3  # rust, then wasm and wasm-sdk on it
    assert phases.images_built == 3


def test_the_phases_time_the_sources_going_in_and_the_files_coming_out(
    matrix: Matrix, tmp_path: Path
) -> None:
    _, phases = phases_of_a_run(matrix, tmp_path)
    assert phases.sources_in_s > 0.0
    assert phases.files_out_s > 0.0
    assert phases.housekeeping_s > 0.0
    assert phases.sources_in_s + phases.files_out_s + phases.housekeeping_s <= phases.cell_other_s


def test_a_run_teaches_the_next_ones_estimate_and_keeps_its_own_course(
    matrix: Matrix, tmp_path: Path
) -> None:
    engine = toolchain_engine()
    options = run_options(tmp_path)
    run_plan(engine, matrix, make_plan(matrix), options, Reporter(stream=io.StringIO()))
    history = load_durations(tmp_path / "cache" / "durations.json")
    assert set(history.images) == {"rust", "wasm", "wasm-sdk"}
    assert set(history.cells) == {cell.id for cell in make_plan(matrix).cells}
    assert len(options.phases.estimates) == 2  # one per cell: two cells run
    assert options.phases.estimates[-1][0] <= options.phases.estimates[-1][1] + 0.1

    stream = io.StringIO()
    reporter = Reporter(stream=stream)
    run_plan(engine, matrix, make_plan(matrix), run_options(tmp_path), reporter)
    assert reporter.estimate is not None
    work = reporter.estimate.work
    assert work.images == ()  # every image present ...
    assert all(cell.cached for group in work.groups for cell in group.cells)  # ... cells too


def test_a_scenarios_prepare_commands_count_as_cell_steps_not_host_work() -> None:
    phases = Phases(cell_other_s=10.0, steps_s=5.0)
    host = HostTimes(sources_in_s=1.0, files_out_s=2.0, prepare_s=3.0, housekeeping_s=0.5)
    _count_host(host, phases)
    assert (phases.steps_s, phases.cell_other_s) == (8.0, 7.0)
    assert (phases.sources_in_s, phases.files_out_s, phases.housekeeping_s) == (1.0, 2.0, 0.5)
    assert host.take() == (0.0, 0.0, 0.0, 0.0)  # taken once: the next cell starts from nothing
