"""Image lineage and the recipe digest that keys a CI cache of built images (no engine)."""

from __future__ import annotations

import pytest

from orchestrator.cli import main
from orchestrator.config.matrix import load_matrix
from orchestrator.images.lineage import lineage, parent_of, recipe_digest
from orchestrator.images.volumes import cache_volume, present_volumes
from orchestrator.plan import ImageKey
from tests.unit.conftest import ProjectFactory
from tests.unit.fake_engine import FakeEngine

GLIBC = ImageKey(image="glibc", release="1.96")
WASM = ImageKey(image="wasm", release="1.96")


def test_an_image_is_built_on_its_parent_down_to_the_base(make_project: ProjectFactory) -> None:
    matrix = load_matrix(make_project())
    assert lineage(matrix, GLIBC) == [ImageKey(image="rust", release="1.96"), GLIBC]
    assert parent_of(matrix, ImageKey(image="rust", release="1.96")) is None


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


def test_present_volumes_are_those_of_the_given_images() -> None:
    engine = FakeEngine()
    for name in (cache_volume("sha256:aaaa"), cache_volume("sha256:bbbb"), "other"):
        engine.volumes.ensure(name)
    assert present_volumes(engine, ["sha256:bbbb", "sha256:cccc"]) == [cache_volume("sha256:bbbb")]
