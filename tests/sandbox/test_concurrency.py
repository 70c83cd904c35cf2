"""Many requests at once: concurrent finds over one async client, and jobs created from many threads."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
from support import client_for

from amplemarket.testing import Sandbox

from ._helpers import JOB_PATH


async def test_200_concurrent_finds_are_all_answered_correctly(sb: Sandbox, live: list[dict[str, Any]]) -> None:
    targets = live[:200]
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    headers = {"Authorization": f"Bearer {sb.api_key}"}
    async with httpx.AsyncClient(base_url=sb.url, headers=headers, limits=limits, timeout=30) as c:
        responses = await asyncio.gather(
            *(c.get("/people/find", params={"linkedin_url": p["linkedin_url"]}) for p in targets)
        )
    assert [r.status_code for r in responses] == [200] * 200
    assert [r.json()["id"] for r in responses] == [p["id"] for p in targets]
    log = sb.requests
    assert len(log) == 200
    assert len({e["seq"] for e in log}) == 200
    assert sorted(e["query"] for e in log) == sorted(str(r.request.url.query, "ascii") for r in responses)


async def test_concurrent_mixed_routes(sb: Sandbox, live: list[dict[str, Any]]) -> None:
    p = live[0]
    headers = {"Authorization": f"Bearer {sb.api_key}"}
    async with httpx.AsyncClient(base_url=sb.url, headers=headers, timeout=30) as c:
        calls = []
        for i in range(30):
            calls.append(c.get("/people/find", params={"email": p["email"]}))
            calls.append(c.post("/people/search", json={"page": i + 1, "page_size": 5}))
            calls.append(c.post(JOB_PATH, json={"leads": [{"email": p["email"]}]}))
        responses = await asyncio.gather(*calls)
    assert sorted({r.status_code for r in responses}) == [200, 202]
    job_ids = [r.json()["id"] for r in responses if r.status_code == 202]
    assert sorted(job_ids) == list(range(1, 31))
    # one found charge for the one person, however many finds raced
    assert [c["kind"] for c in sb.credits["charges"]] == ["found"]


def test_jobs_created_from_16_threads_get_distinct_ids(sb: Sandbox, live: list[dict[str, Any]]) -> None:
    leads = [{"linkedin_url": p["linkedin_url"]} for p in live[:20]]
    ids: list[int] = []
    locations: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def work() -> None:
        try:
            with client_for(sb) as c:
                start.wait()
                for _ in range(4):
                    r = c.post(JOB_PATH, json={"leads": leads})
                    assert r.status_code == 202, r.text
                    with lock:
                        ids.append(r.json()["id"])
                        locations.append(r.headers["location"])
        except BaseException as e:  # reported below
            with lock:
                errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(ids) == 64
    assert sorted(ids) == list(range(1, 65))
    assert sorted(locations) == sorted(f"{JOB_PATH}/{i}" for i in ids)
    # every job is there and independent: result ids never overlap
    with client_for(sb) as c:
        sb.configure(job_progression="immediate")
        seen: set[int] = set()
        for i in range(1, 65):
            body = c.get(f"{JOB_PATH}/{i}").json()
            if body["status"] != "completed":
                body = c.get(f"{JOB_PATH}/{i}").json()
            assert body["status"] == "completed"
            rids = {r["id"] for r in body["results"]}
            assert len(rids) == 20 and not rids & seen
            seen |= rids


def test_idempotency_key_under_a_race(sb: Sandbox, live: list[dict[str, Any]]) -> None:
    leads = [{"linkedin_url": live[0]["linkedin_url"]}]
    ids: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def work() -> None:
        with client_for(sb) as c:
            start.wait()
            r = c.post(JOB_PATH, json={"leads": leads}, headers={"Idempotency-Key": "race-1"})
            with lock:
                ids.append(r.json()["id"])

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 8 and set(ids) == {1}
    with client_for(sb) as c:
        assert c.post(JOB_PATH, json={"leads": leads}).json()["id"] == 2
