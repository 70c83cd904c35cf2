"""`POST /people/search`: every filter against the data set, pagination, validation, GDPR and the search limit."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from support import domain_of, error_of, retry_after

from amplemarket.testing import Sandbox

SEARCH = "/people/search"

SENIORITIES = ["Owner", "Founder", "C-Suite", "Partner", "VP", "Head", "Director", "Manager", "Senior", "Entry"]
SENIORITIES += ["Intern", "Other"]
DEPARTMENTS = ["Engineering", "Sales", "Marketing", "Finance", "Operations", "Human Resources", "Product"]
DEPARTMENTS += ["Customer Success", "Legal", "Design", "Data", "Information Technology"]
# The job function of each department, in the same order.
JOB_FUNCTIONS = ["Engineering", "Sales", "Marketing", "Finance", "Operations", "Human Resources", "Product Management"]
JOB_FUNCTIONS += ["Customer Success and Support", "Legal", "Arts and Design", "Research", "Information Technology"]


def search(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    r = api.post(SEARCH, json=body)
    assert r.status_code == 200, r.text[:1000]
    out: dict[str, Any] = r.json()
    return out


def walk(api: httpx.Client, filters: dict[str, Any], page_size: int = 100) -> tuple[list[str], dict[str, Any]]:
    """Every result id of a search, page by page; and the first page's pagination."""
    first = search(api, {**filters, "page": 1, "page_size": page_size})
    ids = [p["id"] for p in first["results"]]
    pagination = first["_pagination"]
    for page in range(2, pagination["total_pages"] + 1):
        body = search(api, {**filters, "page": page, "page_size": page_size})
        assert body["_pagination"] == {**pagination, "page": page}
        ids += [p["id"] for p in body["results"]]
    return ids, pagination


def expect(live: list[dict[str, Any]], pred: Callable[[dict[str, Any]], bool]) -> list[str]:
    """Ids of the listed (non-GDPR) people matching ``pred``, in data-set order."""
    return [p["id"] for p in live if pred(p)]


def company(p: dict[str, Any], key: str) -> str:
    c = p["company"]
    return "" if c is None or c.get(key) is None else str(c[key])


def check(api: httpx.Client, filters: dict[str, Any], expected: list[str]) -> None:
    assert expected, "a filter that matches nobody proves little"
    ids, pagination = walk(api, filters)
    assert pagination["total"] == len(expected)
    assert ids == expected


# -- the response --------------------------------------------------------------------------------------------------


def test_empty_search_lists_everyone_but_gdpr_removed(api: httpx.Client, live: list[dict[str, Any]]) -> None:
    body = search(api, {})
    assert list(body) == ["object", "results", "_pagination"]
    assert body["object"] == "person_search_result"
    total = len(live)
    assert body["_pagination"] == {"page": 1, "page_size": 10, "total_pages": math.ceil(total / 10), "total": total}
    assert [p["id"] for p in body["results"]] == [p["id"] for p in live[:10]]


def test_results_are_people_without_email_or_phones(api: httpx.Client, people: list[dict[str, Any]]) -> None:
    body = search(api, {"page_size": 100, "page": 3})
    by_id = {p["id"]: p for p in people}
    assert len(body["results"]) == 100
    for p in body["results"]:
        assert p["object"] == "person"
        assert "email" not in p and "phone_numbers" not in p
        full = by_id[p["id"]]
        assert p == {k: v for k, v in full.items() if k not in ("email", "phone_numbers")}


def test_search_costs_no_credits(sb: Sandbox, api: httpx.Client) -> None:
    search(api, {"page_size": 100})
    assert sb.credits["charges"] == []


# -- filters -------------------------------------------------------------------------------------------------------


def test_person_name_is_a_case_insensitive_substring(
    api: httpx.Client, people: list[dict[str, Any]], live: list[dict[str, Any]]
) -> None:
    last = people[0]["last_name"]
    check(api, {"person_name": f"  {last.upper()} "}, expect(live, lambda p: last.lower() in p["name"].lower()))


def test_person_titles_any_substring(api: httpx.Client, live: list[dict[str, Any]]) -> None:
    titles = ["chief technology", "VP OF SALES"]
    check(
        api,
        {"person_titles": titles},
        expect(live, lambda p: any(t.lower() in (p["title"] or "").lower() for t in titles)),
    )


def test_person_locations_substring(api: httpx.Client, live: list[dict[str, Any]]) -> None:
    check(api, {"person_locations": ["lisbon"]}, expect(live, lambda p: "lisbon" in (p["location"] or "").lower()))


def test_company_locations_substring(api: httpx.Client, live: list[dict[str, Any]]) -> None:
    wanted = ["berlin", "PORTUGAL"]
    check(
        api,
        {"company_locations": wanted},
        expect(live, lambda p: any(w.lower() in company(p, "location").lower() for w in wanted)),
    )


def test_company_names_exact_case_insensitive(
    api: httpx.Client, people: list[dict[str, Any]], live: list[dict[str, Any]]
) -> None:
    name = people[0]["company"]["name"]
    check(api, {"company_names": [name.upper()]}, expect(live, lambda p: company(p, "name").lower() == name.lower()))


