"""The result cache against a real sandbox over HTTP: what is answered from it (the request log and the credit
ledger decide), which answer serves which query, per-account scope, GDPR, TTLs, single flight, and the file itself
(private, keyless, refused when it is not a cache)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from support import CREATE, FIND, last_seq, sent

import amplemarket
from amplemarket import Cache, Company, ConfigurationError, EnrichmentResult, Person
from amplemarket.testing import Sandbox


def live(people: list[dict[str, Any]], n: int, start: int = 0) -> list[dict[str, Any]]:
    """People the API answers for (not removed for GDPR) with an email."""
    return [p for p in people[start:] if not p.get("_gdpr_removed") and p.get("email")][:n]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "answers.sqlite3"


@pytest.fixture
def cached(sb: Sandbox, path: Path) -> amplemarket.Client:
    with sb.client(rate_limit=False, cache=path) as c:
        yield c


def test_a_second_enrich_of_10000_leads_sends_nothing_and_costs_nothing(
    sb: Sandbox, cached: amplemarket.Client, people: list[dict[str, Any]]
) -> None:
    leads = [{"email": p["email"]} for p in live(people, 10_000)]
    assert len(leads) >= 9_000
    first = Person.enrich(leads, reveal_email=True, client=cached)
    assert not any(r.from_cache for r in first)
    since, ledger = last_seq(sb), sb.credits["email_credits"]
    again = Person.enrich(leads, reveal_email=True, client=cached)
    assert sent(sb, since=since) == []
    assert sb.credits["email_credits"] == ledger
    assert all(r.from_cache for r in again)
    assert [r.to_dict() for r in again] == [r.to_dict() for r in first]
    assert again.to_arrow().num_rows == len(leads)
    stats = cached.cache.stats()
    assert stats["hits"] >= len(leads) and stats["requests_saved"] >= len(leads)


def test_only_the_leads_the_cache_cannot_answer_are_sent(
    sb: Sandbox, cached: amplemarket.Client, people: list[dict[str, Any]]
) -> None:
    some = [{"email": p["email"]} for p in live(people, 30)]
    Person.enrich(some[:20], client=cached)
    since = last_seq(sb)
    results = Person.enrich(some, client=cached)
    import json

    bodies = [json.loads(r["body"])["leads"] for r in sent(sb, CREATE, since)]
    assert bodies == [some[20:]]
    assert [r.from_cache for r in results] == [True] * 20 + [False] * 10
    assert [r.email for r in results] == [lead["email"] for lead in some]


def test_more_reveals_serve_fewer_never_the_reverse(
    sb: Sandbox, cached: amplemarket.Client, people: list[dict[str, Any]], mode: str
) -> None:
    from support import call

    p = live(people, 1, start=40)[0]
    plain = call(mode, Person, "find", email=p["email"], client=cached)
    since = last_seq(sb)
    revealed = call(mode, Person, "find", email=p["email"], reveal_email=True, client=cached)
    assert len(sent(sb, FIND, since)) == 1, "a plain answer cannot serve a reveal"
    assert revealed.email == p["email"] and plain.email is None
    since = last_seq(sb)
    again = call(mode, Person, "find", email=f"  {p['email'].upper()} ", client=cached)
    assert sent(sb, FIND, since) == []
    assert again.to_dict() == revealed.to_dict(), "the revealed answer serves the plain query"


def test_find_many_marks_what_the_cache_answered(
    sb: Sandbox, cached: amplemarket.Client, people: list[dict[str, Any]]
) -> None:
    ps = live(people, 6, start=60)
    Person.find_many([{"email": p["email"]} for p in ps[:3]], client=cached)
    since = last_seq(sb)
    found = Person.find_many(
        [{"linkedin_url": ps[0]["linkedin_url"]}, *({"email": p["email"]} for p in ps)], client=cached
    )
    assert [f.from_cache for f in found] == [False, True, True, True, False, False, False]
    assert len(sent(sb, FIND, since)) == 4
    assert all(f.person is not None and f.person.id == p["id"] for f, p in zip(found[1:], ps, strict=True))


def test_not_found_answers_are_kept_for_their_own_ttl(sb: Sandbox, path: Path) -> None:
    with (
        sb.client(rate_limit=False, cache=Cache(path, not_found_ttl=0)) as short,
        sb.client(rate_limit=False, cache=Cache(path)) as normal,
    ):
        assert Person.find(email="nobody@nowhere.example.com", client=normal) is None
        since = last_seq(sb)
        assert Person.find(email="nobody@nowhere.example.com", client=normal) is None
        assert sent(sb, FIND, since) == []
        assert Person.find(email="nobody@nowhere.example.com", client=short) is None
        assert len(sent(sb, FIND, since)) == 1


def test_gdpr_removed_people_are_never_answered_from_the_cache(
    sb: Sandbox, cached: amplemarket.Client, people: list[dict[str, Any]]
) -> None:
    removed = next(p for p in people if p.get("_gdpr_removed"))
    for _ in range(2):
        with pytest.raises(amplemarket.UnavailableForLegalReasonsError):
            Person.find(linkedin_url=removed["linkedin_url"], client=cached)
    assert len(sent(sb, FIND)) == 2
    lead = {"linkedin_url": removed["linkedin_url"]}
    assert Person.enrich([lead], client=cached)[0].status == "gdpr_removed"
    again = Person.enrich([lead], client=cached)[0]
    assert again.status == "gdpr_removed" and not again.from_cache
    db = sqlite3.connect(cached.cache.path)
    assert db.execute("SELECT count(*) FROM answers").fetchone() == (0,), "nothing of the person is kept"
    markers = [m for (m,) in db.execute("SELECT identity FROM removed")]
    assert "li:" + removed["linkedin_url"].split("linkedin.com/")[1].strip("/").lower() in markers


def test_accounts_never_share_answers(sb: Sandbox, path: Path, people: list[dict[str, Any]]) -> None:
    p = live(people, 1, start=80)[0]
    with sb.client(rate_limit=False, cache=path) as first:
        Person.find(email=p["email"], client=first)
    sb.configure(api_key="amp_another_account_key")
    with amplemarket.Client("amp_another_account_key", base_url=sb.url, rate_limit=False, cache=path) as other:
        since = last_seq(sb)
        assert Person.find(email=p["email"], client=other) is not None
        assert len(sent(sb, FIND, since)) == 1
    data = path.read_bytes() + (
        path.with_name(path.name + "-wal").read_bytes() if path.with_name(path.name + "-wal").exists() else b""
    )
    assert b"amp_test_sandbox" not in data and b"amp_another_account_key" not in data


def test_the_file_is_private(cached: amplemarket.Client, path: Path) -> None:
    Company.find(domain="techco.com", client=cached)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"


def test_company_finds_and_search_pages_are_cached(sb: Sandbox, cached: amplemarket.Client) -> None:
    Company.find(domain="techco.com", client=cached)
    page = Person.search(person_titles="CEO", client=cached)
    since = last_seq(sb)
    assert Company.find(domain="https://www.TechCo.com/", client=cached).name == "TechCo"
    again = Person.search(person_titles="CEO", client=cached)
    assert sent(sb, since=since) == []
    assert [p.id for p in again] == [p.id for p in page] and again.total == page.total


def test_identical_finds_in_flight_share_one_request(
    sb: Sandbox, cached: amplemarket.Client, people: list[dict[str, Any]]
) -> None:
    p = live(people, 1, start=90)[0]

    async def many() -> list[Any]:
        return await asyncio.gather(*(Person.find_async(email=p["email"], client=cached) for _ in range(20)))

    since = last_seq(sb)
    found = asyncio.run(many())
    assert len(sent(sb, FIND, since)) == 1
    assert {f.id for f in found} == {p["id"]}


def test_results_from_the_cache_pickle_and_compare(cached: amplemarket.Client, people: list[dict[str, Any]]) -> None:
    import pickle

    lead = {"email": live(people, 1, start=95)[0]["email"]}
    first = Person.enrich([lead], client=cached)[0]
    again = Person.enrich([lead], client=cached)[0]
    assert isinstance(again, EnrichmentResult) and again.from_cache and again == first
    assert pickle.loads(pickle.dumps(again)).to_json() == first.to_json()


def test_clear_and_stats(cached: amplemarket.Client) -> None:
    Company.find(domain="techco.com", client=cached)
    stats = cached.cache.stats()
    assert stats["entries"] == 1 and stats["bytes"] > 0 and stats["misses"] == 1
    assert cached.cache.clear(older_than=3600) == 0
    assert cached.cache.clear() == 1
    assert cached.cache.stats()["entries"] == 0
    assert "Cache(" in repr(cached.cache)


# -- files that are not a cache ---------------------------------------------------------------------------------------


def test_a_corrupt_file_is_refused_with_the_fix(sb: Sandbox, tmp_path: Path) -> None:
    bad = tmp_path / "corrupt.sqlite3"
    bad.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
    with pytest.raises(ConfigurationError, match=r"cannot be used.*cache=False"):
        sb.client(cache=bad)


def test_another_programs_database_is_refused(sb: Sandbox, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE notes (x)")
    with pytest.raises(ConfigurationError, match="another program"):
        Cache(other)
    assert sqlite3.connect(other).execute("SELECT name FROM sqlite_master").fetchall() == [("notes",)]


def test_a_newer_cache_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    Cache(path)
    sqlite3.connect(path).execute("UPDATE meta SET value = '7' WHERE name = 'schema'").connection.commit()
    with pytest.raises(ConfigurationError, match="newer release of amplemarket"):
        Cache(path)


READ_ONLY = """
import os, sys
import amplemarket
if os.geteuid() == 0:
    os.setgid(65534)
    os.setuid(65534)  # as nobody, once imported: root would write into a read-only directory anyway
