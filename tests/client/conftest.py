"""The client suites' own fixtures: the sandbox keeps its poll Retry-After, and data-set picks for lookups.

The shared fixtures (``sb``, ``client``, ``api``, ``mode``, ``people``, ``live``…) are in ``tests/conftest.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from support import FAST


@pytest.fixture
def fast_settings() -> dict[str, Any]:
    """``FAST`` without ``poll_retry_after``: these suites talk to the sandbox with its own poll pacing."""
    return {k: v for k, v in FAST.items() if k != "poll_retry_after"}


@pytest.fixture
def with_email(live: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Live people who have an email address (lookups by email)."""
    return [p for p in live if p.get("email")]


@pytest.fixture
def full_person(live: list[dict[str, Any]]) -> dict[str, Any]:
    """A live person with every field set, phone numbers, and a company with every field set."""
    for p in live:
        company = p.get("company")
        if (
            all(v is not None for v in p.values())
            and p["phone_numbers"]
            and company
            and all(v is not None for v in company.values())
        ):
            return p
    raise AssertionError("the data set has no fully populated person")
