"""The results document as types: what results.json holds, field names equal to its keys.

`codec` reads and writes it; `document` builds it from a run; every view and command reads
these attributes, never the JSON's keys. Field order is key order in the file (a textual diff
of two results files stays meaningful). A field with a default is a key older documents may
lack; schema/results.schema.json is checked against these classes by tests/unit/test_schema.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from orchestrator.inspect.model import ArtifactFormat
from orchestrator.serial import OMIT_WHEN_NONE
from orchestrator.status import BootstrapCause, CheckOutcome, Reason, Status

SCHEMA_VERSION = 5  # 4: the flaky status and check outcome; 5: readable names stored as stems


@dataclass(frozen=True, kw_only=True)
class Selection:
    """What part of the matrix a run was asked for."""

    only: tuple[str, ...]  # --only globs; empty: every cell
    shard: str | None  # --shard I/N
    baseline: str | None = None  # --baseline: the results.json the report was compared with


@dataclass(frozen=True, kw_only=True)
class MergedInput:
    """One shard results file a merged document was made from."""

    file: str
    run_id: str
    host: str
    selection: Selection
    started: str
    finished: str | None
    cells: int
    planned: int | None = field(default=None, metadata=OMIT_WHEN_NONE)  # cells it was asked for
    complete: bool | None = field(default=None, metadata=OMIT_WHEN_NONE)


@dataclass(frozen=True, kw_only=True)
class Provenance:
    """Who made the document, where, from what, and when."""

    orchestrator: str
    run_id: str
    host: str
    platform: str
    python: str
    matrix: str
    selection: Selection
    started: str
    finished: str | None  # when the run ended (also when it was stopped early: see `complete`)
    merged_from: tuple[MergedInput, ...] | None = field(default=None, metadata=OMIT_WHEN_NONE)
    # The ids of every cell the run was asked for (after --only and --shard), present or not;
    # a merge: every input's. Absent in documents older than this key (what was planned unknown).
    planned: tuple[str, ...] | None = field(default=None, metadata=OMIT_WHEN_NONE)
    # True once the run went through its whole plan; false while it runs and when it stopped
    # early (Ctrl-C, SIGTERM, an error, a merge with missing shards). Absent in older documents.
    complete: bool | None = field(default=None, metadata=OMIT_WHEN_NONE)


@dataclass(frozen=True, kw_only=True)
class LinkerRecord:
    name: str
    version: str | None  # None when nothing ran


@dataclass(frozen=True, kw_only=True)
class RunnerRecord:
    """How the target's files run: matrix.yaml's command (`{file}` stands for the file), and the
    first line its version probe printed (or what the failed probe said).
    """

    command: tuple[str, ...]
    version: str | None  # None: no version probe (the file runs itself), or nothing ran


@dataclass(frozen=True, kw_only=True)
class RouteRecord:
    """How the toolchain links; stand_in: the CRT/SDK is a stand-in, not the vendor's."""

    linker: str
    libraries: str
    stand_in: bool


@dataclass(frozen=True, kw_only=True)
class DiagnosticRecord:
    """One rustc message as cargo's JSON reported it."""

    level: str
    message: str
    code: str | None
    rendered: str
    # the artifact whose build said it: "which build warned" without reading the log; absent
    # in documents written before this key
    artifact: str | None = field(default=None, metadata=OMIT_WHEN_NONE)


@dataclass(frozen=True, kw_only=True)
class OtherFile:
    """A file of an artifact other than its primary one."""

    file: str
    path: str
    sha256: str
    size: int
    format: ArtifactFormat


@dataclass(frozen=True, kw_only=True)
class CrateTypeRecord:
    """One crate type of an artifact built with several (`crate_types:`), and its file."""

    crate_type: str
    built: bool
    file: str | None  # relative to the results folder; None: no file came out


@dataclass(frozen=True, kw_only=True)
class BootstrapRecord:
    """Why an artifact was built with RUSTC_BOOTSTRAP=1: the cause, and in words."""

    cause: BootstrapCause
    why: str  # the scenario's declared why, or the -Z flags that needed it


@dataclass(frozen=True, kw_only=True)
class BuildInfo:
    """The exact cargo command and environment an artifact was built with."""

    command: tuple[str, ...]
    env: Mapping[str, str]
    exit_code: int
    duration_s: float
    # the rustc command line cargo ran for the artifact's own crate, every flag cargo added
    # included (`cargo -v`); None when cargo ran none (the crate was fresh, or the build stopped)
    rustc: str | None = field(default=None, metadata=OMIT_WHEN_NONE)
    # why RUSTC_BOOTSTRAP=1 was set for the build; absent when it was not (and in older files)
    bootstrap: BootstrapRecord | None = field(default=None, metadata=OMIT_WHEN_NONE)
    # the scenario's build-wide flags for this artifact (`rustflags:`, in RUSTFLAGS after the
    # target's); absent when it gave none
    rustflags: tuple[str, ...] | None = field(default=None, metadata=OMIT_WHEN_NONE)


