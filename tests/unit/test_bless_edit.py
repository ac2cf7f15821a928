"""The text edit of `run --bless` (bless/edit.py): what it adds, and that nothing else moves."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml

from orchestrator.bless.edit import Blessing, Section, UneditableError, blessed_text
from orchestrator.config.matrix import Matrix, load_matrix
from orchestrator.config.scenario import Check, RunSpec, load_scenario

GLIBC = ("glibc", "x86_64-unknown-linux-gnu", "1.96")
OLD = ("glibc", "x86_64-unknown-linux-gnu", "1.85")
WASM = ("wasm", "wasm32-unknown-unknown", "1.96")


def place(where: tuple[str, str, str]) -> str:
    toolchain, target, release = where
    return f'{{ toolchain: {toolchain}, target: {target}, release: "{release}" }}'


def suggested(where: tuple[str, str, str], names: str = "[answer]") -> str:
    """A check suggestion as suggest.py writes one."""
    return f"- artifact: lib\n  exports: {{ includes: {names} }}\n  when: {place(where)}\n"


def bless(index: int, where: tuple[str, str, str] = GLIBC, **changes: object) -> Blessing:
    fields: dict[str, object] = {
        "section": Section.CHECKS,
        "index": index,
        "where": where,
        "suggestion": suggested(where),
    }
    fields.update(changes)
    return Blessing(**fields)  # type: ignore[arg-type]


def changes(before: str, after: str) -> list[str]:
    """The diff's removed and added lines, as `-line` / `+line` (removed first in a hunk)."""
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm="")
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


SCENARIO = """\
# the scenario's own comment
description: d
artifacts:
  - name: lib
    package: cdy
    target_kind: lib
checks:
  - artifact: lib   # a comment on the entry
    exports: { includes: [question] }
    when: { toolchain: glibc }
    why: >
      a folded why,
      over two lines

  # a comment between entries
  - artifact: lib
    built: true
    unless: { target: "wasm32-*" }
    why: "built"
  - artifact: lib
    exports:
      excludes: [hidden]
runs:
  - name: start
    artifact: lib
    exit_code: 0
"""


def test_nothing_to_bless_is_the_text_itself() -> None:
    assert blessed_text(SCENARIO, []) is SCENARIO


def test_the_entry_gets_unless_after_its_when_and_the_suggestion_follows_it() -> None:
    after = blessed_text(SCENARIO, [bless(0)])
    assert changes(SCENARIO, after) == [
        f"+    unless: {place(GLIBC)}",
        "+  - artifact: lib",
        "+    exports: { includes: [answer] }",
        f"+    when: {place(GLIBC)}",
    ]
    assert f"    when: {{ toolchain: glibc }}\n    unless: {place(GLIBC)}\n    why: >" in after
    # after the folded why's last line, before the blank line and the next entry's comment
    assert "      over two lines\n  - artifact: lib\n    exports: { includes: [answer] }" in after
    assert after.startswith("# the scenario's own comment\n")


def test_without_when_the_unless_goes_before_why_or_last() -> None:
    after = blessed_text(SCENARIO, [bless(2)])
    assert f"    exports:\n      excludes: [hidden]\n    unless: {place(GLIBC)}\n" in after
    assert after.endswith(f"    when: {place(GLIBC)}\nruns:\n  - name: start\n" + RUN_TAIL)
    text = "checks:\n  - artifact: lib\n    built: true\n    why: w\n"
    assert blessed_text(text, [bless(0)]).startswith(
        f"checks:\n  - artifact: lib\n    built: true\n    unless: {place(GLIBC)}\n    why: w\n"
    )


RUN_TAIL = "    artifact: lib\n    exit_code: 0\n"


def test_a_one_line_unless_becomes_a_block_list_with_its_places_first() -> None:
    after = blessed_text(SCENARIO, [bless(1), bless(1, OLD)])
    assert changes(SCENARIO, after)[:4] == [
        '-    unless: { target: "wasm32-*" }',
        "+    unless:",
        '+      - { target: "wasm32-*" }',
        f"+      - {place(GLIBC)}",
    ]
    assert f'      - {place(OLD)}\n    why: "built"\n  - artifact: lib\n' in after
    # one suggestion per cell, in the order given
    assert after.index(place(GLIBC) + "\n  - artifact") < after.index(place(OLD) + "\n  - art")


