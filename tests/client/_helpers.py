"""Helpers shared by the client suites: running a call in its blocking or awaitable form, the sandbox's request
log, ground truth from the data set."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from amplemarket.testing import Sandbox

# Settings most tests want: no server-side rate limits (pacing has its own test).
FAST: dict[str, Any] = {"rate_limit": None, "search_rate_limit": None}

FIND = "GET /people/find"
SEARCH = "POST /people/search"
COMPANY = "GET /companies/find"


def call(mode: str, owner: Any, name: str, /, **kwargs: Any) -> Any:
    """``owner.name(**kwargs)`` (blocking) or ``await owner.name_async(**kwargs)`` in a fresh event loop."""
    if mode == "sync":
        return getattr(owner, name)(**kwargs)

    async def run() -> Any:
        return await getattr(owner, f"{name}_async")(**kwargs)

    return asyncio.run(run())


def sent(sb: Sandbox, route: str | None = None) -> list[dict[str, Any]]:
    """The requests the sandbox received (for one route, such as ``"GET /people/find"``)."""
    return [r for r in sb.requests if route is None or r["route"] == route]


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Polls ``predicate`` until it holds or ``timeout`` seconds pass (for state the server records later)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def domain_of(company: dict[str, Any]) -> str:
    website: str = company["website"]
    return website.split("://", 1)[-1].strip("/")


def public(person: dict[str, Any], email: bool = False, phones: bool = False) -> dict[str, Any]:
    """What the API shows of a full record for the given reveals."""
    out = {k: v for k, v in person.items() if k != "_gdpr_removed"}
    if not email:
        out.pop("email", None)
    if not phones:
        out.pop("phone_numbers", None)
    return out
