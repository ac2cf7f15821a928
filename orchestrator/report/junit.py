"""JUnit XML of a results document, for CI systems that show test reports.

One testcase per cell: `classname` is the cell's column (`toolchain[@release]/target`), `name` its
scenario, one testsuite per column. A verdict maps onto what JUnit knows: fail and xpass are a
`<failure>` (xpass fails the run as well), error an `<error>`, skip and not-applicable
`<skipped>`; pass and xfail pass, an xfail with properties `xfail` and `xfail_link` and a
`<system-out>` line saying so. A failure's text holds the cell's detail, its checks that did not
pass and the tail of its build log. A planned cell without a result (an incomplete run or
merge) is an `<error>` under the classname `linkmatrix.incomplete`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path

from orchestrator.report.logs import read_log_tail
from orchestrator.results.completeness import completeness
from orchestrator.results.model import CellRecord, CheckRecord, ResultsDocument
from orchestrator.status import CheckOutcome, Status

FAILURES = (Status.FAIL, Status.XPASS)
SKIPPED = (Status.SKIP, Status.NOT_APPLICABLE)
INCOMPLETE = "linkmatrix.incomplete"
# Characters XML 1.0 cannot hold at all (a build log's escape codes): left out of the text.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render_junit(document: ResultsDocument, log_tails: Mapping[str, str] | None = None) -> str:
    """The document as JUnit XML; `log_tails` maps a cell id to the end of its build log."""
    tails = log_tails or {}
    columns: dict[str, list[CellRecord]] = {}
    for record in document.cells:
        columns.setdefault(record.column, []).append(record)
    root = ET.Element("testsuites", name="linkmatrix")
    for column, records in columns.items():
        suite = _suite(root, column, document.provenance.started)
        for record in records:
            _testcase(suite, record, tails.get(record.id, ""))
        _count(suite, records)
    missing = completeness(document).missing
    if missing:
        _missing(_suite(root, INCOMPLETE, document.provenance.started), missing)
    _total(root)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(document: ResultsDocument, results_dir: Path, path: Path) -> None:
    """Write `render_junit` to `path`, with the log tails of the cells that did not pass.

    Logs are read in `results_dir` (each cell's `log` is relative to it).
    """
    tails = {}
    for record in document.cells:
        if not record.status.ok and (tail := read_log_tail(results_dir, record.log)):
            tails[record.id] = tail.text
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_junit(document, tails), encoding="utf-8")


def _suite(root: ET.Element, name: str, started: str) -> ET.Element:
    return ET.SubElement(root, "testsuite", name=name, timestamp=started)


def _testcase(suite: ET.Element, record: CellRecord, tail: str) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        classname=record.column,
        name=record.scenario,
        time=f"{record.duration_s:.3f}",
    )
    reason = record.reason.value if record.reason else record.status.value
    message = _text(f"{record.status.value}: {reason}: {_first_line(record.detail)}")
    if record.status in FAILURES or record.status is Status.ERROR:
        tag = "error" if record.status is Status.ERROR else "failure"
        problem = ET.SubElement(case, tag, message=message, type=reason)
        problem.text = _text(_failure_text(record, tail))
    elif record.status in SKIPPED:
        ET.SubElement(case, "skipped", message=message)
    elif record.status is Status.XFAIL:
        _xfail(case, record.checks)


def _xfail(case: ET.Element, checks: Sequence[CheckRecord]) -> None:
    """Properties and a system-out line: the cell passes as a known upstream failure."""
    known = [c for c in checks if c.outcome is CheckOutcome.XFAIL]
    properties = ET.SubElement(case, "properties")
    lines = []
    for check in known:
        ET.SubElement(properties, "property", name="xfail", value=_text(check.xfail_reason or ""))
        ET.SubElement(
            properties, "property", name="xfail_link", value=_text(check.xfail_link or "")
        )
        lines.append(f"xfail: {check.expectation}: {check.xfail_reason} ({check.xfail_link})")
    out = ET.SubElement(case, "system-out")
    out.text = _text("\n".join(lines) or "xfail: a known upstream failure")


def _failure_text(record: CellRecord, tail: str) -> str:
    parts = [record.detail.strip()]
    unmet = [c for c in record.checks if c.outcome is not CheckOutcome.PASS]
    parts += [
        f"{c.outcome.value}: {c.artifact} {c.expectation}" + (f": {c.detail}" if c.detail else "")
        for c in unmet
    ]
    if tail:
        parts.append(f"--- the end of the build log ({record.log}) ---\n{tail}")
    return "\n".join(part for part in parts if part)


def _missing(suite: ET.Element, ids: Sequence[str]) -> None:
    for cell_id in ids:
        case = ET.SubElement(suite, "testcase", classname=INCOMPLETE, name=cell_id, time="0")
        ET.SubElement(
            case,
            "error",
            message="planned, without a result (the run stopped early, or a shard is missing)",
            type="missing",
        )
    suite.set("tests", str(len(ids)))
    suite.set("errors", str(len(ids)))
    suite.set("failures", "0")
    suite.set("skipped", "0")
    suite.set("time", "0")


def _count(suite: ET.Element, records: Sequence[CellRecord]) -> None:
    statuses = [record.status for record in records]
    suite.set("tests", str(len(records)))
    suite.set("failures", str(sum(status in FAILURES for status in statuses)))
    suite.set("errors", str(statuses.count(Status.ERROR)))
    suite.set("skipped", str(sum(status in SKIPPED for status in statuses)))
    suite.set("time", f"{sum(record.duration_s for record in records):.3f}")


def _total(root: ET.Element) -> None:
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(suite.get(key, "0")) for suite in root)))
    root.set("time", f"{sum(float(suite.get('time', '0')) for suite in root):.3f}")


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _text(text: str) -> str:
    return NOT_XML.sub("", text)
