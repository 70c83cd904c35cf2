"""Helpers shared by the sandbox suites: error-envelope checks, ground truth from the data set, job polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from amplemarket.testing import Sandbox

# Settings most tests want: no rate limits, no waiting between polls.
FAST: dict[str, Any] = {"rate_limit": None, "search_rate_limit": None, "poll_retry_after": 0}

JOB_PATH = "/people/enrichment-requests"

# The records every data set holds after its synthetic ones: Jane Doe and Sam Rivera at TechCo, used by the README.
DOCUMENTED_PEOPLE = 2
DOCUMENTED_COMPANIES = 1


def client_for(sandbox: Sandbox, **kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` for ``sandbox`` sending its API key."""
    kwargs.setdefault("timeout", 30.0)
    return httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {sandbox.api_key}"}, **kwargs)


# -- checks --------------------------------------------------------------------------------------------------------


def is_json_content_type(value: str | None) -> bool:
    return value is not None and value.split(";")[0].strip() in ("application/json", "application/vnd.amp+json")


def error_of(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """Asserts that ``r`` is the documented error envelope with this status (and code); returns its first error."""
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text[:500]}"
    assert is_json_content_type(r.headers.get("content-type")), r.headers.get("content-type")
    body = r.json()
    assert list(body) == ["object", "_errors"], body
    assert body["object"] == "error"
    assert isinstance(body["_errors"], list) and body["_errors"], body
    for e in body["_errors"]:
        assert isinstance(e["status"], str), e
        assert e["status"] == str(status), e
        for k in ("code", "title", "detail"):
            assert isinstance(e[k], str) and e[k], (k, e)
        if "source" in e:
            assert len(e["source"]) == 1 and next(iter(e["source"])) in ("parameter", "pointer", "header"), e
    first: dict[str, Any] = body["_errors"][0]
    if code is not None:
        assert first["code"] == code, body
    return first


def retry_after(r: httpx.Response) -> int:
    value = r.headers.get("retry-after")
    assert value is not None, f"no Retry-After on {r.status_code}"
    assert value.isdigit(), value
    return int(value)


# -- data helpers --------------------------------------------------------------------------------------------------


def live(people: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The people not removed for GDPR."""
    return [p for p in people if not p.get("_gdpr_removed")]


def pick(people: list[dict[str, Any]], pred: Callable[[dict[str, Any]], bool], n: int = 1) -> list[dict[str, Any]]:
    found = [p for p in people if pred(p)][:n]
    assert len(found) == n, "the data set has too few people for this test"
    return found


def public(person: dict[str, Any], email: bool = False, phones: bool = False) -> dict[str, Any]:
    """What the API shows of a full record for the given reveals."""
    out = {k: v for k, v in person.items() if k != "_gdpr_removed"}
    if not email:
        out.pop("email", None)
    if not phones:
        out.pop("phone_numbers", None)
    return out


def domain_of(company: dict[str, Any]) -> str:
    website: str = company["website"]
    return website.split("://", 1)[-1].strip("/")


# -- enrichment helpers --------------------------------------------------------------------------------------------


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


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Polls ``predicate`` until it holds or ``timeout`` seconds pass (for state the server updates later)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
