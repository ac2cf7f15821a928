"""The HTML report in a real browser: headless Chromium (Debian's `chromium` package), no Docker.

With CI=true and no Chromium the test fails rather than skips.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from orchestrator.report import write_views
from orchestrator.status import Status
from tests.unit.conftest import replace_cell
from tests.unit.test_schema import SAMPLE, load_sample

FAILING = "musl/x86_64-unknown-linux-musl/reexport-staticlib"
PASSING = "glibc/x86_64-unknown-linux-gnu/cdylib-exports"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    message = "needs headless Chromium: apt-get install chromium (Debian's package)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true: {message}")
    pytest.skip(message)


def browse(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium once; its own chatter on stderr (D-Bus, GPU) is not our business."""
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",  # we may be root in a container
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={cwd / 'chromium-profile'}",
        *args,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=180, cwd=cwd, check=False
    )
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}: {done.stderr}"
    return done


@pytest.fixture
def report(tmp_path: Path) -> Path:
    """The sample results rendered with a baseline in which the failing cell still passed."""
    folder = tmp_path / "report"
    shutil.copytree(SAMPLE.parent, folder)
    current = load_sample()
    baseline = replace_cell(current, FAILING, status=Status.PASS, reason=None)
    write_views(current, folder, baseline)
    return folder / "index.html"


def details_tag(dom: str, cell_id: str) -> str:
    """The opening <details> tag of a cell, as the browser's DOM has it."""
    match = re.search(rf'<details class="cell" data-cell="{re.escape(cell_id)}"[^>]*>', dom)
    assert match, f"no <details> for {cell_id} in the DOM"
    return match.group(0)


def test_the_browser_shows_verdicts_and_opens_details(report: Path, tmp_path: Path) -> None:
    dom = browse("--dump-dom", report.as_uri(), cwd=tmp_path).stdout
    anchor = "cell-musl_x86_64-unknown-linux-musl_reexport-staticlib"
    assert re.search(rf'<a href="#{anchor}"[^>]*>❌ fail<span class="reason">check-failed', dom)
    assert 'class="chg chg-regressed"' in dom
    assert "open" in details_tag(dom, FAILING)
    assert "open" not in details_tag(dom, PASSING)

    # Following a grid cell's link opens its detail, with no script in the page.
    target = f"{report.as_uri()}#cell-glibc_x86_64-unknown-linux-gnu_cdylib-exports"
    followed = browse("--dump-dom", target, cwd=tmp_path).stdout
    assert "open" in details_tag(followed, PASSING)


def test_screenshot(report: Path, tmp_path: Path) -> None:
    screenshot = tmp_path / "report.png"
    browse(f"--screenshot={screenshot}", "--window-size=1400,1600", report.as_uri(), cwd=tmp_path)
    assert screenshot.read_bytes().startswith(PNG_MAGIC)
    assert screenshot.stat().st_size > 20_000  # a rendered page, not a blank one
    print(f"screenshot of the report: {screenshot}")
