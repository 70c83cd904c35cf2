"""The sandbox suites' own helpers: raw bytes over a socket, picking people from the data set, and driving an
enrichment job over HTTP. Shared helpers (error envelopes, ground truth, the request log) are in ``support.py``."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable
from typing import Any

import httpx

from amplemarket.testing import Sandbox

JOB_PATH = "/people/enrichment-requests"


def raw_http(sb: Sandbox, request: bytes) -> bytes:
    """Sends bytes on a fresh connection and returns what comes back before the server closes or goes quiet."""
    data = b""
    with socket.create_connection((sb.host, sb.port), timeout=5) as s:
        # the server may answer and close before reading everything
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            s.sendall(request)
        try:
            while chunk := s.recv(65536):
                data += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    return data


def pick(people: list[dict[str, Any]], pred: Callable[[dict[str, Any]], bool], n: int = 1) -> list[dict[str, Any]]:
    found = [p for p in people if pred(p)][:n]
    assert len(found) == n, "the data set has too few people for this test"
    return found


def create_job(api: httpx.Client, leads: list[dict[str, Any]], **body: Any) -> dict[str, Any]:
    r = api.post(JOB_PATH, json={"leads": leads, **body})
    assert r.status_code == 202, r.text[:1000]
    job: dict[str, Any] = r.json()
    return job


def poll(api: httpx.Client, job_id: int, limit: int = 50, **params: Any) -> dict[str, Any]:
    """Polls a job until it reaches a terminal status; returns the last body."""
    for _ in range(limit):
        r = api.get(f"{JOB_PATH}/{job_id}", params=params)
        assert r.status_code == 200, r.text[:1000]
        body: dict[str, Any] = r.json()
        if body["status"] in ("completed", "canceled", "error"):
            return body
    raise AssertionError(f"job {job_id} did not finish in {limit} polls")


def all_results(api: httpx.Client, first_page: dict[str, Any]) -> list[dict[str, Any]]:
    """Follows ``next`` links from a first page, returning every result."""
    results = list(first_page["results"])
    page = first_page
    while "next" in page["_links"]:
        r = api.get(page["_links"]["next"]["href"])
        assert r.status_code == 200, r.text[:1000]
        page = r.json()
        results.extend(page["results"])
    return results


COMPANY_JOBS = "/companies/enrichment-requests"
VALIDATIONS = "/email-validations"
TERMINAL = ("completed", "canceled", "error")


def start(api: httpx.Client, path: str, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    """Creates a job of any kind (202 expected) and returns its body."""
    r = api.post(path, json=body, headers=headers or None)
    assert r.status_code == 202, r.text[:1000]
    assert r.headers["location"] == r.json()["_links"]["self"]["href"]
    job: dict[str, Any] = r.json()
    return job


def finish(api: httpx.Client, href: str, limit: int = 50, **params: Any) -> dict[str, Any]:
    """Polls a job of any kind at ``href`` until it reaches a terminal status; returns the last body."""
    for _ in range(limit):
        r = api.get(href, params=params)
        assert r.status_code == 200, r.text[:1000]
        body: dict[str, Any] = r.json()
        if body["status"] in TERMINAL:
            return body
    raise AssertionError(f"{href} did not finish in {limit} polls")
