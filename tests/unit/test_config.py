"""The validating loader: good input becomes dataclasses, bad input one clear message."""

from __future__ import annotations

import os
import re
import time
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.config.matrix import Limits, Matrix, load_matrix, require_matrix_file
from orchestrator.config.scenario import CrateType, Property, TargetKind
from orchestrator.config.source import MAX_BYTES, load_yaml
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


# -- bad input: every case is one ConfigError naming file, line and key path (issue 12) ---------


def raw_error_for(make_project: ProjectFactory, raw: bytes) -> str:
    """The message for a matrix.yaml of exactly these bytes."""
    path = make_project()
    path.write_bytes(raw)
    with pytest.raises(ConfigError) as caught:
        load_matrix(path)
    return str(caught.value)


def with_suite(value: str) -> str:
    """MATRIX with line 4 (`base.suite`) holding `value`."""
    assert MATRIX.splitlines()[3] == "  suite: bookworm"
    return MATRIX.replace("  suite: bookworm", f"  suite: {value}")


def test_latin1_bytes_name_the_line(make_project: ProjectFactory) -> None:
    message = raw_error_for(make_project, with_suite("café").encode("latin-1"))
    assert re.search(
        r"matrix\.yaml:4: not UTF-8 text \(byte 0xe9 .*save the file as UTF-8", message
    )


def test_utf16_is_refused_by_name(make_project: ProjectFactory) -> None:
    message = raw_error_for(make_project, MATRIX.encode("utf-16"))
    assert re.search(r"matrix\.yaml: this is UTF-16 text .*save it as UTF-8", message), message


def test_control_character_names_the_line(make_project: ProjectFactory) -> None:
    message = raw_error_for(make_project, with_suite("book\x07worm").encode())
    assert re.search(r"matrix\.yaml:4: not valid YAML: character #x0007", message), message


@pytest.mark.parametrize(
    ("suite", "expected"),
    [
        ("!foo bookworm", r"base\.suite: the tag '!foo' is not supported; .* remove the tag"),
        ("!!python/object:os.system {}", r"base\.suite: the tag '!!python/object:os\.system'"),
        ("!!binary aGk=", r"base\.suite: the tag '!!binary' is not supported"),
        ("2024-02-30", r"base\.suite: cannot read '2024-02-30' as a date \(day is out of range"),
        ("!!bool maybe", r"base\.suite: 'maybe' is not true or false"),
        ("9" * 5000, r"base\.suite: cannot read '9{37}\.\.\.' as a whole number \(Exceeds the"),
        ("!!int ten", r"base\.suite: 'ten' is not a whole number"),
        ("!!timestamp soon", r"base\.suite: 'soon' is not a date"),
    ],
)
def test_scalar_yaml_cannot_build(make_project: ProjectFactory, suite: str, expected: str) -> None:
    message = raw_error_for(make_project, with_suite(suite).encode())
    assert re.search(r"matrix\.yaml:4: " + expected, message), message


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("  <<: {pull: x}", r"matrix\.yaml:7: base: merge keys \(<<\) are not supported"),
        ("  =: x", r"matrix\.yaml:7: base: value keys \(=\) are not supported"),
        ("  ? [a, b]\n  : x", r"matrix\.yaml:7: base: a key must be a plain name, not a list"),
        ("  {a: 1}: x", r"matrix\.yaml:7: base: a key must be a plain name, not a mapping"),
        ('  "": x', r"matrix\.yaml:7: base: a key is empty"),
        ("  suite: trixie", r"matrix\.yaml:7: base\.suite: given twice, on lines 4 and 7 "),
        ("  pull: !!set {a}", r"matrix\.yaml:7: base\.pull: the tag '!!set' is not supported"),
    ],
)
def test_yaml_key_constructs_are_refused(
    make_project: ProjectFactory, base: str, expected: str
) -> None:
    """A line added at the end of `base:` (line 7)."""
    text = MATRIX.replace("debian-security\n", f"debian-security\n{base}\n", 1)
    message = raw_error_for(make_project, text.encode())
    assert re.search(expected, message), message


