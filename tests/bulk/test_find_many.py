"""`Person.find_many`: one `FindResult` per query in input order, a bad query never sinks the rest, bounded
concurrency, and client-side pacing that keeps a burst under the server's rate limit."""

from __future__ import annotations

import time
from typing import Any

import pytest
from support import FIND, call, same_person, sent

import amplemarket
from amplemarket import FindResult, InvalidInputError, Person
from amplemarket.testing import Sandbox

from ._helpers import max_overlap


def test_find_many_gives_one_result_per_query_in_input_order(
    sb: Sandbox, client: amplemarket.Client, mode: str, people: list[dict[str, Any]], live: list[dict[str, Any]]
) -> None:
    with_email = [p for p in live if p.get("email")]
    removed = next(p for p in people if p.get("_gdpr_removed"))
    queries: list[Any] = [
        {"email": with_email[0]["email"]},
        {"linkedin_url": with_email[1]["linkedin_url"]},
        {"email": "nobody.at.all@nowhere.example"},
        {"emial": with_email[2]["email"]},  # unknown key
        {"email": "jane at example dot com"},  # not an email address
        {"email": 5},  # wrong type
        {"name": with_email[3]["name"]},  # name alone is too ambiguous
        {"linkedin_url": removed["linkedin_url"]},
        {"email": with_email[4]["email"]},
    ]

    results = call(mode, Person, "find_many", queries, concurrency=3, client=client)

    assert len(results) == len(queries)
    assert all(isinstance(r, FindResult) for r in results)
    for r, q in zip(results, queries, strict=True):
        assert r.query is q
    found = {0: with_email[0], 1: with_email[1], 8: with_email[4]}
    for i, truth in found.items():
        r = results[i]
        assert r.ok and r.error is None and same_person(r.person, truth)
        assert r.unwrap() is not None and same_person(r.unwrap(), truth)
    nobody = results[2]
    assert (nobody.ok, nobody.person, nobody.error, nobody.unwrap()) == (True, None, None, None)
    for i, word in ((3, "emial"), (4, "not an email address"), (5, "email"), (6, "name")):
        r = results[i]
        assert not r.ok and r.person is None
        assert isinstance(r.error, InvalidInputError) and word in str(r.error)
        with pytest.raises(InvalidInputError):
            r.unwrap()
    gone = results[7]
    assert isinstance(gone.error, amplemarket.UnavailableForLegalReasonsError) and not gone.ok
    with pytest.raises(amplemarket.UnavailableForLegalReasonsError):
        gone.unwrap()
    # Only the queries that could be sent were sent.
    assert len(sent(sb, FIND)) == 5


def test_find_many_reveals_per_call_and_per_query(
    sb: Sandbox, client: amplemarket.Client, mode: str, live: list[dict[str, Any]]
) -> None:
    with_email = [p for p in live if p.get("email")][:3]
    queries = [
        {"linkedin_url": with_email[0]["linkedin_url"]},
        {"linkedin_url": with_email[1]["linkedin_url"], "reveal_email": False},
        {"linkedin_url": with_email[2]["linkedin_url"]},
    ]
    results = call(mode, Person, "find_many", queries, reveal_email=True, client=client)
    emails = [r.unwrap().email for r in results]
    assert emails == [with_email[0]["email"], None, with_email[2]["email"]]
    reveal = ["reveal_email=true" in (r["query"] or "") for r in sent(sb, FIND)]
    assert sorted(reveal) == [False, True, True]


def test_find_many_takes_a_generator_and_reports_progress(
    sb: Sandbox, client: amplemarket.Client, mode: str, live: list[dict[str, Any]]
) -> None:
    chosen = live[:12]
    calls: list[tuple[str, int, int]] = []
    results = call(
        mode,
        Person,
        "find_many",
        ({"linkedin_url": p["linkedin_url"]} for p in chosen),
        progress=lambda *a: calls.append(a),
        client=client,
    )
    assert [r.person.linkedin_url for r in results] == [p["linkedin_url"] for p in chosen]
    assert calls[0] == ("finding", 0, 12) and calls[-2:] == [("finding", 12, 12), ("done", 12, 12)]
    assert all(stage in ("finding", "done") and 0 <= done <= total == 12 for stage, done, total in calls)


def test_find_many_of_nothing_sends_nothing(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    assert call(mode, Person, "find_many", [], client=client) == []
    assert sent(sb) == []


@pytest.mark.parametrize("concurrency", [0, 257])
def test_find_many_concurrency_is_bounded(sb: Sandbox, client: amplemarket.Client, concurrency: int) -> None:
    with pytest.raises(InvalidInputError, match="concurrency"):
        Person.find_many([{"email": "jane@techco.com"}], concurrency=concurrency, client=client)
    assert sent(sb) == []


@pytest.mark.amplemarket_sandbox(rate_limit=30, rate_limit_window=2.0)
def test_find_many_paced_by_the_client_gets_no_429(sb: Sandbox, mode: str, live: list[dict[str, Any]]) -> None:
    queries = [{"linkedin_url": p["linkedin_url"]} for p in live[:100]]
    started = time.monotonic()
    with sb.client(rate_limit=amplemarket.RateLimits(requests=30, per=2.0), max_retries=0) as paced:
        results = call(mode, Person, "find_many", queries, concurrency=16, client=paced)
    elapsed = time.monotonic() - started
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    statuses = [r["status"] for r in sent(sb, FIND)]
    assert len(statuses) == 100 and statuses.count(429) == 0
    # 30 at once, then 15 a second: the 70 after the first burst cannot take much less than 70/15 s.
    assert elapsed > 3.5


@pytest.mark.amplemarket_sandbox(latency=0.05)
@pytest.mark.parametrize("concurrency", [1, 4])
def test_find_many_never_has_more_than_concurrency_requests_in_flight(
    sb: Sandbox, client: amplemarket.Client, mode: str, live: list[dict[str, Any]], concurrency: int
) -> None:
    queries = [{"linkedin_url": p["linkedin_url"]} for p in live[:16]]
    results = call(mode, Person, "find_many", queries, concurrency=concurrency, client=client)
    assert all(r.ok for r in results)
    log = sent(sb, FIND)
    assert len(log) == 16
    overlap = max_overlap(log)
    assert overlap <= concurrency
    if concurrency > 1:
        assert overlap >= 2, "requests are made concurrently"


@pytest.mark.parametrize("queries", [["jane@techco.com"], [{"email": "jane@techco.com"}, None]], ids=["str", "none"])
def test_a_query_that_is_not_a_mapping_raises_type_error_before_sending(
    sb: Sandbox, client: amplemarket.Client, mode: str, queries: list[Any]
) -> None:
    with pytest.raises(TypeError, match=r"query \d is a \w+ .*not a dict of fields"):
        call(mode, Person, "find_many", queries, client=client)
    assert sent(sb, FIND) == []
