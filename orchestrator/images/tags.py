"""Image tags by content hash: every file of a build context, its parent and its build args."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from orchestrator.images.fetch import (
    BYTECODE_DIR,
    FETCHED_DIR,
    load_fetch_spec,
)

HASH_VERSION = "2"  # 2: one image per toolchain, every release inside


def context_digest(context: Path) -> str:
    """sha256 over every file of a build context: relative path, exec bit and bytes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        parts = path.relative_to(context).parts
        if FETCHED_DIR in parts or BYTECODE_DIR in parts:
            continue  # generated: from fetch.yaml, whose pins are hashed; from a hashed script
        relative = path.relative_to(context).as_posix()
        executable = os.access(path, os.X_OK)
        digest.update(f"{relative}\0{int(executable)}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for outside in _vendored_outside(context):
        digest.update(f"{os.path.relpath(outside, context.resolve())}\0".encode())
        digest.update(hashlib.sha256(outside.read_bytes()).digest())
    return digest.hexdigest()


def _vendored_outside(context: Path) -> list[Path]:
    """Cargo manifests and locks that fetch.yaml vendors from another image folder.

    A manifest inside the context is hashed with it already; one shared from a sibling folder
    (`../rust/std-vendor-1.85/Cargo.toml`) must be hashed here, or a changed pin would go unseen.
    """
    files = []
    for manifest in load_fetch_spec(context).cargo_vendor:
        folder = (context / manifest).resolve().parent
        if not folder.is_relative_to(context.resolve()):
            files += [f for f in (folder / "Cargo.toml", folder / "Cargo.lock") if f.is_file()]
    return files


def image_tag(
    *,
    name: str,
    context: Path,
    parent_id: str,
    build_args: dict[str, str],
    local_inputs: str = "",
) -> str:
    """`linkmatrix/<name>:<hash>`: the hash covers all that goes into the image."""
    digest = hashlib.sha256()
    for part in (
        HASH_VERSION,
        parent_id,
        context_digest(context),
        local_inputs,
        *(f"{k}={v}" for k, v in sorted(build_args.items())),
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    return f"linkmatrix/{name}:{digest.hexdigest()[:16]}"
