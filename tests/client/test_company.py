"""``Company.find`` / ``Company.find_async``: by domain and by LinkedIn URL, no match, input validation."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import pytest
from support import COMPANY, call, domain_of, sent

import amplemarket
from amplemarket import Company
from amplemarket.testing import Sandbox


@pytest.fixture
def company(sb: Sandbox) -> dict[str, Any]:
    return sb.companies[7]


@pytest.mark.parametrize("form", ["bare", "with scheme", "with www"])
def test_find_by_domain(mode: str, form: str, sb: Sandbox, client: amplemarket.Client, company: dict) -> None:
    domain = domain_of(company)
    given = {"bare": domain, "with scheme": f"https://{domain}", "with www": f"www.{domain}"}[form]
    found = call(mode, Company, "find", domain=given, client=client)
    assert isinstance(found, Company)
    assert found.id == company["id"]
    assert found.to_dict() == company
    (entry,) = sent(sb, COMPANY)
    assert parse_qs(entry["query"]) == {"domain": [given]}


def test_find_by_linkedin_url(mode: str, sb: Sandbox, client: amplemarket.Client, company: dict) -> None:
    found = call(mode, Company, "find", linkedin_url=company["linkedin_url"], client=client)
    assert found is not None
    assert found.to_dict() == company
    assert found.name == company["name"]
    (entry,) = sent(sb, COMPANY)
    assert parse_qs(entry["query"]) == {"linkedin_url": [company["linkedin_url"]]}


@pytest.mark.parametrize(
    "query",
    [{"domain": "no-such-company.example"}, {"linkedin_url": "https://www.linkedin.com/company/no-such-company-x"}],
    ids=["domain", "linkedin_url"],
)
def test_no_match_is_none(mode: str, sb: Sandbox, client: amplemarket.Client, query: dict[str, str]) -> None:
    assert call(mode, Company, "find", client=client, **query) is None
    (entry,) = sent(sb, COMPANY)  # the 404 is the answer: not retried
    assert entry["status"] == 404


def test_scripted_404_is_none(mode: str, sb: Sandbox, client: amplemarket.Client, company: dict) -> None:
    sb.script(COMPANY, [404])
    assert call(mode, Company, "find", domain=domain_of(company), client=client) is None
    assert len(sent(sb, COMPANY)) == 1


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"domain": ""}, {"linkedin_url": ""}, {"domain": "   "}],
    ids=["neither", "empty domain", "empty linkedin_url", "blank domain"],
)
def test_invalid_input_raises_before_sending(
    mode: str, sb: Sandbox, client: amplemarket.Client, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(amplemarket.InvalidInputError) as info:
        call(mode, Company, "find", client=client, **kwargs)
    assert isinstance(info.value, ValueError)
    assert "domain" in str(info.value)
    assert sb.requests == []


def test_company_find_is_retried_on_5xx(mode: str, sb: Sandbox, client: amplemarket.Client, company: dict) -> None:
    sb.script(COMPANY, [{"status": 503, "retry_after": 0}, {"status": 500, "headers": {"Retry-After": "0"}}])
    found = call(mode, Company, "find", domain=domain_of(company), client=client)
    assert found is not None and found.id == company["id"]
    assert [r["status"] for r in sent(sb, COMPANY)] == [503, 500, 200]


def test_company_find_errors_are_typed(mode: str, sb: Sandbox, client: amplemarket.Client, company: dict) -> None:
    sb.script(COMPANY, [403])
    with pytest.raises(amplemarket.PermissionDeniedError) as info:
        call(mode, Company, "find", domain=domain_of(company), client=client)
    assert info.value.request == "GET /companies/find"
    assert len(sent(sb, COMPANY)) == 1


def test_company_find_costs_no_credits(sb: Sandbox, client: amplemarket.Client, company: dict) -> None:
    before = sb.credits
    Company.find(domain=domain_of(company), client=client)
    after = sb.credits
    assert (after["email_credits"], after["phone_credits"]) == (before["email_credits"], before["phone_credits"])
