"""The cache file shared by processes: 8 processes finding overlapping people at once, a process SIGKILLed while
writing, and a disk that fills up mid-run. Real processes, a real sandbox server, real SQLite."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from support import ENV, wait_for

import amplemarket
from amplemarket.testing import Sandbox

WORKER = textwrap.dedent(
    """
    import json, sys, amplemarket
    url, key, path, emails = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    with amplemarket.Client(key, base_url=url, rate_limit=False, cache=path) as c:
        found = amplemarket.Person.find_many([{"email": e} for e in emails], client=c, concurrency=16)
        print(json.dumps([[e, f.person.id if f.person else None, f.from_cache] for e, f in zip(emails, found)]))
    """
)


def run(*args: str, timeout: float = 300) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV
    )


@pytest.mark.amplemarket_sandbox(people=4_000)
def test_eight_processes_share_one_file_without_corruption(
    sb: Sandbox, tmp_path: Path, people: list[dict[str, Any]]
) -> None:
    path = tmp_path / "shared.sqlite3"
    pool = [p for p in people if p.get("email") and not p.get("_gdpr_removed")][:3_000]
    truth = {p["email"]: p["id"] for p in pool}
    emails = list(truth)
    # Each process: 2,000 emails, overlapping the others' by a third or more.
    jobs = [emails[(i * 125) % 1_000 :][:2_000] for i in range(8)]
    procs = [run(WORKER, sb.url, sb.api_key, str(path), json.dumps(j)) for j in jobs]
    answers = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert "CacheWarning" not in err, err
        answers.append(json.loads(out))
    for job, got in zip(jobs, answers, strict=True):
        assert [e for e, _, _ in got] == job
        assert all(pid == truth[e] for e, pid, _ in got), "every answer is the right person"
    # A ninth process, after them, is answered from the file alone.
    last = run(WORKER, sb.url, sb.api_key, str(path), json.dumps(emails[:2_000]))
    out, err = last.communicate(timeout=300)
    assert last.returncode == 0, err
    assert all(cached and pid == truth[e] for e, pid, cached in json.loads(out))
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    stored = db.execute("SELECT count(DISTINCT key) FROM answers WHERE op = 'person.find'").fetchone()[0]
    assert stored == len(set().union(*map(set, jobs))), "no write was lost"


KILLED = textwrap.dedent(
    """
    import sys, amplemarket
    url, key, path, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    with amplemarket.Client(key, base_url=url, rate_limit=False, cache=path) as c:
        for i in range(n):
            amplemarket.Person.find(email=f"nobody{i}@nowhere.example.com", client=c)
            print(i, flush=True)
    """
)


def test_a_process_killed_while_writing_leaves_a_usable_cache(sb: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "killed.sqlite3"
    proc = run(KILLED, sb.url, sb.api_key, str(path), "100000")
    assert proc.stdout is not None
    wait_for(lambda: proc.stdout.readline().strip() == "300", timeout=60)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT count(*) FROM answers").fetchone()[0] >= 300
    with sb.client(rate_limit=False, cache=path) as c:
        assert amplemarket.Person.find(email="nobody0@nowhere.example.com", client=c) is None
        assert c.cache is not None and c.cache.stats()["hits"] == 1


FULL_DISK = textwrap.dedent(
    """
    import resource, signal, sys, warnings, amplemarket
    url, key, path = sys.argv[1], sys.argv[2], sys.argv[3]
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    with amplemarket.Client(key, base_url=url, rate_limit=False, cache=path) as c:
        amplemarket.Company.find(domain="techco.com", client=c)
        # From here on no file may grow: the next writes fail as on a full disk.
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            found = [amplemarket.Person.find(email=f"nobody{i}@nowhere.example.com", client=c) for i in range(200)]
        first = seen[0] if seen else None
        kind = type(first.message).__name__ if first else ""
        print(len(found), found.count(None), len(seen), kind, first and first.message)
    """
)


def test_a_full_disk_warns_once_and_the_calls_go_on(sb: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "full.sqlite3"
    proc = run(FULL_DISK, sb.url, sb.api_key, str(path))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    n, none, warned, category, message = out.strip().split(" ", 4)
    assert (n, none, warned, category) == ("200", "200", "1", "CacheWarning")
    assert "going on without it" in message and str(path) in message
    time.sleep(0)  # the file is left as it was: still a usable cache
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)
