"""The cache volume each toolchain image's cells mount at /cache (std builds, cargo dirs)."""

from __future__ import annotations

from collections.abc import Iterable

from orchestrator.engine.client import transient_retry
from orchestrator.engine.protocol import EngineClient

CACHE_VOLUME_PREFIX = "linkmatrix-cache-"


def cache_volume(image_id: str) -> str:
    """The volume a cell container of `image_id` mounts at /cache (std builds, cargo dirs)."""
    return CACHE_VOLUME_PREFIX + image_id.removeprefix("sha256:")[:16]


@transient_retry
def present_volumes(client: EngineClient, image_ids: Iterable[str]) -> list[str]:
    """The cache volumes of `image_ids` that exist in the engine, by name."""
    wanted = {cache_volume(image_id) for image_id in image_ids}
    volumes = client.volumes.list(filters={"name": CACHE_VOLUME_PREFIX})
    return sorted(str(v.name) for v in volumes if str(v.name) in wanted)