def test_company_names_do_not_match_substrings(
    api: httpx.Client, people: list[dict[str, Any]], live: list[dict[str, Any]]
) -> None:
    name = people[0]["company"]["name"]
    partial = name.split(" ")[0]  # "Juniper" of "Juniper Foods"
    expected = expect(live, lambda p: company(p, "name").lower() == partial.lower())
    assert expected == []
    assert search(api, {"company_names": [partial]})["_pagination"]["total"] == 0


def test_company_domains_exact_with_normalisation(
    api: httpx.Client, people: list[dict[str, Any]], live: list[dict[str, Any]]
) -> None:
    d1 = domain_of(people[0]["company"])
    d2 = domain_of(people[1]["company"])
    check(
        api,
        {"company_domains": [f"https://www.{d1.upper()}/about", d2]},
        expect(live, lambda p: p["company"] is not None and domain_of(p["company"]) in (d1, d2)),
    )


def test_company_industries_exact(api: httpx.Client, people: list[dict[str, Any]], live: list[dict[str, Any]]) -> None:
    industry = people[0]["company"]["industry"]
    check(
        api,
        {"company_industries": [industry.lower()]},
        expect(live, lambda p: company(p, "industry") == industry),
    )


def test_company_sizes_exact(api: httpx.Client, live: list[dict[str, Any]]) -> None:
    sizes = ["201-500 employees", "1-10 EMPLOYEES"]
    check(
        api,
        {"company_sizes": sizes},
        expect(live, lambda p: company(p, "size").lower() in ("201-500 employees", "1-10 employees")),
    )
    # exact: part of a size matches nothing
    assert search(api, {"company_sizes": ["201-500"]})["_pagination"]["total"] == 0


def test_person_seniorities(api: httpx.Client, live: list[dict[str, Any]]) -> None:
    # VP titles are exactly "VP of <department>", so the data set tells who the VPs are.
    check(api, {"person_seniorities": ["vp"]}, expect(live, lambda p: (p["title"] or "").startswith("VP of ")))
    # every listed person has exactly one seniority
    total = search(api, {})["_pagination"]["total"]
    parts = [search(api, {"person_seniorities": [s]})["_pagination"]["total"] for s in SENIORITIES]
    assert all(n > 0 for n in parts), parts
    assert sum(parts) == total
    assert search(api, {"person_seniorities": ["Vice"]})["_pagination"]["total"] == 0


def test_person_departments_and_job_functions(
    api: httpx.Client, people: list[dict[str, Any]], live: list[dict[str, Any]]
) -> None:
    total = search(api, {})["_pagination"]["total"]
    departments = [search(api, {"person_departments": [d]})["_pagination"]["total"] for d in DEPARTMENTS]
    functions = [search(api, {"person_job_functions": [f.upper()]})["_pagination"]["total"] for f in JOB_FUNCTIONS]
    assert all(n > 0 for n in departments), departments
    assert sum(departments) == total
    assert functions == departments
    # department-bearing titles agree with the department filter
    ids, _ = walk(api, {"person_departments": ["engineering"], "person_seniorities": ["VP", "Head", "Director"]})
    by_id = {p["id"]: p for p in people}
    assert ids
    for i in ids:
        assert by_id[i]["title"].endswith(" of Engineering"), by_id[i]["title"]
    assert ids == expect(
        live, lambda p: p["title"] in ("VP of Engineering", "Head of Engineering", "Director of Engineering")
    )


def test_filters_combine_with_and(api: httpx.Client, live: list[dict[str, Any]]) -> None:
    check(
        api,
        {"person_titles": ["manager"], "company_sizes": ["11-50 employees"], "person_locations": ["united states"]},
        expect(
            live,
            lambda p: (
                "manager" in (p["title"] or "").lower()
                and company(p, "size") == "11-50 employees"
                and "united states" in (p["location"] or "").lower()
            ),
        ),
    )


def test_unknown_keys_are_ignored_and_nulls_are_absent(api: httpx.Client, live: list[dict[str, Any]]) -> None:
    body = search(api, {"favourite_colour": "blue", "person_titles": None, "page_size": 5})
    assert body["_pagination"]["total"] == len(live)


def test_no_match_gives_an_empty_page(api: httpx.Client) -> None:
    body = search(api, {"person_name": "zzzz-nobody-zzzz"})
    assert body["results"] == []
    assert body["_pagination"] == {"page": 1, "page_size": 10, "total_pages": 0, "total": 0}


# -- GDPR ----------------------------------------------------------------------------------------------------------


def test_gdpr_removed_people_are_never_listed(
    api: httpx.Client, people: list[dict[str, Any]], live: list[dict[str, Any]]
) -> None:
    gone = [p for p in people if p.get("_gdpr_removed")]
    assert gone
    for p in gone[:5]:
        name = p["name"].lower()
        ids, _ = walk(api, {"person_name": name})
        assert p["id"] not in ids
        assert ids == [q["id"] for q in live if name in q["name"].lower()]


