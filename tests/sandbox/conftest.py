"""The sandbox suites' own fixture: an ``httpx.Client`` without credentials. The shared fixtures (``sb``, ``api``,
``people``, ``live``…) are in ``tests/conftest.py``."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from amplemarket.testing import Sandbox


@pytest.fixture
def anon(sb: Sandbox) -> Iterator[httpx.Client]:
    """An ``httpx.Client`` for the sandbox without credentials."""
    with httpx.Client(base_url=sb.url, timeout=30.0) as c:
        yield c
