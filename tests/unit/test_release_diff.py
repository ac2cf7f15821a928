"""Where the rustc releases differ: comparing a results document's cells, and the Markdown."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from orchestrator.results.model import ArtifactRecord, CellRecord, ResultsDocument
from orchestrator.results.release_diff import (
    ArtifactChange,
    release_diffs,
    release_key,
    render_release_diff,
)
from tests.unit.conftest import make_artifact, make_cell, make_document

GLIBC = ("glibc", "x86_64-unknown-linux-gnu")
OLD_WARNING = "`#[no_mangle]` has no effect on a foreign function"
NEW_WARNING = "`#[no_mangle]` attribute cannot be used on foreign functions"


def cell(
    scenario: str,
    release: str,
    *,
    toolchain: str = "glibc",
    target: str = "x86_64-unknown-linux-gnu",
    status: str = "pass",
    reason: str | None = None,
    artifacts: Sequence[ArtifactRecord] = (),
    warnings: tuple[str, ...] = (),
) -> CellRecord:
    suffix = "" if release == "1.96" else f"@{release}"
    return make_cell(
        f"{toolchain}{suffix}/{target}/{scenario}",
        status,
        reason,
        release=release,
        artifacts=artifacts,
        warnings=warnings,
    )


def built(name: str, *exports: str) -> ArtifactRecord:
    return make_artifact(name, *exports)


def document(*cells: CellRecord) -> ResultsDocument:
    return make_document(*cells)


REEXPORT = document(
    cell(
        "reexport-staticlib",
        "1.96",
        status="xfail",
        reason="known-upstream",
        artifacts=[built("lib", "rust_side")],
        warnings=(NEW_WARNING,),
    ),
    cell(
        "reexport-staticlib",
        "1.85",
        artifacts=[built("lib", "foo", "rust_side")],
        warnings=(OLD_WARNING, OLD_WARNING),
    ),
    cell("cdylib-exports", "1.85", artifacts=[built("lib", "answer")]),
    cell("cdylib-exports", "1.96", artifacts=[built("lib", "answer")]),
    cell("ptx-kernel", "1.85", status="not-applicable", reason="not-applicable"),
    cell("ptx-kernel", "1.96", status="not-applicable", reason="not-applicable"),
    cell("cdylib-exports", "1.96", toolchain="ptx", target="nvptx64-nvidia-cuda"),
)


def test_only_places_run_on_several_releases_are_compared() -> None:
    diffs = release_diffs(REEXPORT)
    assert [d.place for d in diffs] == [
        "glibc/x86_64-unknown-linux-gnu/cdylib-exports",
        "glibc/x86_64-unknown-linux-gnu/reexport-staticlib",
    ]
    same, reexport = diffs
    assert not same.differs
    assert same.changes[0].empty
    assert reexport.differs
    assert reexport.releases == ("1.85", "1.96")


def test_a_change_names_status_exports_and_diagnostics_from_older_to_newer() -> None:
    (change,) = release_diffs(REEXPORT)[1].changes
    assert (change.older, change.newer) == ("1.85", "1.96")
    assert change.newer_id == "glibc/x86_64-unknown-linux-gnu/reexport-staticlib"
    assert change.status == ("pass", "xfail (known-upstream)")
    assert change.artifacts == (
        ArtifactChange(name="lib", built=(True, True), exports_added=(), exports_removed=("foo",)),
    )
    assert change.diagnostics_added == (f"warning: {NEW_WARNING}",)
    assert change.diagnostics_removed == (f"warning: {OLD_WARNING}",)  # once, though said twice


def test_an_artifact_built_in_one_release_only() -> None:
    doc = document(
        cell(
            "s",
            "1.85",
            status="fail",
            reason="build-error",
            artifacts=[make_artifact("exe", built=False)],
        ),
        cell("s", "1.96", artifacts=[built("exe", "main"), built("extra", "x")]),
    )
    (diff,) = release_diffs(doc)
    (change,) = diff.changes
    assert change.status == ("fail (build-error)", "pass")
    assert {a.name: a.built for a in change.artifacts} == {
        "exe": (False, True),
        "extra": (None, True),
    }
    assert change.artifacts[0].exports_added == ("main",)
    lines = render_release_diff(release_diffs(doc))
    at = lines.index("  - artifact `exe`:")
    assert lines[at + 1 : at + 4] == [
        "    - built: no → yes",
        "    - exports added (1):",
        "      - `main`",
    ]
    at = lines.index("  - artifact `extra`:")
    assert lines[at + 1 : at + 4] == [
        "    - built: absent → yes",
        "    - exports added (1):",
        "      - `x`",
    ]


def test_releases_are_compared_in_version_order_each_with_the_next() -> None:
    assert sorted(["1.100", "1.96", "1.85"], key=release_key) == ["1.85", "1.96", "1.100"]
    doc = document(
        *(cell("s", r, artifacts=[built("lib", f"f{r}")]) for r in ("1.100", "1.85", "1.96"))
    )
    (diff,) = release_diffs(doc)
    assert diff.releases == ("1.85", "1.96", "1.100")
    assert [(c.older, c.newer) for c in diff.changes] == [("1.85", "1.96"), ("1.96", "1.100")]
    assert diff.changes[1].artifacts[0].exports_removed == ("f1.96",)


def test_markdown_lists_each_difference_and_the_identical_places() -> None:
    lines = render_release_diff(release_diffs(REEXPORT))
    text = "\n".join(lines)
    assert lines[0] == "## Where the rustc releases differ"
    assert "### `glibc/x86_64-unknown-linux-gnu/reexport-staticlib`" in lines
    assert "  - status: pass → xfail (known-upstream)" in lines
    at = lines.index("  - artifact `lib`:")
    assert lines[at + 1 : at + 3] == ["    - exports removed (1):", "      - `foo`"]
    # a message holding backticks gets a longer fence
    assert f"  - diagnostic added: ``warning: {NEW_WARNING}``" in lines
    assert "- `glibc/x86_64-unknown-linux-gnu/cdylib-exports` (1.85, 1.96)" in lines
    assert "ptx-kernel" not in text  # not applicable everywhere: nothing to compare


def test_nothing_to_render_without_a_second_release() -> None:
    assert render_release_diff(release_diffs(document(cell("s", "1.96")))) == []
    same = render_release_diff(release_diffs(document(cell("s", "1.85"), cell("s", "1.96"))))
    assert "No difference between the releases in any cell run on more than one." in same


def test_a_message_ending_in_a_backtick_is_padded_inside_its_code_span() -> None:
    doc = document(cell("s", "1.85", warnings=("unused variable: `x`",)), cell("s", "1.96"))
    lines = render_release_diff(release_diffs(doc))
    assert "  - diagnostic removed: `` warning: unused variable: `x` ``" in lines


def test_mangled_names_are_counted_and_plain_ones_listed() -> None:
    from orchestrator.results.release_diff import NAMES_SHOWN, _name_lines

    mangled = [
        "_ZN3std2io5stdio6_print17h0123456789abcdefE",
        "_RNvCs42qtOjJ1J5Z_3std4exit",
        ".refptr._RNvCs42qtOjJ1J5Z_3std4exit",
    ]
    assert _name_lines(["foo", *mangled]) == [
        "`foo`",
        "and 3 mangled Rust names (in results.json)",
    ]
    many = [f"name{i}" for i in range(NAMES_SHOWN + 2)]
    assert _name_lines(many)[-2:] == [
        f"`name{NAMES_SHOWN - 1}`",
        "and 2 more plain names (in results.json)",
    ]


def test_compiler_rt_and_llvm_internal_names_are_counted_not_listed() -> None:
    from orchestrator.results.release_diff import _name_lines

    builtins = ["__addtf3", "__udivti3", "__fixunsdfti", "__aeabi_memcpy", "__rust_probestack"]
    internal = ["anon.0123abcd.4.llvm.56789", ".Lanon.1", "__llvm_profile_runtime", "f.llvm.123"]
    lines = _name_lines(["answer", *builtins, *internal])
    assert lines == [
        "`answer`",
        "and 4 LLVM-internal or hash-only names, 5 compiler-rt builtin names (in results.json)",
    ]
    assert max(len(line) for line in _name_lines(builtins * 200)) < 100  # never a 4,000-char line


def test_a_change_of_bulk_names_only_is_told_apart() -> None:
    std = "_ZN3std2io5stdio6_print17h{}E"
    doc = document(
        cell("s", "1.85", artifacts=[built("lib", "answer", std.format("0" * 16), "__addtf3")]),
        cell("s", "1.96", artifacts=[built("lib", "answer", std.format("1" * 16))]),
        cell("t", "1.85", artifacts=[built("lib", "answer")]),
        cell("t", "1.96", artifacts=[built("lib", "answer", "new_api")]),
    )
    bulk, plain = (diff.changes[0] for diff in release_diffs(doc))
    assert bulk.bulk_only
    assert not plain.bulk_only
    assert not plain.artifacts[0].bulk_only


def test_the_html_folds_bulk_only_changes_into_one_line(tmp_path: Path) -> None:
    from orchestrator.report.html import render_index

    std = "_ZN3std2io5stdio6_print17h{}E"
    doc = document(
        cell("s", "1.85", artifacts=[built("lib", "answer", std.format("0" * 16))]),
        cell("s", "1.96", artifacts=[built("lib", "answer", std.format("1" * 16))]),
        cell("t", "1.85", artifacts=[built("lib", "answer")]),
        cell("t", "1.96", artifacts=[built("lib", "answer", "new_api")]),
    )
    html = render_index(doc, tmp_path)
    section = html[html.index('<h2 id="releases">') : html.index('<h2 id="routes">')]
    assert "2 of 2 places differ." in section
    s_part = section[section.index('id="releases-s"') : section.index('id="releases-t"')]
    assert '<table class="releases">' not in s_part
    assert "Only mangled Rust, compiler-rt or LLVM-internal names changed (1)" in s_part
    assert "<code>lib</code> +1 −1" in s_part
    t_part = section[section.index('id="releases-t"') :]
    assert 'exports added (1):<ul class="names"><li>new_api</li></ul>' in t_part
    older = "cell-glibc_1.85_x86_64-unknown-linux-gnu_t"
    assert (
        f'<a href="#{older}">1.85</a> → <a href="#cell-glibc_x86_64-unknown-linux-gnu_t">' in t_part
    )
