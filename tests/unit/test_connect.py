"""connect(): an engine that does not answer, or a DOCKER_HOST that names none, fails in seconds
with exit 5 and says what to do.
"""

from __future__ import annotations

import socket
import tempfile
import time
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.engine.client import connect
from orchestrator.errors import EngineError
from tests.unit.conftest import ProjectFactory


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_docker_host_is_an_error_not_the_default_engine(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("DOCKER_HOST", value)
    with pytest.raises(EngineError, match=r"DOCKER_HOST is set but empty\. Unset it"):
        connect()


def test_an_empty_docker_host_exits_5_before_any_work(
    monkeypatch: pytest.MonkeyPatch,
    make_project: ProjectFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "")
    out = tmp_path / "out"
    assert main(["run", "--matrix", str(make_project()), "--out", str(out)]) == 5
    assert "DOCKER_HOST is set but empty" in capsys.readouterr().err
    assert not (out / "results.json").exists()


def test_a_silent_engine_exits_5_in_seconds_with_a_hint(
    monkeypatch: pytest.MonkeyPatch,
    make_project: ProjectFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("orchestrator.engine.client.PING_TIMEOUT_S", 1)
    with tempfile.TemporaryDirectory(dir="/tmp") as folder, socket.socket(socket.AF_UNIX) as server:
        path = Path(folder) / "docker.sock"
        server.bind(str(path))
        server.listen(4)  # the kernel accepts; nobody ever reads or answers
        monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
        started = time.monotonic()
        code = main(["run", "--matrix", str(make_project()), "--out", str(tmp_path / "out")])
        assert time.monotonic() - started < 5
    assert code == 5
    error = capsys.readouterr().err
    assert f"The Docker engine at unix://{path} accepted the connection but did not answer" in error
    assert "restart it" in error
