"""The HTML report in a real browser: headless Chromium (Debian's `chromium` package), no Docker.

Two reports: the sample's (real cells, trimmed), and a whole matrix's (tests/unit/full_matrix.py:
every toolchain, target, release and status, stopped after 300 of its 442 planned cells) read
at 1920 px: the grid fits the window, its header stays in view when the page scrolls, the
incomplete banner comes first, a known cell's release comparison is there, the symbol pages
stay under their size limit and keep their header in view. Measuring needs a script, which the
report has none of: the test adds one to a copy of the page and reads what it wrote into the
DOM. Screenshots are kept (their paths are printed; LINKMATRIX_SCREENSHOTS=DIR copies them).

With CI=true and no Chromium the test fails rather than skips.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from orchestrator.report import write_views
from orchestrator.status import Status
from tests.unit.conftest import replace_cell
from tests.unit.full_matrix import stopped
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
    assert re.search(rf'<a href="#{anchor}"[^>]*>❌<small>check</small>', dom)
    assert 'class="chg chg-regressed"' in dom
    assert "open" in details_tag(dom, FAILING)
    assert "open" not in details_tag(dom, PASSING)

    # Following a grid cell's link opens its detail, with no script in the page.
    target = f"{report.as_uri()}#cell-glibc_x86_64-unknown-linux-gnu_cdylib-exports"
    followed = browse("--dump-dom", target, cwd=tmp_path).stdout
    assert "open" in details_tag(followed, PASSING)


def keep(screenshot: Path) -> None:
    """Check a screenshot was drawn and keep it where the run's artifacts are collected."""
    assert screenshot.read_bytes().startswith(PNG_MAGIC)
    assert screenshot.stat().st_size > 20_000  # a rendered page, not a blank one
    if folder := os.environ.get("LINKMATRIX_SCREENSHOTS"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, Path(folder) / screenshot.name)
    print(f"screenshot: {screenshot}")


def test_screenshot(report: Path, tmp_path: Path) -> None:
    screenshot = tmp_path / "report.png"
    browse(f"--screenshot={screenshot}", "--window-size=1400,1600", report.as_uri(), cwd=tmp_path)
    keep(screenshot)


# -- the whole matrix at 1920 px --------------------------------------------------------------

WIDTH, HEIGHT = 1920, 1080
PLANNED, PRESENT = 442, 300
SYMBOL_PAGE_LIMIT = 500_000
# A cell whose releases differ in the made-up matrix: a build error on 1.85, a pass on 1.96.
KNOWN_PLACE = "windows-gnu · x86_64-pc-windows-gnu"
KNOWN_OLDER = "cell-windows-gnu_1.85_x86_64-pc-windows-gnu_cdylib-exports"
KNOWN_NEWER = "cell-windows-gnu_x86_64-pc-windows-gnu_cdylib-exports"

# Run after load, with the window at WIDTH x HEIGHT: how wide the page and the grid are, and
# where a table's header sits once the page is scrolled into the middle of that table.
MEASURE = """
<script>
setTimeout(function () {
  var table = document.querySelector(TABLE);
  var head = table.querySelector("thead");
  var first = table.querySelector("tbody td.n") || table.querySelector("tbody th");
  var box = table.getBoundingClientRect();
  var facts = {
    innerWidth: window.innerWidth,
    pageWidth: document.documentElement.scrollWidth,
    tableLeft: box.left, tableRight: box.right, tableHeight: box.height
  };
  window.scrollTo(0, window.scrollY + box.top + Math.min(box.height / 2, 3000));
  var after = table.getBoundingClientRect();
  facts.tableTopAfterScroll = after.top;
  facts.headTopAfterScroll = head.getBoundingClientRect().top;
  window.scrollTo(600, window.scrollY);
  facts.firstColumnLeftAfterSideScroll = first.getBoundingClientRect().left;
  facts.scrolledX = window.scrollX;
  document.body.setAttribute("data-measured", JSON.stringify(facts));
}, 100);
</script>
"""


