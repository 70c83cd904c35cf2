"""The bulk suites' own helpers: collecting a job's results in either form, what the enrichment requests carried,
overlap of requests in time, and leads built from the data set. Shared helpers are in ``support.py``."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Sequence
from typing import Any

from support import CREATE, domain_of, sent

from amplemarket.testing import Sandbox


def collect(mode: str, job: Any, **kwargs: Any) -> list[Any]:
    """Every result of ``job``: ``list(job.results())`` or the ``results_async()`` stream."""
    if mode == "sync":
        return list(job.results(**kwargs))

    async def run() -> list[Any]:
        return [r async for r in job.results_async(**kwargs)]

    return asyncio.run(run())


def leads_sent(sb: Sandbox, since: int = 0) -> list[list[dict[str, Any]]]:
    """The leads of every enrichment request received, one list per request."""
    return [json.loads(r["body"])["leads"] for r in sent(sb, CREATE, since)]


def max_overlap(entries: Sequence[dict[str, Any]]) -> int:
    """The most requests of the log that were in progress at the same moment (from ``time`` and ``duration``)."""
    events: list[tuple[float, int]] = []
    for e in entries:
        events.append((e["time"], 1))
        events.append((e["time"] + e["duration"], -1))
    events.sort(key=lambda ev: (ev[0], ev[1]))  # an end at the same instant as a start comes first
    current = most = 0
    for _, delta in events:
        current += delta
        most = max(most, current)
    return most


def pages(n: int, size: int) -> int:
    return math.ceil(n / size)


def lead_for(person: dict[str, Any], how: str) -> dict[str, str]:
    """A lead that identifies ``person`` by ``email``, ``linkedin_url`` or ``name`` (with the company domain)."""
    if how == "email":
        return {"email": person["email"]}
    if how == "linkedin_url":
        return {"linkedin_url": person["linkedin_url"]}
    return {"name": person["name"], "title": person["title"], "company_domain": domain_of(person["company"])}


def mixed_leads(people: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """One lead per person, alternating email and LinkedIn URL (LinkedIn when the person has no email)."""
    return [lead_for(p, "email" if i % 2 == 0 and p.get("email") else "linkedin_url") for i, p in enumerate(people)]
