"""What the scale-out suites share: an ``amplemarket sandbox`` server process whose request log and ledger are read
when it stops (``--record``), leads drawn from its data set, and checks over what it received."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from support import CREATE, free_port

# A key long enough that any 8-character piece of it is unmistakable in a log or a plan.
KEY = "amp_live_scale_secret_7f3a9c1e5b2d"
PEOPLE = 3000


class ServerProcess:
    """``amplemarket sandbox`` in its own process. ``stop()`` ends it and returns what it recorded."""

    def __init__(self, tmp: Path, *settings: str, people: int = PEOPLE) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.record_path = tmp / f"sandbox-{self.port}.json"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "amplemarket.cli",
                "sandbox",
                "--port",
                str(self.port),
                "--people",
                str(people),
                "--api-key",
                KEY,
                "--record",
                str(self.record_path),
                "--set",
                "poll_retry_after=0",
                *settings,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        assert "serving" in first, first + self.proc.stderr.read() if self.proc.stderr else first
        self._record: dict[str, Any] | None = None

    def stop(self) -> dict[str, Any]:
        if self._record is None:
            self.proc.terminate()
            self.proc.communicate(timeout=60)
            self._record = json.loads(self.record_path.read_text(encoding="utf-8"))
        return self._record

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=30)


def people_of(server: ServerProcess, n: int) -> list[dict[str, Any]]:
    """The first ``n`` live people with an email, read from the server's own records (in-process twin of its data
    set: same seed, same size)."""
    from amplemarket.testing import Sandbox

    with Sandbox(people=PEOPLE) as twin:
        found = [p for p in twin.people if p.get("email") and not p.get("_gdpr_removed")]
    return found[:n]


def creations(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The enrichment requests the server accepted (202), in order."""
    return [r for r in record["requests"] if r["route"] == CREATE and r["status"] == 202]


def submitted_leads(record: dict[str, Any]) -> Counter[str]:
    """How often each lead (its JSON) was submitted, over the distinct jobs (a replay of a key counts once)."""
    seen_keys: set[str] = set()
    counts: Counter[str] = Counter()
    for r in creations(record):
        key = r["headers"].get("idempotency-key")
        if key in seen_keys:
            continue
        seen_keys.add(key)
        for lead in json.loads(r["body"])["leads"]:
            counts[json.dumps(lead, sort_keys=True)] += 1
    return counts


def jobs_polled(record: dict[str, Any]) -> set[str]:
    """The ids of the enrichment jobs clients asked about."""
    return {
        r["path"].rsplit("/", 1)[1] for r in record["requests"] if r["route"] == "GET /people/enrichment-requests/{id}"
    }


def statuses(record: dict[str, Any]) -> Counter[int]:
    return Counter(int(r["status"]) for r in record["requests"] if r["status"] is not None)


def steady_rate(record: dict[str, Any]) -> float:
    """Requests per second over the middle of the run (the 10th to the 90th percentile of arrivals), leaving out the
    start (engines starting tasks) and the tail (the last task alone)."""
    times = sorted(float(r["time"]) for r in record["requests"])
    lo, hi = int(len(times) * 0.1), int(len(times) * 0.9)
    return (hi - lo) / (times[hi] - times[lo])


def wait_until_listening(url: str, timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/openapi.json", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
