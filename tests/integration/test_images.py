"""Every image of the matrix, for every release, is built (or says which SDK it lacks) and holds
the rustc release it is named for: the cells of the CI selection cannot touch them all cheaply
(a second std build per target), so this test does, without building std."""

from __future__ import annotations

import json

import docker
import pytest

from orchestrator.config import load_matrix
from orchestrator.fetch import SdkMissing
from orchestrator.images import Images
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
