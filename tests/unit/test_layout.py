"""One layout for the output and cache folders, and one slug."""

from __future__ import annotations

from pathlib import Path

from orchestrator.layout import Layout, artifact_report_path, log_report_path, slug
from orchestrator.plan import Cell


def test_a_cells_files_and_log_have_one_place_each(tmp_path: Path) -> None:
    layout = Layout(out_dir=tmp_path / "out", cache_dir=tmp_path / "cache")
    assert layout.artifacts("c") == tmp_path / "out" / "artifacts" / "c"
    assert artifact_report_path("c", "lib", "liblib.so") == "artifacts/c/lib/liblib.so"
    assert layout.log("c") == tmp_path / "out" / "logs" / "c.log"
    assert layout.relative(layout.log("c")) == log_report_path("c") == "logs/c.log"
    assert layout.cells == tmp_path / "cache" / "cells"
    assert layout.inspections == tmp_path / "cache" / "inspections"
    assert layout.downloads == tmp_path / "cache" / "downloads"
    assert layout.vendor == tmp_path / "cache" / "vendor"


def test_the_slug_is_a_file_name_and_a_cells_slug_is_its_ids() -> None:
    assert slug("glibc@1.85/x86_64-unknown-linux-gnu/alpha") == (
        "glibc_1.85_x86_64-unknown-linux-gnu_alpha"
    )
    assert slug("a  b//c") == "a_b_c"
    cell = Cell(
        id="msvc/x86_64-pc-windows-msvc/dylib plugin",
        toolchain="msvc",
        release="1.96",
        target="x86_64-pc-windows-msvc",
        scenario="dylib plugin",
        image="msvc",
        not_applicable=None,
    )
    assert cell.slug == slug(cell.id) == "msvc_x86_64-pc-windows-msvc_dylib_plugin"
