"""Image lineage and the recipe digest that keys a CI cache of built images (no engine)."""

from __future__ import annotations

import pytest

from orchestrator.cli import main
from orchestrator.config.matrix import load_matrix
from orchestrator.images.lineage import lineage, parent_of, recipe_digest
from orchestrator.images.volumes import cache_volume, present_volumes
from tests.unit.conftest import ProjectFactory
from tests.unit.fake_engine import FakeEngine

GLIBC = "glibc"
WASM = "wasm"


def test_an_image_is_built_on_its_parent_down_to_the_base(make_project: ProjectFactory) -> None:
    matrix = load_matrix(make_project())
    assert lineage(matrix, GLIBC) == ["rust", GLIBC]
    assert parent_of(matrix, "rust") is None


def test_the_recipe_follows_the_image_folders_and_only_the_selected_ones(
    make_project: ProjectFactory,
) -> None:
    path = make_project()
    matrix = load_matrix(path)
    glibc, wasm = recipe_digest(matrix, [GLIBC]), recipe_digest(matrix, [WASM])
    assert glibc != wasm
    assert recipe_digest(matrix, [GLIBC, GLIBC]) == glibc

    (path.parent / "images" / "wasm" / "Dockerfile").write_text("FROM scratch\n# changed\n")
    assert recipe_digest(matrix, [GLIBC]) == glibc  # not one of glibc's images
    assert recipe_digest(matrix, [WASM]) != wasm
    (path.parent / "images" / "rust" / "Dockerfile").write_text("FROM scratch\n# changed\n")
    assert recipe_digest(matrix, [GLIBC]) != glibc  # its parent


def test_images_recipe_needs_no_engine(
    make_project: ProjectFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_project()
    assert main(["images", "--recipe", "--matrix", str(path), "--only", "glibc/*"]) == 0
    assert capsys.readouterr().out.strip() == recipe_digest(load_matrix(path), [GLIBC])


def test_the_recipe_follows_the_releases_the_images_install(make_project: ProjectFactory) -> None:
    path = make_project()
    before = recipe_digest(load_matrix(path), [GLIBC])
    path.write_text(path.read_text().replace("1.85.0+dfsg3-1~deb12u3", "1.85.0+dfsg3-1~deb12u4"))
    assert recipe_digest(load_matrix(path), [GLIBC]) != before


def test_each_release_of_an_image_has_its_own_cache_volume() -> None:
    assert cache_volume("sha256:aaaa", "1.96") != cache_volume("sha256:aaaa", "1.85")


def test_present_volumes_are_those_of_the_given_images() -> None:
    engine = FakeEngine()
    volumes = [cache_volume(i, r) for i in ("sha256:aaaa", "sha256:bbbb") for r in ("1.96", "1.85")]
    for name in (*volumes, "other"):
        engine.volumes.ensure(name)
    assert present_volumes(engine, ["sha256:bbbb", "sha256:cccc"], ["1.96", "1.85"]) == sorted(
        volumes[2:]
    )