def test_deep_nesting_is_refused_early(make_project: ProjectFactory) -> None:
    message = raw_error_for(make_project, with_suite("[" * 300 + "]" * 300).encode())
    assert re.search(r"matrix\.yaml:4: base\.suite(\[0\])+: nested more than 32 levels", message)


def test_nesting_past_libyaml_limit_is_a_syntax_error(make_project: ProjectFactory) -> None:
    message = raw_error_for(make_project, with_suite("[" * 5000 + "]" * 5000).encode())
    assert re.search(r"matrix\.yaml:4: not valid YAML: exceeded maximum nesting depth", message)


@pytest.mark.parametrize("suite", ["&x [*x]", "&x {a: [1, *x]}"])
def test_recursive_alias(make_project: ProjectFactory, suite: str) -> None:
    message = raw_error_for(make_project, with_suite(suite).encode())
    assert re.search(r"matrix\.yaml:4: base\.suite.*: an alias \(\*name\) refers to a", message)


def test_alias_bomb_stops_at_the_value_budget(make_project: ProjectFactory) -> None:
    """The "billion laughs": 500 bytes that would expand to 10⁹ strings."""
    laughs = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    laughs += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    start = time.monotonic()
    message = raw_error_for(make_project, "\n".join(laughs).encode())
    assert time.monotonic() - start < 5
    assert re.search(
        r"matrix\.yaml:\d+: a\d(\[\d\])+: the document holds more than 20,000 values", message
    )


def test_fifo_is_refused_without_waiting(make_project: ProjectFactory) -> None:
    path = make_project()
    scenario = path.parent / "scenarios/alpha/scenario.yaml"
    scenario.unlink()
    os.mkfifo(scenario)
    with pytest.raises(ConfigError, match=r"alpha/scenario\.yaml: not a regular file"):
        load_yaml(scenario)


def test_huge_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: " + b"x" * (MAX_BYTES + 1))
    with pytest.raises(ConfigError, match=r"big\.yaml: larger than 4 MiB"):
        load_yaml(path)


def test_keys_are_names_as_written(tmp_path: Path) -> None:
    """`1.90:` is the release "1.90", not the number 1.9."""
    path = tmp_path / "k.yaml"
    path.write_text("releases:\n  1.90: x\n  0x10: y\n")
    assert load_yaml(path).data == {"releases": {"1.90": "x", "0x10": "y"}}


LIMITS_LINE = "limits: { memory: 2g, pids: 256, cell_timeout_s: 60, idle_timeout_s: 30 }"


def with_limit(key: str, value: str) -> str:
    """MATRIX with one limit (line 11) set to `value`; `cpus` is added."""
    assert MATRIX.splitlines()[10] == LIMITS_LINE
    old = re.search(rf"{key}: [^,}}]+", LIMITS_LINE)
    line = LIMITS_LINE.replace(old[0], f"{key}: {value}") if old else LIMITS_LINE
    line = line if old else line.replace(" }", f", {key}: {value} }}")
    return MATRIX.replace(LIMITS_LINE, line)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("pids", "0.5", r"limits\.pids: expected a whole number, got float 0\.5"),
        ("pids", "0", r"limits\.pids: expected a whole number from 1 to 4194304, got int 0"),
        ("pids", "9" * 401, r"limits\.pids: expected a whole number from 1 .*, got int 9{30}"),
        ("pids", "true", r"limits\.pids: expected a whole number, got bool True"),
        (
            "cell_timeout_s",
            ".nan",
            r"limits\.cell_timeout_s: expected a number of seconds above 0 and",
        ),
        (
            "idle_timeout_s",
            ".inf",
            r"limits\.idle_timeout_s: expected .* at most 604800, got float inf",
        ),
        ("idle_timeout_s", "-1", r"limits\.idle_timeout_s: expected a number of seconds above 0"),
        (
            "cell_timeout_s",
            "9" * 401,
            r"limits\.cell_timeout_s: expected .* at most 604800, got int 9",
        ),
        ("cpus", "0", r"limits\.cpus: expected a number at least 0\.01 and at most 1024, got int"),
        ("cpus", ".nan", r"limits\.cpus: expected a number at least 0\.01"),
        ("cpus", "two", r"limits\.cpus: expected a number, got str 'two'"),
        (
            "memory",
            "lots",
            r"limits\.memory: expected a memory size such as 4g or 512m, got 'lots'",
        ),
        ("memory", "1k", r"limits\.memory: '1k' is less than Docker's smallest memory limit, 6m"),
        ("memory", "9" * 401 + "g", r"limits\.memory: '9+g' is more memory than the engine can"),
    ],
)
def test_limits_must_be_positive_numbers_of_their_kind(
    make_project: ProjectFactory, key: str, value: str, expected: str
) -> None:
    message = error_for(make_project, with_limit(key, value))
    assert re.search(r"matrix\.yaml:11: " + expected, message), message


