"""Which images a plan needs, and what each is built from: pure lineage, no engine."""

from __future__ import annotations

from pathlib import Path

from orchestrator.config.matrix import load_matrix
from orchestrator.images.build import Images
from orchestrator.images.fetch import stage_context
from orchestrator.images.tags import context_digest
from orchestrator.plan import make_plan
from tests.unit.conftest import ProjectFactory
from tests.unit.fake_engine import FakeEngine


def images_for(matrix_path: Path, *, base_present: bool = False) -> Images:
    engine = FakeEngine()
    if base_present:
        engine.add_image("linkmatrix/debian:bookworm")
    return Images(engine, load_matrix(matrix_path), lambda _: None, downloads=Path("/nowhere"))


def test_one_image_per_toolchain_serves_every_release(make_project: ProjectFactory) -> None:
    path = make_project()
    images = images_for(path)
    plan = make_plan(load_matrix(path), only=["glibc*"])
    assert {group.key.release for group in plan.groups} == {"1.96", "1.85"}
    assert plan.images == ("glibc",)
    assert images.needs(list(plan.images)).to_build == [
        "base (linkmatrix/debian:bookworm)",
        "rust",
        "glibc",
    ]


def test_the_image_built_from_the_base_installs_every_release(
    make_project: ProjectFactory,
) -> None:
    images = images_for(make_project(), base_present=True)
    assert images.build_args("rust", "sha256:p") == {
        "BASE": "sha256:p",
        "RUSTC_WEB_VERSION": "1.96.0+dfsg1-1~deb12u2",
        "OTHER_RUSTC_WEB_VERSIONS": "1.85.0+dfsg3-1~deb12u3",
    }
    assert images.build_args("glibc", "sha256:p") == {"BASE": "sha256:p"}  # inherits them


def test_a_release_change_retags_the_images(make_project: ProjectFactory) -> None:
    path = make_project()
    tag = images_for(path)._tag("rust", "sha256:parent")
    assert tag.startswith("linkmatrix/rust:")
    path.write_text(path.read_text().replace("1.85.0+dfsg3-1~deb12u3", "1.85.0+dfsg3-1~deb12u4"))
    assert images_for(path)._tag("rust", "sha256:parent") != tag


def test_a_manifest_vendored_from_a_sibling_folder_is_hashed(tmp_path: Path) -> None:
    shared = tmp_path / "images" / "rust" / "std-vendor"
    shared.mkdir(parents=True)
    (shared / "Cargo.toml").write_text("[package]\n")
    (shared / "Cargo.lock").write_text("version = 4\n")
    sibling = tmp_path / "images" / "sibling"
    sibling.mkdir()
    (sibling / "Dockerfile").write_text("FROM x\n")
    (sibling / "fetch.yaml").write_text('cargo_vendor: ["../rust/std-vendor/Cargo.toml"]\n')
    before = context_digest(sibling)
    (shared / "Cargo.lock").write_text("version = 4\n# another pin\n")
    assert context_digest(sibling) != before


def test_bytecode_pip_writes_beside_an_image_script_changes_neither_tag_nor_context(
    tmp_path: Path,
) -> None:
    context = tmp_path / "images" / "wasm"
    context.mkdir(parents=True)
    (context / "Dockerfile").write_text("FROM x\nCOPY wasm-invoke.py /usr/local/bin/\n")
    (context / "wasm-invoke.py").write_text("print('hi')\n")
    before = context_digest(context)
    (context / "__pycache__").mkdir()  # what `pip install` of linkmatrix compiles
    (context / "__pycache__" / "wasm-invoke.cpython-311.pyc").write_bytes(b"\x00bytecode")
    assert context_digest(context) == before
    staged = stage_context(context, tmp_path / "staging", tmp_path / "downloads")
    assert sorted(p.name for p in staged.iterdir()) == ["Dockerfile", "wasm-invoke.py"]


def test_ensure_builds_parents_first_and_reuses_what_is_present(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    engine = FakeEngine()
    base = engine.add_image("linkmatrix/debian:bookworm")
    matrix = load_matrix(make_project())
    images = Images(engine, matrix, lambda _: None, downloads=tmp_path / "downloads")
    glibc = images.ensure("glibc")
    rust_tag, glibc_tag = (call.tag for call in engine.builds)
    assert rust_tag.startswith("linkmatrix/rust:")
    assert (glibc.tag, glibc.built) == (glibc_tag, True)
    assert glibc.id == engine.images.get(glibc_tag).id
    assert engine.builds[0].buildargs["BASE"] == base.id
    assert engine.builds[1].buildargs["BASE"] == engine.images.get(rust_tag).id
    # the releases on the image that installs them; glibc inherits them (no step of its own)
    assert engine.builds[0].labels == {"org.linkmatrix.releases": "1.96 1.85"}
    assert engine.builds[1].labels == {}

    again = Images(engine, matrix, lambda _: None, downloads=tmp_path / "downloads")
    assert again.ensure("glibc").built is False
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
        images.ensure("glibc")
    assert "returned 100" in str(error.value)
    assert [call.tag.split(":")[0] for call in engine.builds] == [
        "linkmatrix/rust",
        "linkmatrix/glibc",
    ]
