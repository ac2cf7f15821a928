"""One run at a time per output folder and per cache: a second run refuses at once (exit 9),
naming the holder's pid and the folder; a lock dies with its holder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.errors import BusyError, ResultsError
from orchestrator.lock import LOCK_FILE, folders_locked
from tests.unit.conftest import ProjectFactory


def test_a_held_folder_refuses_a_second_holder_naming_the_first(tmp_path: Path) -> None:
    with folders_locked(tmp_path / "out", tmp_path / "cache"):
        for folder in ("out", "cache"):
            with pytest.raises(BusyError) as refused, folders_locked(tmp_path / folder):
                pass
            message = str(refused.value)
            assert message.startswith(f"{tmp_path / folder}: another linkmatrix run (pid ")
            assert f"pid {os.getpid()}, since " in message
            assert "--out, --cache-dir" in message
    with folders_locked(tmp_path / "out"):  # let go at the end of the block
        pass


def test_a_folder_named_twice_is_locked_once(tmp_path: Path) -> None:
    with folders_locked(tmp_path, tmp_path / "." / "", tmp_path / "sub" / ".."):
        assert (tmp_path / LOCK_FILE).read_text().split()[0] == str(os.getpid())


def test_a_folder_that_cannot_be_made_is_a_results_error_naming_it(tmp_path: Path) -> None:
    taken = tmp_path / "a-file"
    taken.write_text("")
    where = f"^{taken}: cannot write \\(File exists: a file is where a folder should be\\)"
    with pytest.raises(ResultsError, match=where), folders_locked(taken):
        pass


HOLDER = """\
import sys, time
from pathlib import Path
from orchestrator.lock import folders_locked
with folders_locked(Path(sys.argv[1]), Path(sys.argv[2])):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_run_refuses_at_once_with_exit_9(
    make_project: ProjectFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    holder = subprocess.Popen(  # another process holding both folders, as a running run does
        [
            sys.executable,
            "-c",
            HOLDER,
            str(out),
            str(cache),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        run = ["run", "--matrix", str(make_project()), "--out", str(out), "--cache-dir", str(cache)]
        started = time.monotonic()
        assert main(run) == 9  # not 5: refused before the (unreachable) engine is asked
        assert time.monotonic() - started < 5
        error = capsys.readouterr().err
        assert f"{out}: another linkmatrix run (pid {holder.pid}, since " in error
        assert main([*run[:-1], str(tmp_path / "other-cache")]) == 9  # the output folder alone
        assert main([*run[:4], str(tmp_path / "other-out"), *run[5:]]) == 9  # the cache alone
        assert f"{cache}: another linkmatrix run (pid {holder.pid}" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()
    assert main(run) == 5  # its holder gone, the lock is free: on to the (unreachable) engine


def test_help_lists_the_busy_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "    9  Another linkmatrix run is using the output or cache folder." in (
        capsys.readouterr().out
    )
