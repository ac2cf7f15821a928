"""`run --bless` without an engine: which failures are blessed, and that the blessed file,
re-loaded by the validating loader, judges the same observation as passing on the blessed cell
and exactly as before on every other cell.

The scenario is loaded from YAML and judged against hand-made observations (the judge's own
tests' builders); the cell's results record is made by results/document.py, as a run makes it.
"""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest

from orchestrator.bless.choose import CellBlessings, cell_blessings
from orchestrator.bless.edit import Blessing, Section, blessed_text
from orchestrator.cell.observation import Observation
from orchestrator.config.matrix import Matrix, load_matrix
from orchestrator.judge import Verdict, judge
from orchestrator.plan import Cell, all_cells, cell_work
from orchestrator.results.document import CellRun, cell_record
from orchestrator.results.model import CellRecord
from orchestrator.status import CheckOutcome, Status
from tests.unit.conftest import ProjectFactory
from tests.unit.test_expectations import LINK_ERROR, run, seen
from tests.unit.test_judge import build

SCENARIO = """\
description: blessing
# what the crate is for
artifacts:
  - name: lib
    package: cdy
    target_kind: lib
    crate_type: cdylib
  - name: exe
    package: exe
    target_kind: bin
    when: { toolchain: glibc }
checks:
  - artifact: exe
    exports: { includes: [main] }   # the entry point
  - artifact: lib
    exports: { includes: [answer], excludes: [hidden] }
    why: >
      the crate exports answer
      and hides hidden
  - artifact: lib
    exports: { excludes_matching: ["^_ZN"] }
    unless: { target: "wasm32-*" }
runs:
  - name: start
    artifact: exe
    exit_code: 0
    stdout: { includes: [hello] }
    when: { toolchain: glibc }
"""


@pytest.fixture
def project(make_project: ProjectFactory) -> Path:
    return make_project(scenarios={"alpha": SCENARIO})


def cell(matrix: Matrix, toolchain: str, release: str = "1.96") -> Cell:
    return next(c for c in all_cells(matrix) if (c.toolchain, c.release) == (toolchain, release))


def verdict(matrix: Matrix, where: Cell, observation: Observation) -> Verdict:
    return judge(cell_work(where, matrix.scenario("alpha")), observation)


def record(matrix: Matrix, where: Cell, observation: Observation) -> CellRecord:
    """The cell's results record, as a run writes it."""
    toolchain = next(t for t in matrix.toolchains if t.name == where.toolchain)
    judged = verdict(matrix, where, observation)
    return cell_record(
        CellRun(
            cell=where,
            toolchain=toolchain,
            verdict=judged,
            observation=observation,
            image_id=None,
            cached=False,
            log_path=None,
        )
    )


def chosen(matrix: Matrix, where: Cell, observation: Observation) -> CellBlessings:
    work = cell_work(where, matrix.scenario("alpha"))
    return cell_blessings(record(matrix, where, observation), work)


def blessed(project: Path, matrix: Matrix, *cells: tuple[Cell, Observation]) -> Matrix:
    """The scenario file with the cells' failures blessed, loaded again by the loader."""
    blessings: list[Blessing] = []
    for where, observation in cells:
        blessings += [b.blessing for b in chosen(matrix, where, observation).blessed]
    path = matrix.scenario("alpha").folder / "scenario.yaml"
    path.write_text(blessed_text(path.read_text(), blessings))
    return load_matrix(project)


# on glibc: lib exports hidden and not answer, and the program says bye and exits 2
GLIBC_SEEN = seen(
    build("lib", ("answer2", "hidden")), build("exe", ("main",)), runs=(run(2, "bye"),)
)
WASM_SEEN = seen(build("lib", ("answer2", "hidden")))


def test_the_blessed_cell_passes_on_what_it_showed_and_the_others_are_judged_as_before(
    project: Path,
) -> None:
    before = load_matrix(project)
    glibc, old, wasm = cell(before, "glibc"), cell(before, "glibc", "1.85"), cell(before, "wasm")
    failed = verdict(before, glibc, GLIBC_SEEN)
    assert failed.status is Status.FAIL
    assert [c.outcome for c in failed.checks] == [
        CheckOutcome.PASS,
        CheckOutcome.FAIL,
        CheckOutcome.PASS,
        CheckOutcome.FAIL,
    ]

    after = blessed(project, before, (glibc, GLIBC_SEEN))

    again = verdict(after, glibc, GLIBC_SEEN)
    assert again.status is Status.PASS, again.detail
    assert [c.expectation for c in again.checks] == [
        "exports: includes ['main']",
        "exports: includes ['hidden']; excludes ['answer']",
        "exports: excludes_matching ['^_ZN']",
        "run: exit code 2; stdout excludes ['hello']",
    ]
    for other, observation in ((old, GLIBC_SEEN), (wasm, WASM_SEEN)):
        assert verdict(after, other, observation) == verdict(before, other, observation)
        assert verdict(after, other, observation).status is Status.FAIL


