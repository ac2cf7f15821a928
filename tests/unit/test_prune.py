"""prune's plan: keep what the matrix resolves to now, remove other linkmatrix tags and volumes."""

from __future__ import annotations

from orchestrator.images.prune import plan_prune
from orchestrator.images.volumes import cache_volume

CURRENT = {
    "linkmatrix/debian:bookworm": "sha256:base0000000000000000",
    "linkmatrix/glibc:1.96-aaaa": "sha256:1111111111111111ffff",
}


def test_stale_tags_and_their_volumes_go_current_ones_stay() -> None:
    tagged = [
        *CURRENT.items(),
        ("linkmatrix/glibc:1.96-old0", "sha256:2222222222222222ffff"),
        ("linkmatrix/glibc:latest-alias", "sha256:1111111111111111ffff"),  # same id: kept
    ]
    volumes = [
        cache_volume("sha256:1111111111111111ffff"),
        cache_volume("sha256:2222222222222222ffff"),
        "linkmatrix-cache-orphan000000000",
    ]
    plan = plan_prune(CURRENT, tagged, volumes)
    assert plan.stale_tags == ("linkmatrix/glibc:1.96-old0",)
    assert plan.stale_volumes == (
        "linkmatrix-cache-2222222222222222",
        "linkmatrix-cache-orphan000000000",
    )
    assert plan.kept_tags == tuple(sorted(CURRENT))


def test_nothing_present_means_nothing_is_kept_but_nothing_is_listed() -> None:
    plan = plan_prune({}, [], [])
    assert (plan.kept_tags, plan.stale_tags, plan.stale_volumes) == ((), (), ())


def test_cache_volume_matches_the_cell_container_mount() -> None:
    assert cache_volume("sha256:0123456789abcdef0123") == "linkmatrix-cache-0123456789abcdef"
