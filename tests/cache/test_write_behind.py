"""An enrichment's answers are written to the cache behind the call: a process that ends right after the call (with
or without closing its client) still leaves every answer in the file, and a process killed before they are written
leaves a usable file."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from support import ENV, last_seq, sent

from amplemarket import Person
from amplemarket.testing import Sandbox

ENRICH_THEN_END = textwrap.dedent(
    """
    import os, sys, amplemarket
    url, key, path, how = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    emails = sys.stdin.read().split()
    client = amplemarket.Client(key, base_url=url, rate_limit=False, cache=path)
    results = amplemarket.Person.enrich([{"email": e} for e in emails], client=client)
    assert len(results) == len(emails) and not any(r.from_cache for r in results)
    if how == "close":
        client.close()
    elif how == "killed":
        os._exit(0)  # no interpreter shutdown: what was still behind the call is lost
    """
)


def live_emails(people: list[dict[str, Any]], n: int) -> list[str]:
    return [p["email"] for p in people if p.get("email") and not p.get("_gdpr_removed")][:n]


def enrich_in_child(sb: Sandbox, path: Path, emails: list[str], how: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", ENRICH_THEN_END, sb.url, sb.api_key, str(path), how],
        input="\n".join(emails),
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "CacheWarning" not in done.stderr, done.stderr


@pytest.mark.parametrize("how", ["close", "exit"])
def test_every_answer_is_in_the_file_when_the_process_ends(
    sb: Sandbox, tmp_path: Path, people: list[dict[str, Any]], how: str
) -> None:
    path, emails = tmp_path / "c.sqlite3", live_emails(people, 2_000)
    enrich_in_child(sb, path, emails, how)
    stored = sqlite3.connect(path).execute("SELECT count(*) FROM answers").fetchone()[0]
    assert stored == len(emails)
    since = last_seq(sb)
    with sb.client(rate_limit=False, cache=path) as c:
        again = Person.enrich([{"email": e} for e in emails], client=c)
    assert all(r.from_cache for r in again)
    assert sent(sb, since=since) == []


def test_a_process_killed_before_its_answers_are_written_leaves_a_usable_file(
    sb: Sandbox, tmp_path: Path, people: list[dict[str, Any]]
) -> None:
    path, emails = tmp_path / "c.sqlite3", live_emails(people, 2_000)
    enrich_in_child(sb, path, emails, "killed")
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    stored = db.execute("SELECT count(*) FROM answers").fetchone()[0]
    assert stored in (0, len(emails)), "a batch is stored in one transaction, or not at all"
    with sb.client(rate_limit=False, cache=path) as c:
        again = Person.enrich([{"email": e} for e in emails], client=c)
        assert sum(r.from_cache for r in again) == stored
        assert c.cache.stats()["entries"] == len(emails), "what was lost is stored by the re-run"


def test_small_batches_are_stored_before_the_call_returns(
    sb: Sandbox, tmp_path: Path, people: list[dict[str, Any]]
) -> None:
    path, emails = tmp_path / "c.sqlite3", live_emails(people, 10)
    with sb.client(rate_limit=False, cache=path) as c:
        Person.enrich([{"email": e} for e in emails], client=c)
        # Another connection, not this process's cache: nothing here waits for a thread behind the call.
        assert sqlite3.connect(path).execute("SELECT count(*) FROM answers").fetchone()[0] == len(emails)
