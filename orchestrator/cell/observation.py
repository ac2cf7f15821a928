"""What a cell observed in its container: builds, files, runs, the toolchain, a failure.

Two shapes: `CellOutput` is what the container side produced (files named, hashed and their
format told, not inspected); it is what the cell cache keeps. `Observation` is the same with every
file inspected: what the judge and results.json read.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from orchestrator.inspect.model import ArtifactFormat, Inspection
from orchestrator.status import BootstrapCause, Reason


@dataclass(frozen=True, kw_only=True)
class Diagnostic:
    """One rustc message, as cargo's JSON reported it."""

    level: str
    message: str
    code: str | None
    rendered: str

    @property
    def headline(self) -> str:
        return f"{self.level}: {self.message}"


@dataclass(frozen=True, kw_only=True)
class Bootstrap:
    """Why a build had RUSTC_BOOTSTRAP=1: its cause, and in words (the declared why, the flags)."""

    cause: BootstrapCause
    why: str


@dataclass(frozen=True, kw_only=True)
class CrateTypeFile:
    """One crate type of a several-crate-type artifact and the file it left (`file` names one
    of the build's files); None: none came out (rustc dropped the type, or the build failed).
    """

    crate_type: str
    file: str | None


@dataclass(frozen=True, kw_only=True)
class BuiltFile:
    """A file a build produced, copied out of the container; its format told by its bytes."""

    file: str  # its name, in the cell's files folder `<artifact>/<file>`
    path: str  # where the output folder shows it: artifacts/<slug>/<artifact>/<file>
    # its copy in the cell's workdir, `artifacts/<artifact>/<file>`: made before the cell's next
    # command (cargo.with_collect), which is where runs find it
    source: str
    sha256: str
    size: int
    format: ArtifactFormat


@dataclass(frozen=True, kw_only=True)
class ArtifactFile:
    """A file a build produced, copied out and inspected on the host."""

    file: str
    path: str
    source: str
    sha256: str
    size: int
    inspection: Inspection


@dataclass(frozen=True, kw_only=True)
class BuildRecord:
    """One artifact's build: the exact command, what rustc said, what came out."""

    name: str
    package: str
    target_kind: str
    crate_type: str | None
    command: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    exit_code: int
    duration_s: float
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[ArtifactFile, ...]
    primary: str | None
    rustc: str | None = None  # the rustc command cargo ran (cargo -v); None: it ran none
    bootstrap: Bootstrap | None = None  # why RUSTC_BOOTSTRAP=1 was set; None: it was not
    rustflags: tuple[str, ...] = ()  # the artifact's build-wide flags (scenario `rustflags:`)
    # `crate_types:` each declared crate type and its file, in the scenario's order; the first
    # one's is the primary file, and the artifact is built only if every one came out
    crate_files: tuple[CrateTypeFile, ...] = ()

    @property
    def built(self) -> bool:
        """Built, and (several crate types) every one of them: a leftover rlib beside a dropped
        cdylib is not the artifact.
        """
        complete = all(c.file is not None for c in self.crate_files)
        return self.exit_code == 0 and self.primary is not None and complete

    def primary_file(self) -> ArtifactFile | None:
        return next((f for f in self.files if f.file == self.primary), None)

    def crate_type_file(self, crate_type: str) -> ArtifactFile | None:
        """The file one crate type of the artifact left; None: it left none."""
        name = next((c.file for c in self.crate_files if c.crate_type == crate_type), None)
        return next((f for f in self.files if f.file == name), None) if name else None

    def crate_type_built(self, crate_type: str) -> bool:
        return self.exit_code == 0 and self.crate_type_file(crate_type) is not None

    @property
    def missing_crate_types(self) -> tuple[str, ...]:
        """Declared crate types that left no file (rustc dropped them, or the build failed)."""
        return tuple(c.crate_type for c in self.crate_files if c.file is None)


@dataclass(frozen=True, kw_only=True)
class StdRecord:
    """A cell's std step: whether std was built for it, how long that took, where it lives.

    `key`: the std configuration's digest (cell/stdlib.py); one sysroot per key and image.
    """

    built: bool
    seconds: float
    sysroot: str
    key: str


@dataclass(frozen=True, kw_only=True)
class ToolInfo:
    """The toolchain a cell really used, as its container reported it."""

    rustc: str
    cargo: str
    llvm: str
    linker_version: str
    # the first line the runner's version probe printed, or what a failed probe said; None: the
    # target has no runner or no probe (and in a cell cache entry written before the field)
    runner_version: str | None = None


@dataclass(frozen=True, kw_only=True)
class Failure:
    """A cell that could not be carried out to the end, and at which step."""

    reason: Reason
    step: str
    detail: str


class NotRun(enum.StrEnum):
    """Why a run was not carried out; the value is the text results.json shows."""

    ARTIFACT_NOT_BUILT = "the artifact was not built"
    NO_RUNNER = "no runner for this target"
    NO_ENGINE = "no engine to make an empty container with"


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """One execution of a built artifact in the container, or why it did not happen."""

    name: str
    artifact: str
    command: tuple[str, ...]
    exit_code: int | None
    stdout: str
    stderr: str
    duration_s: float
    not_run: NotRun | None


@dataclass(frozen=True, kw_only=True)
class Observation:
    """Everything a cell's container run produced; cached by the cell's inputs."""

    tools: ToolInfo | None
    builds: tuple[BuildRecord, ...]
    runs: tuple[RunRecord, ...]
    failure: Failure | None
    log: str
    duration_s: float
    std: StdRecord | None = None  # the cell's std step; None: its target needs none


@dataclass(frozen=True, kw_only=True)
class BuildOutput:
    """One artifact's build as the container side saw it: a BuildRecord before inspection.

    `log_end`: the length of the cell's log once this build was logged. Inspection used to run
    inside the cell, right after each build, and a file it could not read ended the cell there;
    the inspection step cuts the log at this point to give the same record.
    """

    name: str
    package: str
    target_kind: str
    crate_type: str | None
    command: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    exit_code: int
    duration_s: float
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[BuiltFile, ...]
    primary: str | None
    log_end: int
    rustc: str | None = None  # the rustc command cargo ran (cargo -v); None: it ran none
    bootstrap: Bootstrap | None = None  # why RUSTC_BOOTSTRAP=1 was set; None: it was not
    rustflags: tuple[str, ...] = ()  # the artifact's build-wide flags (scenario `rustflags:`)
    # `crate_types:` each declared crate type and its file, in the scenario's order; the first
    # one's is the primary file, and the artifact is built only if every one came out
    crate_files: tuple[CrateTypeFile, ...] = ()

    @property
    def built(self) -> bool:
        """Built, and (several crate types) every one of them: a leftover rlib beside a dropped
        cdylib is not the artifact.
        """
        complete = all(c.file is not None for c in self.crate_files)
        return self.exit_code == 0 and self.primary is not None and complete

    def primary_file(self) -> BuiltFile | None:
        return next((f for f in self.files if f.file == self.primary), None)


@dataclass(frozen=True, kw_only=True)
class CellOutput:
    """Everything a cell's container run produced, files not yet inspected; the cell cache's."""

    tools: ToolInfo | None
    builds: tuple[BuildOutput, ...]
    runs: tuple[RunRecord, ...]
    failure: Failure | None
    log: str
    duration_s: float
    std: StdRecord | None = None  # the cell's std step; None: its target needs none
