"""One benchmark workload for one client, in a fresh process; prints one JSON line with its figures.

    python bench/workloads.py WORKLOAD CLIENT --url URL --key KEY [--n N] [--concurrency C] [--job ID]

Run by ``bench/run.py``; each run is its own process so peak RSS and CPU time belong to that client alone.
Baselines are written the way a good Python engineer would: one reused client or session, pooled connections.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_rss_mb() -> float:
    """This process's peak RSS. On Linux from VmHWM: ``ru_maxrss`` survives ``exec``, so a small client would
    report the peak of the ``run.py`` that started it."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_emails(path: str, n: int) -> list[str]:
    with open(path, encoding="utf-8") as f:
        emails = [line.strip() for line in f if line.strip()]
    return (emails * (n // len(emails) + 1))[:n]


# -- 1. fan-out finds ------------------------------------------------------------------------------------------


def fanout(client: str, url: str, key: str, emails: list[str], concurrency: int) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    if client == "amplemarket":
        import amplemarket

        c = amplemarket.Client(api_key=key, base_url=url, rate_limit=False, max_retries=0)
        results = amplemarket.Person.find_many([{"email": e} for e in emails], concurrency=concurrency, client=c)
        return sum(r.person is not None for r in results)
    if client == "amplemarket-async":
        import amplemarket

        async def run() -> int:
            c = amplemarket.Client(api_key=key, base_url=url, rate_limit=False, max_retries=0)
            sem = asyncio.Semaphore(concurrency)

            async def one(e: str) -> Any:
                async with sem:
                    return await amplemarket.Person.find_async(email=e, client=c)

            found = await asyncio.gather(*(one(e) for e in emails))
            return sum(p is not None for p in found)

        return asyncio.run(run())
    if client in ("httpx", "httpx-orjson"):
        import httpx

        loads: Callable[[bytes], Any] = json.loads
        if client == "httpx-orjson":
            import orjson

            loads = orjson.loads

        async def run_httpx() -> int:
            limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
            async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits) as c:
                sem = asyncio.Semaphore(concurrency)

                async def one(e: str) -> Any:
                    async with sem:
                        r = await c.get("/people/find", params={"email": e})
                        return loads(r.content) if r.status_code == 200 else None

                found = await asyncio.gather(*(one(e) for e in emails))
                return sum(p is not None for p in found)

        return asyncio.run(run_httpx())
    if client == "requests":
        import requests
        from requests.adapters import HTTPAdapter

        s = requests.Session()
        s.headers.update(headers)
        s.mount("http://", HTTPAdapter(pool_connections=concurrency, pool_maxsize=concurrency))

        def one(e: str) -> Any:
            r = s.get(f"{url}/people/find", params={"email": e})
            return r.json() if r.status_code == 200 else None

        with ThreadPoolExecutor(concurrency) as pool:
            return sum(p is not None for p in pool.map(one, emails))
    if client == "aiohttp":
        import aiohttp

        async def run_aiohttp() -> int:
            conn = aiohttp.TCPConnector(limit=concurrency)
            async with aiohttp.ClientSession(url, headers=headers, connector=conn) as c:
                sem = asyncio.Semaphore(concurrency)

                async def one(e: str) -> Any:
                    async with sem, c.get("/people/find", params={"email": e}) as r:
                        return await r.json() if r.status == 200 else None

                found = await asyncio.gather(*(one(e) for e in emails))
                return sum(p is not None for p in found)

        return asyncio.run(run_aiohttp())
    raise SystemExit(f"unknown client {client}")


# -- 2. sequential blocking finds ---------------------------------------------------------------------------------


def sequential(client: str, url: str, key: str, emails: list[str]) -> list[float]:
    headers = {"Authorization": f"Bearer {key}"}
    call: Callable[[str], Any]
    if client == "amplemarket":
        import amplemarket

        c = amplemarket.Client(api_key=key, base_url=url, rate_limit=False, max_retries=0)

        def call(e: str) -> Any:
            return amplemarket.Person.find(email=e, client=c)

    elif client == "requests":
        import requests

        s = requests.Session()
        s.headers.update(headers)

        def call(e: str) -> Any:
            return s.get(f"{url}/people/find", params={"email": e}).json()

    elif client in ("httpx", "httpx-orjson"):
        import httpx

        hc = httpx.Client(base_url=url, headers=headers)

        def call(e: str) -> Any:
            return hc.get("/people/find", params={"email": e}).json()

    else:
        raise SystemExit(f"no sequential form for {client}")
    times = []
    for e in emails:
        t = time.perf_counter()
        call(e)
        times.append(time.perf_counter() - t)
    return times


# -- 3. bulk results ---------------------------------------------------------------------------------------------


def bulk(client: str, url: str, key: str, job_id: int) -> int:
    """Every result of a finished job as Python objects, then one nested field read from each."""
    seen = 0
    if client == "amplemarket":
        import amplemarket

        c = amplemarket.Client(api_key=key, base_url=url, rate_limit=False, max_retries=0)
        job = amplemarket.EnrichmentJob.get(job_id, client=c)
        results = list(job.results(page_size=100))
        for r in results:
            p = r.person
            if p is not None and p.company is not None and p.company.name:
                seen += 1
        return seen
    import httpx

    loads: Callable[[bytes], Any] = json.loads
    if client == "httpx-orjson":
        import orjson

        loads = orjson.loads
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as hc:
        results: list[dict[str, Any]] = []
        body = loads(hc.get(f"/people/enrichment-requests/{job_id}", params={"page[size]": "100"}).content)
        while True:
            results.extend(body["results"])
            nxt = body["_links"].get("next")
            if not nxt:
                break
            body = loads(hc.get(nxt["href"]).content)
    for r in results:
        company = (r.get("result") or {}).get("company") or {}
        if company.get("name"):
            seen += 1
    return seen


# -- 4. search paging --------------------------------------------------------------------------------------------


def search(client: str, url: str, key: str, pages: int) -> int:
    if client == "amplemarket":
        import amplemarket

        c = amplemarket.Client(api_key=key, base_url=url, rate_limit=False, max_retries=0)
        n = 0
        for p in amplemarket.Person.search_iter(page_size=10, max_results=pages * 10, client=c):
            n += 1 if p.name else 0
        return n
    import httpx

    loads: Callable[[bytes], Any] = json.loads
    if client == "httpx-orjson":
        import orjson

        loads = orjson.loads
    n = 0
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as hc:
        for page in range(1, pages + 1):
            body = loads(hc.post("/people/search", json={"page": page, "page_size": 10}).content)
            n += sum(1 for p in body["results"] if p.get("name"))
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("workload", choices=["fanout", "sequential", "bulk", "search"])
    ap.add_argument("client")
    ap.add_argument("--url", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--emails", default=None)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--job", type=int, default=0)
    a = ap.parse_args()
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    out: dict[str, Any] = {"workload": a.workload, "client": a.client}
    if a.workload == "fanout":
        out["found"] = fanout(a.client, a.url, a.key, load_emails(a.emails, a.n), a.concurrency)
    elif a.workload == "sequential":
        times = sequential(a.client, a.url, a.key, load_emails(a.emails, a.n))
        out["median_latency_ms"] = statistics.median(times) * 1000
    elif a.workload == "bulk":
        out["found"] = bulk(a.client, a.url, a.key, a.job)
    else:
        out["found"] = search(a.client, a.url, a.key, a.n)
    out["wall_s"] = time.perf_counter() - t0
    out["cpu_s"] = cpu_seconds() - cpu0
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
