"""Helpers shared by the bulk and CLI suites: running a call in its blocking or awaitable form, reading the
sandbox's request log, building leads from the data set, and running the command line."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sandbox._helpers import DOCUMENTED_COMPANIES, DOCUMENTED_PEOPLE  # noqa: F401 (for the bulk suites)

from amplemarket.testing import Sandbox

# Settings most tests want: no server-side rate limits, no Retry-After pause between polls.
FAST: dict[str, Any] = {"rate_limit": None, "search_rate_limit": None, "poll_retry_after": 0}

CREATE = "POST /people/enrichment-requests"
POLL = "GET /people/enrichment-requests/{id}"
PATCH = "PATCH /people/enrichment-requests/{id}"
FIND = "GET /people/find"

CLI = [sys.executable, "-m", "amplemarket.cli"]
# The CLI never sees the developer's AMPLEMARKET_* variables.
ENV = {k: v for k, v in os.environ.items() if not k.startswith("AMPLEMARKET_")}


def call(mode: str, owner: Any, name: str, /, *args: Any, **kwargs: Any) -> Any:
    """``owner.name(...)`` (blocking) or ``await owner.name_async(...)`` in a fresh event loop."""
    if mode == "sync":
        return getattr(owner, name)(*args, **kwargs)

    async def run() -> Any:
        return await getattr(owner, f"{name}_async")(*args, **kwargs)

    return asyncio.run(run())


def collect(mode: str, job: Any, **kwargs: Any) -> list[Any]:
    """Every result of ``job``: ``list(job.results())`` or the ``results_async()`` stream."""
    if mode == "sync":
        return list(job.results(**kwargs))

    async def run() -> list[Any]:
        return [r async for r in job.results_async(**kwargs)]

    return asyncio.run(run())


def sent(sb: Sandbox, route: str | None = None, since: int = 0) -> list[dict[str, Any]]:
    """The requests the sandbox received (for one route, such as ``CREATE``), after ``seq`` ``since``."""
    return [r for r in sb.requests_since(since) if route is None or r["route"] == route]


def last_seq(sb: Sandbox) -> int:
    log = sb.requests
    return int(log[-1]["seq"]) if log else 0


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


def domain_of(company: dict[str, Any]) -> str:
    website: str = company["website"]
    return website.split("://", 1)[-1].strip("/")


def same_person(person: Any, truth: dict[str, Any]) -> bool:
    return bool(person is not None and person.id == truth["id"] and person.linkedin_url == truth["linkedin_url"])


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, every: float = 0.005) -> Any:
    """Polls ``predicate`` until it gives something truthy (returned) or ``timeout`` seconds pass (``None``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    return None


# -- the command line ------------------------------------------------------------------------------------------


def cli(
    *args: str, cwd: Path | None = None, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs ``amplemarket ARGS`` to completion (``env``: variables set on top of ``ENV``)."""
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        env=ENV | (env or {}),
        cwd=cwd,
        timeout=timeout,
        encoding="utf-8",
    )


def against(sb: Sandbox, api_key: str | None = None) -> list[str]:
    """Options pointing the CLI at ``sb``."""
    return ["--base-url", sb.url, "--api-key", api_key or sb.api_key]


def start_cli(*args: str, cwd: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        cwd=cwd,
        encoding="utf-8",
    )


def write_rows(path: Path, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> Path:
    """Writes a lead file by extension: ``.csv`` (with a header), ``.jsonl`` or ``.json``."""
    suffix = path.suffix
    if suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(columns))
            w.writeheader()
            for r in rows:
                w.writerow({c: r.get(c, "") for c in columns})
    elif suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    else:
        path.write_text(json.dumps(list(rows)), encoding="utf-8")
    return path


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a result file; CSV cells as strings, JSON values as they are."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".csv":
        return list(csv.DictReader(io.StringIO(text, newline="")))
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data: list[dict[str, Any]] = json.loads(text)
    return data


def state_file(output: Path) -> Path:
    return output.with_name(output.name + ".amplemarket-state.json")


def read_state(output: Path) -> dict[str, Any] | None:
    """The CLI's state file for ``output`` if it exists and is complete JSON (it is replaced atomically)."""
    try:
        data: dict[str, Any] = json.loads(state_file(output).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data
