"""The cache volume each (toolchain image, release) gives its cells at /cache (std builds, cargo
dirs). One image holds every release; each release keeps its own volume, so a 1.85 cell never
meets a sysroot or a cargo build dir of 1.96, as when each release had its own image.
"""

from __future__ import annotations

from collections.abc import Iterable

from orchestrator.engine.client import transient_retry
from orchestrator.engine.protocol import EngineClient

CACHE_VOLUME_PREFIX = "linkmatrix-cache-"


def cache_volume(image_id: str, release: str) -> str:
    """The volume a cell container of `image_id` for `release` mounts at /cache."""
    return f"{CACHE_VOLUME_PREFIX}{image_id.removeprefix('sha256:')[:16]}-{release}"


@transient_retry
def present_volumes(
    client: EngineClient, image_ids: Iterable[str], releases: Iterable[str]
) -> list[str]:
    """The cache volumes of `image_ids` (any of `releases`) that exist in the engine, by name."""
    names = tuple(releases)
    wanted = {cache_volume(image_id, release) for image_id in image_ids for release in names}
    volumes = client.volumes.list(filters={"name": CACHE_VOLUME_PREFIX})
    return sorted(str(v.name) for v in volumes if str(v.name) in wanted)