def test_cpus_limit_defaults_and_reads(make_project: ProjectFactory) -> None:
    assert load_matrix(make_project()).limits.cpus == 1.5
    loaded = load_matrix(make_project(with_limit("cpus", "0.5")))
    assert loaded.limits == Limits(
        memory="2g", pids=256, cell_timeout_s=60, idle_timeout_s=30, cpus=0.5
    )


def scenario_error(make_project: ProjectFactory, old: str, new: str) -> str:
    assert old in SCENARIO, old
    return error_for(make_project, scenario=SCENARIO.replace(old, new))


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (
            "when: { toolchain: glbc }",
            (
                r":19: checks\[1\]\.when\.toolchain: 'glbc' matches no toolchain of the matrix "
                r"\(glibc, wasm\), so it never applies\. Did you mean 'glibc'\? Fix the glob"
            ),
        ),
        (
            "when: [{ toolchain: glibc }, { target: 'x86_64-*-musl' }]",
            r":19: checks\[1\]\.when\[1\]\.target: 'x86_64-\*-musl' matches no target",
        ),
        ("when: { release: '1.7*' }", r":19: checks\[1\]\.when\.release: '1\.7\*' matches no"),
        (
            "when: { toolchain: [glibc, glbc] }",
            r":19: checks\[1\]\.when\.toolchain\[1\]: 'glbc' matches no toolchain",
        ),
        (
            "when: { toolchain: [] }",
            r":19: checks\[1\]\.when\.toolchain: an empty list matches no toolchain",
        ),
        ("when: []", r":19: checks\[1\]\.when: an empty list matches no cell; leave `when` out"),
        ("unless: []", r":19: checks\[1\]\.unless: an empty list .* `unless` out to mean nowhere"),
    ],
)
def test_selector_that_can_never_match(
    make_project: ProjectFactory, when: str, expected: str
) -> None:
    message = scenario_error(make_project, "when: { toolchain: glibc }", when)
    assert re.search(r"scenarios/alpha/scenario\.yaml" + expected, message), message


def test_selector_globs_are_checked_in_every_section(make_project: ProjectFactory) -> None:
    message = scenario_error(make_project, 'release: "1.85"', 'release: "1.58"')
    assert re.search(r"scenario\.yaml:3: not_applicable\[0\]\.when\.release: '1\.58'", message)
    assert "Did you mean '1.85'?" in message


SCENARIOS_LINE = MATRIX.splitlines().index("scenarios: all") + 1


