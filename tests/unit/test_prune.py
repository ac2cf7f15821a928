"""prune's plan: keep what the matrix resolves to now, remove other linkmatrix tags and volumes."""

from __future__ import annotations

import pytest
import requests

from orchestrator.images.prune import _cache_volumes, _linkmatrix_tags, apply_prune, plan_prune
from orchestrator.images.volumes import cache_volume
from tests.unit.fake_engine import FakeEngine, server_error

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
        cache_volume("sha256:1111111111111111ffff", "1.96"),
        cache_volume("sha256:1111111111111111ffff", "1.85"),
        cache_volume("sha256:1111111111111111ffff", "1.70"),  # a release no longer in the matrix
        cache_volume("sha256:2222222222222222ffff", "1.96"),
        "linkmatrix-cache-orphan000000000",
    ]
    plan = plan_prune(CURRENT, tagged, volumes, ["1.96", "1.85"])
    assert plan.stale_tags == ("linkmatrix/glibc:1.96-old0",)
    assert plan.stale_volumes == (
        "linkmatrix-cache-1111111111111111-1.70",
        "linkmatrix-cache-2222222222222222-1.96",
        "linkmatrix-cache-orphan000000000",
    )
    assert plan.kept_tags == tuple(sorted(CURRENT))


def test_nothing_present_means_nothing_is_kept_but_nothing_is_listed() -> None:
    plan = plan_prune({}, [], [], [])
    assert (plan.kept_tags, plan.stale_tags, plan.stale_volumes) == ((), (), ())


def test_cache_volume_matches_the_cell_container_mount() -> None:
    assert cache_volume("sha256:0123456789abcdef0123", "1.85") == (
        "linkmatrix-cache-0123456789abcdef-1.85"
    )


def test_prune_on_the_engine_removes_stale_tags_and_volumes_only() -> None:
    engine = FakeEngine()
    current = engine.add_image("linkmatrix/glibc:1.96-new")
    stale = engine.add_image("linkmatrix/glibc:1.96-old")
    engine.add_image("debian:bookworm")  # not linkmatrix's: never listed
    for image in (current, stale):
        engine.volumes.ensure(cache_volume(str(image.id), "1.96"))
    engine.volumes.ensure("someone-elses-volume")
    tags = _linkmatrix_tags(engine)
    assert sorted(tag for tag, _ in tags) == [
        "linkmatrix/glibc:1.96-new",
        "linkmatrix/glibc:1.96-old",
    ]
    plan = plan_prune(
        {"linkmatrix/glibc:1.96-new": str(current.id)}, tags, _cache_volumes(engine), ["1.96"]
    )
    assert apply_prune(engine, plan) == []
    assert [image.tags for image in engine.images.present] == [
        ["linkmatrix/glibc:1.96-new"],
        ["debian:bookworm"],
    ]
    kept = cache_volume(str(current.id), "1.96")
    assert sorted(engine.volumes.present) == [kept, "someone-elses-volume"]


def test_prune_reports_what_the_engine_refuses_and_retries_what_is_transient(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("tenacity.nap.time.sleep", lambda seconds: None)
    engine = FakeEngine()
    engine.add_image("linkmatrix/a:1-old")
    engine.add_image("linkmatrix/b:1-old")
    engine.volumes.ensure("linkmatrix-cache-0000000000000000")
    engine.fail("images.remove", server_error(500), times=2)  # then the first goes
    engine.fail("images.remove", server_error(409, "image is in use"), after=3)
    engine.fail("volume.remove", requests.exceptions.ConnectionError("reset"))
    plan = plan_prune({}, _linkmatrix_tags(engine), _cache_volumes(engine), ["1"])
    problems = apply_prune(engine, plan)
    assert len(problems) == 1
    assert problems[0].startswith("image linkmatrix/b:1-old:")
    assert [image.tags for image in engine.images.present] == [["linkmatrix/b:1-old"]]
    assert engine.volumes.present == {}
