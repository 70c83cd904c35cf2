"""`GET /people/find`: lookup modes, the Person object's shape, reveals, errors, reveal timeouts and credits."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import httpx
import pytest
from support import COMPANY_FIELDS, PERSON_FIELDS, error_of, is_json_content_type, public, retry_after

from amplemarket.testing import Sandbox

from ._helpers import pick

FIND = "/people/find"

# Key order of the spec's examples (people-api.txt). A full record carries more keys; these must keep this order.
FIND_EXAMPLE_ORDER = [
    "id",
    "object",
    "name",
    "first_name",
    "last_name",
    "linkedin_url",
    "title",
    "headline",
    "location",
    "company",
]
ENRICHMENT_EXAMPLE_ORDER = [
    "id",
    "object",
    "name",
    "first_name",
    "last_name",
    "linkedin_url",
    "title",
    "headline",
    "location",
    "location_details",
    "current_position_start_date",
    "image_url",
    "gender",
    "company",
]
COMPANY_EXAMPLE_ORDER = [
    "id",
    "object",
    "name",
    "website",
    "linkedin_url",
    "keywords",
    "estimated_number_of_employees",
    "size",
    "industry",
    "location",
    "is_b2b",
    "is_b2c",
    "technologies",
]


def rich(p: dict[str, Any]) -> bool:
    """A person whose record is complete: a company, an email, phones, no nulls at the top."""
    return (
        not p.get("_gdpr_removed")
        and p["company"] is not None
        and bool(p.get("email"))
        and bool(p.get("phone_numbers"))
        and all(v is not None for v in p.values())
        and all(v is not None for v in p["company"].values())
    )


def in_order(keys: list[str], expected: list[str]) -> bool:
    """Whether ``expected`` keys appear in ``keys`` in that relative order."""
    positions = [keys.index(k) for k in expected]
    return positions == sorted(positions)


@pytest.fixture
def person(people: list[dict[str, Any]]) -> dict[str, Any]:
    return pick(people, rich)[0]


# -- lookup modes --------------------------------------------------------------------------------------------------


def test_find_by_linkedin_url_returns_the_person(api: httpx.Client, person: dict[str, Any]) -> None:
    r = api.get(FIND, params={"linkedin_url": person["linkedin_url"]})
    assert r.status_code == 200, r.text
    assert is_json_content_type(r.headers["content-type"])
    assert r.json() == public(person)


@pytest.mark.parametrize(
    "variant",
    [
        lambda u: u.removeprefix("https://"),  # no scheme
        lambda u: u.replace("www.", ""),  # no www
        lambda u: u.removeprefix("https://www."),  # neither
        lambda u: u.replace("https://", "http://"),
        lambda u: u + "/",  # trailing slash
        lambda u: u + "?trk=public_profile&originalSubdomain=pt",  # query string
        lambda u: u + "/?utm_source=x",
        lambda u: u.upper(),  # upper case
        lambda u: f"  {u}  ",  # surrounding spaces
    ],
    ids=["no-scheme", "no-www", "bare", "http", "slash", "query", "slash-query", "upper", "spaces"],
)
def test_find_by_linkedin_url_variants(api: httpx.Client, person: dict[str, Any], variant: Any) -> None:
    r = api.get(FIND, params={"linkedin_url": variant(person["linkedin_url"])})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == person["id"]


@pytest.mark.parametrize(
    "variant",
    [lambda e: e, lambda e: e.upper(), lambda e: f"  {e.title()} ", lambda e: "\t" + e.swapcase()],
    ids=["as-is", "upper", "spaces-title", "tab-swapcase"],
)
def test_find_by_email_is_case_insensitive_and_trims(api: httpx.Client, person: dict[str, Any], variant: Any) -> None:
    r = api.get(FIND, params={"email": variant(person["email"])})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == person["id"]


def _unique_at_company(people: list[dict[str, Any]]) -> dict[str, Any]:
    count: dict[tuple[str, str], int] = defaultdict(int)
    for p in people:
        if p["company"]:
            count[(p["name"].lower(), p["company"]["name"].lower())] += 1
    return pick(people, lambda p: rich(p) and count[(p["name"].lower(), p["company"]["name"].lower())] == 1)[0]


def test_find_by_name_and_company_name(api: httpx.Client, people: list[dict[str, Any]]) -> None:
    p = _unique_at_company(people)
    first, last = p["name"].split(" ", 1)
    name = f"  {first.upper()}   {last.lower()} "
    company = "  " + "  ".join(p["company"]["name"].swapcase().split(" ")) + " "
    r = api.get(FIND, params={"name": name, "company_name": company})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == p["id"]


@pytest.mark.parametrize(
    "variant",
    [
        lambda d: d,
        lambda d: d.upper(),
        lambda d: f"https://www.{d}/about",
        lambda d: f"http://{d}",
        lambda d: f"www.{d}",
    ],
    ids=["bare", "upper", "scheme-www-path", "http", "www"],
)
def test_find_by_name_and_company_domain(api: httpx.Client, people: list[dict[str, Any]], variant: Any) -> None:
    p = _unique_at_company(people)
    domain = p["company"]["website"].split("://", 1)[1]
    r = api.get(FIND, params={"name": p["name"].lower(), "company_domain": variant(domain)})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == p["id"]


def test_title_breaks_ties_between_namesakes(api: httpx.Client, live: list[dict[str, Any]]) -> None:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for p in live:
        if p["company"]:
            groups[(p["name"], p["company"]["name"])].append(p)
    pairs = [g for g in groups.values() if len(g) == 2 and g[0]["title"].lower() != g[1]["title"].lower()]
    pairs = [g for g in pairs if g[0]["title"].lower() not in g[1]["title"].lower()]
    assert pairs, "the data set has no namesakes at one company"
    first, second = pairs[0]
    base = {"name": first["name"], "company_name": first["company"]["name"]}
    assert api.get(FIND, params=base).json()["id"] == first["id"]
    r = api.get(FIND, params={**base, "title": f"  {second['title'].upper()} "})
    assert r.json()["id"] == second["id"]
    r = api.get(FIND, params={**base, "title": first["title"]})
    assert r.json()["id"] == first["id"]
    # a title that fits neither still finds a namesake rather than nothing
    r = api.get(FIND, params={**base, "title": "Astronaut"})
    assert r.status_code == 200 and r.json()["id"] == first["id"]


def test_linkedin_url_takes_precedence_over_email(api: httpx.Client, people: list[dict[str, Any]]) -> None:
    a, b = pick(people, rich, 2)
    r = api.get(FIND, params={"email": b["email"], "linkedin_url": a["linkedin_url"]})
    assert r.json()["id"] == a["id"]
    r = api.get(FIND, params={"email": b["email"], "name": a["name"], "company_name": a["company"]["name"]})
    assert r.json()["id"] == b["id"]


def test_empty_values_count_as_absent(api: httpx.Client, person: dict[str, Any]) -> None:
    r = api.get(FIND, params={"linkedin_url": "", "email": person["email"], "name": " "})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == person["id"]


# -- the Person object ---------------------------------------------------------------------------------------------


def test_full_record_key_set_and_order(api: httpx.Client, person: dict[str, Any]) -> None:
    r = api.get(FIND, params={"email": person["email"], "reveal_email": "true", "reveal_phone_numbers": "true"})
    body = r.json()
    assert set(body) == {*PERSON_FIELDS, "phone_numbers", "company"}
    keys = list(body)
    assert in_order(keys, FIND_EXAMPLE_ORDER), keys
    assert keys.index("email") > keys.index("company")
    assert keys.index("phone_numbers") > keys.index("company")
    assert body["object"] == "person"
    assert set(body["company"]) == set(COMPANY_FIELDS)
    assert body["company"]["object"] == "company"
    assert body == public(person, email=True, phones=True)


def test_person_key_order_matches_the_enrichment_example(api: httpx.Client, person: dict[str, Any]) -> None:
    keys = list(api.get(FIND, params={"email": person["email"]}).json())
    assert in_order(keys, ENRICHMENT_EXAMPLE_ORDER), keys


def test_company_key_order_matches_the_example(api: httpx.Client, person: dict[str, Any]) -> None:
    keys = list(api.get(FIND, params={"email": person["email"]}).json()["company"])
    assert in_order(keys, COMPANY_EXAMPLE_ORDER), keys


def test_no_email_or_phones_unless_revealed(api: httpx.Client, person: dict[str, Any]) -> None:
    body = api.get(FIND, params={"email": person["email"]}).json()
    assert "email" not in body and "phone_numbers" not in body
    body = api.get(FIND, params={"email": person["email"], "reveal_email": "false", "reveal_phone_numbers": "0"}).json()
    assert "email" not in body and "phone_numbers" not in body


@pytest.mark.parametrize("value", ["true", "1", "TRUE", "True"])
def test_reveal_email(api: httpx.Client, person: dict[str, Any], value: str) -> None:
    body = api.get(FIND, params={"linkedin_url": person["linkedin_url"], "reveal_email": value}).json()
    assert body["email"] == person["email"]
    assert "phone_numbers" not in body


def test_reveal_phone_numbers(api: httpx.Client, person: dict[str, Any]) -> None:
    body = api.get(FIND, params={"linkedin_url": person["linkedin_url"], "reveal_phone_numbers": "true"}).json()
    assert "email" not in body
    phones = body["phone_numbers"]
    assert phones == person["phone_numbers"] and phones
    for ph in phones:
        assert list(ph) == ["object", "id", "number", "type", "source"]
        assert ph["object"] == "phone_number"
        assert all(isinstance(ph[k], str) and ph[k] for k in ("id", "number", "type", "source"))


def test_reveal_phone_numbers_without_any_gives_an_empty_list(api: httpx.Client, people: list[dict[str, Any]]) -> None:
    p = pick(people, lambda p: not p.get("_gdpr_removed") and p.get("phone_numbers") == [])[0]
    body = api.get(FIND, params={"linkedin_url": p["linkedin_url"], "reveal_phone_numbers": "1"}).json()
    assert body["phone_numbers"] == []


# -- errors --------------------------------------------------------------------------------------------------------


def test_no_match_is_404_person_not_found(api: httpx.Client) -> None:
    for params in (
        {"linkedin_url": "https://www.linkedin.com/in/nobody-at-all-0"},
        {"email": "nobody@nowhere.invalid"},
        {"name": "Nobody Atall", "company_name": "Nowhere Inc"},
    ):
        error_of(api.get(FIND, params=params), 404, "person_not_found")


def test_gdpr_removed_person_is_451(sb: Sandbox, api: httpx.Client, people: list[dict[str, Any]]) -> None:
    gone = pick(people, lambda p: p.get("_gdpr_removed") is True and bool(p.get("email")))[0]
    for params in ({"linkedin_url": gone["linkedin_url"]}, {"email": gone["email"], "reveal_email": "true"}):
        error_of(api.get(FIND, params=params), 451, "unavailable_for_legal_reasons")
    assert sb.credits["charges"] == []


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({}, "linkedin_url"),
        ({"reveal_email": "true"}, "linkedin_url"),
        ({"linkedin_url": "", "email": "  "}, "linkedin_url"),
        ({"name": "Jane Doe"}, "company_name"),
        ({"name": "Jane Doe", "title": "CEO"}, "company_name"),
        ({"company_name": "Acme"}, "name"),
        ({"company_domain": "acme.com"}, "name"),
        ({"title": "CEO", "company_name": "Acme"}, "name"),
    ],
    ids=["nothing", "only-reveal", "empty", "name-only", "name-title", "company", "domain", "title-company"],
)
def test_incomplete_lookup_is_400_missing_field(api: httpx.Client, params: dict[str, str], parameter: str) -> None:
    e = error_of(api.get(FIND, params=params), 400, "missing_field")
    assert e["source"] == {"parameter": parameter}


@pytest.mark.parametrize("name", ["reveal_email", "reveal_phone_numbers"])
def test_bad_boolean_is_400_unsupported_value(api: httpx.Client, person: dict[str, Any], name: str) -> None:
    e = error_of(api.get(FIND, params={"email": person["email"], name: "maybe"}), 400, "unsupported_value")
    assert e["source"] == {"parameter": name}


@pytest.mark.amplemarket_sandbox(reveal_timeout_rate=1.0, reveal_retry_after=7)
def test_reveal_timeout_is_408_with_retry_after_then_succeeds(
    sb: Sandbox, api: httpx.Client, people: list[dict[str, Any]]
) -> None:
    person, other = pick(people, rich, 2)
    params = {"email": person["email"], "reveal_email": "true"}
    r = api.get(FIND, params=params)
    e = error_of(r, 408, "request_timeout")
    assert e["title"] == "Request timeout"
    assert e["detail"] == "We are processing your request, try again later."
    assert retry_after(r) == 7
    assert sb.credits["charges"] == []
    r = api.get(FIND, params=params)
    assert r.status_code == 200, r.text
    assert r.json()["email"] == person["email"]
    # a find without a reveal never times out
    assert api.get(FIND, params={"linkedin_url": other["linkedin_url"]}).status_code == 200


@pytest.mark.amplemarket_sandbox(reveal_timeout_rate=1.0, reveal_retry_after=3)
def test_reveal_timeout_happens_once_per_kind(api: httpx.Client, person: dict[str, Any]) -> None:
    params = {"linkedin_url": person["linkedin_url"], "reveal_email": "1", "reveal_phone_numbers": "1"}
    statuses = [api.get(FIND, params=params).status_code for _ in range(4)]
    assert statuses == [408, 408, 200, 200]


# -- credits -------------------------------------------------------------------------------------------------------


def _balances(sb: Sandbox) -> tuple[float, float]:
    c = sb.credits
    return c["email_credits"], c["phone_credits"]


def test_credits_found_once_email_once_phone_once(sb: Sandbox, api: httpx.Client, person: dict[str, Any]) -> None:
    email0, phone0 = _balances(sb)
    url = person["linkedin_url"]
    for _ in range(2):
        assert api.get(FIND, params={"linkedin_url": url}).status_code == 200
    assert _balances(sb) == (email0 - 0.5, phone0)
    for _ in range(2):
        assert api.get(FIND, params={"linkedin_url": url, "reveal_email": "true"}).status_code == 200
    assert _balances(sb) == (email0 - 1.5, phone0)
    for _ in range(2):
        assert api.get(FIND, params={"linkedin_url": url, "reveal_phone_numbers": "true"}).status_code == 200
    assert _balances(sb) == (email0 - 1.5, phone0 - 1)
    charges = sb.credits["charges"]
    assert [(c["kind"], c["pool"], c["amount"], c["via"]) for c in charges] == [
        ("found", "email", 0.5, "find"),
        ("email", "email", 1.0, "find"),
        ("phone", "phone", 1.0, "find"),
    ]
    assert {c["person_id"] for c in charges} == {person["id"]}
    info = api.get("/account-info").json()
    assert (info["email_credits"], info["phone_credits"]) == (email0 - 1.5, phone0 - 1)


def test_credits_for_everything_at_once(sb: Sandbox, api: httpx.Client, person: dict[str, Any]) -> None:
    email0, phone0 = _balances(sb)
    params = {"email": person["email"], "reveal_email": "true", "reveal_phone_numbers": "true"}
    assert api.get(FIND, params=params).status_code == 200
    assert _balances(sb) == (email0 - 1.5, phone0 - 1)


def test_no_phone_charge_for_a_person_without_phones(
    sb: Sandbox, api: httpx.Client, people: list[dict[str, Any]]
) -> None:
    p = pick(people, lambda p: not p.get("_gdpr_removed") and p.get("phone_numbers") == [])[0]
    phone0 = sb.credits["phone_credits"]
    assert api.get(FIND, params={"linkedin_url": p["linkedin_url"], "reveal_phone_numbers": "true"}).status_code == 200
    assert sb.credits["phone_credits"] == phone0
    assert [c["kind"] for c in sb.credits["charges"]] == ["found"]


def test_not_found_and_errors_cost_nothing(sb: Sandbox, api: httpx.Client) -> None:
    before = _balances(sb)
    nobody = {"email": "nobody@nowhere.invalid", "reveal_email": "true"}
    error_of(api.get(FIND, params=nobody), 404, "person_not_found")
    error_of(api.get(FIND, params={"name": "x"}), 400, "missing_field")
    assert sb.credits["charges"] == []
    assert _balances(sb) == before


@pytest.mark.amplemarket_sandbox(email_credits=0, phone_credits=0)
def test_no_credits_is_402_and_nothing_is_charged(sb: Sandbox, api: httpx.Client, person: dict[str, Any]) -> None:
    r = api.get(FIND, params={"email": person["email"]})
    error_of(r, 402, "insufficient_credits")
    assert sb.credits == {"email_credits": 0.0, "phone_credits": 0.0, "charges": []}


@pytest.mark.amplemarket_sandbox(email_credits=10, phone_credits=0)
def test_short_phone_pool_refuses_the_whole_call(sb: Sandbox, api: httpx.Client, person: dict[str, Any]) -> None:
    params = {"email": person["email"], "reveal_email": "true", "reveal_phone_numbers": "true"}
    error_of(api.get(FIND, params=params), 402, "insufficient_credits")
    assert sb.credits == {"email_credits": 10.0, "phone_credits": 0.0, "charges": []}
    # without the phone reveal the same person is found and charged
    assert api.get(FIND, params={"email": person["email"], "reveal_email": "true"}).status_code == 200
    assert sb.credits["email_credits"] == 8.5


@pytest.mark.amplemarket_sandbox(email_credits=1, phone_credits=5)
def test_short_email_pool_for_a_reveal(sb: Sandbox, api: httpx.Client, person: dict[str, Any]) -> None:
    # found (0.5) + email (1) = 1.5 > 1
    error_of(api.get(FIND, params={"email": person["email"], "reveal_email": "true"}), 402, "insufficient_credits")
    assert sb.credits["charges"] == []
    assert api.get(FIND, params={"email": person["email"]}).status_code == 200
    assert sb.credits["email_credits"] == 0.5
