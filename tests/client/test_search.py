"""``Person.search`` / ``search_async``, ``SearchPage`` (attributes, iteration, ``next_page`` / ``next_page_async``),
and ``Person.search_iter`` / ``search_iter_async`` walking many pages and always ending."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import httpx
import pytest
from support import SEARCH, call, public, sent

import amplemarket
from amplemarket import Person, SearchPage
from amplemarket.testing import Sandbox


def _company_with(
    live: list[dict[str, Any]], lo: int, hi: int, ok: Any = lambda n: True
) -> tuple[str, list[dict[str, Any]]]:
    """A company name matching between ``lo`` and ``hi`` live people, with those people in data-set order."""
    counts = Counter(p["company"]["name"].lower() for p in live if p.get("company"))
    for name, n in sorted(counts.items()):
        if lo <= n <= hi and ok(n):
            return name, [p for p in live if p.get("company") and p["company"]["name"].lower() == name]
    raise AssertionError(f"no company with {lo}..{hi} people")


def _titled(live: list[dict[str, Any]], needle: str) -> list[dict[str, Any]]:
    return [p for p in live if needle.lower() in (p.get("title") or "").lower()]


def _ids(people: Any) -> list[str]:
    return [p["id"] if isinstance(p, dict) else p.id for p in people]


def _collect(mode: str, **kwargs: Any) -> list[Person]:
    if mode == "sync":
        return list(Person.search_iter(**kwargs))

    async def run() -> list[Person]:
        return [p async for p in Person.search_iter_async(**kwargs)]

    return asyncio.run(run())


# -- one page ----------------------------------------------------------------------------------------------------


def test_search_page_attributes(mode: str, sb: Sandbox, client: amplemarket.Client, live: list) -> None:
    name, truth = _company_with(live, 21, 29)
    page = call(mode, Person, "search", company_names=[name], page_size=10, client=client)
    assert isinstance(page, SearchPage)
    assert page.page == 1
    assert page.page_size == 10
    assert page.total == len(truth)
    assert page.total_pages == 3
    assert page.has_next_page
    assert len(page) == 10
    assert all(isinstance(p, Person) for p in page.results)
    assert _ids(page.results) == _ids(truth[:10])
    assert _ids(page) == _ids(truth[:10])  # iterable
    assert list(page) == page.results
    assert "page=1" in repr(page)
    (entry,) = sent(sb, SEARCH)
    assert json.loads(entry["body"]) == {"company_names": [name], "page": 1, "page_size": 10}


def test_search_results_are_the_raw_server_json(client: amplemarket.Client, api: httpx.Client, live: list) -> None:
    name, _ = _company_with(live, 5, 30)
    page = Person.search(company_names=name, page_size=5, client=client)
    raw = api.post("/people/search", json={"company_names": [name], "page_size": 5}).json()
    assert [p.to_dict() for p in page] == raw["results"]


def test_a_single_value_is_sent_as_a_list(mode: str, sb: Sandbox, client: amplemarket.Client) -> None:
    call(mode, Person, "search", person_titles="CEO", company_sizes="201-500 employees", page_size=3, client=client)
    body = json.loads(sent(sb, SEARCH)[0]["body"])
    assert body["person_titles"] == ["CEO"]
    assert body["company_sizes"] == ["201-500 employees"]


def test_every_filter_is_sent_under_its_api_name(sb: Sandbox, client: amplemarket.Client) -> None:
    filters: dict[str, Any] = {
        "person_titles": ["a"],
        "person_locations": ["b"],
        "person_seniorities": ["VP"],
        "person_departments": ["d"],
        "person_job_functions": ["e"],
        "company_names": ["f"],
        "company_domains": ["g.com"],
        "company_industries": ["h"],
        "company_sizes": ["i"],
        "company_locations": ["j"],
    }
    page = Person.search(person_name="z", page=2, page_size=7, client=client, **filters)
    assert len(page) == 0
    assert json.loads(sent(sb, SEARCH)[0]["body"]) == {"person_name": "z", "page": 2, "page_size": 7, **filters}


def test_next_page_walks_to_the_last_page(mode: str, sb: Sandbox, client: amplemarket.Client, live: list) -> None:
    name, truth = _company_with(live, 21, 29)
    page = call(mode, Person, "search", company_names=name, page_size=10, client=client)
    pages = [page]
    while page.has_next_page:
        nxt = call(mode, page, "next_page")
        assert isinstance(nxt, SearchPage)
        page = nxt
        pages.append(page)
    assert [p.page for p in pages] == [1, 2, 3]
    assert [len(p) for p in pages] == [10, 10, len(truth) - 20]
    assert _ids(x for p in pages for x in p) == _ids(truth)
    n = len(sb.requests)
    assert call(mode, page, "next_page") is None  # after the last page: None, without a request
    assert len(sb.requests) == n == 3


def test_page_past_the_end_is_empty_and_has_no_next(mode: str, client: amplemarket.Client, live: list) -> None:
    name, _ = _company_with(live, 5, 9)
    page = call(mode, Person, "search", company_names=name, page=5, page_size=10, client=client)
    assert len(page) == 0 and page.results == []
    assert not page.has_next_page
    assert call(mode, page, "next_page") is None


def test_no_match_is_an_empty_page(mode: str, sb: Sandbox, client: amplemarket.Client) -> None:
    page = call(mode, Person, "search", person_name="zzqqxx-nobody", client=client)
    assert (len(page), page.total, page.has_next_page) == (0, 0, False)
    assert list(page) == []


def test_search_costs_no_credits(sb: Sandbox, client: amplemarket.Client) -> None:
    before = sb.credits
    Person.search(person_titles="Engineer", page_size=50, client=client)
    assert sb.credits["email_credits"] == before["email_credits"]


@pytest.mark.parametrize(
    "kwargs",
    [{"page_size": 0}, {"page_size": 101}, {"page": 0}, {"person_titles": ["CEO", ""]}],
    ids=["page_size 0", "page_size 101", "page 0", "blank filter value"],
)
def test_invalid_search_raises_before_sending(
    mode: str, sb: Sandbox, client: amplemarket.Client, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(amplemarket.InvalidInputError):
        call(mode, Person, "search", client=client, **kwargs)
    with pytest.raises(amplemarket.InvalidInputError):
        _collect(mode, client=client, **kwargs)
    assert sb.requests == []


@pytest.mark.parametrize("kwargs", [{"page": -1}, {"max_results": -1}], ids=["page", "max_results"])
def test_negative_numbers_are_invalid_input(sb: Sandbox, client: amplemarket.Client, kwargs: dict[str, Any]) -> None:
    with pytest.raises(amplemarket.InvalidInputError):
        list(Person.search_iter(client=client, **kwargs))
    assert sb.requests == []


# -- search_iter ---------------------------------------------------------------------------------------------------


def test_search_iter_follows_pages_up_to_max_results(mode: str, sb: Sandbox, client: amplemarket.Client, live) -> None:
    truth = _titled(live, "Engineer")
    assert len(truth) > 100
    got = _collect(mode, person_titles="engineer", page_size=10, max_results=45, client=client)
    assert _ids(got) == _ids(truth[:45])
    assert [p.to_dict() for p in got] == [public(t) for t in truth[:45]]
    bodies = [json.loads(r["body"]) for r in sent(sb, SEARCH)]
    assert [b["page"] for b in bodies] == [1, 2, 3, 4, 5]  # stops at max_results: no sixth page
    assert {b["page_size"] for b in bodies} == {10}


def test_search_iter_walks_every_page_and_stops(mode: str, sb: Sandbox, client: amplemarket.Client, live) -> None:
    name, truth = _company_with(live, 21, 29)
    got = _collect(mode, company_names=name, page_size=10, client=client)
    assert _ids(got) == _ids(truth)
    assert [json.loads(r["body"])["page"] for r in sent(sb, SEARCH)] == [1, 2, 3]


def test_search_iter_full_last_page_needs_no_extra_request(
    mode: str, sb: Sandbox, client: amplemarket.Client, live
) -> None:
    name, truth = _company_with(live, 12, 40, lambda n: n % 4 == 0)
    size = len(truth) // 4
    got = _collect(mode, company_names=name, page_size=size, client=client)
    assert _ids(got) == _ids(truth)
    assert len(sent(sb, SEARCH)) == 4


def test_search_iter_starting_page(mode: str, client: amplemarket.Client, live: list) -> None:
    name, truth = _company_with(live, 21, 29)
    got = _collect(mode, company_names=name, page=2, page_size=10, client=client)
    assert _ids(got) == _ids(truth[10:])


def test_search_iter_with_no_match_makes_one_request(mode: str, sb: Sandbox, client: amplemarket.Client) -> None:
    assert _collect(mode, person_name="zzqqxx-nobody", client=client) == []
    assert len(sent(sb, SEARCH)) == 1


def test_search_iter_max_results_zero_sends_nothing(mode: str, sb: Sandbox, client: amplemarket.Client) -> None:
    assert _collect(mode, person_titles="Engineer", max_results=0, client=client) == []
    assert sb.requests == []


def test_a_repeated_page_stops_the_iteration(mode: str, sb: Sandbox, client: amplemarket.Client, live: list) -> None:
    # A server that ignores `page` would otherwise be asked forever.
    first = Person.search(person_titles="Engineer", page_size=3, client=client)
    body = {
        "object": "person_search_result",
        "results": [p.to_dict() for p in first],
        "_pagination": {"page": 1, "page_size": 3, "total_pages": 50, "total": 150},
    }
    sb.reset()
    sb.script(SEARCH, [{"status": 200, "body": body}, {"status": 200, "body": body}])
    got = _collect(mode, person_titles="Engineer", page_size=3, client=client)
    assert _ids(got) == _ids(first)
    assert len(sent(sb, SEARCH)) == 2


def test_search_iter_retries_a_failed_page(mode: str, sb: Sandbox, client: amplemarket.Client, live: list) -> None:
    name, truth = _company_with(live, 21, 29)
    sb.script(SEARCH, [200, {"status": 503, "retry_after": 0}, 200, 200])
    got = _collect(mode, company_names=name, page_size=10, client=client)
    assert _ids(got) == _ids(truth)
    assert [r["status"] for r in sent(sb, SEARCH)] == [200, 503, 200, 200]


def test_search_iter_raises_errors(mode: str, sb: Sandbox, client: amplemarket.Client) -> None:
    sb.script(SEARCH, [200, 400])
    with pytest.raises(amplemarket.BadRequestError):
        _collect(mode, person_titles="Engineer", page_size=5, client=client)
    assert [r["status"] for r in sent(sb, SEARCH)] == [200, 400]