@pytest.mark.parametrize(
    ("unless", "expected"),
    [
        (
            "    unless: [{ target: a }, { release: b }]  # two\n",
            (
                "    unless:\n      - { target: a }\n      - { release: b }\n"
                f"      - {place(GLIBC)}  # two\n"
            ),
        ),
        (
            "    unless: {\n      target: a }\n",
            "    unless: [{\n      target: a }, " + place(GLIBC) + "]\n",
        ),
        (
            "    unless: [{ target: a },\n      { release: b }]\n",
            "    unless: [{ target: a },\n      { release: b }, " + place(GLIBC) + "]\n",
        ),
        (
            "    unless:\n      target: a\n      release: b\n",
            f"    unless:\n      - target: a\n        release: b\n      - {place(GLIBC)}\n",
        ),
        (
            "    unless:\n      - target: a\n      - { release: b }\n",
            f"    unless:\n      - target: a\n      - {{ release: b }}\n      - {place(GLIBC)}\n",
        ),
    ],
)
def test_each_way_of_writing_unless_gets_the_cell_added(unless: str, expected: str) -> None:
    text = "checks:\n  - artifact: lib\n    built: true\n" + unless + "    why: w\n"
    after = blessed_text(text, [bless(0)])
    assert after == (
        "checks:\n  - artifact: lib\n    built: true\n"
        + expected
        + "    why: w\n"
        + indented(suggested(GLIBC))
    )
    yaml.safe_load(after)


def test_several_cells_of_an_entry_without_unless_get_a_list() -> None:
    text = "checks:\n- artifact: lib\n  built: true\n"  # the list at the key's own column
    after = blessed_text(text, [bless(0), bless(0, WASM), bless(0)])  # a cell twice: once
    assert after == (
        "checks:\n- artifact: lib\n  built: true\n"
        f"  unless:\n    - {place(GLIBC)}\n    - {place(WASM)}\n"
        f"{suggested(GLIBC)}{suggested(WASM)}"
    )


def test_an_earlier_blessing_of_the_cell_is_replaced_not_left_applying_nowhere() -> None:
    earlier = indented(suggested(GLIBC))
    text = f"checks:\n  - artifact: lib\n    built: true\n    unless: {place(GLIBC)}\n{earlier}"
    renewed = blessed_text(text, [bless(1, replace=True, suggestion=suggested(GLIBC, "[new]"))])
    assert changes(text, renewed) == [
        "-    exports: { includes: [answer] }",
        "+    exports: { includes: [new] }",
    ]
    # written where the entry was, at its own indentation (here deeper than the list's)
    deeper = (
        "checks:\n  -   artifact: lib\n      built: false\n  - artifact: lib\n    built: true\n"
    )
    assert blessed_text(deeper, [bless(0, replace=True)]) == (
        "checks:\n  -   artifact: lib\n      exports: { includes: [answer] }\n"
        f"      when: {place(GLIBC)}\n  - artifact: lib\n    built: true\n"
    )


def indented(block: str) -> str:
    return "".join(f"  {line}\n" for line in block.splitlines())


def test_a_flow_entry_gets_unless_inside_its_braces() -> None:
    text = "checks:\n  - { artifact: lib, built: true }\n"
    after = blessed_text(text, [bless(0), bless(0, OLD)])
    assert after == (
        f"checks:\n  - {{ artifact: lib, built: true, unless: [{place(GLIBC)}, {place(OLD)}] }}\n"
        + indented(suggested(GLIBC))
        + indented(suggested(OLD))
    )


def test_a_run_is_blessed_in_runs() -> None:
    suggestion = "- name: start\n  artifact: lib\n  exit_code: 3\n" + f"  when: {place(GLIBC)}\n"
    after = blessed_text(
        SCENARIO, [Blessing(section=Section.RUNS, index=0, where=GLIBC, suggestion=suggestion)]
    )
    assert after.endswith(
        f"runs:\n  - name: start\n{RUN_TAIL}    unless: {place(GLIBC)}\n{indented(suggestion)}"
    )


def test_line_breaks_and_a_missing_last_one_are_kept() -> None:
    crlf = "checks:\r\n  - artifact: lib\r\n    built: true\r\n"
    after = blessed_text(crlf, [bless(0)])
    assert after.count("\r\n") == after.count("\n") == 7
    bare = "checks:\n  - artifact: lib\n    built: true"
    assert blessed_text(bare, [bless(0)]) == (
        bare + f"\n    unless: {place(GLIBC)}\n" + indented(suggested(GLIBC))
    )


