"""What a cell observed in its container: builds, files, runs, the toolchain, a failure."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.inspect.model import Inspection
from orchestrator.status import Reason


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

    @property
    def built(self) -> bool:
        return self.exit_code == 0 and self.primary is not None

    def primary_file(self) -> ArtifactFile | None:
        return next((f for f in self.files if f.file == self.primary), None)


@dataclass(frozen=True, kw_only=True)
class ToolInfo:
    """The toolchain a cell really used, as its container reported it."""

    rustc: str
    cargo: str
    llvm: str
    linker_version: str


@dataclass(frozen=True, kw_only=True)
class Failure:
    """A cell that could not be carried out to the end, and at which step."""

    reason: Reason
    step: str
    detail: str


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
    not_run: str | None


@dataclass(frozen=True, kw_only=True)
class Observation:
    """Everything a cell's container run produced; cached by the cell's inputs."""

    tools: ToolInfo | None
    builds: tuple[BuildRecord, ...]
    runs: tuple[RunRecord, ...]
    failure: Failure | None
    log: str
    duration_s: float
