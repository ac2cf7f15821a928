"""JUnit XML: one testcase per cell, each verdict as the JUnit outcome a CI system shows."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.config.matrix import Matrix
from orchestrator.plan import Shard
from orchestrator.report.junit import INCOMPLETE, render_junit, write_junit
from orchestrator.results.model import CheckRecord, ResultsDocument
from orchestrator.status import CheckOutcome, Reason, Status
from tests.unit.conftest import make_cell, make_document
from tests.unit.test_merge import run_results, three_scenarios
from tests.unit.test_pipeline import toolchain_engine, write_project

__all__ = ["three_scenarios"]  # a fixture, used by name

LINK = "https://github.com/rust-lang/rust/pull/151704"


def check(outcome: CheckOutcome, *, xfail: bool = False) -> CheckRecord:
    return CheckRecord(
        artifact="lib",
        property="exports",
        expectation="exports: includes ['answer']",
        outcome=outcome,
        detail="missing: answer" if outcome is CheckOutcome.FAIL else "",
        why="",
        xfail_reason="emcc links a cdylib as a program" if xfail else None,
        xfail_link=LINK if xfail else None,
    )


def sample() -> ResultsDocument:
    return make_document(
        make_cell("glibc/x86_64-unknown-linux-gnu/alpha"),
        make_cell(
            "glibc/x86_64-unknown-linux-gnu/beta",
            Status.FAIL,
            Reason.SYMBOL_MISSING,
            detail="exports lack answer\nmore",
            checks=(check(CheckOutcome.PASS), check(CheckOutcome.FAIL)),
            log="logs/beta.log",
        ),
        make_cell(
            "glibc@1.85/x86_64-unknown-linux-gnu/alpha",
            Status.ERROR,
            Reason.TIMEOUT,
            detail="no output for 30 s \x1b[31mkilled\x1b[0m",
            log="logs/timeout.log",
        ),
        make_cell(
            "glibc@1.85/x86_64-unknown-linux-gnu/beta",
            Status.XPASS,
            Reason.UNEXPECTED_PASS,
            detail="fixed upstream?",
        ),
        make_cell("wasm/wasm32-unknown-unknown/alpha", Status.SKIP, Reason.SDK_MISSING),
        make_cell(
            "wasm/wasm32-unknown-unknown/beta",
            Status.NOT_APPLICABLE,
            Reason.NOT_APPLICABLE,
            detail="no dlopen on wasm",
        ),
        make_cell(
            "emscripten/wasm32-unknown-emscripten/alpha",
            Status.XFAIL,
            Reason.KNOWN_UPSTREAM,
            checks=(check(CheckOutcome.XFAIL, xfail=True),),
        ),
    )


def parse(text: str) -> ET.Element:
    return ET.fromstring(text.encode())


def case(root: ET.Element, classname: str, name: str) -> ET.Element:
    (found,) = [
        c for c in root.iter("testcase") if (c.get("classname"), c.get("name")) == (classname, name)
    ]
    return found


def test_counts_add_up_per_column_and_in_all() -> None:
    root = parse(render_junit(sample()))
    assert root.tag == "testsuites"
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "7",
        "failures": "2",  # fail and xpass
        "errors": "1",
        "skipped": "2",  # skip and not-applicable
    }
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert list(suites) == [  # the document's order: by cell id
        "emscripten/wasm32-unknown-emscripten",
        "glibc/x86_64-unknown-linux-gnu",
        "glibc@1.85/x86_64-unknown-linux-gnu",
        "wasm/wasm32-unknown-unknown",
    ]
    assert suites["glibc@1.85/x86_64-unknown-linux-gnu"].get("errors") == "1"
    for suite in suites.values():
        assert int(suite.get("tests", "")) == len(suite.findall("testcase"))


def test_a_failed_cell_says_why_with_its_checks_and_log_tail() -> None:
    tails = {"glibc/x86_64-unknown-linux-gnu/beta": "error: linking with `cc` failed"}
    root = parse(render_junit(sample(), tails))
    beta = case(root, "glibc/x86_64-unknown-linux-gnu", "beta")
    (failure,) = beta.findall("failure")
    assert failure.get("type") == "symbol-missing"
    assert failure.get("message") == "fail: symbol-missing: exports lack answer"
    text = failure.text or ""
    assert "fail: lib exports: includes ['answer']: missing: answer" in text
    assert "pass:" not in text  # the checks that passed are not the failure
    assert "--- the end of the build log (logs/beta.log) ---" in text
    assert text.endswith("error: linking with `cc` failed")
    alpha = case(root, "glibc/x86_64-unknown-linux-gnu", "alpha")
    assert list(alpha) == []  # a pass is a bare testcase


def test_error_xpass_skip_and_not_applicable() -> None:
    root = parse(render_junit(sample()))
    timeout = case(root, "glibc@1.85/x86_64-unknown-linux-gnu", "alpha")
    (error,) = timeout.findall("error")
    assert error.get("type") == "timeout"
    assert "\x1b" not in (error.get("message") or "")  # not XML: left out, the rest kept
    assert "killed" in (error.get("message") or "")
    xpass = case(root, "glibc@1.85/x86_64-unknown-linux-gnu", "beta")
    assert [(c.tag, c.get("type")) for c in xpass] == [("failure", "unexpected-pass")]
    skip = case(root, "wasm/wasm32-unknown-unknown", "alpha").find("skipped")
    assert skip is not None
    assert (skip.get("message") or "").startswith("skip: sdk-missing")
    na = case(root, "wasm/wasm32-unknown-unknown", "beta").find("skipped")
    assert na is not None
    assert na.get("message") == "not-applicable: not-applicable: no dlopen on wasm"


def test_an_xfail_passes_with_its_reason_and_issue_link() -> None:
    root = parse(render_junit(sample()))
    xfail = case(root, "emscripten/wasm32-unknown-emscripten", "alpha")
    assert [child.tag for child in xfail] == ["properties", "system-out"]
    properties = {p.get("name"): p.get("value") for p in xfail.iter("property")}
    assert properties == {"xfail": "emcc links a cdylib as a program", "xfail_link": LINK}
    assert f"xfail: exports: includes ['answer']: emcc links a cdylib as a program ({LINK})" in (
        xfail.findtext("system-out") or ""
    )


def test_planned_cells_without_a_result_are_errors() -> None:
    document = sample()
    planned = (*(c.id for c in document.cells), "musl/x86_64-unknown-linux-musl/alpha")
    provenance = dataclasses.replace(document.provenance, planned=planned, complete=False)
    root = parse(render_junit(dataclasses.replace(document, provenance=provenance)))
    assert root.get("tests") == "8"
    assert root.get("errors") == "2"
    missing = case(root, INCOMPLETE, "musl/x86_64-unknown-linux-musl/alpha")
    assert missing.find("error") is not None


def test_write_junit_reads_the_log_tails_of_cells_that_did_not_pass(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "beta.log").write_text("".join(f"line {i}\n" for i in range(100)))
    (tmp_path / "logs" / "timeout.log").write_text("hung\n")
    write_junit(sample(), tmp_path, tmp_path / "ci" / "junit.xml")
    root = ET.parse(tmp_path / "ci" / "junit.xml").getroot()
    failure = case(root, "glibc/x86_64-unknown-linux-gnu", "beta").find("failure")
    assert failure is not None
    text = failure.text or ""
    assert "line 99" in text
    assert "line 10\n" not in text  # the tail only
    timeout = case(root, "glibc@1.85/x86_64-unknown-linux-gnu", "alpha").find("error")
    assert timeout is not None
    assert (timeout.text or "").endswith("hung")


def test_merge_writes_junit_and_the_step_summary(
    three_scenarios: Matrix, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shards = [
        run_results(three_scenarios, tmp_path / f"shard-{i}", Shard(index=i, count=2))
        for i in (1, 2)
    ]
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    out, junit = tmp_path / "merged", tmp_path / "junit.xml"
    assert main(["merge", *map(str, shards), "--out", str(out), "--junit", str(junit)]) == 0
    root = ET.parse(junit).getroot()
    merged = (out / "results.json").read_text()
    assert int(root.get("tests", "")) == merged.count('"id":')
    assert summary.read_text() == "earlier step\n" + (out / "summary.md").read_text()


def test_run_writes_junit_and_the_step_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    matrix_path = write_project(tmp_path / "project")
    engine = toolchain_engine()
    monkeypatch.setattr("orchestrator.engine.client.connect", lambda: engine)
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    out, junit = tmp_path / "out", tmp_path / "junit.xml"
    arguments = ["--out", str(out), "--cache-dir", str(tmp_path / "cache"), "--junit", str(junit)]
    assert main(["run", "--matrix", str(matrix_path), *arguments]) == 0
    root = ET.parse(junit).getroot()
    assert root.get("tests") == "2"
    assert root.get("failures") == root.get("errors") == "0"
    assert summary.read_text() == (out / "summary.md").read_text()


def test_an_unwritable_junit_file_exits_7_naming_it(
    three_scenarios: Matrix, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = run_results(three_scenarios, tmp_path / "run")
    blocked = tmp_path / "junit.xml"
    blocked.mkdir()
    code = main(["merge", str(results), "--out", str(tmp_path / "out"), "--junit", str(blocked)])
    assert code == 7
    error = capsys.readouterr().err
    assert error.startswith(f"linkmatrix: error: {blocked}: cannot write")
    assert "Traceback" not in error
