"""Artifacts are hardlinked from the cell cache into the output folder, and exported on demand."""

from __future__ import annotations

import dataclasses
import errno
import os
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.inspect.model import ArtifactFormat
from orchestrator.results.artifacts import LinkStats, link_tree
from orchestrator.results.codec import write_results
from orchestrator.results.model import ArtifactRecord, CellRecord, OtherFile, ResultsDocument
from tests.unit.test_schema import load_sample


def fake_cell_files(root: Path) -> Path:
    """A cell cache entry's `files/` folder: one artifact with two files."""
    files = root / "cells" / "key" / "files"
    (files / "lib").mkdir(parents=True)
    (files / "lib" / "liba.so").write_bytes(b"\x7fELF" + b"x" * 96)
    (files / "lib" / "liba.a").write_bytes(b"!<arch>\n")
    return files


def test_artifacts_are_hardlinked_not_copied(tmp_path: Path) -> None:
    files = fake_cell_files(tmp_path / "cache")
    target = tmp_path / "out" / "artifacts" / "slug"
    stats = LinkStats()
    link_tree(files, target, stats)
    assert (target / "lib" / "liba.so").samefile(files / "lib" / "liba.so")
    assert (stats.linked_files, stats.linked_bytes, stats.copied_files) == (2, 108, 0)


def test_a_warm_rerun_leaves_the_links_alone_and_a_rebuild_replaces_them(tmp_path: Path) -> None:
    files = fake_cell_files(tmp_path / "cache")
    target = tmp_path / "out"
    link_tree(files, target, LinkStats())
    (target / "stale.txt").write_text("from an older build")
    link_tree(files, target, LinkStats())
    assert not (target / "stale.txt").exists()
    inode = (target / "lib" / "liba.so").stat().st_ino
    again = LinkStats()
    link_tree(files, target, again)
    assert (target / "lib" / "liba.so").stat().st_ino == inode
    assert again.linked_files == 2


def test_across_filesystems_a_file_is_copied_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = fake_cell_files(tmp_path / "cache")

    def no_link(_self: Path, _target: Path) -> None:
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))

    monkeypatch.setattr(Path, "hardlink_to", no_link)
    stats = LinkStats()
    link_tree(files, tmp_path / "out", stats)
    assert (tmp_path / "out" / "lib" / "liba.a").read_bytes() == b"!<arch>\n"
    assert (stats.copied_files, stats.copied_bytes, stats.linked_files) == (2, 108, 0)
    assert "2 (0.0 MiB) copied" in stats.line()


def document_with_files(out: Path) -> ResultsDocument:
    """The sample with one cell's artifact pointing at files linked under `out`."""
    sample = load_sample()
    cell = next(c for c in sample.cells if c.artifacts)
    artifact = dataclasses.replace(
        cell.artifacts[0],
        file="artifacts/slug/lib/liba.so",
        other_files=(
            OtherFile(
                file="liba.a",
                path="artifacts/slug/lib/liba.a",
                sha256="0",
                size=8,
                format=ArtifactFormat.ARCHIVE,
            ),
        ),
    )
    artifacts: tuple[ArtifactRecord, ...] = (artifact,)
    only: CellRecord = dataclasses.replace(cell, id="glibc/x86/answer", artifacts=artifacts)
    others = tuple(dataclasses.replace(c, artifacts=()) for c in sample.cells if c is not cell)
    document = dataclasses.replace(sample, cells=(only, *others))
    link_tree(fake_cell_files(out / "cache"), out / "artifacts" / "slug", LinkStats())
    write_results(out / "results.json", document)
    return document


def test_export_copies_the_selected_cells_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    document_with_files(out)
    argv = ["export", "--out", str(tmp_path / "x"), "--only", "glibc/*", str(out / "results.json")]
    assert main(argv) == 0
    exported = tmp_path / "x" / "slug" / "lib" / "liba.so"
    assert exported.read_bytes().startswith(b"\x7fELF")
    assert not exported.samefile(out / "artifacts" / "slug" / "lib" / "liba.so")  # a real copy
    assert (tmp_path / "x" / "slug" / "lib" / "liba.a").is_file()
    assert "exported 2 files" in capsys.readouterr().out


def test_export_of_files_gone_from_the_cache_is_exit_7_naming_the_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    document_with_files(out)
    (out / "artifacts" / "slug" / "lib" / "liba.so").unlink()
    assert main(["export", "--out", str(tmp_path / "x"), str(out / "results.json")]) == 7
    error = capsys.readouterr().err
    assert "1 artifact files are gone" in error
    assert "of cell glibc/x86/answer" in error
    assert "linkmatrix run --only 'glibc/x86/answer'" in error
    assert not (tmp_path / "x").exists()


def test_export_of_no_matching_cell_is_a_selection_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    document_with_files(out)
    argv = ["export", "--out", str(tmp_path / "x"), "--only", "nope/*", str(out / "results.json")]
    assert main(argv) == 4
    assert "no cell of the results matches nope/*" in capsys.readouterr().err
