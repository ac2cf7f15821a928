"""Reaching the Docker engine, and retrying only what is transient."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import docker
import requests
from docker.constants import DEFAULT_DOCKER_API_VERSION
from docker.errors import APIError, DockerException
from tenacity import (
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from orchestrator.errors import EngineError

P = ParamSpec("P")
R = TypeVar("R")
RETRY_ATTEMPTS = 4
REQUEST_TIMEOUT_S = 600  # an API call (image builds stream without one)
PING_TIMEOUT_S = 10  # "is anyone there?" needs no more
PROBE_API_VERSION = DEFAULT_DOCKER_API_VERSION


def is_transient(error: BaseException) -> bool:
    """Engine 5xx answers and dropped connections may cure themselves; nothing else does."""
    if isinstance(error, APIError):
        return error.status_code is not None and error.status_code >= 500
    return isinstance(error, requests.exceptions.ConnectionError | ConnectionResetError)


def transient_retry(func: Callable[P, R]) -> Callable[P, R]:
    """Retry `func` on transient engine faults: capped attempts, exponential back-off."""
    return retry(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(RETRY_ATTEMPTS),
        wait=wait_exponential(multiplier=0.5, max=8),
        reraise=True,
    )(func)


def connect() -> docker.DockerClient:
    """A client for the engine named by DOCKER_HOST / the current context, or a clear error.

    A probe client pings first, with a short timeout and a fixed API version (so creating it
    sends nothing): an engine that accepts connections but never answers fails in seconds, not
    after the builds' 600 s, and the probe is closed whatever happens. Only then is the real
    client made; it asks the engine for its API version with the ping's timeout too (an engine
    that answers the ping and hangs on the next request fails in seconds, too).
    """
    _refuse_empty_docker_host()
    try:
        probe = _client_for_environment(PING_TIMEOUT_S, PROBE_API_VERSION)
        # any answer will do, even a refusal of the probe's API version
        with contextlib.closing(probe), contextlib.suppress(APIError):
            probe.ping()
        client = _client_for_environment(PING_TIMEOUT_S)  # its version request: seconds too
    except (DockerException, requests.exceptions.RequestException) as exc:
        raise _unreachable(exc) from exc
    client.api.timeout = REQUEST_TIMEOUT_S  # every request from now on
    return client


def _unreachable(exc: Exception) -> EngineError:
    """The error for an engine that did not answer in time, or not at all."""
    if _timed_out(exc):
        return EngineError(
            f"The Docker engine at {_where()} accepted the connection but did not answer "
            f"within {PING_TIMEOUT_S} s ({exc}).\n"
            "It may be hung or overloaded: restart it (e.g. `systemctl restart docker`), or "
            "point linkmatrix at another engine with DOCKER_HOST."
        )
    return EngineError(
        f"No Docker engine answered at {_where()}: {exc}.\n"
        "Start the engine (e.g. `systemctl start docker`), or point linkmatrix at one with "
        "DOCKER_HOST=unix:///path/docker.sock or DOCKER_HOST=ssh://user@host "
        "(`docker context inspect` shows a context's endpoint)."
    )


def _timed_out(exc: BaseException | None) -> bool:
    """A timeout, or an error caused by one (docker wraps the version request's)."""
    for _ in range(8):  # a chain is short; this also ends a (pathological) cycle
        if exc is None or isinstance(exc, requests.exceptions.Timeout):
            return exc is not None
        exc = exc.__cause__ or exc.__context__
    return False


def _where() -> str:
    return os.environ.get("DOCKER_HOST", "the default socket (/var/run/docker.sock)")


def _refuse_empty_docker_host() -> None:
    """DOCKER_HOST set but empty would silently mean the default engine: say so instead."""
    host = os.environ.get("DOCKER_HOST")
    if host is not None and not host.strip():
        raise EngineError(
            "DOCKER_HOST is set but empty. Unset it (`unset DOCKER_HOST`) to use the current "
            "Docker context or the default socket, or give the engine's URL, e.g. "
            "DOCKER_HOST=unix:///var/run/docker.sock or DOCKER_HOST=ssh://user@host."
        )


def _client_for_environment(timeout: int, version: str | None = None) -> docker.DockerClient:
    """DOCKER_HOST wins; else the current Docker context (`docker context use`); else default.

    `version` None: ask the engine (a request, made while constructing).
    """
    if "DOCKER_HOST" in os.environ:
        return docker.from_env(timeout=timeout, version=version)
    context = docker.ContextAPI.get_current_context()
    endpoint = context.endpoints.get("docker", {}) if context else {}
    host = endpoint.get("Host") if isinstance(endpoint, dict) else None
    if context is None or context.name == "default" or not host:
        return docker.from_env(timeout=timeout, version=version)
    return docker.DockerClient(
        base_url=host, timeout=timeout, version=version, tls=bool(context.TLSConfig)
    )
