"""The cache volume each toolchain image's cells mount at /cache (std builds, cargo dirs)."""

from __future__ import annotations

CACHE_VOLUME_PREFIX = "linkmatrix-cache-"


def cache_volume(image_id: str) -> str:
    """The volume a cell container of `image_id` mounts at /cache (std builds, cargo dirs)."""
    return CACHE_VOLUME_PREFIX + image_id.removeprefix("sha256:")[:16]
