"""A scenario's crates.io dependencies, vendored on the host before the hermetic build.

Cells have no network. A scenario whose Cargo.lock names registry packages gets them vendored
here (`cargo vendor --locked --versioned-dirs`, which may use the network), cached by the lock
file's hash, and copied into the cell with its sources (see cargo.vendor_merge_command).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tomllib
from pathlib import Path

from orchestrator.errors import FetchError

REGISTRY_PREFIX = "registry+"


def registry_packages(lock: Path) -> tuple[str, ...]:
    """`name@version` of every crates.io (registry) package that Cargo.lock pins."""
    if not lock.is_file():
        return ()
    try:
        document = tomllib.loads(lock.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise FetchError(f"{lock}: not a valid Cargo.lock ({exc}); run `cargo update`.") from exc
    return tuple(
        f"{package['name']}@{package['version']}"
        for package in document.get("package", [])
        if str(package.get("source", "")).startswith(REGISTRY_PREFIX)
    )


def vendor_scenario(folder: Path, root: Path) -> Path | None:
    """The vendored crates of the scenario in `folder` (None when it needs none)."""
    lock = folder / "Cargo.lock"
    if not registry_packages(lock):
        return None
    destination = root / hashlib.sha256(lock.read_bytes()).hexdigest()[:16]
    if destination.is_dir():
        return destination
    partial = destination.with_suffix(".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    command = [
        "cargo",
        "vendor",
        "--locked",
        "--versioned-dirs",
        "--manifest-path",
        str(folder / "Cargo.toml"),
        str(partial),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise FetchError(
            f"scenario {folder.name} depends on crates.io packages, and vendoring them needs "
            "cargo on the host: install Rust (https://rustup.rs or Debian's cargo)."
        ) from exc
    if done.returncode != 0:
        raise FetchError(
            f"vendoring the crates.io dependencies of scenario {folder.name} failed "
            f"(exit {done.returncode}): {done.stderr.strip()[-2000:]}\n"
            "This step runs on the host and needs crates.io; run again when it answers "
            "(a lock file out of date with Cargo.toml needs `cargo update` first)."
        )
    partial.rename(destination)
    return destination
