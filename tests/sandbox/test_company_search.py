"""Company search: each filter against the ground truth of the data set, strings and lists, AND, pages, type
errors, unknown keys, and the shared search rate class."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from support import domain_of, error_of, retry_after

from amplemarket.testing import Sandbox

SEARCH = "/companies/search"


@pytest.fixture
def companies(sb: Sandbox) -> list[dict[str, Any]]:
    return list(sb.companies)


def everything(api: httpx.Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page of a search, checking the pagination block on the way."""
    out: list[dict[str, Any]] = []
    page = 1
    while True:
        r = api.post(SEARCH, json={**body, "page": page, "page_size": 100})
        assert r.status_code == 200, r.text
        data = r.json()
        assert data["object"] == "company_search_result"
        p = data["_pagination"]
        assert (p["page"], p["page_size"]) == (page, 100)
        assert p["total_pages"] == -(-p["total"] // 100)
        out.extend(data["results"])
        if page >= p["total_pages"]:
            assert len(out) == p["total"]
            return out
        page += 1


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [c["id"] for c in rows]


def truth(companies: list[dict[str, Any]], pred: Callable[[dict[str, Any]], bool]) -> list[str]:
    return [c["id"] for c in companies if pred(c)]


def low(v: Any) -> str:
    return str(v or "").lower()


def test_no_filter_lists_every_company_in_order(api: httpx.Client, companies: list[dict[str, Any]]) -> None:
    r = api.post(SEARCH, json={})
    assert r.status_code == 200
    body = r.json()
    assert body["_pagination"] == {
        "page": 1,
        "page_size": 10,
        "total_pages": -(-len(companies) // 10),
        "total": len(companies),
    }
    assert body["results"] == companies[:10]
    assert ids(everything(api, {})) == ids(companies)


def test_names_substring_case_insensitive(api: httpx.Client, companies: list[dict[str, Any]]) -> None:
    word = companies[3]["name"].split()[0][1:4].upper()
    got = ids(everything(api, {"company_names": word}))
    assert got and got == truth(companies, lambda c: word.lower() in low(c["name"]))


def test_domains_are_normalised_and_exact(api: httpx.Client, companies: list[dict[str, Any]]) -> None:
    a, b = domain_of(companies[5]), domain_of(companies[9])
    got = ids(everything(api, {"company_domains": [f"https://WWW.{a}/x", b.upper()]}))
    assert got == [companies[5]["id"], companies[9]["id"]]
    assert everything(api, {"company_domains": a[:-1]}) == []


@pytest.mark.parametrize(
    ("key", "field"), [("company_industries", "industry"), ("company_sizes", "size"), ("company_types", "type")]
)
def test_exact_filters(api: httpx.Client, companies: list[dict[str, Any]], key: str, field: str) -> None:
    values = sorted({c[field] for c in companies if c.get(field)})
    assert len(values) >= 2
    want = [values[0].upper(), values[-1]]
    got = ids(everything(api, {key: want}))
    assert got and got == truth(companies, lambda c: low(c.get(field)) in {v.lower() for v in want})
    # exact: a part of a value matches nothing
    assert everything(api, {key: values[0][:-1]}) == [] or values[0][:-1] in values


def test_locations_substring(api: httpx.Client, companies: list[dict[str, Any]]) -> None:
    place = next(c["location"] for c in companies if c.get("location")).split(",")[0].lower()
    got = ids(everything(api, {"company_locations": [place]}))
    assert got and got == truth(companies, lambda c: place in low(c.get("location")))


def test_keywords_match_any_keyword_exactly(api: httpx.Client, companies: list[dict[str, Any]]) -> None:
    kw = next(c["keywords"][-1] for c in companies if c.get("keywords"))
    got = ids(everything(api, {"company_keywords": kw.upper()}))
    assert got and got == truth(companies, lambda c: kw.lower() in [k.lower() for k in c.get("keywords") or []])
    assert everything(api, {"company_keywords": [kw[:-1]]}) == [] or any(
        kw[:-1].lower() == k.lower() for c in companies for k in c.get("keywords") or []
    )


def test_filters_combine_with_and(api: httpx.Client, companies: list[dict[str, Any]]) -> None:
    c = next(c for c in companies if c.get("industry") and c.get("size"))
    body = {"company_industries": c["industry"], "company_sizes": [c["size"]]}
    got = ids(everything(api, body))
    expected = truth(companies, lambda x: x.get("industry") == c["industry"] and x.get("size") == c["size"])
    assert c["id"] in got and got == expected
    assert len(got) < len(truth(companies, lambda x: x.get("industry") == c["industry"]))


def test_showcase_company_is_found(api: httpx.Client) -> None:
    found = everything(api, {"company_domains": "techco.com", "company_names": "techco"})
    assert [c["name"] for c in found] == ["TechCo"]


def test_pages(api: httpx.Client, companies: list[dict[str, Any]]) -> None:
    r = api.post(SEARCH, json={"page": 3, "page_size": 7})
    assert ids(r.json()["results"]) == ids(companies[14:21])
    past = api.post(SEARCH, json={"page": 10_000, "page_size": 100}).json()
    assert past["results"] == [] and past["_pagination"]["total"] == len(companies)


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"company_names": 5}, "/company_names"),
        ({"company_keywords": ["ok", 1]}, "/company_keywords"),
        ({"company_types": {"a": 1}}, "/company_types"),
        ({"page": 0}, "/page"),
        ({"page": "2"}, "/page"),
        ({"page_size": 101}, "/page_size"),
    ],
)
def test_wrong_types_are_400(api: httpx.Client, body: dict[str, Any], pointer: str) -> None:
    e = error_of(api.post(SEARCH, json=body), 400, "unsupported_value")
    assert e["source"] == {"pointer": pointer}


def test_unknown_keys_are_ignored_and_bad_json_refused(api: httpx.Client) -> None:
    assert api.post(SEARCH, json={"person_titles": ["CEO"], "whatever": 1}).status_code == 200
    e = error_of(api.post(SEARCH, content=b"[1]", headers={"Content-Type": "application/json"}), 400)
    assert e["source"] == {"pointer": ""}


def test_no_credits_are_charged(sb: Sandbox, api: httpx.Client) -> None:
    api.post(SEARCH, json={"page_size": 100})
    assert sb.credits["charges"] == []


@pytest.mark.amplemarket_sandbox(search_rate_limit=2, search_rate_limit_window=60, rate_limit=None)
def test_shares_the_search_rate_class_with_people_search(sb: Sandbox, api: httpx.Client) -> None:
    assert api.post(SEARCH, json={}).status_code == 200
    assert api.post("/people/search", json={}).status_code == 200
    r = api.post(SEARCH, json={})
    error_of(r, 429, "rate_limited")
    assert retry_after(r) >= 1
    error_of(api.post("/people/search", json={}), 429, "rate_limited")
    assert api.get("/account-info").status_code == 200, "other routes are not in the search class"
    assert sb.requests[-3]["injected"] == "rate_limit"
