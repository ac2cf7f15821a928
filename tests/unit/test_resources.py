"""The default matrix: the working directory's (a checkout), else the one installed with us."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.resources import BUNDLE, default_matrix, installed_matrix, is_installed_data

REPO = Path(__file__).resolve().parents[2]


def fake_defaults(root: Path) -> Path:
    """matrix.yaml with scenarios/ and images/ beside it, in `root`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "scenarios").mkdir()
    (root / "images").mkdir()
    (root / "matrix.yaml").write_text("schema_version: 1\n")
    return root / "matrix.yaml"


def package_at(monkeypatch: pytest.MonkeyPatch, package: Path) -> None:
    package.mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr("importlib.resources.files", lambda _name: package)


def test_a_checkout_reads_its_own_matrix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_defaults(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert default_matrix() == Path("matrix.yaml")


def test_elsewhere_the_installed_matrix_is_the_projects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    found = default_matrix()
    assert found.is_absolute()  # the wheel's copy, or the checkout of an editable install
    assert found.read_bytes() == (REPO / "matrix.yaml").read_bytes()


def test_a_wheel_reads_its_bundled_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "site-packages" / "orchestrator"
    bundled = fake_defaults(package / BUNDLE)
    package_at(monkeypatch, package)
    assert installed_matrix() == bundled


def test_an_editable_install_reads_the_checkout_beside_its_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = fake_defaults(tmp_path / "checkout")
    package_at(monkeypatch, tmp_path / "checkout" / "orchestrator")
    assert installed_matrix() == checkout


def test_a_matrix_without_its_folders_is_no_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "matrix.yaml").write_text("schema_version: 1\n")  # no scenarios/, images/
    package_at(monkeypatch, tmp_path / "orchestrator")
    assert installed_matrix() is None
    monkeypatch.chdir(tmp_path / "orchestrator")
    assert main(["run", "--list-cells"]) == 3
    assert "matrix.yaml: no such matrix file" in capsys.readouterr().err


def test_list_cells_needs_no_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--list-cells", "--only", "glibc/*/cdylib-exports"]) == 0
    assert capsys.readouterr().out.split() == ["glibc/x86_64-unknown-linux-gnu/cdylib-exports"]


def test_only_a_wheels_bundled_copy_is_installed_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "site-packages" / "orchestrator"
    bundled = fake_defaults(package / BUNDLE)
    package_at(monkeypatch, package)
    assert is_installed_data(bundled.parent / "scenarios" / "x" / "scenario.yaml")
    assert not is_installed_data(tmp_path / "checkout" / "scenarios" / "x" / "scenario.yaml")
    package_at(monkeypatch, tmp_path / "checkout" / "orchestrator")  # an editable install
    assert not is_installed_data(tmp_path / "checkout" / "scenarios" / "x" / "scenario.yaml")
