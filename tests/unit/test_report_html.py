"""The HTML report, the symbol pages and the CI step summary, rendered from the sample results."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.report import write_views
from orchestrator.report.html import command_line, render_index
from orchestrator.report.logs import read_log_tail
from orchestrator.report.markdown import render_markdown
from orchestrator.report.summary import render_step_summary
from orchestrator.report.symbol_table import Mark, symbol_table
from orchestrator.report.symbols import MEANINGS, SYMBOLS
from orchestrator.results.codec import encode
from orchestrator.results.diff import diff_results
from orchestrator.results.model import CellRecord, LinkErrorRecord, ResultsDocument
from orchestrator.status import Reason, Status
from tests.unit.conftest import replace_cell
from tests.unit.test_schema import DIRECT_CELL, SAMPLE, WINE_CELL, load_sample, with_runners

FAILING = "musl/x86_64-unknown-linux-musl/reexport-staticlib"
PASSING = "glibc/x86_64-unknown-linux-gnu/cdylib-exports"
STAND_IN = "macos/aarch64-apple-darwin/cdylib-exports"


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    """A copy of the sample results folder (results.json and logs/)."""
    target = tmp_path / "report"
    shutil.copytree(SAMPLE.parent, target)
    return target


def cell_detail(html: str, cell_id: str) -> str:
    """The <details> element of one cell."""
    start = html.index(f'<details class="cell" data-cell="{cell_id}"')
    return html[start : html.index("</div>\n</details>", start)]


def cell_of(document: ResultsDocument, cell_id: str) -> CellRecord:
    return next(c for c in document.cells if c.id == cell_id)


def passed_before(document: ResultsDocument, cell_id: str) -> ResultsDocument:
    """A baseline: `document` with one cell a plain pass."""
    return replace_cell(document, cell_id, status=Status.PASS, reason=None)


def test_grid_shows_each_cell_verdict_linking_to_its_detail(results_dir: Path) -> None:
    html = render_index(load_sample(), results_dir)
    grid = html[html.index('<table class="grid">') : html.index("<h3>Legend</h3>")]
    anchor = "cell-musl_x86_64-unknown-linux-musl_reexport-staticlib"
    assert re.search(
        rf'<td class="v v-fail"><a href="#{anchor}" title="{FAILING}: [^"]*">❌'
        r"<small>check</small></a></td>",
        grid,
    )
    assert f'<div class="body" id="{anchor}">' in html
    assert grid.count('<td class="v v-pass">') == 10
    assert '<th colspan="1" class="tc">macos <span class="standin"' in grid
    assert "aarch64-<wbr>apple-<wbr>darwin" in grid
    assert 'title="x86_64-unknown-linux-gnu">x86_64-<wbr>linux-<wbr>gnu</th>' in grid
    # not applicable: a quiet dash, still a link to the detail
    assert re.search(r'<td class="na"><a href="#cell-[^"]+" title="[^"]+">–</a></td>', grid)


def test_grid_columns_start_with_glibc_and_the_default_release() -> None:
    from orchestrator.report.grid import grid_columns

    sample = load_sample()
    older = dataclasses.replace(
        cell_of(sample, PASSING),
        id="glibc@1.85/x86_64-unknown-linux-gnu/cdylib-exports",
        release="1.85",
    )
    keys = [c.key for c in grid_columns([*sample.cells, older])]
    assert keys[:2] == ["glibc/x86_64-unknown-linux-gnu", "glibc@1.85/x86_64-unknown-linux-gnu"]
    assert keys.index("musl/x86_64-unknown-linux-musl") < keys.index("ptx/nvptx64-nvidia-cuda")


def test_a_toolchain_whose_every_cell_is_skipped_collapses_to_one_column(
    results_dir: Path,
) -> None:
    sample = load_sample()
    skipped = sample
    for record in sample.cells:
        if record.toolchain == "msvc":
            skipped = replace_cell(
                skipped,
                record.id,
                status=Status.SKIP,
                reason=Reason.SDK_MISSING,
                detail="image msvc@1.96: no SDK in LINKMATRIX_XWIN_DIR",
            )
    html = render_index(skipped, results_dir)
    grid = html[html.index('<table class="grid">') : html.index("<h3>Legend</h3>")]
    assert '<th rowspan="3" class="tc collapsed-head"' in grid
    assert re.search(
        r'<td rowspan="\d+" class="collapsed v-skip"><a href="#cell-msvc_[^"]+" '
        r'title="[^"]*">⏭️ all \d+ cells skip: sdk-missing — image msvc@1.96: no SDK',
        grid,
    )


def test_failing_cells_start_open_passing_ones_folded(results_dir: Path) -> None:
    html = render_index(load_sample(), results_dir)
    assert cell_detail(html, FAILING).startswith(
        f'<details class="cell" data-cell="{FAILING}" open>'
    )
    assert cell_detail(html, PASSING).startswith(f'<details class="cell" data-cell="{PASSING}">')


def test_a_detail_shows_checks_artifacts_diagnostics_route_and_log(results_dir: Path) -> None:
    detail = cell_detail(render_index(load_sample(), results_dir), FAILING)
    assert "❌ fail</td>" in detail  # the failed expectation
    assert (
        "diagnostics: includes [&#39;attribute cannot be used on foreign functions&#39;]" in detail
    )
    assert 'artifact <code>lib</code> (cdylib):\n<span class="bad">not built</span>' in detail
    assert "error: cannot produce cdylib for `reexport v0.1.0" in detail  # rustc's diagnostic
    log = "logs/musl_x86_64-unknown-linux-musl_reexport-staticlib.log"
    assert f'build log <a href="{log}"><code>{log}</code></a>' in detail
    assert "-- exit 101 in 0.2 s --" in detail  # the log's last line
    assert "(vendor's)" in detail
    assert "STAND-IN" not in detail
    assert "RUSTC_BOOTSTRAP=1" in detail


def test_stand_in_routes_are_unmistakable(results_dir: Path) -> None:
    html = render_index(load_sample(), results_dir)
    detail = cell_detail(html, STAND_IN)
    assert "stub SDK from zig&#39;s libSystem.tbd, not Apple&#39;s SDK" in detail
    assert "STAND-IN: not the vendor's CRT/SDK" in detail
    routes = html[html.index('<h2 id="routes">') : html.index('<h2 id="cells">')]
    assert routes.count("STAND-IN: not the vendor's") == 2  # macos and msvc


def test_exports_imports_and_needed_are_listed(results_dir: Path) -> None:
    detail = cell_detail(render_index(load_sample(), results_dir), PASSING)
    assert (
        '<h4>exports (2)</h4>\n<ul class="names"><li>allocate_and_sum</li><li>answer</li>' in detail
    )
    assert "<h4>needed (" in detail
    assert "libc.so.6" in detail
    assert "static: <strong>no</strong>" in detail


def test_legend_has_every_verdict_with_its_symbol_and_meaning(results_dir: Path) -> None:
    html = render_index(load_sample(), results_dir)
    legend = html[html.index('<table class="legend">') :]
    for status in Status:
        assert (
            f'<td class="v-{status.value}">{SYMBOLS[status]} {status.value}</td>'
            f"<td>{MEANINGS[status]}</td>" in legend.replace("&#39;", "'")
        )


def test_log_tail_is_the_last_60_lines(results_dir: Path) -> None:
    document = load_sample()
    log = results_dir / str(cell_of(document, PASSING).log)
    log.write_text("".join(f"line {n}\n" for n in range(1, 201)), encoding="utf-8")
    detail = cell_detail(render_index(document, results_dir), PASSING)
    assert "lines 141–200 of 200" in detail
    assert "line 141\n" in detail
    assert "line 140\n" not in detail
    assert detail.rstrip().endswith("line 200</pre></details>")


def test_log_outside_the_results_folder_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "secret.log").write_text("secret\n")
    (tmp_path / "out").mkdir()
    assert read_log_tail(tmp_path / "out", "../secret.log") is None
    assert read_log_tail(tmp_path / "out", "/etc/hostname") is None
    assert read_log_tail(tmp_path / "out", None) is None


def test_text_from_the_results_is_escaped(results_dir: Path) -> None:
    document = replace_cell(load_sample(), FAILING, detail="<script>alert(1)</script>")
    html = render_index(document, results_dir)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html  # no script at all: everything works with JavaScript off


def test_baseline_regressions_come_first_and_are_marked(results_dir: Path) -> None:
    current = load_sample()
    baseline = passed_before(current, FAILING)
    html = render_index(current, results_dir, diff_results(baseline, current))
    changes = html[html.index('<h2 id="changes">') : html.index('<h2 id="grid">')]
    assert "1 regressed, 15 unchanged" in changes
    body = changes.index("<tbody>")
    first_row = changes[body : changes.index("</tr>", body)]
    assert "regressed" in first_row
    assert FAILING in first_row
    assert "pass → fail (check-failed)" in first_row
    assert 'class="chg chg-regressed"' in cell_detail(html, FAILING)


def test_symbol_table_marks_missing_and_extra_names() -> None:
    table = symbol_table(load_sample(), "export-executable-symbols")
    labels = [(c.artifact, c.toolchain) for c in table.columns]
    assert labels[:5] == [
        ("exe-with-flag", "glibc"),
        ("exe-with-flag", "musl-dynamic"),
        ("exe-with-flag", "msvc"),
        ("exe-with-flag", "macos"),
        ("exe-with-flag", "emscripten"),
    ]
    rows = {row.name: row for row in (*table.differing, *table.common)}
    emscripten = labels.index(("exe-with-flag", "emscripten"))
    glibc = labels.index(("exe-with-flag", "glibc"))
    assert rows["exported_from_exe"].marks[emscripten] is Mark.MISSING  # minified away
    assert rows["exported_from_exe"].marks[glibc] is Mark.EXPORTED
    assert rows["h"].marks[emscripten] is Mark.EXTRA
    assert rows["h"].marks[glibc] is Mark.ABSENT
    assert [r.name for r in table.differing][:3] == ["exported_from_exe", "_fini", "h"]


def test_symbol_table_needs_inspected_artifacts() -> None:
    table = symbol_table(load_sample(), "ptx-kernel")
    assert [c.cell_id for c in table.columns] == ["ptx/nvptx64-nvidia-cuda/ptx-kernel"]
    assert [r.name for r in table.common] == ["answer", "write_answer"]
    assert not table.differing


def test_symbol_table_leaves_out_many_mangled_names_and_says_so() -> None:
    from orchestrator.report.symbol_table import MANGLED_ROWS_MAX

    ptx = "ptx/nvptx64-nvidia-cuda/ptx-kernel"
    sample = load_sample()
    artifact = cell_of(sample, ptx).artifacts[0]
    mangled = tuple(f"_RNvCs42qtOjJ1J5Z_3std{i}f" for i in range(MANGLED_ROWS_MAX + 1))

    def exporting(*names: str) -> ResultsDocument:
        changed = dataclasses.replace(artifact, exports=(*(artifact.exports or ()), *names))
        return replace_cell(sample, ptx, artifacts=(changed,))

    table = symbol_table(exporting(*mangled), "ptx-kernel")
    assert [r.name for r in table.common] == ["answer", "write_answer"]
    assert table.mangled_omitted == MANGLED_ROWS_MAX + 1
    at_the_limit = exporting(*mangled[:-1])  # shown
    assert symbol_table(at_the_limit, "ptx-kernel").mangled_omitted == 0


def test_write_views_writes_every_page(results_dir: Path) -> None:
    paths = write_views(load_sample(), results_dir, baseline=load_sample())
    names = sorted(p.relative_to(results_dir).as_posix() for p in paths)
    assert names == [
        "index.html",
        "matrix.md",
        "summary.md",
        "symbols/cdylib-exports.html",
        "symbols/export-executable-symbols.html",
        "symbols/ptx-kernel.html",
        "symbols/reexport-staticlib.html",
    ]
    page = (results_dir / "symbols/export-executable-symbols.html").read_text()
    assert "<td class=m>✗" in page
    assert '<a href="../index.html#cell-emscripten_wasm32-unknown-emscripten_export-' in page


def test_step_summary_counts_changes_and_failing_cells() -> None:
    current = load_sample()
    baseline = passed_before(current, FAILING)
    text = render_step_summary(current, diff_results(baseline, current))
    assert "**✅ 10 pass · ❌ 1 fail · 🟡 2 xfail · ⏭️ 1 skip · ➖ 2 not-applicable**" in text
    assert "1 regressed, 15 unchanged." in text
    assert "### ❗ Regressed since the baseline (1)" in text
    assert f"| `{FAILING}` | pass → fail (check-failed) |" in text
    assert "### Failing cells (1: fail, error, xpass)" in text
    assert f"| `{FAILING}` | ❌ fail | check-failed |" in text
    assert text.index("Regressed since") < text.index("### Failing cells")
    assert "since the baseline" not in render_step_summary(current)


def test_step_summary_escapes_table_cells() -> None:
    document = replace_cell(load_sample(), FAILING, detail="a | b\nsecond line")
    assert "| a \\| b |" in render_step_summary(document)


def test_command_line_can_be_pasted_into_a_shell() -> None:
    assert (
        command_line(["cargo", "rustc", "--config", 'profile.release.panic="abort"'], {"B": "x y"})
        == "B='x y' cargo rustc --config 'profile.release.panic=\"abort\"'"
    )


def test_cli_report_writes_the_views_again(
    results_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = passed_before(load_sample(), FAILING)
    baseline_path = tmp_path / "baseline.json"
    baseline_path.write_text(encode(baseline), encoding="utf-8")
    results = results_dir / "results.json"
    assert main(["report", str(results), "--baseline", str(baseline_path)]) == 0
    assert f"wrote {results_dir / 'index.html'}" in capsys.readouterr().out
    assert "chg-regressed" in (results_dir / "index.html").read_text()
    assert "Regressed since the baseline (1)" in (results_dir / "summary.md").read_text()


def test_upstream_urls_in_details_are_links(results_dir: Path) -> None:
    url = "https://github.com/rust-lang/rust/issues/84161"
    document = replace_cell(load_sample(), FAILING, detail=f"see {url}. <b>not bold</b>")
    detail = cell_detail(render_index(document, results_dir), FAILING)
    assert f'see <a href="{url}">{url}</a>. &lt;b&gt;not bold&lt;/b&gt;' in detail
    assert '<a href="https://github.com/rust-lang/rfcs/pull/3556">' in render_index(
        load_sample(), results_dir
    )


LINKER_LINE = "/usr/bin/ld: cannot find -lnative_a: No such file or directory"


def link_failed(document: ResultsDocument) -> ResultsDocument:
    """The sample with FAILING an error at link time, as the judge records one."""
    return replace_cell(
        document,
        FAILING,
        status=Status.ERROR,
        reason=Reason.LINK_ERROR,
        detail="building artifact 'lib' failed (exit 101): linking with `cc` failed: exit "
        "status: 1\n--- log tail ---\nerror: could not compile `lib`",
        link_error=LinkErrorRecord(
            artifact="lib",
            message="linking with `cc` failed: exit status: 1",
            lines=(LINKER_LINE, "/usr/bin/ld: cannot find -lnative_b"),
        ),
    )


def test_a_link_error_shows_the_linkers_own_line(results_dir: Path) -> None:
    document = link_failed(load_sample())
    html = render_index(document, results_dir)
    detail = cell_detail(html, FAILING)
    summary = detail[: detail.index("</summary>")]
    assert f"lib: {LINKER_LINE}" in summary  # the folded line says it, not rustc's headline
    said = detail.index("<th>the linker said</th>")
    assert said < detail.index("<th>detail</th>")
    assert "/usr/bin/ld: cannot find -lnative_b" in detail[said:]
    assert "rustc: <code>linking with `cc` failed: exit status: 1</code>" in detail
    assert f'title="{FAILING}: lib: {LINKER_LINE}"' in html  # the grid square's title
    markdown = render_markdown(document)
    problem = markdown[markdown.index(f"`{FAILING}`: error (link-error)") :]
    assert problem.index(LINKER_LINE) < problem.index("--- log tail ---")
    assert f"lib: {LINKER_LINE}" in render_step_summary(document)


def test_a_link_error_without_a_recognised_line_says_so(results_dir: Path) -> None:
    document = load_sample()
    unknown = LinkErrorRecord(artifact="lib", message="linking with `cc` failed", lines=())
    document = replace_cell(link_failed(document), FAILING, link_error=unknown)
    record = cell_of(document, FAILING)
    assert record.why.startswith("building artifact 'lib' failed")  # the detail's first line
    assert "no line of the linker's own recognised" in render_index(document, results_dir)
    assert "no line of its own recognised" in render_markdown(document)


def test_a_diagnostic_shows_under_the_artifact_whose_build_said_it(results_dir: Path) -> None:
    """Which build warned, without reading the log; a diagnostic of an older document (naming
    no artifact) stays in the cell's own list.
    """
    document = load_sample()
    failing = cell_of(document, FAILING)
    first, *rest = failing.diagnostics
    attributed = (dataclasses.replace(first, artifact="lib"), *rest)
    detail = cell_detail(
        render_index(replace_cell(document, FAILING, diagnostics=attributed), results_dir), FAILING
    )
    lib = detail[detail.index("artifact <code>lib</code>") :]
    lib = lib[: lib.index("build command:")]
    assert "<h5>rustc diagnostics of <code>lib</code> (1)</h5>" in lib
    assert first.rendered.rstrip().splitlines()[0] in lib
    if rest:
        assert f"<h4>rustc diagnostics ({len(rest)})</h4>" in detail
    else:
        assert "<h4>rustc diagnostics" not in detail


def routes_of(html: str) -> str:
    return html[html.index('<h2 id="routes">') : html.index('<h2 id="cells">')]


def test_the_runner_and_its_version_stand_beside_the_linkers(results_dir: Path) -> None:
    html = render_index(with_runners(load_sample()), results_dir)
    assert (
        "runner <code>wine-run {file}</code>, version <code>wine-8.0 (Debian 8.0~repack-4)</code>"
        in cell_detail(html, WINE_CELL)
    )
    direct = cell_detail(html, DIRECT_CELL)
    assert "runner <code>{file}</code>, version <code>none: no version probe</code>" in direct
    assert "runner <code>" not in cell_detail(html, "ptx/nvptx64-nvidia-cuda/ptx-kernel")
    routes = routes_of(html)
    assert "<th>runner and its version</th>" in routes
    assert '<td class="mono">wine-run {file}: wine-8.0 (Debian 8.0~repack-4)</td>' in routes
    assert '<td class="mono">{file}: no version probe</td>' in routes
    # the other five columns' cells were given none (emscripten's and musl's too, here)
    assert routes.count('<td class="mono">none (not run in the cell)</td>') == 5


def test_a_document_written_before_runners_has_no_runner_column(results_dir: Path) -> None:
    assert "runner" not in routes_of(render_index(load_sample(), results_dir))
    assert "| column | rustc | linker | libraries | stand-in |" in render_markdown(load_sample())


def test_matrix_md_lists_each_columns_runner(results_dir: Path) -> None:
    text = render_markdown(with_runners(load_sample()))
    table = text[text.index("## Toolchains") :].split("\n\n")[1].splitlines()
    assert table[0] == "| column | rustc | linker | runner | libraries | stand-in |"
    assert table[1] == "|---|---|---|---|---|---|"
    rows = {row.split(" | ")[0].removeprefix("| "): row.split(" | ")[3] for row in table[2:]}
    assert (
        rows["`msvc/x86_64-pc-windows-msvc`"] == "`wine-run {file}`: wine-8.0 (Debian 8.0~repack-4)"
    )
    assert rows["`glibc/x86_64-unknown-linux-gnu`"] == "`{file}` (no version probe)"
    assert rows["`ptx/nvptx64-nvidia-cuda`"] == "none (not run in the cell)"
