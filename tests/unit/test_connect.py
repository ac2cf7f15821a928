"""connect(): an engine that does not answer, or a DOCKER_HOST that names none, fails in seconds
with exit 5 and says what to do.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.engine.client import REQUEST_TIMEOUT_S, connect
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


class Engine(http.server.BaseHTTPRequestHandler):
    """Answers the ping at once, the version request after `version_delay_s`, the rest after
    `delay_s`.
    """

    version_delay_s = 0.0
    delay_s = 0.0

    def do_GET(self) -> None:
        if self.path.endswith("/_ping"):
            self._answer("text/plain", b"OK")
            return
        time.sleep(self.version_delay_s if self.path.endswith("/version") else self.delay_s)
        self._answer("application/json", json.dumps({"ApiVersion": "1.41"}).encode())

    def _answer(self, kind: str, body: bytes) -> None:
        with contextlib.suppress(OSError):  # the client may have given up
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@contextlib.contextmanager
def engine_at(
    monkeypatch: pytest.MonkeyPatch, *, version_delay_s: float, delay_s: float
) -> Iterator[None]:
    handler = type("Handler", (Engine,), {"version_delay_s": version_delay_s, "delay_s": delay_s})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{server.server_address[1]}")
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def test_an_engine_that_answers_the_ping_then_hangs_fails_in_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("orchestrator.engine.client.PING_TIMEOUT_S", 1)
    with engine_at(monkeypatch, version_delay_s=30, delay_s=0):
        started = time.monotonic()
        with pytest.raises(EngineError, match="did not answer within 1 s"):
            connect()
        assert time.monotonic() - started < 5


def test_requests_after_connecting_wait_as_long_as_a_build_may(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("orchestrator.engine.client.PING_TIMEOUT_S", 1)
    with engine_at(monkeypatch, version_delay_s=0, delay_s=1.5):
        client = connect()
        assert client.api.timeout == REQUEST_TIMEOUT_S
        assert client.version()["ApiVersion"] == "1.41"  # answered after the ping's timeout
