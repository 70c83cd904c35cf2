"""`GET /companies/find`: by domain (with its variants) and by LinkedIn URL; 404 and 400."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support import domain_of, error_of, is_json_content_type

from amplemarket.testing import Sandbox

FIND = "/companies/find"


@pytest.fixture
def company(sb: Sandbox) -> dict[str, Any]:
    c = sb.companies[3]
    assert c["object"] == "company" and c["website"] and c["linkedin_url"]
    return c


@pytest.mark.parametrize(
    "variant",
    [
        lambda d: d,
        lambda d: d.upper(),
        lambda d: f"https://{d}",
        lambda d: f"http://www.{d}",
        lambda d: f"www.{d}",
        lambda d: f"https://www.{d}/about/team?x=1",
        lambda d: f"{d}/",
        lambda d: f"  {d}  ",
    ],
    ids=["bare", "upper", "https", "http-www", "www", "path-query", "slash", "spaces"],
)
def test_find_company_by_domain(api: httpx.Client, company: dict[str, Any], variant: Any) -> None:
    r = api.get(FIND, params={"domain": variant(domain_of(company))})
    assert r.status_code == 200, r.text
    assert is_json_content_type(r.headers["content-type"])
    assert r.json() == company


@pytest.mark.parametrize(
    "variant",
    [
        lambda u: u,
        lambda u: u.removeprefix("https://www."),
        lambda u: u + "/",
        lambda u: u + "?trk=x",
        lambda u: u.upper(),
    ],
    ids=["as-is", "bare", "slash", "query", "upper"],
)
def test_find_company_by_linkedin_url(api: httpx.Client, company: dict[str, Any], variant: Any) -> None:
    r = api.get(FIND, params={"linkedin_url": variant(company["linkedin_url"])})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == company["id"]


def test_every_company_is_found_by_domain(sb: Sandbox, api: httpx.Client) -> None:
    for c in sb.companies[:60]:
        body = api.get(FIND, params={"domain": domain_of(c)}).json()
        assert body["id"] == c["id"], c["website"]
        assert body["object"] == "company"


def test_company_finds_cost_nothing(sb: Sandbox, api: httpx.Client, company: dict[str, Any]) -> None:
    before = sb.credits
    for params in ({"domain": domain_of(company)}, {"linkedin_url": company["linkedin_url"]}):
        r = api.get(FIND, params=params)
        assert r.status_code == 200, r.text
        assert r.json() == company
    assert sb.credits == before  # no charge, both balances as they were
    assert before["charges"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"domain": "no-such-company.invalid"},
        {"linkedin_url": "https://www.linkedin.com/company/no-such-company-xyz"},
    ],
)
def test_unknown_company_is_404(api: httpx.Client, params: dict[str, str]) -> None:
    error_of(api.get(FIND, params=params), 404, "company_not_found")


@pytest.mark.parametrize("params", [{}, {"domain": ""}, {"domain": "  ", "linkedin_url": ""}, {"name": "Acme"}])
def test_missing_domain_is_400(api: httpx.Client, params: dict[str, str]) -> None:
    e = error_of(api.get(FIND, params=params), 400, "missing_field")
    assert e["source"] == {"parameter": "domain"}


def test_company_of_a_person_is_the_same_object(api: httpx.Client, people: list[dict[str, Any]]) -> None:
    p = next(p for p in people if p["company"] and not p.get("_gdpr_removed"))
    body = api.get(FIND, params={"domain": domain_of(p["company"])}).json()
    assert body == p["company"]
