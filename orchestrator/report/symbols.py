"""One symbol per verdict, shared by every view."""

from __future__ import annotations

from orchestrator.outcome import Status

SYMBOLS: dict[Status, str] = {
    Status.PASS: "✅",
    Status.FAIL: "❌",
    Status.XFAIL: "🟡",
    Status.XPASS: "⭐",
    Status.SKIP: "⏭️",
    Status.NOT_APPLICABLE: "➖",
    Status.ERROR: "💥",
}

MEANINGS: dict[Status, str] = {
    Status.PASS: "every expectation held",
    Status.FAIL: "an expectation did not hold",
    Status.XFAIL: "failed as expected: a known upstream issue (linked)",
    Status.XPASS: "an expected failure passed: the upstream issue may be fixed",
    Status.SKIP: "not run here (the reason says why)",
    Status.NOT_APPLICABLE: "the scenario does not apply to this target",
    Status.ERROR: "the cell could not be built or run (the reason names the step)",
}


def symbol(status: str) -> str:
    return SYMBOLS[Status(status)]
