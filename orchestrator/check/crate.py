"""A user's crate (or workspace) as a Scenario: one artifact per (cargo target, crate type).

`load_crate` reads the manifests (Cargo.toml of the root and of each workspace member) and lists
the source files cargo would find targets in; `crate_scenario` turns what it found into the same
frozen Scenario the scenario loader makes, with no expectation but "it built". Bad input is one
ConfigError naming the file and what to do (exit 3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from orchestrator.config.manifest import MANIFEST, Package, read_packages, read_toml
from orchestrator.config.scenario import (
    ANYWHERE,
    ArtifactSpec,
    Check,
    CrateType,
    Property,
    Scenario,
    TargetKind,
)
from orchestrator.errors import ConfigError

LOCK = "Cargo.lock"
BUILT_WHY = "linkmatrix check: the crate declares this crate type, so it should build"


@dataclass(frozen=True, kw_only=True)
class Crate:
    """A crate or workspace folder (with its Cargo.lock) and the packages in it."""

    folder: Path
    name: str
    packages: tuple[Package, ...]


@dataclass(frozen=True, kw_only=True)
class CrateScenario:
    """The scenario to build, and the targets left out with why (a proc-macro, ...)."""

    scenario: Scenario
    left_out: tuple[str, ...]


def load_crate(path: Path) -> Crate:
    """The crate at `path` (its folder or its Cargo.toml); a ConfigError when it is none."""
    folder = path.parent if path.name == MANIFEST and path.is_file() else path
    manifest = folder / MANIFEST
    if not folder.is_dir():
        raise ConfigError(f"{path}: no such folder. Pass the folder of a crate (its Cargo.toml).")
    if not manifest.is_file():
        raise ConfigError(
            f"{manifest}: missing, so {folder} is not a crate. Pass the folder that holds the "
            "crate's (or the workspace's) Cargo.toml."
        )
    root = read_toml(manifest)
    if not (folder / LOCK).is_file():
        raise ConfigError(
            f"{folder / LOCK}: missing. The build is offline and --locked: run "
            f"`cargo generate-lockfile` in {folder} (or point at the workspace root that "
            "holds the lock file), then check again."
        )
    packages = read_packages(folder, root)
    if not packages:
        raise ConfigError(
            f"{manifest}: neither a [package] nor any workspace member; nothing to build."
        )
    name = packages[0].name if "package" in root else folder.resolve().name
    return Crate(folder=folder, name=_scenario_name(name), packages=packages)


def crate_scenario(crate: Crate) -> CrateScenario:
    """One artifact per (library crate type | binary), each with a `built: true` check. Pure."""
    artifacts: list[ArtifactSpec] = []
    left_out: list[str] = []
    for package in crate.packages:
        for declared in package.lib_crate_types:
            try:
                crate_type = CrateType(declared)
            except ValueError:
                left_out.append(_left_out_reason(package.name, declared))
                continue
            artifacts.append(_artifact(package.name, TargetKind.LIB, package.name, crate_type))
        artifacts += [_artifact(package.name, TargetKind.BIN, b, None) for b in package.bins]
    scenario = Scenario(
        name=crate.name,
        folder=crate.folder,
        description=f"linkmatrix check of {crate.folder}",
        links=(),
        prepare=(),
        not_applicable=(),
        artifacts=tuple(artifacts),
        checks=tuple(_built_check(a.name) for a in artifacts),
        runs=(),
    )
    return CrateScenario(scenario=scenario, left_out=tuple(left_out))


def artifact_name(
    package: str, kind: TargetKind, bin_name: str, crate_type: CrateType | None
) -> str:
    """`pkg.cdylib` for a library crate type, `pkg.bin.NAME` for a binary."""
    if kind is TargetKind.LIB:
        assert crate_type is not None
        return f"{package}.{crate_type.value}"
    return f"{package}.bin.{bin_name}"


def _artifact(
    package: str, kind: TargetKind, bin_name: str, crate_type: CrateType | None
) -> ArtifactSpec:
    return ArtifactSpec(
        name=artifact_name(package, kind, bin_name, crate_type),
        package=package,
        target_kind=kind,
        bin_name=bin_name,
        crate_type=crate_type,
        rustc_args=(),
        when=ANYWHERE,
    )


def _built_check(artifact: str) -> Check:
    return Check(
        artifact=artifact,
        property=Property.BUILT,
        file=None,
        matcher=None,
        expected_flag=True,
        when=ANYWHERE,
        unless=None,
        xfail=None,
        why=BUILT_WHY,
    )


def _left_out_reason(package: str, crate_type: str) -> str:
    if crate_type == "proc-macro":
        return f"{package}: a proc-macro library is built for the host, never for a target"
    return f"{package}: crate type '{crate_type}' is not one cargo rustc --crate-type builds"


def _scenario_name(name: str) -> str:
    """A name fit for cell ids and container paths."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip(".-") or "crate"