def test_the_file_keeps_every_line_and_gains_unless_and_the_suggestions(project: Path) -> None:
    before = load_matrix(project)
    path = before.scenario("alpha").folder / "scenario.yaml"
    original = path.read_text()
    blessed(project, before, (cell(before, "glibc"), GLIBC_SEEN))
    text = path.read_text()
    place = '{ toolchain: glibc, target: x86_64-unknown-linux-gnu, release: "1.96" }'
    assert text == original.replace(
        "    exports: { includes: [answer], excludes: [hidden] }\n",
        f"    exports: {{ includes: [answer], excludes: [hidden] }}\n    unless: {place}\n",
    ).replace(
        "      and hides hidden\n",
        "      and hides hidden\n"
        "  - artifact: lib\n"
        "    exports: { includes: [hidden], excludes: [answer] }\n"
        f"    when: {place}\n",
    ).replace(
        "    stdout: { includes: [hello] }\n    when: { toolchain: glibc }\n",
        "    stdout: { includes: [hello] }\n    when: { toolchain: glibc }\n"
        f"    unless: {place}\n"
        "  - name: start\n"
        "    artifact: exe\n"
        "    exit_code: 2\n"
        "    stdout: { excludes: [hello] }\n"
        f"    when: {place}\n",
    )


def test_cells_of_one_entry_are_blessed_together_and_each_passes(project: Path) -> None:
    before = load_matrix(project)
    glibc, old, wasm = cell(before, "glibc"), cell(before, "glibc", "1.85"), cell(before, "wasm")
    wasm_seen = seen(build("lib", ("answer", "hidden")))  # unlike glibc's: its own suggestion
    after = blessed(project, before, (glibc, GLIBC_SEEN), (old, GLIBC_SEEN), (wasm, wasm_seen))
    for where, observation in ((glibc, GLIBC_SEEN), (old, GLIBC_SEEN), (wasm, wasm_seen)):
        assert verdict(after, where, observation).status is Status.PASS
    # and a cell of none of them would fail as it did: the entry still holds elsewhere
    unless = after.scenario("alpha").checks[1].unless
    assert unless is not None
    assert len(unless.places) == 3


def test_a_second_blessing_of_the_cell_replaces_the_first(project: Path) -> None:
    before = load_matrix(project)
    glibc = cell(before, "glibc")
    once = blessed(project, before, (glibc, GLIBC_SEEN))
    path = before.scenario("alpha").folder / "scenario.yaml"
    entries = path.read_text().count("  - artifact:")
    later = seen(build("lib", ("answer3", "hidden")), build("exe", ("main",)), runs=(run(3),))
    assert verdict(once, glibc, later).status is Status.FAIL
    twice = blessed(project, once, (glibc, later))
    assert verdict(twice, glibc, later).status is Status.PASS
    text = path.read_text()
    assert text.count("  - artifact:") == entries  # replaced in place, none left dead
    assert "exit_code: 3\n" in text
    assert "exit_code: 2\n" not in text


def test_a_failed_build_is_blessed_as_where_it_failed(make_project: ProjectFactory) -> None:
    checks = "checks:\n  - artifact: lib\n    built: true\n"
    project = make_project(scenarios={"alpha": SCENARIO.partition("checks:")[0] + checks})
    before = load_matrix(project)
    glibc = cell(before, "glibc")
    unlinked = seen(build("lib", None, diagnostics=(LINK_ERROR,)), build("exe", ("main",)))
    assert verdict(before, glibc, unlinked).status is Status.FAIL
    after = blessed(project, before, (glibc, unlinked))
    assert verdict(after, glibc, unlinked).status is Status.PASS
    assert after.scenario("alpha").checks[1].expected_phase == "link"


# -- what is not blessed ---------------------------------------------------------------------


def test_cells_that_passed_were_skipped_or_do_not_apply_have_nothing_to_bless(
    project: Path,
) -> None:
    matrix = load_matrix(project)
    passing = seen(build("lib", ("answer",)), build("exe", ("main",)), runs=(run(0, "hello"),))
    assert chosen(matrix, cell(matrix, "glibc"), passing) == CellBlessings()
    work = cell_work(cell(matrix, "glibc"), matrix.scenario("alpha"))
    made = record(matrix, cell(matrix, "glibc"), passing)
    for status in (Status.SKIP, Status.NOT_APPLICABLE, Status.XFAIL, Status.FLAKY):
        assert cell_blessings(dataclasses.replace(made, status=status), work) == CellBlessings()


