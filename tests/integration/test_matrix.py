"""The real matrix in Docker: cold then warm, a hung build, and Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import docker
import pytest

from orchestrator.engine.container import LABEL
from orchestrator.results.diff import Change, diff_results
from orchestrator.results.model import ResultsDocument
from orchestrator.serial import decode
from tests.integration.conftest import CI_SELECTION, REPO, Run, project_with, run_linkmatrix
from tests.unit.test_schema import assert_valid_results

OK = {"pass", "xfail", "not-applicable"}
CONNECTED_ROUTES = {"msvc-xwin", "macos-sdk"}  # need the user's SDK: skipped without it
GLIBC = "glibc/x86_64-unknown-linux-gnu"
WASM = "wasm/wasm32-unknown-unknown"
MUSL = "musl/x86_64-unknown-linux-musl"
EXPORTS = "export-executable-symbols"


@pytest.fixture(scope="module")
def cold_run(
    docker_client: docker.DockerClient, cell_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> Run:
    return run_linkmatrix(
        *CI_SELECTION,
        matrix=REPO / "matrix.yaml",
        out=tmp_path_factory.mktemp("cold"),
        cache=cell_cache,
    )


def test_every_cell_passes_or_fails_as_known(cold_run: Run) -> None:
    assert cold_run.exit_code == 0, cold_run.output
    assert_valid_results(cold_run.written)
    for cell in cold_run.results["cells"]:
        if cell["toolchain"] in CONNECTED_ROUTES and cell["status"] != "not-applicable":
            assert (cell["status"], cell["reason"]) == ("skip", "sdk-missing"), cell["id"]
            continue
        assert cell["status"] in OK, (cell["id"], cell["status"], cell["detail"])
        if cell["status"] == "not-applicable":
            continue
        assert cell["rustc"].startswith(f"rustc {cell['release']}."), cell["rustc"]
        assert cell["image"].startswith("sha256:")
        assert cell["linker"]["version"], cell["id"]
        for artifact in cell["artifacts"]:
            if artifact["built"]:
                assert len(artifact["sha256"]) == 64 and artifact["size"] > 0


def test_every_mission_toolchain_produced_inspected_artifacts(cold_run: Run) -> None:
    formats: dict[str, set[str]] = {}
    for cell in cold_run.results["cells"]:
        for artifact in cell["artifacts"]:
            if artifact["built"]:
                formats.setdefault(cell["toolchain"], set()).add(artifact["format"])
    # the core scenarios link binaries everywhere; glibc's catalogue adds static libraries
    assert formats["glibc"] == {"elf", "archive"}
    assert formats["musl"] == {"elf"}
    assert formats["msvc"] == {"pe"}
    assert formats["windows-gnu"] == {"pe"}
    assert formats["macos"] == {"macho"}
    assert formats["emscripten"] == {"wasm"}
    assert formats["wasm"] == {"wasm"}
    assert formats["ptx"] == {"ptx"}


def test_export_executable_symbols_flag_decides_the_elf_export(cold_run: Run) -> None:
    cell = f"{GLIBC}/{EXPORTS}"
    with_flag = cold_run.artifact(cell, "exe-with-flag")
    without = cold_run.artifact(cell, "exe-without-flag")
    assert with_flag["exports"] == ["exported_from_exe", "main"]
    assert without["exports"] == []
    assert with_flag["build"]["env"].get("RUSTC_BOOTSTRAP") == "1"
    assert "RUSTC_BOOTSTRAP" not in without["build"]["env"]
    assert with_flag["format"] == "elf" and with_flag["interpreter"]


def test_the_rustup_row_links_with_rust_lld_where_the_glibc_row_links_with_gnu_ld(
    cold_run: Run,
) -> None:
    lld = cold_run.cell("glibc-rustup/x86_64-unknown-linux-gnu/link-order")
    gnu = cold_run.cell(f"{GLIBC}/link-order")
    assert "LLD" in lld["linker"]["version"], lld["linker"]
    assert "GNU ld" in gnu["linker"]["version"], gnu["linker"]
    # archives in the "wrong" order: GNU ld refuses them, LLD does not mind
    assert cold_run.artifact(lld["id"], "provider-first")["built"]
    assert not cold_run.artifact(gnu["id"], "provider-first")["built"]


@pytest.mark.parametrize(
    ("cell", "exports"),
    [
        (f"msvc/x86_64-pc-windows-msvc/{EXPORTS}", ["exported_from_exe", "main"]),
        (f"windows-gnu/x86_64-pc-windows-gnu/{EXPORTS}", ["exported_from_exe", "main"]),
        (f"macos/aarch64-apple-darwin/{EXPORTS}", ["exported_from_exe", "main"]),
        (f"{MUSL}/{EXPORTS}", ["exported_from_exe", "main"]),
    ],
)
def test_export_tables_of_each_format(cold_run: Run, cell: str, exports: list[str]) -> None:
    assert cold_run.artifact(cell, "exe-with-flag")["exports"] == exports


def test_static_musl_executable_is_static_and_refuses_cdylibs(cold_run: Run) -> None:
    exe = cold_run.artifact(f"{MUSL}/{EXPORTS}", "exe-with-flag")
    assert (exe["static"], exe["interpreter"], exe["needed"]) == (True, None, [])
    cdylib = cold_run.cell(f"{MUSL}/cdylib-exports")
    assert cdylib["status"] == "pass"
    assert not cold_run.artifact(cdylib["id"], "lib")["built"]
    assert any("does not support these crate types" in d["message"] for d in cdylib["diagnostics"])
    dynamic = cold_run.artifact("musl-dynamic/x86_64-unknown-linux-musl/cdylib-exports", "lib")
    assert dynamic["exports"] == ["allocate_and_sum", "answer"]
    assert dynamic["needed"] == ["libc.so"]


def run_outcomes(run: Run, cell_id: str) -> list[tuple[str, str]]:
    return [
        (c["outcome"], c["detail"]) for c in run.cell(cell_id)["checks"] if c["property"] == "run"
    ]


@pytest.mark.parametrize(
    "cell",
    [
        f"{GLIBC}/{EXPORTS}",  # native
        f"{MUSL}/{EXPORTS}",  # native, static
        f"{WASM}/{EXPORTS}",  # wasmtime
        f"emscripten/wasm32-unknown-emscripten/{EXPORTS}",  # node
        f"windows-gnu/x86_64-pc-windows-gnu/{EXPORTS}",  # wine
        f"msvc/x86_64-pc-windows-msvc/{EXPORTS}",  # wine, stand-in CRT
    ],
)
def test_artifacts_ran_where_a_runner_exists(cold_run: Run, cell: str) -> None:
    outcomes = run_outcomes(cold_run, cell)
    assert outcomes, cell
    assert all(outcome == "pass" for outcome, _ in outcomes), outcomes
    assert any("exported_from_exe() = 7" in detail for _, detail in outcomes)


@pytest.mark.parametrize(
    ("column", "version"),
    [
        (GLIBC, None),  # the file runs itself: no runner program, no version probe
        (MUSL, None),
        (WASM, "wasmtime-py 50.0.1"),  # the wheel images/wasm/fetch.yaml pins
        ("emscripten/wasm32-unknown-emscripten", "v18."),  # Debian's node 18
        ("windows-gnu/x86_64-pc-windows-gnu", "wine-8.0"),  # wine64, which wine-run calls
        ("msvc/x86_64-pc-windows-msvc", "wine-8.0"),
    ],
)
def test_each_runner_records_the_version_of_what_runs(
    cold_run: Run, column: str, version: str | None
) -> None:
    runner = cold_run.cell(f"{column}/{EXPORTS}")["runner"]
    if version is None:
        assert runner["version"] is None, runner
    else:
        assert runner["version"].startswith(version), runner
    assert "runner" not in cold_run.cell(f"macos/aarch64-apple-darwin/{EXPORTS}")


def test_no_runner_is_reported_as_not_run(cold_run: Run) -> None:
    outcomes = run_outcomes(cold_run, f"macos/aarch64-apple-darwin/{EXPORTS}")
    assert outcomes == [("not-run", "not run: no runner for this target")]


def test_wasm_cells_build_std_and_report_wasm_exports(cold_run: Run) -> None:
    """std comes from the cell's sysroot, as from `rustup target add`: no -Zbuild-std in the
    artifact's own build, `--sysroot` in its flags, no RUSTC_BOOTSTRAP for a stable crate.
    """
    cell = cold_run.cell(f"{WASM}/cdylib-exports")
    lib = cold_run.artifact(f"{WASM}/cdylib-exports", "lib")
    assert lib["format"] == "wasm"
    assert {"answer", "memory"} <= set(lib["exports"])
    assert cell["std"]["sysroot"].startswith("/cache/sysroots/")
    assert not any(a.startswith("-Zbuild-std") for a in lib["build"]["command"])
    assert any("--sysroot" in value for value in lib["build"]["env"].values())
    assert "RUSTC_BOOTSTRAP" not in lib["build"]["env"]
    assert "--sysroot" in lib["build"]["rustc"]


def test_emscripten_minifies_and_the_glue_maps_names_back(cold_run: Run) -> None:
    exe = cold_run.artifact(f"emscripten/wasm32-unknown-emscripten/{EXPORTS}", "exe-with-flag")
    assert "exported_from_exe" not in exe["exports"]
    glue = [f for f in exe["other_files"] if f["format"] == "emscripten-js"]
    assert [f["file"] for f in glue] == ["exe.js"]


def test_ptx_kernel_exports_its_visible_entries(cold_run: Run) -> None:
    kernel = cold_run.artifact("ptx/nvptx64-nvidia-cuda/ptx-kernel", "kernel")
    assert (kernel["format"], kernel["exports"]) == ("ptx", ["answer", "write_answer"])


def test_stand_in_routes_say_so(cold_run: Run) -> None:
    for cell in cold_run.results["cells"]:
        expected = cell["toolchain"] in {"msvc", "macos"}
        assert cell["route"]["stand_in"] is expected, cell["id"]


def test_reexport_records_the_warning_and_the_missing_export(cold_run: Run) -> None:
    cell = cold_run.cell(f"{GLIBC}/reexport-staticlib")
    assert cell["status"] == "xfail"
    assert "rfcs/pull/3556" in cell["detail"]
    assert "foo" not in cold_run.artifact(cell["id"], "lib")["exports"]
    assert any("foreign functions" in d["message"] for d in cell["diagnostics"])


def built_cells(run: Run) -> list[dict[str, object]]:
    """The cells that built something (not the not-applicable or skipped ones)."""
    return [c for c in run.results["cells"] if c["status"] not in ("not-applicable", "skip")]


def test_warm_rerun_builds_nothing(cold_run: Run, cell_cache: Path, tmp_path: Path) -> None:
    warm = run_linkmatrix(
        *CI_SELECTION, matrix=REPO / "matrix.yaml", out=tmp_path, cache=cell_cache
    )
    assert warm.exit_code == 0, warm.output
    assert "images to build: none" in warm.output
    assert built_cells(warm)
    assert all(c["cached"] for c in built_cells(warm))
    before = {
        c["id"]: (c["status"], [a["sha256"] for a in c["artifacts"]])
        for c in cold_run.results["cells"]
    }
    after = {
        c["id"]: (c["status"], [a["sha256"] for a in c["artifacts"]]) for c in warm.results["cells"]
    }
    assert before == after


def hang_project(tmp_path: Path, idle_timeout_s: int = 15) -> Path:
    """The hang fixture beside cdylib-exports; a step silent for `idle_timeout_s` is killed."""
    return project_with(
        tmp_path / "project",
        matrix_edits={"idle_timeout_s: 600": f"idle_timeout_s: {idle_timeout_s}"},
        scenarios={
            "cdylib-exports": REPO / "scenarios/cdylib-exports",
            "hang": REPO / "tests/integration/fixtures/hang",
        },
    )


def leftover_containers(client: docker.DockerClient, results: Path) -> list[str]:
    """Containers still labelled with the run id that `results` records."""
    run_id = json.loads(results.read_text())["provenance"]["run_id"]
    containers = client.containers.list(
        all=True, filters={"label": f"{LABEL}={run_id}"}, ignore_removed=True
    )
    return [str(c.name) for c in containers]


def test_hung_build_is_killed_and_the_next_cell_still_runs(
    docker_client: docker.DockerClient, cell_cache: Path, tmp_path: Path
) -> None:
    junit = tmp_path / "junit.xml"
    run = run_linkmatrix(
        "--only",
        f"{GLIBC}/*",
        "--junit",
        str(junit),
        matrix=hang_project(tmp_path),
        out=tmp_path / "out",
        cache=cell_cache,
    )
    hang = run.cell(f"{GLIBC}/hang")
    assert (hang["status"], hang["reason"]) == ("error", "timeout")
    assert "no output for 15 s" in hang["detail"]
    assert run.cell(f"{GLIBC}/cdylib-exports")["status"] == "pass"
    assert run.exit_code == 1
    assert leftover_containers(docker_client, tmp_path / "out/results.json") == []
    assert_junit_matches(junit, run)


def assert_junit_matches(path: Path, run: Run) -> None:
    """The run's --junit file: one testcase per cell, the timeout an <error>, the pass bare.

    The format is the unit tests' (tests/unit/test_junit.py); this is the file a real run
    writes, with a real build log's tail in it.
    """
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    [suite] = root.findall("testsuite")  # one column; no `linkmatrix.incomplete` suite
    assert suite.get("name") == GLIBC
    cases = {str(case.get("name")): case for case in suite.findall("testcase")}
    assert sorted(cases) == sorted(c["scenario"] for c in run.results["cells"])
    assert (suite.get("tests"), suite.get("errors")) == (str(len(cases)), "1")
    error = cases["hang"].find("error")
    assert error is not None
    assert error.get("type") == "timeout"
    assert "no output for 15 s" in (error.text or "")
    assert list(cases["cdylib-exports"]) == []  # passed: no failure, error or skipped child


def test_ctrl_c_removes_containers_and_keeps_finished_cells(
    docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "orchestrator",
        "run",
        "--fresh",
        "--only",
        f"{GLIBC}/*",
        "--matrix",
        str(hang_project(tmp_path, idle_timeout_s=300)),  # Ctrl-C lands while it hangs
        "--out",
        str(out),
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # a test run started in the background inherits SIGINT ignored, and Python keeps an
        # ignored SIGINT ignored: give the child the default, as a terminal's Ctrl-C finds it
        preexec_fn=_default_sigint,  # noqa: PLW1509
    )
    results = out / "results.json"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and not _has_cell(results, f"{GLIBC}/cdylib-exports"):
        time.sleep(0.5)
    time.sleep(3)  # the hang cell's container is up and building
    assert leftover_containers(docker_client, results), "the hang cell should be running"
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=600)
    print(output)
    assert process.returncode == 130, output
    assert "Interrupted. Every finished cell is kept" in output
    document = json.loads(results.read_text())
    assert [c["id"] for c in document["cells"]] == [f"{GLIBC}/cdylib-exports"]
    assert document["cells"][0]["status"] == "pass"
    assert leftover_containers(docker_client, results) == []


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _has_cell(path: Path, cell_id: str) -> bool:
    try:
        return any(c["id"] == cell_id for c in json.loads(path.read_text())["cells"])
    except (OSError, ValueError):
        return False


def test_two_shards_merged_equal_the_unsharded_run(
    cold_run: Run, cell_cache: Path, tmp_path: Path
) -> None:
    shards = []
    for index in (1, 2):
        out = tmp_path / f"shard-{index}"
        shard = run_linkmatrix(
            *CI_SELECTION,
            "--shard",
            f"{index}/2",
            matrix=REPO / "matrix.yaml",
            out=out,
            cache=cell_cache,
        )
        assert shard.exit_code == 0, shard.output
        shards.append(out / "results.json")
    merged = subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestrator",
            "merge",
            *map(str, shards),
            "--out",
            str(tmp_path / "merged"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert merged.returncode == 0, merged.stdout + merged.stderr
    document = json.loads((tmp_path / "merged/results.json").read_text())

    def verdicts(cells: list[dict[str, object]]) -> dict[object, object]:
        return {c["id"]: (c["status"], c["reason"]) for c in cells}

    assert verdicts(document["cells"]) == verdicts(cold_run.results["cells"])


def test_baseline_diff_shows_exactly_the_changed_expectation_as_regressed(
    cold_run: Run, cell_cache: Path, tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(cold_run.results))
    matrix = project_with(
        tmp_path / "project",
        matrix_edits={},
        scenarios={
            name: REPO / "scenarios" / name
            for name in (
                "cdylib-exports",
                "export-executable-symbols",
                "reexport-staticlib",
                "ptx-kernel",
            )
        },
    )
    changed = matrix.parent / "scenarios/cdylib-exports/scenario.yaml"
    text = changed.read_text()
    assert "includes: [answer, allocate_and_sum]\n" in text
    changed.write_text(
        text.replace(
            "includes: [answer, allocate_and_sum]\n",
            "includes: [answer, allocate_and_sum, renamed_away]\n",
            1,
        )
    )
    run = run_linkmatrix(
        "--only",
        f"{GLIBC}/*",
        "--baseline",
        str(baseline),
        matrix=matrix,
        out=tmp_path / "out",
        cache=cell_cache,
    )
    assert run.exit_code == 1, run.output
    assert len(built_cells(run)) == 3
    assert all(c["cached"] for c in built_cells(run))  # re-judged, not rebuilt
    diff = subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestrator",
            "diff",
            str(baseline),
            str(tmp_path / "out/results.json"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert diff.returncode == 1, diff.stdout
    old, new = (decode(ResultsDocument, r.results) for r in (cold_run, run))
    changes = diff_results(old, new).changes
    regressed = [c.id for c in changes if c.change is Change.REGRESSED]
    assert regressed == [f"{GLIBC}/cdylib-exports"], diff.stdout
    assert f"{GLIBC}/cdylib-exports" in diff.stdout


@pytest.mark.parametrize(
    "column",
    [
        GLIBC,
        "musl-dynamic/x86_64-unknown-linux-musl",
        "windows-gnu/x86_64-pc-windows-gnu",
        "msvc/x86_64-pc-windows-msvc",
    ],
)
def test_a_plugin_calls_back_into_the_executable_only_with_the_flag(
    cold_run: Run, column: str
) -> None:
    cell = cold_run.cell(f"{column}/exe-plugin-callback")
    runs = {r["name"]: r for r in cell["runs"]}
    assert "plugin_entry() = 42" in runs["load-with-flag"]["stdout"]
    assert "plugin_entry() = -1" in runs["load-without-flag"]["stdout"]
    plugin = next(a for a in cell["artifacts"] if a["name"] == "plugin")
    assert runs["load-with-flag"]["command"][-1].endswith(plugin["file"].rsplit("/", 1)[-1])


def test_a_static_executable_runs_alone_in_an_empty_container(
    cold_run: Run, docker_client: docker.DockerClient
) -> None:
    cell = cold_run.cell(f"{MUSL}/static-scratch")
    assert cell["status"] == "pass", cell["detail"]
    alone = next(r for r in cell["runs"] if r["name"] == "run-alone")
    assert alone["exit_code"] == 0
    assert "system: /bin/sh present: false" in alone["stdout"]
    assert "static-scratch: done" in alone["stdout"]
    run_id = cold_run.results["provenance"]["run_id"]
    assert docker_client.images.list(filters={"label": f"{LABEL}={run_id}"}) == []


def test_java_calls_the_native_method_the_executable_exports(cold_run: Run) -> None:
    cell = cold_run.cell(f"{GLIBC}/jni-static-callback")
    assert cell["status"] == "pass", cell["detail"]
    runs = {r["name"]: r["stdout"] for r in cell["runs"]}
    assert "Callback.run() = 42" in runs["java-calls-exe-with-flag"]
    assert "UnsatisfiedLinkError" in runs["java-calls-exe-without-flag"]
    old = cold_run.cell("glibc@1.85/x86_64-unknown-linux-gnu/jni-static-callback")
    assert old["status"] == "xfail"
    assert "101610" in old["detail"]


def test_mangled_names_are_recorded_with_their_demangled_form(cold_run: Run) -> None:
    cell = f"{GLIBC}/symbol-mangling"
    legacy = cold_run.artifact(cell, "legacy")
    v0 = cold_run.artifact(cell, "v0")
    default = cold_run.artifact(cell, "default")
    assert any(text.startswith("mangled::answer::h") for text in legacy["demangled"].values())
    assert "<mangled::Counter>::bump" in v0["demangled"].values()
    assert "RUSTC_BOOTSTRAP" not in default["build"]["env"]
    assert all(not name.startswith("_R") for name in default["demangled"])
    assert any(member.endswith(".o") for member in default["members"])
