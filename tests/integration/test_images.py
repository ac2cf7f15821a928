"""Every image of the matrix, for every release, is built (or says which SDK it lacks) and holds
the rustc release it is named for: the cells of the CI selection cannot touch them all cheaply
(a second std build per target), so this test does, without building std.
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
from orchestrator.images.volumes import cache_volume
from orchestrator.plan import make_plan
from tests.integration.conftest import REPO

CONNECTED_ROUTES = {"msvc-xwin", "macos-sdk"}  # need the user's SDK


def test_every_image_of_every_release_holds_its_rustc(
    docker_client: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory
) -> None:
    matrix = load_matrix(REPO / "matrix.yaml")
    plan = make_plan(matrix)
    downloads = REPO / ".cache/linkmatrix/downloads"
    images = Images(docker_client, matrix, print, downloads=downloads)
    seen = set()
    for key in plan.images:
        if key.image in CONNECTED_ROUTES:
            with pytest.raises(SdkMissing):
                images.ensure(key)
            continue
        ready = images.ensure(key)
        info = docker_client.containers.run(
            ready.tag,
            ["sh", "-c", "cat /etc/linkmatrix/rust.json; rustc -V; cargo -V"],
            remove=True,
            network_mode="none",
            user="1000:1000",
        ).decode()
        recorded = json.loads(info.splitlines()[0])
        assert recorded["rustc"].startswith(f"rustc {key.release}."), (key, info)
        assert f"rustc {key.release}." in info and f"cargo {key.release}." in info, (key, info)
        seen.add(str(key))
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
    keys = list(make_plan(matrix).images)
    suffix = uuid.uuid4().hex[:12]
    stale_tag = f"linkmatrix/prune-test:stale-{suffix}"
    docker_client.api.import_image_from_data(  # a one-file image, no registry needed
        scratch_tar("nothing", b""), repository="linkmatrix/prune-test", tag=f"stale-{suffix}"
    )
    stale_volume = docker_client.volumes.create(f"linkmatrix-cache-prunetest{suffix}").name
    try:
        plan = read_prune_plan(docker_client, images, keys)
        current = images.needs(keys).present
        assert current and set(current) == set(plan.kept_tags)
        assert not set(current) & set(plan.stale_tags)
        assert stale_tag in plan.stale_tags
        assert stale_volume in plan.stale_volumes
        kept_volume = cache_volume(next(iter(current.values())))
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
