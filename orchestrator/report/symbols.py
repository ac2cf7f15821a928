"""One symbol, one colour and one meaning per verdict, shared by every view."""

from __future__ import annotations

from orchestrator.status import CheckOutcome, Status

SYMBOLS: dict[Status, str] = {
    Status.PASS: "✅",
    Status.FAIL: "❌",
    Status.XFAIL: "🟡",
    Status.XPASS: "⭐",
    Status.FLAKY: "🎲",
    Status.SKIP: "⏭️",
    Status.NOT_APPLICABLE: "➖",
    Status.ERROR: "💥",
}

MEANINGS: dict[Status, str] = {
    Status.PASS: "every expectation held",
    Status.FAIL: "an expectation did not hold",
    Status.XFAIL: "failed as expected: a known upstream issue (linked)",
    Status.XPASS: "an expected failure passed: the upstream issue may be fixed",
    Status.FLAKY: "a check marked flaky: its result varies, so it counts as neither pass nor fail",
    Status.SKIP: "not run here (the reason says why)",
    Status.NOT_APPLICABLE: "the scenario does not apply to this target",
    Status.ERROR: "the cell could not be built or run (the reason names the step)",
}

# Background colours of the HTML views: red family for what needs a look, muted for no-ops.
COLOURS: dict[Status, str] = {
    Status.PASS: "#c8ecc9",
    Status.FAIL: "#f7b3ad",
    Status.XFAIL: "#fbe7a1",
    Status.XPASS: "#bcd7ff",
    Status.FLAKY: "#f3d1a8",
    Status.SKIP: "#e4e4e4",
    Status.NOT_APPLICABLE: "#f6f6f6",
    Status.ERROR: "#e59ad9",
}

CHECK_SYMBOLS: dict[CheckOutcome, str] = {
    CheckOutcome.PASS: SYMBOLS[Status.PASS],
    CheckOutcome.FAIL: SYMBOLS[Status.FAIL],
    CheckOutcome.XFAIL: SYMBOLS[Status.XFAIL],
    CheckOutcome.XPASS: SYMBOLS[Status.XPASS],
    CheckOutcome.FLAKY: SYMBOLS[Status.FLAKY],
    CheckOutcome.UNKNOWN: "❔",
    CheckOutcome.NOT_RUN: SYMBOLS[Status.SKIP],
}


# Status(...) and CheckOutcome(...): templates may hand in a member or its value.


def symbol(status: Status | str) -> str:
    return SYMBOLS[Status(status)]


def colour(status: Status | str) -> str:
    return COLOURS[Status(status)]


def check_symbol(outcome: CheckOutcome | str) -> str:
    return CHECK_SYMBOLS[CheckOutcome(outcome)]
