"""Which image each image is built FROM, from which folder, and a digest of it all.

One image per toolchain: each image holds every rustc release of the matrix (images/rust
installs them side by side), so images are named by toolchain image alone and a cell picks its
release by environment (images/releases.py).

Pure: read from the matrix and the image folders only. `Images` builds along this lineage; the
recipe digest names everything that decides the images' content before any of them exists, so
a CI cache of built images can be keyed by it (image ids, which tags also hash, are only known
once a parent is built or loaded).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from orchestrator.config.matrix import BASE_IMAGE, Matrix
from orchestrator.images.fetch import load_fetch_spec
from orchestrator.images.tags import HASH_VERSION, context_digest


def parent_of(matrix: Matrix, image: str) -> str | None:
    """The image `image` is built FROM (None: the base image)."""
    parent = matrix.image(image).parent
    return None if parent == BASE_IMAGE else parent


def context_of(matrix: Matrix, image: str) -> Path:
    """The build context (folder with the Dockerfile) of `image`."""
    return matrix.image(image).context


def lineage(matrix: Matrix, image: str) -> list[str]:
    """`image` and its parents, the one nearest the base first."""
    chain = [image]
    while (parent := parent_of(matrix, chain[0])) is not None:
        chain.insert(0, parent)
    return chain


def release_build_args(matrix: Matrix, image: str) -> dict[str, str]:
    """The releases an image installs: only the one built FROM the base (images/rust) does.

    RUSTC_WEB_VERSION is the default release's apt version (installed in /usr); the others are
    unpacked beside it. Every image above inherits them, so the args go to that one image.
    """
    if parent_of(matrix, image) is not None:
        return {}
    default = matrix.release(matrix.default_release)
    others = [r.rustc_web for r in matrix.releases if r.name != matrix.default_release]
    return {"RUSTC_WEB_VERSION": default.rustc_web, "OTHER_RUSTC_WEB_VERSIONS": " ".join(others)}


def recipe_digest(matrix: Matrix, images: Iterable[str]) -> str:
    """A digest of everything that makes `images` (parents included).

    The base image's description, and per image: its name, the releases it installs, its build
    context and fetch.yaml pins. Equal digests mean the same Dockerfiles on the same inputs;
    what a Debian mirror serves on the day is the one input it cannot see.
    """
    base = matrix.base
    digest = hashlib.sha256()
    for part in (HASH_VERSION, base.tag, base.suite, base.mirror, base.pull or ""):
        digest.update(part.encode() + b"\0")
    steps = dict.fromkeys(step for image in images for step in lineage(matrix, image))
    for step in sorted(steps):
        context = context_of(matrix, step)
        fetch = load_fetch_spec(context)
        args = release_build_args(matrix, step)
        for part in (
            step,
            *(f"{k}={v}" for k, v in sorted(args.items())),
            context_digest(context),
            *fetch.pypi,
            *fetch.cargo_vendor,
        ):
            digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:20]