def test_the_edit_of_a_real_scenario_loads_and_reads_back() -> None:
    after = blessed_text(SCENARIO, [bless(0), bless(1), bless(2, WASM), bless(1, OLD)])
    data = yaml.safe_load(after)
    assert [c.get("unless") for c in data["checks"]] == [
        {"toolchain": "glibc", "target": "x86_64-unknown-linux-gnu", "release": "1.96"},
        None,
        [
            {"target": "wasm32-*"},
            {"toolchain": "glibc", "target": "x86_64-unknown-linux-gnu", "release": "1.96"},
            {"toolchain": "glibc", "target": "x86_64-unknown-linux-gnu", "release": "1.85"},
        ],
        None,
        None,
        {"toolchain": "wasm", "target": "wasm32-unknown-unknown", "release": "1.96"},
        None,
    ]
    # nothing was taken out of the file: every line of it is still there, in order
    assert [line for line in changes(SCENARIO, after) if line.startswith("-")] == [
        '-    unless: { target: "wasm32-*" }'
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("checks: [{ artifact: lib, built: true }]\n", ":1: --bless cannot edit this file: `che"),
        (
            "x: &c { artifact: lib, built: true }\nchecks:\n  - *c\n",
            ":1: --bless cannot edit this file: checks[0] is written with a YAML alias",
        ),
        (
            (
                "checks:\n  - artifact: lib\n    unless: &u { target: a }\n"
                "  - artifact: lib\n    unless: *u\n"
            ),
            ":2: --bless cannot edit this file: checks[0] is written with a YAML alias",
        ),
        ("checks:\n  - artifact: lib\n", ":2: --bless cannot edit this file: `checks:` has no "),
        ("checks: [\n", ": --bless cannot read it as YAML"),
    ],
)
def test_what_cannot_be_edited_as_text_is_refused_naming_the_line(text: str, problem: str) -> None:
    index = 1 if "has no" in problem else 0
    with pytest.raises(UneditableError) as refused:
        blessed_text(text, [bless(index)], source="s/scenario.yaml")
    assert str(refused.value).startswith("s/scenario.yaml" + problem)
    assert refused.value.exit_code == 2


# -- the project's own scenarios ----------------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def real_matrix() -> Matrix:
    return load_matrix(REPO / "matrix.yaml")


def entry_suggestion(entry: Check | RunSpec, where: tuple[str, str, str]) -> str:
    """A valid stand-in for the entry's suggestion (what suggest.py would write is tested apart)."""
    if isinstance(entry, RunSpec):
        head = f"- name: {entry.name}\n  artifact: {entry.artifact}\n  exit_code: 0\n"
    else:
        head = f"- artifact: {entry.artifact}\n  built: true\n"
    return head + f"  when: {place(where)}\n"


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "scenarios").iterdir()))
def test_every_entry_of_every_scenario_of_the_project_can_be_blessed(
    real_matrix: Matrix, name: str
) -> None:
    """Each check and run blessed for the first cell it applies to, in one edit: the file loads
    with the validating loader, every entry still applies where it did less that one cell, and
    each new entry applies to its cell alone.
    """
    scenario = real_matrix.scenario(name)
    cells = real_matrix.coordinates.cells
    entries: list[tuple[Section, int, Check | RunSpec]] = [
        *((Section.CHECKS, i, c) for i, c in enumerate(scenario.checks)),
        *((Section.RUNS, i, r) for i, r in enumerate(scenario.runs)),
    ]
    chosen: dict[tuple[Section, int], tuple[str, str, str]] = {}
    for section, index, entry in entries:
        where = next((c for c in cells if applies(entry, c)), None)
        if where is not None:
            chosen[section, index] = where
    blessings = [
        Blessing(section=s, index=i, where=w, suggestion=entry_suggestion(e, w))
        for s, i, e in entries
        if (w := chosen.get((s, i))) is not None
    ]
    text = (scenario.folder / "scenario.yaml").read_text()
    after = load_scenario(
        scenario.folder, real_matrix.coordinates, text=blessed_text(text, blessings)
    )
    lists: tuple[tuple[Section, Sequence[Check | RunSpec], Sequence[Check | RunSpec]], ...] = (
        (Section.CHECKS, scenario.checks, after.checks),
        (Section.RUNS, scenario.runs, after.runs),
    )
    for section, old, new in lists:
        renewed = iter(new)
        for index, entry in enumerate(old):
            kept = next(renewed)
            where = chosen.get((section, index))
            for cell in cells:
                assert applies(kept, cell) == (applies(entry, cell) and cell != where)
            if where is not None:
                added = next(renewed)
                assert [c for c in cells if applies(added, c)] == [where]
        assert next(renewed, None) is None


def applies(entry: Check | RunSpec, cell: tuple[str, str, str]) -> bool:
    toolchain, target, release = cell
    return entry.applies(toolchain=toolchain, target=target, release=release)
