"""`linkmatrix prune`: remove the images and std-cache volumes the current matrix no longer uses.

Images are tagged by content hash, so every change to an image folder leaves the old image
behind, and with it its `linkmatrix-cache-<image id>` volume (std builds, cargo build dirs).
The plan is pure once the engine's listings are read: keep what the matrix's images resolve
to now (the base and every image present under its current hash), remove the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from docker.errors import APIError, NotFound

from orchestrator.engine.client import transient_retry
from orchestrator.engine.protocol import EngineClient
from orchestrator.images.build import Images
from orchestrator.images.volumes import CACHE_VOLUME_PREFIX, cache_volume

IMAGE_REFERENCE = "linkmatrix/*"


@dataclass(frozen=True, kw_only=True)
class PrunePlan:
    """What prune keeps and removes: image tags, and cache volumes by name."""

    kept_tags: tuple[str, ...]
    stale_tags: tuple[str, ...]
    stale_volumes: tuple[str, ...]


def plan_prune(
    current: dict[str, str],
    tagged: Iterable[tuple[str, str]],
    volumes: Iterable[str],
    releases: Iterable[str],
) -> PrunePlan:
    """Pure: `current` maps the matrix's tags to ids; `tagged` is every (tag, id) present;
    a kept image keeps the volumes of the matrix's `releases`.
    """
    kept_ids = set(current.values())
    stale = sorted(tag for tag, image_id in tagged if image_id not in kept_ids)
    names = tuple(releases)
    kept_volumes = {cache_volume(image_id, release) for image_id in kept_ids for release in names}
    return PrunePlan(
        kept_tags=tuple(sorted(current)),
        stale_tags=tuple(stale),
        stale_volumes=tuple(sorted(v for v in volumes if v not in kept_volumes)),
    )


def read_prune_plan(client: EngineClient, images: Images, names: list[str]) -> PrunePlan:
    """The engine's images and volumes, against what the images `names` resolve to now."""
    current = images.needs(names).present
    releases = [release.name for release in images.matrix.releases]
    return plan_prune(current, _linkmatrix_tags(client), _cache_volumes(client), releases)


def apply_prune(client: EngineClient, plan: PrunePlan) -> list[str]:
    """Remove the stale tags and volumes; return what could not be removed, and why."""
    problems = []
    for tag in plan.stale_tags:
        try:
            _remove_image(client, tag)
        except NotFound:
            continue
        except APIError as exc:
            problems.append(f"image {tag}: {exc.explanation}")
    for name in plan.stale_volumes:
        try:
            _remove_volume(client, name)
        except NotFound:
            continue
        except APIError as exc:  # in use by a container of a run still going
            problems.append(f"volume {name}: {exc.explanation}")
    return problems


@transient_retry
def _linkmatrix_tags(client: EngineClient) -> list[tuple[str, str]]:
    images = client.images.list(filters={"reference": IMAGE_REFERENCE})
    return [
        (tag, str(image.id))
        for image in images
        for tag in image.tags
        if tag.startswith(IMAGE_REFERENCE.removesuffix("*"))
    ]


@transient_retry
def _cache_volumes(client: EngineClient) -> list[str]:
    volumes = client.volumes.list(filters={"name": CACHE_VOLUME_PREFIX})
    return [str(v.name) for v in volumes if str(v.name).startswith(CACHE_VOLUME_PREFIX)]


@transient_retry
def _remove_image(client: EngineClient, tag: str) -> None:
    client.images.remove(tag, noprune=False)


@transient_retry
def _remove_volume(client: EngineClient, name: str) -> None:
    client.volumes.get(name).remove()
