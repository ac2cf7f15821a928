"""Every image of the matrix is built (or says which SDK it lacks) and holds every rustc
release, each selected by its container environment: the cells of the CI selection cannot
touch them all cheaply (a second std build per target), so this test does, without building
std.
"""

from __future__ import annotations

import contextlib
import json
import uuid

import docker
import pytest

from orchestrator.config.matrix import load_matrix
from orchestrator.engine.scratch import scratch_tar
from orchestrator.images.build import Images
from orchestrator.images.fetch import SdkMissing
from orchestrator.images.prune import PrunePlan, apply_prune, read_prune_plan
from orchestrator.images.releases import release_environment, rust_info_path
from orchestrator.images.volumes import cache_volume
from orchestrator.plan import make_plan
from tests.integration.conftest import REPO

CONNECTED_ROUTES = {"msvc-xwin", "macos-sdk"}  # need the user's SDK
# rustc and cargo of the release, and no cargo configuration in the directories above a cell's
# workdir: cargo reads those too, whatever CARGO_HOME says, so one there would give every release
# the same std vendor directory.
PROBE = (
    "rustc -V; cargo -V; for d in /home/builder/work /home/builder /home /; do "
    'if [ -e "$d/.cargo" ]; then echo "stray cargo config in $d"; fi; done'
)


def test_every_image_holds_every_release_selected_by_its_environment(
    docker_client: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory
) -> None:
    matrix = load_matrix(REPO / "matrix.yaml")
    plan = make_plan(matrix)
    downloads = REPO / ".cache/linkmatrix/downloads"
    images = Images(docker_client, matrix, print, downloads=downloads)
    seen = set()
    for image in plan.images:
        if image in CONNECTED_ROUTES:
            with pytest.raises(SdkMissing):
                images.ensure(image)
            continue
        ready = images.ensure(image)
        for release in matrix.releases:
            info = docker_client.containers.run(
                ready.tag,
                ["sh", "-c", f"cat {rust_info_path(matrix, release.name)}; {PROBE}"],
                remove=True,
                network_mode="none",
                user="1000:1000",
                environment=dict(release_environment(matrix, release.name)),
            ).decode()
            recorded = json.loads(info.splitlines()[0])
            assert recorded["rustc"].startswith(f"rustc {release.name}."), (image, info)
            assert f"rustc {release.name}." in info, (image, info)
            assert f"cargo {release.name}." in info, (image, info)
            assert "stray cargo config" not in info, (image, info)
            seen.add(f"{image}@{release.name}")
    toolchain_images = {t.image for t in matrix.toolchains} - CONNECTED_ROUTES
    assert seen == {f"{image}@{r.name}" for image in toolchain_images for r in matrix.releases}


def test_prune_keeps_the_current_images_and_finds_stale_ones(
    docker_client: docker.DockerClient,
) -> None:
    """Against the real engine: every image of the matrix is kept; an image and a volume that no
    current image owns are listed stale and removed (only those two: a developer's machine may
    hold other stale images, which this test leaves alone).
    """
    matrix = load_matrix(REPO / "matrix.yaml")
    images = Images(docker_client, matrix, print, downloads=REPO / ".cache/linkmatrix/downloads")
    names = list(make_plan(matrix).images)
    suffix = uuid.uuid4().hex[:12]
    stale_tag = f"linkmatrix/prune-test:stale-{suffix}"
    docker_client.api.import_image_from_data(  # a one-file image, no registry needed
        scratch_tar("nothing", b""), repository="linkmatrix/prune-test", tag=f"stale-{suffix}"
    )
    stale_volume = docker_client.volumes.create(f"linkmatrix-cache-prunetest{suffix}").name
    try:
        plan = read_prune_plan(docker_client, images, names)
        current = images.needs(names).present
        assert current and set(current) == set(plan.kept_tags)
        assert not set(current) & set(plan.stale_tags)
        assert stale_tag in plan.stale_tags
        assert stale_volume in plan.stale_volumes
        kept_volume = cache_volume(next(iter(current.values())), matrix.default_release)
        assert kept_volume not in plan.stale_volumes
        ours = PrunePlan(kept_tags=(), stale_tags=(stale_tag,), stale_volumes=(stale_volume,))
        assert apply_prune(docker_client, ours) == []
        with pytest.raises(docker.errors.ImageNotFound):
            docker_client.images.get(stale_tag)
        with pytest.raises(docker.errors.NotFound):
            docker_client.volumes.get(stale_volume)
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            docker_client.images.remove(stale_tag)
        with contextlib.suppress(docker.errors.NotFound):
            docker_client.volumes.get(stale_volume).remove()