@pytest.fixture(scope="module")
def whole_matrix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole matrix's report, its run stopped after PRESENT of its PLANNED cells."""
    folder = tmp_path_factory.mktemp("whole-matrix")
    write_views(stopped(PRESENT), folder)
    return folder


def measured(page: Path, table: str, cwd: Path) -> dict[str, float]:
    """What MEASURE finds on a copy of `page` (the report itself has no script)."""
    probe = page.with_name(f"measure-{page.name}")
    script = MEASURE.replace("TABLE", json.dumps(table))
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", script + "</body>"))
    dom = browse(
        "--dump-dom",
        f"--window-size={WIDTH},{HEIGHT}",
        "--virtual-time-budget=5000",
        probe.as_uri(),
        cwd=cwd,
    ).stdout
    found = re.search(r'data-measured="([^"]*)"', dom)
    assert found, "the measuring script wrote nothing"
    facts: dict[str, float] = json.loads(html.unescape(found.group(1)))
    print(f"{page.name} at {WIDTH} px: {facts}")
    return facts


def test_the_whole_grid_fits_1920_px_and_its_header_stays(
    whole_matrix: Path, tmp_path: Path
) -> None:
    facts = measured(whole_matrix / "index.html", "table.grid", tmp_path)
    assert facts["innerWidth"] == WIDTH
    assert facts["tableRight"] <= WIDTH, "the grid is wider than the window"
    assert facts["pageWidth"] <= WIDTH, "the page scrolls sideways"
    # scrolled into the grid: its top has gone up, its header is held at the window's top
    assert facts["tableTopAfterScroll"] < 0
    assert abs(facts["headTopAfterScroll"]) <= 1


def test_the_incomplete_run_says_so_first_and_compares_releases(
    whole_matrix: Path, tmp_path: Path
) -> None:
    dom = browse("--dump-dom", (whole_matrix / "index.html").as_uri(), cwd=tmp_path).stdout
    banner = re.search(r'<p class="incomplete"[^>]*>(.*?)</p>', dom, re.DOTALL)
    assert banner, "no incomplete banner"
    assert f"incomplete: {PRESENT} of {PLANNED} cells" in banner.group(1)
    assert dom.index('class="incomplete"') < dom.index('<table class="grid">')
    assert dom.count('class="missing-cell"') == PLANNED - PRESENT
    # the release comparison of a known cell: both sides linked, names one per line
    section = dom[dom.index('<h2 id="releases">') : dom.index('<h2 id="routes">')]
    row = section[section.index(KNOWN_PLACE) :]
    row = row[: row.index("</tr>")]
    assert f'<a href="#{KNOWN_OLDER}">1.85</a> → <a href="#{KNOWN_NEWER}">1.96</a>' in row
    assert "status: error (build-error) → <strong>pass</strong>" in row
    assert "<li>answer</li><li>allocate_and_sum</li>" in row
    assert "compiler-rt builtin names" in row  # the bulk counted, not listed
    screenshot = tmp_path / "whole-matrix-1920.png"
    browse(
        f"--screenshot={screenshot}",
        f"--window-size={WIDTH},{HEIGHT}",
        (whole_matrix / "index.html").as_uri(),
        cwd=tmp_path,
    )
    keep(screenshot)


def test_symbol_pages_stay_small_and_keep_their_header(whole_matrix: Path, tmp_path: Path) -> None:
    pages = sorted((whole_matrix / "symbols").glob("*.html"))
    sizes = {page.name: page.stat().st_size for page in pages}
    largest = max(sizes, key=sizes.__getitem__)
    print(f"largest symbol page {largest}: {sizes[largest]} bytes; all: {sum(sizes.values())}")
    assert sizes[largest] < SYMBOL_PAGE_LIMIT
    facts = measured(whole_matrix / "symbols" / largest, "table.symbols", tmp_path)
    assert facts["tableTopAfterScroll"] < 0
    assert abs(facts["headTopAfterScroll"]) <= 1
    if facts["scrolledX"] > 0:  # a wide page: the name column stays at the left edge
        assert abs(facts["firstColumnLeftAfterSideScroll"]) <= 1