def test_an_erred_cell_is_not_blessed_and_says_why(project: Path) -> None:
    matrix = load_matrix(project)
    glibc = cell(matrix, "glibc")
    unbuilt = seen(build("lib", None), build("exe", ("main",)))  # no check accounts for it
    found = chosen(matrix, glibc, unbuilt)
    assert found.blessed == ()
    assert not found.settled
    (line,) = found.left
    assert line.startswith(f"{glibc.id}: not blessed: it erred (build-error), so it was not")


def test_an_unexpected_pass_is_left_to_the_user(make_project: ProjectFactory) -> None:
    xfail = textwrap.indent("xfail: { reason: upstream, link: https://example.org/1 }\n", "    ")
    text = SCENARIO.replace("      and hides hidden\n", "      and hides hidden\n" + xfail)
    matrix = load_matrix(make_project(scenarios={"alpha": text}))
    glibc = cell(matrix, "glibc")
    fixed = seen(build("lib", ("answer",)), build("exe", ("main",)), runs=(run(2, "bye"),))
    found = chosen(matrix, glibc, fixed)
    assert [b.label for b in found.blessed] == [
        "exe: run start: exit code 0; stdout includes ['hello']"
    ]
    (line,) = found.left
    assert "it passed unexpectedly (xpass)" in line
    assert "drop its xfail: marker by hand" in line
    assert not found.settled
    alone = seen(build("lib", ("answer",)), build("exe", ("main",)), runs=(run(0, "hello"),))
    assert record(matrix, glibc, alone).status is Status.XPASS
    assert chosen(matrix, glibc, alone).blessed == ()


def test_a_failure_with_nothing_to_suggest_is_left(project: Path) -> None:
    matrix = load_matrix(project)
    glibc = cell(matrix, "glibc")
    made = record(matrix, glibc, GLIBC_SEEN)
    checks = tuple(dataclasses.replace(c, suggestion=None) for c in made.checks)
    found = cell_blessings(
        dataclasses.replace(made, checks=checks),
        cell_work(glibc, matrix.scenario("alpha")),
    )
    assert found.blessed == ()
    assert len(found.left) == 2
    assert all("nothing observed to suggest from" in line for line in found.left)


def test_each_failure_names_its_entry_past_checks_the_cell_did_not_judge(project: Path) -> None:
    matrix = load_matrix(project)
    wasm = cell(matrix, "wasm")  # builds no exe: the first check is not judged there
    found = chosen(matrix, wasm, WASM_SEEN)
    assert [(b.blessing.section, b.blessing.index, b.blessing.replace) for b in found.blessed] == [
        (Section.CHECKS, 1, False)
    ]
    assert found.blessed[0].label == "lib: exports: includes ['answer']; excludes ['hidden']"
    assert found.blessed[0].cell == wasm.id
    assert found.settled


README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readmes_example_is_what_bless_writes(make_project: ProjectFactory) -> None:
    """The ```diff block of README's Blessing section: its unmarked lines as the checks of a
    scenario, blessed for glibc after the lib exported answer and hidden, give the whole block.
    """
    section = README.read_text().split("### Blessing: `run --bless`", 1)[1]
    block = section.split("```diff\n", 1)[1].split("```", 1)[0]
    before = "".join(line[1:] + "\n" for line in block.splitlines() if line[0] == " ")
    after = "".join(line[1:] + "\n" for line in block.splitlines())
    head = SCENARIO.partition("checks:\n")[0] + "checks:\n"
    project = make_project(scenarios={"alpha": head + before})
    matrix = load_matrix(project)
    glibc = cell(matrix, "glibc")
    shown = seen(build("lib", ("answer", "hidden")), build("exe", ("main",)))
    blessed(project, matrix, (glibc, shown))
    assert (matrix.scenario("alpha").folder / "scenario.yaml").read_text() == head + after


def test_a_result_no_entry_says_is_left(project: Path) -> None:
    matrix = load_matrix(project)
    glibc = cell(matrix, "glibc")
    made = record(matrix, glibc, GLIBC_SEEN)
    renamed = tuple(dataclasses.replace(c, expectation="something else") for c in made.checks)
    found = cell_blessings(
        dataclasses.replace(made, checks=renamed), cell_work(glibc, matrix.scenario("alpha"))
    )
    assert found.blessed == ()
    assert [line.rpartition(": ")[2] for line in found.left] == [
        "no entry of the scenario says it",
        "no entry of the scenario says it",
    ]
