"""Which images a plan needs, and what each is built from: pure lineage, no engine."""

from __future__ import annotations

from pathlib import Path

from orchestrator.config.matrix import load_matrix
from orchestrator.images.build import Images
from orchestrator.images.tags import context_digest
from orchestrator.plan import ImageKey
from tests.unit.conftest import MATRIX, ProjectFactory
from tests.unit.fake_engine import FakeEngine

OVERLAY_MATRIX = MATRIX.replace(
    '"1.85": { rustc_web: "1.85.0+dfsg3-1~deb12u3" }',
    '"1.85": { rustc_web: "1.85.0+dfsg3-1~deb12u3", overlay: rust-release }',
)


def images_for(matrix_path: Path, *, base_present: bool = False) -> Images:
    engine = FakeEngine()
    if base_present:
        engine.add_image("linkmatrix/debian:bookworm")
    return Images(engine, load_matrix(matrix_path), lambda _: None, downloads=Path("/nowhere"))


def overlay_project(make_project: ProjectFactory) -> Path:
    path = make_project(OVERLAY_MATRIX)
    overlay = path.parent / "images" / "rust-release"
    overlay.mkdir(parents=True)
    (overlay / "Dockerfile").write_text("ARG BASE\nFROM ${BASE}\nLABEL release=swap\n")
    return path


def test_without_overlay_each_release_builds_its_own_chain(make_project: ProjectFactory) -> None:
    images = images_for(make_project())
    needs = images.needs([ImageKey(image="glibc", release="1.85")])
    assert needs.to_build == ["base (linkmatrix/debian:bookworm)", "rust@1.85", "glibc@1.85"]


def test_an_overlay_release_builds_on_the_default_release_image(
    make_project: ProjectFactory,
) -> None:
    images = images_for(overlay_project(make_project))
    needs = images.needs([ImageKey(image="glibc", release="1.85")])
    assert needs.to_build == [
        "base (linkmatrix/debian:bookworm)",
        "rust@1.96",
        "glibc@1.96",
        "glibc@1.85",
    ]


def test_overlay_images_are_tagged_from_the_overlay_context(make_project: ProjectFactory) -> None:
    path = overlay_project(make_project)
    images = images_for(path, base_present=True)
    base_id = images.client.images.get("linkmatrix/debian:bookworm").id
    assert images.build_args(ImageKey(image="glibc", release="1.85"), "sha256:p")["ROOT"] == (
        base_id
    )
    assert "ROOT" not in images.build_args(ImageKey(image="glibc", release="1.96"), "sha256:p")
    tag = images._tag(ImageKey(image="glibc", release="1.85"), "sha256:parent")
    same_as_overlay = context_digest(path.parent / "images" / "rust-release")
    assert tag.startswith("linkmatrix/glibc:1.85-")
    (path.parent / "images" / "rust-release" / "Dockerfile").write_text("FROM x\n")
    assert context_digest(path.parent / "images" / "rust-release") != same_as_overlay
    assert images._tag(ImageKey(image="glibc", release="1.85"), "sha256:parent") != tag


def test_a_missing_overlay_folder_is_named(make_project: ProjectFactory) -> None:
    import pytest

    from orchestrator.errors import ConfigError

    with pytest.raises(ConfigError, match=r"rust-release/Dockerfile") as error:
        load_matrix(make_project(OVERLAY_MATRIX))
    assert "releases" in str(error.value)


def test_a_manifest_vendored_from_a_sibling_folder_is_hashed(tmp_path: Path) -> None:
    shared = tmp_path / "images" / "rust" / "std-vendor"
    shared.mkdir(parents=True)
    (shared / "Cargo.toml").write_text("[package]\n")
    (shared / "Cargo.lock").write_text("version = 4\n")
    overlay = tmp_path / "images" / "overlay"
    overlay.mkdir()
    (overlay / "Dockerfile").write_text("FROM x\n")
    (overlay / "fetch.yaml").write_text('cargo_vendor: ["../rust/std-vendor/Cargo.toml"]\n')
    before = context_digest(overlay)
    (shared / "Cargo.lock").write_text("version = 4\n# another pin\n")
    assert context_digest(overlay) != before


def test_ensure_builds_parents_first_and_reuses_what_is_present(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    engine = FakeEngine()
    base = engine.add_image("linkmatrix/debian:bookworm")
    matrix = load_matrix(make_project())
    images = Images(engine, matrix, lambda _: None, downloads=tmp_path / "downloads")
    glibc = images.ensure(ImageKey(image="glibc", release="1.96"))
    rust_tag, glibc_tag = (call.tag for call in engine.builds)
    assert rust_tag.startswith("linkmatrix/rust:1.96-")
    assert (glibc.tag, glibc.built) == (glibc_tag, True)
    assert glibc.id == engine.images.get(glibc_tag).id
    assert engine.builds[0].buildargs["BASE"] == base.id
    assert engine.builds[1].buildargs["BASE"] == engine.images.get(rust_tag).id
    assert engine.builds[1].labels == {
        "org.linkmatrix.image": "glibc",
        "org.linkmatrix.release": "1.96",
    }

    again = Images(engine, matrix, lambda _: None, downloads=tmp_path / "downloads")
    assert again.ensure(ImageKey(image="glibc", release="1.96")).built is False
    assert len(engine.builds) == 2


def test_a_failed_build_names_the_dockerfile_and_the_log_tail(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    import pytest

    from orchestrator.errors import ImageBuildError

    engine = FakeEngine()
    engine.add_image("linkmatrix/debian:bookworm")
    engine.break_build("glibc")
    images = Images(engine, load_matrix(make_project()), lambda _: None, downloads=tmp_path)
    with pytest.raises(ImageBuildError, match=r"glibc/Dockerfile failed") as error:
        images.ensure(ImageKey(image="glibc", release="1.96"))
    assert "returned 100" in str(error.value)
    assert [call.tag.split(":")[0] for call in engine.builds] == [
        "linkmatrix/rust",
        "linkmatrix/glibc",
    ]
