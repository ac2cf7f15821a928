"""The closed sets every stage shares: a cell's status, why, and how one check came out."""

from __future__ import annotations

import enum


class Status(enum.StrEnum):
    """A cell's verdict."""

    PASS = "pass"
    FAIL = "fail"
    XFAIL = "xfail"
    XPASS = "xpass"
    FLAKY = "flaky"  # a check marked `flaky:` (its result varies): never counted as a pass
    SKIP = "skip"
    NOT_APPLICABLE = "not-applicable"
    ERROR = "error"

    @property
    def ok(self) -> bool:
        """Statuses that leave the exit code at 0 (a flaky cell is shown, not failed)."""
        return self in (
            Status.PASS,
            Status.XFAIL,
            Status.FLAKY,
            Status.SKIP,
            Status.NOT_APPLICABLE,
        )


class Reason(enum.StrEnum):
    """Why a cell is not a plain pass."""

    BUILD_ERROR = "build-error"
    LINK_ERROR = "link-error"
    PREPARE_ERROR = "prepare-error"
    SYMBOL_MISSING = "symbol-missing"
    SYMBOL_UNEXPECTED = "symbol-unexpected"
    CHECK_FAILED = "check-failed"
    RUN_FAILED = "run-failed"
    INSPECTION_ERROR = "inspection-error"
    KNOWN_UPSTREAM = "known-upstream"
    UNEXPECTED_PASS = "unexpected-pass"
    FLAKY = "flaky"
    NOT_APPLICABLE = "not-applicable"
    TIMEOUT = "timeout"
    OOM = "oom"
    OUTPUT_LIMIT = "output-limit"
    TOOLCHAIN_MISSING = "toolchain-missing"
    SDK_MISSING = "sdk-missing"
    ENGINE_ERROR = "engine-error"


class CheckOutcome(enum.StrEnum):
    """How one expectation came out."""

    PASS = "pass"
    FAIL = "fail"
    XFAIL = "xfail"
    XPASS = "xpass"
    FLAKY = "flaky"
    UNKNOWN = "unknown"
    NOT_RUN = "not-run"


class BootstrapCause(enum.StrEnum):
    """Why an artifact was built with RUSTC_BOOTSTRAP=1 (a stable rustc told to act as nightly)."""

    DECLARED = "declared"  # the scenario's `bootstrap: { why }`: the crate has a `#![feature]`
    RUSTC_ARGS = "rustc-args"  # a -Z flag among the artifact's rustc_args
    TARGET = "target"  # a -Z flag among the target's rustflags in matrix.yaml
