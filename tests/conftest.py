"""Fixtures every suite shares: a clean environment, the ``amplemarket_sandbox`` fixture with fast settings (``sb``),
an SDK client and a plain ``httpx.Client`` for it, the data set as ground truth, ``mode`` to run a test with the
blocking and the awaitable form of each call, and ``procs`` for the processes a test starts.

Every test talks real HTTP to a real sandbox; nothing mocks the transport. Helpers are in ``support.py``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import support
from support import FAST, client_for

import amplemarket
from amplemarket.testing import Sandbox

# The people of a sandbox, read once per server and data set (building 10,000 records costs a second or two).
_TRUTH: dict[tuple[str, int, int], list[dict[str, Any]]] = {}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test sees the developer's AMPLEMARKET_* variables, another test's default client, or another test's
    result cache: the user's cache directory (where the command line keeps answers by default) is the test's own,
    for this process and the commands it runs."""
    for name in ("AMPLEMARKET_API_KEY", "AMPLEMARKET_BASE_URL", "AMPLEMARKET_LOG"):
        monkeypatch.delenv(name, raising=False)
    cache_home = str(tmp_path / "user-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", cache_home)
    monkeypatch.setitem(support.ENV, "XDG_CACHE_HOME", cache_home)
    amplemarket.set_default_client(None)
    yield
    amplemarket.set_default_client(None)


@pytest.fixture
def fast_settings() -> dict[str, Any]:
    """The settings ``sb`` applies where the test's marker does not set them; a suite may override this fixture."""
    return FAST


@pytest.fixture
def sb(request: pytest.FixtureRequest, amplemarket_sandbox: Sandbox, fast_settings: dict[str, Any]) -> Sandbox:
    """The ``amplemarket_sandbox`` fixture with ``fast_settings``, unless the test's marker sets them."""
    marker = request.node.get_closest_marker("amplemarket_sandbox")
    given = marker.kwargs if marker else {}
    changes = {k: v for k, v in fast_settings.items() if k not in given}
    if changes:
        amplemarket_sandbox.configure(**changes)
    return amplemarket_sandbox


@pytest.fixture
def client(sb: Sandbox) -> Iterator[amplemarket.Client]:
    """A client for the sandbox with client-side pacing off."""
    with sb.client(rate_limit=False) as c:
        yield c


@pytest.fixture
def api(sb: Sandbox) -> Iterator[httpx.Client]:
    """A plain ``httpx.Client`` for the sandbox, sending its API key (to see exactly what the server sends)."""
    with client_for(sb) as c:
        yield c


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    """Runs a test once with the blocking form of each call and once with its ``_async`` twin (see ``call``)."""
    return str(request.param)


@pytest.fixture
def people(sb: Sandbox) -> list[dict[str, Any]]:
    """Every person of the sandbox as a full record (the truth the API answers from)."""
    key = (sb.url, sb.seed, len(sb.people))
    if key not in _TRUTH:
        _TRUTH[key] = list(sb.people)
    return _TRUTH[key]


@pytest.fixture
def live(people: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The people not removed for GDPR."""
    return [p for p in people if not p.get("_gdpr_removed")]


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[Any]]]:
    """Processes a test started; any still running at its end are killed (by their own handle)."""
    started: list[subprocess.Popen[Any]] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
            p.communicate(timeout=30)