# -- pagination ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page_size", "titles"), [(7, ["director of sales", "director of legal"]), (100, ["director"])], ids=["7", "100"]
)
def test_walking_all_pages_gives_each_result_once_in_a_stable_order(
    api: httpx.Client, live: list[dict[str, Any]], page_size: int, titles: list[str]
) -> None:
    filters = {"person_titles": titles}
    ids, pagination = walk(api, filters, page_size)
    assert pagination["total_pages"] == math.ceil(pagination["total"] / page_size) > 5
    assert pagination["total"] % page_size != 0  # the last page is a partial one
    assert len(ids) == len(set(ids)) == pagination["total"]
    assert ids == expect(live, lambda p: any(t in (p["title"] or "").lower() for t in titles))
    again, _ = walk(api, filters, page_size)
    assert again == ids


def test_page_past_the_end_is_empty(api: httpx.Client) -> None:
    first = search(api, {"person_titles": ["director"], "page_size": 50})
    last = first["_pagination"]["total_pages"]
    body = search(api, {"person_titles": ["director"], "page_size": 50, "page": last + 1})
    assert body["results"] == []
    assert body["_pagination"] == {**first["_pagination"], "page": last + 1}
    assert search(api, {"page": 4_000_000})["results"] == []


def test_last_page_holds_the_remainder(api: httpx.Client) -> None:
    p = search(api, {"person_titles": ["director"], "page_size": 100})["_pagination"]
    body = search(api, {"person_titles": ["director"], "page_size": 100, "page": p["total_pages"]})
    assert len(body["results"]) == p["total"] - 100 * (p["total_pages"] - 1)


# -- validation ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 101, -1, "x", "10", 2.5, True, [10], {"n": 1}])
def test_bad_page_size_is_400(api: httpx.Client, value: Any) -> None:
    e = error_of(api.post(SEARCH, json={"page_size": value}), 400, "unsupported_value")
    assert e["source"] == {"pointer": "/page_size"}


@pytest.mark.parametrize("value", [0, -3, "2", 1.5])
def test_bad_page_is_400(api: httpx.Client, value: Any) -> None:
    e = error_of(api.post(SEARCH, json={"page": value}), 400, "unsupported_value")
    assert e["source"] == {"pointer": "/page"}


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"person_name": ["Jane"]}, "/person_name"),
        ({"person_titles": "CEO"}, "/person_titles"),
        ({"person_titles": [1]}, "/person_titles"),
        ({"company_domains": {"a": 1}}, "/company_domains"),
        ({"person_seniorities": [None]}, "/person_seniorities"),
        ({"company_sizes": 5}, "/company_sizes"),
    ],
)
def test_wrong_filter_types_are_400_with_pointer(api: httpx.Client, body: dict[str, Any], pointer: str) -> None:
    e = error_of(api.post(SEARCH, json=body), 400, "unsupported_value")
    assert e["source"] == {"pointer": pointer}


@pytest.mark.parametrize(
    "content", [b"{not json", b"", b'{"page": 1', b"\xff\xfe", b"null", b"[]", b'"text"', b"42", b"[{}]"]
)
def test_malformed_or_non_object_body_is_400(api: httpx.Client, content: bytes) -> None:
    r = api.post(SEARCH, content=content, headers={"Content-Type": "application/json"})
    error_of(r, 400, "unsupported_value")


# -- the search limit ----------------------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(search_rate_limit=3)
def test_search_limit_gives_429_while_find_still_works(
    sb: Sandbox, api: httpx.Client, live: list[dict[str, Any]]
) -> None:
    assert [api.post(SEARCH, json={}).status_code for _ in range(3)] == [200, 200, 200]
    r = api.post(SEARCH, json={})
    error_of(r, 429, "rate_limited")
    assert retry_after(r) >= 1
    p = live[0]
    assert api.get("/people/find", params={"linkedin_url": p["linkedin_url"]}).status_code == 200
    assert api.get("/account-info").json()["rate_limits"]["search_requests_per_minute"] == 3
    assert sb.requests[3]["injected"] == "rate_limit" and sb.requests[3]["status"] == 429


@pytest.mark.amplemarket_sandbox(rate_limit=5)
def test_overall_limit_covers_every_route(sb: Sandbox, api: httpx.Client) -> None:
    statuses = [api.get("/account-info").status_code for _ in range(3)]
    statuses += [api.post(SEARCH, json={}).status_code for _ in range(2)]
    assert statuses == [200] * 5
    for r in (api.get("/account-info"), api.post(SEARCH, json={}), api.get("/people/find", params={"email": "a@b"})):
        error_of(r, 429, "rate_limited")
        assert 1 <= retry_after(r) <= 12


@pytest.mark.amplemarket_sandbox(search_rate_limit=1, rate_limit_retry_after=42)
def test_rate_limit_retry_after_setting_forces_the_header(api: httpx.Client) -> None:
    api.post(SEARCH, json={})
    r = api.post(SEARCH, json={})
    error_of(r, 429, "rate_limited")
    assert retry_after(r) == 42