@dataclass(frozen=True, kw_only=True)
class ArtifactRecord:
    """One artifact's build and what inspecting its primary file showed."""

    name: str
    kind: str  # crate type (cdylib, staticlib, ...; `cdylib,rlib` for several) or target kind
    built: bool
    file: str | None  # the primary file, relative to the results folder
    format: ArtifactFormat | None
    file_type: str | None
    machine: str | None
    # What inspecting the primary file showed. None (null in the file), never an empty list,
    # where nothing was inspected: the artifact was not built, or has no file linkmatrix reads.
    exports: tuple[str, ...] | None
    imports: tuple[str, ...] | None
    needed: tuple[str, ...] | None
    members: tuple[str, ...] | None = ()  # an archive's member names, in file order
    demangled: Mapping[str, str] = field(default_factory=dict)  # mangled export → readable
    data: tuple[str, ...] | None = ()  # the exports that name data (statics), not code
    interpreter: str | None
    static: bool | None
    notes: tuple[str, ...]
    sha256: str | None
    size: int | None
    other_files: tuple[OtherFile, ...]
    # an artifact of several crate types: each one, built or not (absent for one crate type)
    crate_types: tuple[CrateTypeRecord, ...] | None = field(default=None, metadata=OMIT_WHEN_NONE)
    build: BuildInfo


@dataclass(frozen=True, kw_only=True)
class CheckRecord:
    """One expectation and how it came out."""

    artifact: str
    property: str
    expectation: str
    outcome: CheckOutcome
    detail: str
    why: str
    xfail_reason: str | None
    xfail_link: str | None
    # `flaky:` of the check: why its result varies (its outcome is then `flaky`)
    flaky: str | None = field(default=None, metadata=OMIT_WHEN_NONE)
    # a failed check: the smallest expectation that would have matched, as scenario.yaml text
    suggestion: str | None = field(default=None, metadata=OMIT_WHEN_NONE)


@dataclass(frozen=True, kw_only=True)
class LinkErrorRecord:
    """A failed link that made a cell fail or err: rustc's headline and the linker's own lines."""

    artifact: str
    message: str  # rustc's: `linking with `cc` failed: exit status: 1`
    lines: tuple[str, ...]  # the linker's first error lines; empty when none was recognised


@dataclass(frozen=True, kw_only=True)
class RunResult:
    """One execution of a built artifact (each stream's last characters), or why none."""

    name: str
    artifact: str
    command: tuple[str, ...]
    exit_code: int | None
    stdout: str
    stderr: str
    duration_s: float
    not_run: str | None


@dataclass(frozen=True, kw_only=True)
class StdInfo:
    """A cell's std step: its target's std sysroot, and whether this cell had to build it."""

    built: bool
    seconds: float
    sysroot: str  # in the image's cache volume
    key: str  # the digest of the std configuration (crates, features, panic, rustflags, env)


@dataclass(frozen=True, kw_only=True)
class CellRecord:
    """One (toolchain, rustc release, target, scenario) and everything it showed."""

    id: str  # toolchain[@release]/target/scenario
    toolchain: str
    release: str
    target: str
    scenario: str
    status: Status
    reason: Reason | None
    detail: str
    # the failed link behind a fail or error, what the linker itself said; absent otherwise
    # (and in documents written before this key)
    link_error: LinkErrorRecord | None = field(default=None, metadata=OMIT_WHEN_NONE)
    rustc: str | None  # `rustc -V` in the container; None when nothing ran
    cargo: str | None
    llvm: str | None
    linker: LinkerRecord
    # the target's runner; absent when it has none (its files are not run in the cell) and in
    # documents written before this key
    runner: RunnerRecord | None = field(default=None, metadata=OMIT_WHEN_NONE)
    route: RouteRecord
    image: str | None  # the toolchain image id
    duration_s: float
    cached: bool
    diagnostics: tuple[DiagnosticRecord, ...]
    artifacts: tuple[ArtifactRecord, ...]
    checks: tuple[CheckRecord, ...]
    runs: tuple[RunResult, ...]
    log: str | None  # the build log, relative to the results folder
    # the cell's std step; left out when the target's rustc release ships its std
    std: StdInfo | None = field(default=None, metadata=OMIT_WHEN_NONE)

    @property
    def column(self) -> str:
        """The grid column the cell sits in: `toolchain[@release]/target`, its id's head.

        Release shows in the id only when it is not the matrix's default, so the column's
        name comes from the id, with the record's own scenario taken off.
        """
        return self.id.removesuffix(f"/{self.scenario}")

    def artifact_diagnostics(self, artifact: str) -> tuple[DiagnosticRecord, ...]:
        """The diagnostics of one artifact's build (none in documents before `artifact`)."""
        return tuple(d for d in self.diagnostics if d.artifact == artifact)

    @property
    def unattributed_diagnostics(self) -> tuple[DiagnosticRecord, ...]:
        """Diagnostics that name no artifact: those of documents written before the key."""
        return tuple(d for d in self.diagnostics if d.artifact is None)

    @property
    def why(self) -> str:
        """One line saying why the cell is what it is, for lists and tables.

        The linker's own first error line when a failed link is behind it (rustc's "linking
        with `cc` failed" says only that it failed), else the detail's first line.
        """
        if self.link_error is not None and self.link_error.lines:
            return f"{self.link_error.artifact}: {self.link_error.lines[0]}"
        return next((line.strip() for line in self.detail.splitlines() if line.strip()), "")


@dataclass(frozen=True, kw_only=True)
class ResultsDocument:
    """A whole results.json: of one run, or merged from several shard runs."""

    schema_version: int
    provenance: Provenance
    summary: Mapping[Status, int]  # cells per status, every status present
    cells: tuple[CellRecord, ...]  # ordered by id


def records_runners(cells: Iterable[CellRecord]) -> bool:
    """Whether the cells say what runs their files: documents before the `runner` key never do,
    and a view says nothing of runners rather than "none" for every column of one.
    """
    return any(cell.runner is not None for cell in cells)
