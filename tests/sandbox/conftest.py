"""Fixtures for the sandbox suites: the ``amplemarket_sandbox`` fixture with fast settings, an authorised
``httpx.Client`` over it, and the data set as ground truth. Every test talks real HTTP to the sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from amplemarket.testing import Sandbox

from ._helpers import FAST, client_for

# The people of a sandbox, read once per server: building the list of 10,000 costs about a second.
_TRUTH: dict[tuple[str, int, int], list[dict[str, Any]]] = {}


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
def api(sb: Sandbox) -> Iterator[httpx.Client]:
    """An ``httpx.Client`` for the sandbox, sending its API key."""
    with client_for(sb) as c:
        yield c


@pytest.fixture
def anon(sb: Sandbox) -> Iterator[httpx.Client]:
    """An ``httpx.Client`` for the sandbox without credentials."""
    with httpx.Client(base_url=sb.url, timeout=30.0) as c:
        yield c


@pytest.fixture
def people(sb: Sandbox) -> list[dict[str, Any]]:
    """Every person of the sandbox as a full record."""
    key = (sb.url, sb.seed, len(sb.people))
    if key not in _TRUTH:
        _TRUTH[key] = list(sb.people)
    return _TRUTH[key]
