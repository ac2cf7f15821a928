"""The queries reports/README.md shows work on a real results file (issue 13, item 9).

The README's jq and pandas examples are read out of the README itself (the fenced block after
each `<!-- tested: NAME -->` marker) and run on the golden results, whose `exe` artifact was
never built: a naive query must say "not built" there, not "does not export". jq runs where it
is installed, pandas where it is; a pure-Python equivalent of both always runs.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_schema import GOLDEN, REPO

README = REPO / "reports" / "README.md"
RESULTS = GOLDEN / "run.v3.json"  # what a run writes now: references may be [first, count] runs
EXPECTED = [
    ("glibc/x86_64-unknown-linux-gnu/cdylib-exports", "lib", "exports answer"),
    ("glibc/x86_64-unknown-linux-gnu/cdylib-exports", "exe", "not built"),
]


def example(name: str) -> str:
    """The code of the fenced block after `<!-- tested: NAME ...-->` in the README."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"<!-- tested: {name}\b[^>]*-->\n```\w*\n(.*?)\n```", text, re.DOTALL)
    assert match, f"no tested example {name!r} in {README}"
    return match.group(1)


def python_equivalent(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    """What the jq example computes, step by step as it does."""
    names = doc["symbols"]["names"]
    rows = []
    for cell in doc["cells"]:
        for artifact in cell["artifacts"]:
            if artifact["exports"] is None:
                said = "not built"
            elif "answer" in [names[i] for i in artifact["exports"]]:
                said = "exports answer"
            else:
                said = "does not export answer"
            rows.append((cell["id"], artifact["name"], said))
    return rows


def test_the_golden_results_have_an_artifact_that_was_never_built() -> None:
    doc = json.loads(RESULTS.read_text(encoding="utf-8"))
    exe = doc["cells"][0]["artifacts"][1]
    assert (exe["name"], exe["built"], exe["exports"]) == ("exe", False, None)
    assert python_equivalent(doc) == EXPECTED


def with_a_run_of_references(tmp_path: Path) -> Path:
    """The golden results with lib's exports stored as one [first, count] run, as a run writes
    a list an earlier artifact had: the same names, so the same answers.
    """
    doc = json.loads(RESULTS.read_text(encoding="utf-8"))
    names = doc["symbols"]["names"]
    lib = doc["cells"][0]["artifacts"][0]
    first = len(names)
    names.extend(names[i] for i in lib["exports"])
    lib["exports"] = [[first, len(names) - first]]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("stored", ["golden", "run"])
def test_the_jq_example_says_not_built_where_nothing_was_built(stored: str, tmp_path: Path) -> None:
    jq = shutil.which("jq")
    if jq is None:
        pytest.skip("jq is not installed (the Python equivalent above checks the same query)")
    results = RESULTS if stored == "golden" else with_a_run_of_references(tmp_path)
    command = example("jq-exports").replace("reports/latest/results.json", str(results))
    done = subprocess.run(
        ["sh", "-c", command.replace("jq ", f"{jq} ", 1)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    rows = [tuple(line.split("\t")) for line in done.stdout.splitlines()]
    assert rows == EXPECTED


def test_the_pandas_example_gives_one_row_per_export_and_none_where_not_built() -> None:
    pytest.importorskip("pandas")
    code = example("pandas-exports").replace("reports/latest/results.json", str(RESULTS))
    scope: dict[str, Any] = {}
    exec(compile(code, str(README), "exec"), scope)
    exports = scope["exports"]
    assert list(scope["answer"]["artifact"]) == ["lib"]
    assert list(scope["not_built"]["artifact"]) == ["exe"]
    assert len(exports) == 4  # lib's three names and exe's one None row


@pytest.mark.parametrize("stored", ["golden", "run"])
def test_the_pandas_example_works_in_plain_python_too(stored: str, tmp_path: Path) -> None:
    """Without pandas: the same rows, with a stand-in DataFrame that keeps them."""
    results = RESULTS if stored == "golden" else with_a_run_of_references(tmp_path)
    code = example("pandas-exports").replace("reports/latest/results.json", str(results))
    code = code.replace("import pandas as pd\n", "")
    code = code.split("\nexports = pd.DataFrame")[0]  # the rows are the query; pandas frames them
    scope: dict[str, Any] = {}
    exec(compile(code, str(README), "exec"), scope)
    rows = scope["rows"]
    assert ("glibc/x86_64-unknown-linux-gnu/cdylib-exports", "xfail", "lib", True, "answer") in rows
    assert ("glibc/x86_64-unknown-linux-gnu/cdylib-exports", "xfail", "exe", False, None) in rows
    assert len(rows) == 4