def scenarios_error(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_matrix(path)
    message = str(caught.value)
    assert f"matrix.yaml:{SCENARIOS_LINE}: scenarios: " in message, message
    return message


def test_misnamed_scenario_file_is_not_dropped_from_all(make_project: ProjectFactory) -> None:
    path = make_project()
    folder = path.parent / "scenarios/beta"
    (folder / "scenario.yaml").rename(folder / "scenario.yml")
    message = scenarios_error(path)
    assert f"{folder} holds no scenario.yaml (there is scenario.yml: rename it to" in message
    assert "rename beta to _beta to keep it out of `scenarios: all`" in message


def test_dangling_scenario_link_is_an_error(make_project: ProjectFactory) -> None:
    path = make_project()
    scenario = path.parent / "scenarios/beta/scenario.yaml"
    scenario.unlink()
    scenario.symlink_to("nowhere.yaml")
    assert f"{scenario} is a symbolic link to nothing; fix the link" in scenarios_error(path)


def test_fifo_in_scenarios_is_an_error(make_project: ProjectFactory) -> None:
    path = make_project()
    os.mkfifo(path.parent / "scenarios/gamma")
    message = scenarios_error(path)
    assert "scenarios/gamma is not a folder, so it is not a scenario; remove it, or" in message


def test_fifo_scenario_file_is_an_error(make_project: ProjectFactory) -> None:
    path = make_project()
    scenario = path.parent / "scenarios/beta/scenario.yaml"
    scenario.unlink()
    os.mkfifo(scenario)
    assert f"{scenario} is not a regular file; make it one, or" in scenarios_error(path)


def test_excluded_and_plain_files_in_scenarios_are_skipped(make_project: ProjectFactory) -> None:
    path = make_project()
    (path.parent / "scenarios/_draft").mkdir()
    (path.parent / "scenarios/README.md").write_text("notes\n")
    assert [s.name for s in load_matrix(path).scenarios] == ["alpha", "beta"]


def test_listed_scenarios_report_their_own_problem(make_project: ProjectFactory) -> None:
    path = make_project(MATRIX.replace("scenarios: all", "scenarios: [alpha, beta, alpha]"))
    (path.parent / "scenarios/gamma").mkdir()  # not listed: not in the way
    with pytest.raises(
        ConfigError, match=rf"matrix\.yaml:{SCENARIOS_LINE}: scenarios: 'alpha' is listed twice"
    ):
        load_matrix(path)
    path.write_text(MATRIX.replace("scenarios: all", "scenarios: [alpha, gamma]"))
    with pytest.raises(
        ConfigError, match=rf"yaml:{SCENARIOS_LINE}: scenarios\[1\]: .*gamma holds no"
    ):
        load_matrix(path)


RUN = """\
runs:
  - name: host
    artifact: exe
    args: [--plugin, "{artifact:lib}"]
    env: { LIB_DIR: "{artifact_dir:lib}" }
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            '"{artifact:lib}"',
            '"{artifact:libb}"',
            (
                r":4: runs\[0\]\.args\[1\]: '\{artifact:libb\}' names no artifact of this scenario "
                r"\(lib, exe\)\. Did you mean '\{artifact:lib\}'\?"
            ),
        ),
        (
            '"{artifact_dir:lib}"',
            '"{artifact_dir:gone}"',
            r":5: runs\[0\]\.env\.LIB_DIR: '\{artifact_dir:gone\}' names no artifact",
        ),
        (
            '"{artifact:lib}"',
            '"{artefact:lib}"',
            (
                r":4: runs\[0\]\.args\[1\]: '\{artefact:lib\}' is no reference: did you mean "
                r"'\{artifact:lib\}'\?"
            ),
        ),
        ('"{artifact:lib}"', '"{artifact: lib}"', r"'\{artifact: lib\}' names no artifact"),
    ],
)
def test_artifact_reference_to_a_missing_artifact(
    make_project: ProjectFactory, old: str, new: str, expected: str
) -> None:
    scenario = SCENARIO + RUN.replace(old, new)
    line = SCENARIO.count("\n")
    message = error_for(make_project, scenario=scenario)
    where = re.search(r"scenario\.yaml:(\d+)(:.*)", message)
    assert where, message
    shifted = f":{int(where[1]) - line}{where[2]}"
    assert re.search(expected, shifted), message


def test_artifact_references_that_resolve_load(make_project: ProjectFactory) -> None:
    loaded = load_matrix(make_project(scenarios={"alpha": SCENARIO + RUN}))
    run = loaded.scenario("alpha").runs[0]
    assert run.args == ("--plugin", "{artifact:lib}")
    assert run.env == (("LIB_DIR", "{artifact_dir:lib}"),)


@pytest.mark.parametrize("pattern", ["(" * 600 + ")" * 600, "a{99999999999}"])
def test_regex_the_parser_cannot_take_is_refused(
    make_project: ProjectFactory, pattern: str
) -> None:
    message = scenario_error(make_project, '["^_ZN"]', f'["{pattern}"]')
    assert re.search(
        r"scenario\.yaml:\d+: checks\[0\]\.exports\.excludes_matching\[0\]: not a valid regular",
        message,
    ), message


def test_base_60_integer_of_thousands_of_digits(make_project: ProjectFactory) -> None:
    """YAML 1.1 reads 1:1:1... as base 60: a short text, a number too long to print."""
    message = raw_error_for(make_project, with_suite(":".join(["1"] * 3000)).encode())
    assert re.search(r"matrix\.yaml:4: base\.suite: '1:1:1.*' is a whole number of over", message)


def test_matrix_path_that_is_a_folder_or_fifo(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.yaml")
    for path in (tmp_path, tmp_path / "fifo.yaml"):
        with pytest.raises(ConfigError, match="not a regular file; pass the matrix file"):
            require_matrix_file(path)


@pytest.mark.parametrize(
    "raw",
    [
        with_suite("café").encode("latin-1"),
        MATRIX.encode("utf-16"),
        with_suite("!!python/object:os.system {}").encode(),
        with_suite("&x [*x]").encode(),
        with_suite("2024-02-30").encode(),
        with_limit("pids", "0.5").encode(),
    ],
    ids=["latin-1", "utf-16", "python-tag", "recursive-alias", "bad-date", "fractional-pids"],
)
def test_bad_input_is_one_exit_3_line_from_the_cli(
    make_project: ProjectFactory, capsys: pytest.CaptureFixture[str], raw: bytes
) -> None:
    path = make_project()
    path.write_bytes(raw)
    assert main(["run", "--matrix", str(path), "--list-cells"]) == 3
    error = capsys.readouterr().err
    assert error.startswith(f"linkmatrix: error: {path}")
    assert error.count("\n") == 1
    assert "Traceback" not in error


@pytest.mark.filterwarnings("error")
def test_regex_with_a_python_warning_loads_under_warnings_as_errors(
    make_project: ProjectFactory,
) -> None:
    scenario = SCENARIO.replace('["^_ZN"]', '["[[_]ZN"]')
    assert load_matrix(make_project(scenarios={"alpha": scenario})).scenarios


@pytest.mark.parametrize("name", ["exe+flag", "a/b", "..", ".hidden", "naïve", "two words"])
def test_an_artifact_name_a_reference_cannot_name_is_refused(
    make_project: ProjectFactory, name: str
) -> None:
    """`{artifact:NAME}` must be able to name every artifact, and NAME is a folder of the cell."""
    message = scenario_error(make_project, "- name: exe\n", f"- name: '{name}'\n")
    assert re.search(
        r"scenarios/alpha/scenario\.yaml:10: artifacts\[1\]\.name: '.*' is not a usable "
        r"artifact name",
        message,
    ), message


def test_artifact_names_of_letters_digits_dots_and_dashes_load(
    make_project: ProjectFactory,
) -> None:
    scenario = SCENARIO.replace("- name: exe\n", "- name: exe.v2-with_flag\n").replace(
        "artifact: exe\n", "artifact: exe.v2-with_flag\n"
    )
    loaded = load_matrix(make_project(scenarios={"alpha": scenario}))
    assert [a.name for a in loaded.scenario("alpha").artifacts] == ["lib", "exe.v2-with_flag"]


def test_an_axis_takes_a_list_of_globs_any_of_which_may_match(
    make_project: ProjectFactory,
) -> None:
    """`{ toolchain: [a, b] }` is what `[{ toolchain: a }, { toolchain: b }]` says, shorter."""
    scenario = SCENARIO.replace(
        "when: { toolchain: glibc }",
        "when: { toolchain: [glibc, 'was*'], target: ['x86_64-*'] }",
    )
    loaded = load_matrix(make_project(scenarios={"alpha": scenario}))
    selector = loaded.scenario("alpha").checks[1].when
    where = {"target": "x86_64-unknown-linux-gnu", "release": "1.96"}
    assert selector.matches(toolchain="glibc", **where)
    assert selector.matches(toolchain="wasm", **where)
    assert not selector.matches(toolchain="musl", **where)
    assert not selector.matches(toolchain="wasm", target="wasm32-unknown-unknown", release="1.96")


BOOTSTRAP_WHY = "#![feature(abi_ptx)]"


def test_bootstrap_is_declared_with_why_for_the_scenario_or_one_artifact(
    make_project: ProjectFactory,
) -> None:
    """The scenario's `bootstrap:` reaches every artifact; an artifact's own wins."""
    scenario = f"bootstrap: {{ why: '{BOOTSTRAP_WHY}' }}\n" + SCENARIO.replace(
        "    rustc_args: [-Zexport-executable-symbols]\n",
        "    bootstrap: { why: a feature of its own }\n",
    )
    loaded = load_matrix(make_project(scenarios={"alpha": scenario}))
    lib, exe = loaded.scenario("alpha").artifacts
    assert lib.bootstrap == BOOTSTRAP_WHY
    assert lib.needs_bootstrap
    assert exe.bootstrap == "a feature of its own"
    plain = load_matrix(make_project(scenarios={"alpha": SCENARIO})).scenario("alpha")
    assert plain.artifacts[0].bootstrap is None
    assert not plain.artifacts[0].needs_bootstrap


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", r"artifacts\[0\]\.bootstrap: say why RUSTC_BOOTSTRAP=1 is needed"),
        ("{}", r"artifacts\[0\]\.bootstrap: missing required key 'why'"),
        ("{ why: '' }", r"artifacts\[0\]\.bootstrap\.why: expected a non-empty string"),
        ("{ because: x }", r"artifacts\[0\]\.bootstrap\.because: unknown key 'because'"),
    ],
)
def test_bootstrap_without_a_why_is_refused(
    make_project: ProjectFactory, value: str, expected: str
) -> None:
    message = scenario_error(
        make_project,
        "    crate_type: cdylib\n",
        f"    crate_type: cdylib\n    bootstrap: {value}\n",
    )
    assert re.search(r"scenarios/alpha/scenario\.yaml:\d+: " + expected, message), message


def with_rustflags(top: str, lib: str) -> str:
    """SCENARIO with top-level `rustflags:` (if `top`) and the lib artifact's own (if `lib`)."""
    scenario = SCENARIO.replace(
        "    crate_type: cdylib\n", f"    crate_type: cdylib\n    rustflags: {lib}\n"
    )
    if not lib:
        scenario = SCENARIO
    return (f"rustflags: {top}\n" if top else "") + scenario


def test_rustflags_of_the_scenario_then_the_artifact_reach_each_artifact(
    make_project: ProjectFactory,
) -> None:
    scenario = with_rustflags("[-Copt-level=1]", "[-C, target-feature=+crt-static, -Zfoo]")
    lib, exe = load_matrix(make_project(scenarios={"alpha": scenario})).scenario("alpha").artifacts
    assert lib.rustflags == ("-Copt-level=1", "-C", "target-feature=+crt-static", "-Zfoo")
    assert lib.z_flags == ("-Zfoo",)
    assert lib.needs_bootstrap  # a -Z flag in rustflags needs RUSTC_BOOTSTRAP as in rustc_args
    assert exe.rustflags == ("-Copt-level=1",)


@pytest.mark.parametrize(
    ("top", "lib", "expected"),
    [
        (
            "",
            "['-C panic=abort']",
            r":\d+: artifacts\[0\]\.rustflags\[0\]: '-C panic=abort' holds a space: give one",
        ),
        (
            "",
            "[-Cpanic=unwind]",
            (
                r":\d+: artifacts\[0\]\.rustflags\[0\]: -C panic=unwind cannot build on "
                r"wasm/wasm32-unknown-unknown: its std is built with panic=abort"
            ),
        ),
        (
            "[-C, panic=unwind]",
            "",
            r":1: rustflags\[1\]: -C panic=unwind cannot build on wasm/wasm32-unknown-unknown",
        ),
        (
            "",
            "[--codegen=panic=never]",
            r":\d+: artifacts\[0\]\.rustflags\[0\]: 'never' is not a panic",
        ),
    ],
)
def test_a_rustflag_the_build_cannot_take_is_refused(
    make_project: ProjectFactory, top: str, lib: str, expected: str
) -> None:
    message = error_for(make_project, scenario=with_rustflags(top, lib))
    assert re.search(r"scenarios/alpha/scenario\.yaml" + expected, message), message


def test_panic_flags_the_std_can_take_load(make_project: ProjectFactory) -> None:
    """abort builds everywhere (panic_abort is beside every std); unwind where std unwinds."""
    aborting = with_rustflags("", "[-Cpanic=abort]")
    assert load_matrix(make_project(scenarios={"alpha": aborting}))
    scoped = SCENARIO.replace(
        "    crate_type: cdylib\n",
        "    crate_type: cdylib\n    rustflags: [-C, panic=unwind]\n"
        "    when: { toolchain: glibc }\n",
    )
    lib = load_matrix(make_project(scenarios={"alpha": scoped})).scenario("alpha").artifacts[0]
    assert lib.rustflags == ("-C", "panic=unwind")


BY_RELEASE = """\
      x86_64-unknown-linux-gnu:
        linker_version: [ld, --version]
        by_release:
          "1.96":
            rustflags: [-C, link-arg=-B/gcc-ld]
            linker_version: [rust-lld, -flavor, gnu, --version]
"""


def with_target(text: str) -> str:
    """MATRIX with its glibc target's one-line spec replaced by `text`."""
    return MATRIX.replace(
        "      x86_64-unknown-linux-gnu: { linker_version: [ld, --version] }\n", text
    )


def with_by_release(text: str = BY_RELEASE) -> str:
    return with_target(text)


def test_a_release_can_link_a_target_differently_and_each_cell_gets_its_releases_spec(
    make_project: ProjectFactory,
) -> None:
    glibc = load_matrix(make_project(with_by_release())).toolchains[0].targets[0]
    new, old = glibc.for_release("1.96"), glibc.for_release("1.85")
    assert (new.rustflags, new.linker_version) == (
        ("-C", "link-arg=-B/gcc-ld"),
        ("rust-lld", "-flavor", "gnu", "--version"),
    )
    assert (old.rustflags, old.linker_version) == ((), ("ld", "--version"))
    assert new.by_release == old.by_release == ()  # a cell's spec: its cache key holds no other
    assert new.env == old.env == glibc.env  # not given: the target's own


def test_by_release_names_a_release_of_the_toolchain_and_says_something(
    make_project: ProjectFactory,
) -> None:
    unknown = error_for(make_project, with_by_release(BY_RELEASE.replace('"1.96":', '"1.90":')))
    assert "by_release.1.90: release '1.90' is not one of this toolchain's releases" in unknown
    assert "1.96, 1.85" in unknown
    empty = BY_RELEASE.split('          "1.96":', maxsplit=1)[0] + '          "1.85": {}\n'
    assert "say what this release does differently" in error_for(
        make_project, with_by_release(empty)
    )
    typo = error_for(make_project, with_by_release(BY_RELEASE.replace("rustflags:", "rustflag:")))
    assert "Did you mean 'rustflags'?" in typo


RUNNER = """\
      x86_64-unknown-linux-gnu:
        linker_version: [ld, --version]
        runner: { command: [wine-run, "{file}"], file: "*.exe", version: [wine64, --version] }
"""


def with_runner(text: str = RUNNER) -> str:
    return with_target(text)


def test_a_runner_names_the_command_that_prints_its_version(
    make_project: ProjectFactory,
) -> None:
    runner = load_matrix(make_project(with_runner())).toolchains[0].targets[0].runner
    assert runner is not None
    assert runner.command == ("wine-run", "{file}")
    assert runner.version == ("wine64", "--version")
    plain = with_runner(RUNNER.replace(", version: [wine64, --version]", ""))
    bare = load_matrix(make_project(plain)).toolchains[0].targets[0].runner
    assert bare is not None
    assert bare.version is None  # no probe: nothing is recorded, nothing is made up


def test_a_misspelled_or_empty_runner_version_is_refused(make_project: ProjectFactory) -> None:
    typo = error_for(make_project, with_runner(RUNNER.replace(" version: [", " verison: [")))
    assert "runner.verison: unknown key 'verison'. Did you mean 'version'?" in typo
    assert "Valid keys: command, file, version." in typo
    empty = error_for(make_project, with_runner(RUNNER.replace("[wine64, --version]", "[]")))
    assert "runner.version: give the command that prints the runner's version" in empty
