"""Fixtures for the bulk and CLI suites: the ``amplemarket_sandbox`` fixture with fast settings, a client for it
with pacing off, an authorised ``httpx.Client``, and the data set as ground truth.

Every test talks real HTTP to a real sandbox; nothing mocks the transport.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import amplemarket
from amplemarket.testing import Sandbox

from ._helpers import FAST

# The first people of a sandbox, read once per server (building records costs time in a debug build).
_TRUTH: dict[tuple[str, int], list[dict[str, Any]]] = {}
TRUTH_SIZE = 1_500


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees the developer's AMPLEMARKET_* variables or another test's default client."""
    for name in ("AMPLEMARKET_API_KEY", "AMPLEMARKET_BASE_URL", "AMPLEMARKET_LOG"):
        monkeypatch.delenv(name, raising=False)
    amplemarket.set_default_client(None)
    yield
    amplemarket.set_default_client(None)


@pytest.fixture
def sb(request: pytest.FixtureRequest, amplemarket_sandbox: Sandbox) -> Sandbox:
    """The ``amplemarket_sandbox`` fixture with the FAST settings, unless the test's marker sets them."""
    marker = request.node.get_closest_marker("amplemarket_sandbox")
    given = marker.kwargs if marker else {}
    changes = {k: v for k, v in FAST.items() if k not in given}
    if changes:
        amplemarket_sandbox.configure(**changes)
    return amplemarket_sandbox


@pytest.fixture
def client(sb: Sandbox) -> Iterator[amplemarket.Client]:
    """A client for the sandbox with client-side pacing off."""
    with sb.client(rate_limit=False) as c:
        yield c


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    """Runs a test once with the blocking form of each call and once with its ``_async`` twin."""
    return str(request.param)


@pytest.fixture
def people(sb: Sandbox) -> list[dict[str, Any]]:
    """The first people of the sandbox as full records (the truth the API answers from)."""
    key = (sb.url, sb.seed)
    if key not in _TRUTH:
        _TRUTH[key] = list(sb.people[:TRUTH_SIZE])
    return _TRUTH[key]


@pytest.fixture
def live(people: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """People not removed for GDPR."""
    return [p for p in people if not p.get("_gdpr_removed")]


@pytest.fixture
def api(sb: Sandbox) -> Iterator[httpx.Client]:
    """A plain ``httpx.Client`` for the sandbox (to see exactly what the server sends)."""
    with httpx.Client(base_url=sb.url, headers={"Authorization": f"Bearer {sb.api_key}"}, timeout=30.0) as c:
        yield c


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[str]]]:
    """CLI processes a test started; any still running at its end are killed (by their own handle)."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
            p.communicate(timeout=30)
