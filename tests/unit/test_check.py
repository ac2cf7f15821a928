"""`linkmatrix check`: a crate read into a Scenario, the noise rule, the snapshot file, the command.

The fixture crates are under fixtures/crates/; the command runs end to end on the fake engine
of test_pipeline (a wasm cdylib exporting `answer`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path, PurePosixPath

import pytest

from orchestrator.check.crate import BUILT_WHY, crate_scenario, load_crate
from orchestrator.check.noise import Filter, crate_names, is_noise, written_name
from orchestrator.check.snapshot import (
    ChangeKind,
    Entry,
    Snapshot,
    bless,
    compare,
    parse,
    render,
    render_diff,
)
from orchestrator.check.view import observed_cells, table
from orchestrator.cli import main
from orchestrator.config.scenario import CrateType, Property, TargetKind
from orchestrator.errors import ConfigError
from orchestrator.layout import SNAPSHOT_FILE, is_source
from orchestrator.results.model import DiagnosticRecord
from orchestrator.status import Reason, Status
from tests.unit.conftest import make_artifact, make_cell
from tests.unit.fake_engine import FakeEngine
from tests.unit.test_pipeline import toolchain_engine, write_project

CRATES = Path(__file__).parent / "fixtures" / "crates"
GLIBC = "glibc/x86_64-unknown-linux-gnu"
WASM = "wasm/wasm32-unknown-unknown"


# -- the crate -----------------------------------------------------------------------------


def test_a_package_gives_one_artifact_per_crate_type_and_binary() -> None:
    made = crate_scenario(load_crate(CRATES / "demo"))
    scenario = made.scenario
    assert scenario.name == "demo-lib"
    assert scenario.folder == CRATES / "demo"
    shapes = [(a.name, a.target_kind, a.bin_name, a.crate_type) for a in scenario.artifacts]
    assert shapes == [
        ("demo-lib.cdylib", TargetKind.LIB, "demo-lib", CrateType.CDYLIB),
        ("demo-lib.rlib", TargetKind.LIB, "demo-lib", CrateType.RLIB),
        ("demo-lib.bin.extra", TargetKind.BIN, "extra", None),
        ("demo-lib.bin.demo-lib", TargetKind.BIN, "demo-lib", None),
        ("demo-lib.bin.multi", TargetKind.BIN, "multi", None),
        ("demo-lib.bin.tool", TargetKind.BIN, "tool", None),
    ]
    assert {a.package for a in scenario.artifacts} == {"demo-lib"}
    # no expectation but "it built", on every artifact, everywhere
    assert [(c.artifact, c.property, c.expected_flag) for c in scenario.checks] == [
        (a.name, Property.BUILT, True) for a in scenario.artifacts
    ]
    assert all(c.why == BUILT_WHY and c.xfail is None for c in scenario.checks)
    assert (scenario.runs, scenario.prepare, scenario.not_applicable, made.left_out) == (
        (),
        (),
        (),
        (),
    )


def test_a_workspace_reads_its_members_and_leaves_a_proc_macro_out() -> None:
    crate = load_crate(CRATES / "workspace" / "Cargo.toml")  # the manifest's path works too
    assert crate.name == "workspace"
    assert [p.name for p in crate.packages] == ["api", "macros"]  # `skipped` is excluded
    made = crate_scenario(crate)
    assert [a.name for a in made.scenario.artifacts] == ["api.dylib", "api.staticlib"]
    assert made.left_out == (
        "macros: a proc-macro library is built for the host, never for a target",
    )


@pytest.mark.parametrize(
    ("crate", "expected"),
    [
        ("not-a-crate", r"not-a-crate/Cargo\.toml: missing, so .* is not a crate"),
        ("no-lock", r"no-lock/Cargo\.lock: missing\. .*cargo generate-lockfile"),
        ("bad-manifest", r"bad-manifest/Cargo\.toml: not a valid Cargo\.toml \(.*line 3"),
        ("nowhere", r"nowhere: no such folder"),
    ],
)
def test_what_is_not_a_checkable_crate_is_one_message(crate: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_crate(CRATES / crate)


@pytest.mark.parametrize("crate", ["not-a-crate", "no-lock", "bad-manifest"])
def test_the_command_refuses_a_bad_crate_with_exit_3_and_no_traceback(
    crate: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(CRATES / crate), "--matrix", "/nonexistent/matrix.yaml"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("linkmatrix: error: ")
    assert str(CRATES / crate) in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_the_snapshot_file_and_version_control_are_no_sources() -> None:
    assert is_source(PurePosixPath("src/lib.rs"))
    for path in (SNAPSHOT_FILE, "target/release/x", ".git/HEAD"):
        assert not is_source(PurePosixPath(path))


# -- the noise rule --------------------------------------------------------------------------


def test_rust_names_are_written_demangled_without_hash_or_llvm_suffix() -> None:
    assert written_name("plain", None) == "plain"
    legacy = "_ZN4demo3add17h0123456789abcdefE"
    assert written_name(legacy, "demo::add::h0123456789abcdef") == "demo::add"
    assert written_name(legacy + ".llvm.42", "demo::add::h0123456789abcdef.llvm.42") == "demo::add"
    assert written_name("_RNvCs1_4demo3add", "demo::add") == "demo::add"


@pytest.mark.parametrize(
    "name",
    [
        "_init",
        "_fini",
        "__bss_start",
        "_edata",
        "_end",
        "__mh_execute_header",
        "_DllMainCRTStartup",
        "_tls_used",
        "memory",
        "__heap_base",
        "__data_end",
        "__rust_alloc",
        "rust_eh_personality",
        "__udivti3",
        "memcpy",
        "emscripten_stack_init",
        "rust_metadata_demo_8f3a2b1c",
    ],
)
def test_platform_and_runtime_names_are_noise(name: str) -> None:
    assert is_noise(name, rust=False)


def test_std_mangled_names_are_noise_and_the_crates_own_are_not() -> None:
    assert is_noise("std::io::stdio::_print", rust=True)
    assert is_noise("<u8 as core::fmt::Debug>::fmt", rust=True)
    assert is_noise("<&mut alloc::vec::Vec<u8> as std::io::Write>::write", rust=True)
    assert not is_noise("demo::add", rust=True)
    assert not is_noise("<demo::Thing as core::fmt::Debug>::fmt", rust=True)
    assert not is_noise("demo_add", rust=False)
    assert not is_noise("_demo_add", rust=False)  # a Mach-O C name


def test_the_snapshot_filter_overrides_the_rule() -> None:
    exports = ("_init", "demo_add", "demo_internal", "_ZN3std2io5print17h0123456789abcdefE")
    demangled = {exports[3]: "std::io::print::h0123456789abcdef"}
    assert crate_names(exports, demangled, Filter()) == ("demo_add", "demo_internal")
    chosen = Filter(ignore=("demo_int*",), keep=("std::*", "_init"))
    assert crate_names(exports, demangled, chosen) == ("_init", "demo_add", "std::io::print")
    # keep wins over ignore
    assert crate_names(exports, demangled, Filter(ignore=("*",), keep=("demo_add",))) == (
        "demo_add",
    )


# -- the snapshot file -----------------------------------------------------------------------


def sample() -> Snapshot:
    return Snapshot(
        filter=Filter(ignore=("demo_private_*",), keep=()),
        cells={
            WASM: {"demo.cdylib": Entry(built=True, exports=("demo_add",))},
            GLIBC: {
                "demo.dylib": Entry(built=False, exports=()),
                "demo.cdylib": Entry(
                    built=True, exports=("demo_sub", "demo_add", 'odd "na\\me"\x7f')
                ),
            },
        },
    )


def test_the_file_is_sorted_one_name_per_line_and_reads_back_equal() -> None:
    text = render(sample())
    assert text == render(parse(text, Path(SNAPSHOT_FILE)))
    reread = parse(text, Path(SNAPSHOT_FILE))
    assert reread.filter == sample().filter
    assert reread.cells[GLIBC]["demo.cdylib"].exports == (
        "demo_add",
        "demo_sub",
        'odd "na\\me"\x7f',
    )
    lines = text.splitlines()
    glibc = lines.index(f'[cells."{GLIBC}"."demo.cdylib"]')
    assert lines.index(f'[cells."{GLIBC}"."demo.dylib"]') > glibc
    assert lines.index(f'[cells."{WASM}"."demo.cdylib"]') > glibc
    assert lines[glibc + 1 : glibc + 7] == [
        "built = true",
        "exports = [",
        '    "demo_add",',
        '    "demo_sub",',
        '    "odd \\"na\\\\me\\"\\u007F",',
        "]",
    ]


def test_an_empty_snapshot_and_a_bare_file_read() -> None:
    empty = Snapshot(filter=Filter(), cells={})
    assert parse(render(empty), Path("x")) == empty
    assert parse("version = 1\n", Path("x")) == empty


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version = 1\n[cells\n", r"x\.toml: not valid TOML \(.*line 2"),
        ("version = 2\n", r"x\.toml:1: version: expected `version = 1`"),
        ("\n\nversion = 1\nextra = 3\n", r"x\.toml:4: extra: unknown key"),
        (
            f'version = 1\n\n[cells."{GLIBC}"."a"]\nbuilt = "yes"\n',
            rf"x\.toml:4: cells\.{GLIBC}\.a\.built: expected true or false",
        ),
        (
            f'version = 1\n\n[cells."{GLIBC}"."a"]\nbuilt = true\nexports = [1]\n',
            rf"x\.toml:5: cells\.{GLIBC}\.a\.exports: expected a list of strings",
        ),
        (
            f'version = 1\n\n[cells."{GLIBC}"."a"]\nbuilt = true\nexprots = []\n',
            rf"x\.toml:5: cells\.{GLIBC}\.a\.exprots: unknown key",
        ),
        ("version = 1\n[filter]\nignore = 'x'\n", r"x\.toml:3: filter\.ignore: expected a list"),
        ("version = 1\n[cells.nocolumn]\na = 1\n", r"x\.toml:2: cells\.nocolumn: expected a table"),
    ],
)
def test_a_damaged_snapshot_names_file_line_and_fix(text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as caught:
        parse(text, Path("x.toml"))
    assert "--bless" in str(caught.value)


def test_compare_reports_name_by_name_and_new_columns_are_no_failure() -> None:
    old = sample()
    observed = {
        GLIBC: {
            "demo.cdylib": Entry(built=True, exports=("demo_add", "demo_mul", 'odd "na\\me"\x7f')),
            "demo.dylib": Entry(built=True, exports=()),
            "demo.staticlib": Entry(built=True, exports=("demo_add",)),
        },
        "musl/x86_64-unknown-linux-musl": {"demo.cdylib": Entry(built=True, exports=())},
    }
    diff = compare(old, observed)
    kinds = [(c.artifact, c.kind) for c in diff.changes]
    assert kinds == [
        ("demo.cdylib", ChangeKind.EXPORTS),
        ("demo.dylib", ChangeKind.BUILT),
        ("demo.staticlib", ChangeKind.NEW_ARTIFACT),
    ]
    assert (diff.changes[0].added, diff.changes[0].removed) == (("demo_mul",), ("demo_sub",))
    assert diff.new_columns == ("musl/x86_64-unknown-linux-musl",)
    assert diff.unchecked_columns == (WASM,)
    text = render_diff(diff, Path(SNAPSHOT_FILE))
    assert text[:4] == [
        f"{GLIBC} demo.cdylib: exports changed",
        "  + demo_mul",
        "  - demo_sub",
        f"{GLIBC} demo.dylib: now builds (the snapshot says otherwise)",
    ]
    assert any("not a failure" in line and "musl/" in line for line in text)


def test_a_gone_artifact_is_a_change_and_the_filter_applies_to_the_stored_names() -> None:
    old = Snapshot(
        filter=Filter(ignore=("demo_private_*",)),
        cells={
            GLIBC: {
                "a": Entry(built=True, exports=("demo_private_x", "y")),
                "b": Entry(built=True, exports=()),
            }
        },
    )
    diff = compare(old, {GLIBC: {"a": Entry(built=True, exports=("y",))}})
    assert [(c.artifact, c.kind) for c in diff.changes] == [("b", ChangeKind.GONE_ARTIFACT)]


def test_bless_replaces_the_observed_columns_and_keeps_the_rest_and_the_filter() -> None:
    observed = {GLIBC: {"demo.cdylib": Entry(built=True, exports=("demo_new",))}}
    blessed = bless(sample(), observed)
    assert blessed.filter == sample().filter
    assert blessed.cells[GLIBC] == observed[GLIBC]
    assert blessed.cells[WASM] == sample().cells[WASM]
    assert compare(blessed, observed).changes == ()
    assert bless(None, observed).cells == observed


# -- the view --------------------------------------------------------------------------------


def test_the_table_and_the_observation_read_the_results_model() -> None:
    built = make_artifact("demo.cdylib", "_init", "demo_add", "__bss_start")
    unbuilt = make_artifact("demo.dylib", built=False)
    error = DiagnosticRecord(level="error", message="cannot produce dylib", code=None, rendered="")
    cells = [
        make_cell(f"{GLIBC}/demo", artifacts=[built, unbuilt], diagnostics=(error,), log="l.log"),
        make_cell(f"{WASM}/demo", Status.ERROR, Reason.TIMEOUT, detail="killed\nmore"),
    ]
    lines = table(cells, Filter())
    assert lines[0] == GLIBC
    assert "built (elf): exports 1, 2 platform/std names not shown: demo_add" in lines[1]
    assert lines[4].endswith("not built: cannot produce dylib (log: l.log)")
    assert lines[5:] == [WASM, "  error: timeout: killed"]
    dropped = DiagnosticRecord(
        level="warning",
        message="dropping unsupported crate type `dylib` for target `wasm32-unknown-unknown`",
        code=None,
        rendered="",
    )
    wasm = make_cell(f"{WASM}/demo", Status.FAIL, artifacts=[unbuilt], diagnostics=(dropped,))
    assert table([wasm], Filter())[1].endswith(
        "not built: dropping unsupported crate type `dylib` for target `wasm32-unknown-unknown`"
    )
    # attributed diagnostics: an unbuilt artifact's reason is its own error, not another's
    other = dataclasses.replace(error, message="another artifact's error", artifact="demo.cdylib")
    own = dataclasses.replace(error, artifact="demo.dylib")
    attributed = make_cell(f"{GLIBC}/demo", artifacts=[built, unbuilt], diagnostics=(other, own))
    assert table([attributed], Filter())[4].endswith("not built: cannot produce dylib")
    observed = observed_cells(cells, Filter())
    assert observed == {
        GLIBC: {
            "demo.cdylib": Entry(built=True, exports=("demo_add",)),
            "demo.dylib": Entry(built=False, exports=()),
        }
    }


# -- the command, on the fake engine --------------------------------------------------------


def checked_crate(root: Path) -> Path:
    """A crate whose cdylib the fake engine "builds" into a wasm module exporting `answer`."""
    crate = root / "cdy"
    (crate / "src").mkdir(parents=True)
    manifest = '[package]\nname = "cdy"\nversion = "0.1.0"\n\n[lib]\ncrate-type = ["cdylib"]\n'
    (crate / "Cargo.toml").write_text(manifest)
    (crate / "Cargo.lock").write_text("version = 4\n")
    (crate / "src" / "lib.rs").write_text('#[no_mangle]\npub extern "C" fn answer() {}\n')
    return crate


def check(engine: FakeEngine, tmp_path: Path, crate: Path, *extra: str) -> int:
    matrix = tmp_path / "project" / "matrix.yaml"
    if not matrix.exists():
        write_project(tmp_path / "project")
    argv = ["check", str(crate), "--matrix", str(matrix), "--only", "wasm/*"]
    argv += ["--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"), *extra]
    return main(argv)


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    fake = toolchain_engine()
    monkeypatch.setattr("orchestrator.engine.client.connect", lambda: fake)
    return fake


def test_check_builds_shows_blesses_and_then_compares(
    engine: FakeEngine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crate = checked_crate(tmp_path)
    assert check(engine, tmp_path, crate) == 0
    out = capsys.readouterr().out
    assert WASM in out
    assert "cdy.cdylib  built (wasm): exports 1: answer" in out
    assert f"no snapshot at {crate / SNAPSHOT_FILE}" in out
    assert (tmp_path / "out" / "results.json").is_file()

    assert check(engine, tmp_path, crate, "--bless") == 0
    snapshot = (crate / SNAPSHOT_FILE).read_text()
    assert f'[cells."{WASM}"."cdy.cdylib"]\nbuilt = true\nexports = [\n    "answer",\n]' in snapshot
    builds = len(engine.builds)
    execs = len(engine.execs)

    capsys.readouterr()
    assert check(engine, tmp_path, crate) == 0  # the snapshot is no source: nothing rebuilt
    assert (len(engine.builds), len(engine.execs)) == (builds, execs)

    (crate / SNAPSHOT_FILE).write_text(snapshot.replace('"answer"', '"question"'))
    capsys.readouterr()
    assert check(engine, tmp_path, crate) == 1
    out = capsys.readouterr().out
    assert "cdy.cdylib: exports changed\n  + answer\n  - question" in out.replace(f"{WASM} ", "")


def test_a_damaged_snapshot_stops_the_check_before_any_build(
    engine: FakeEngine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crate = checked_crate(tmp_path)
    (crate / SNAPSHOT_FILE).write_text("version = 1\n[filter]\nignore = 3\n")
    assert check(engine, tmp_path, crate) == 3
    err = capsys.readouterr().err
    assert f"{crate / SNAPSHOT_FILE}:3: filter.ignore: expected a list of strings" in err
    assert engine.execs == []