try:
    amplemarket.Cache(sys.argv[1])
except amplemarket.ConfigurationError as e:
    print("refused:", e)
"""


def test_a_read_only_directory_is_refused() -> None:
    import subprocess
    import sys
    import tempfile

    from support import ENV

    top = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        top.chmod(0o755)
        ro = top / "ro"
        ro.mkdir(mode=0o555)
        ro.chmod(0o555)
        done = subprocess.run(
            [sys.executable, "-c", READ_ONLY, str(ro / "c.sqlite3")], capture_output=True, text=True, env=ENV
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("refused:") and "cannot be used" in done.stdout, done.stdout
        assert not (ro / "c.sqlite3").exists()
    finally:
        import shutil

        (top / "ro").chmod(0o755)
        shutil.rmtree(top)


def test_a_directory_or_bad_ttl_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="directory"):
        Cache(tmp_path)
    with pytest.raises(amplemarket.InvalidInputError, match="ttl"):
        Cache(tmp_path / "x.sqlite3", ttl=-1)
    with pytest.raises(TypeError):
        amplemarket.Client("amp_x", cache=5)  # type: ignore[arg-type]


def test_the_default_file_is_in_the_users_cache_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert Cache.default_path() == tmp_path / "amplemarket" / "cache.sqlite3"
    with amplemarket.Client("amp_x", cache=True) as c:
        assert c.cache is not None and c.cache.path == tmp_path / "amplemarket" / "cache.sqlite3"
    assert amplemarket.Client("amp_x").cache is None
