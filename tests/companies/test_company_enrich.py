"""`Company.enrich` and company `EnrichmentJob`s (blocking and awaitable) against the sandbox over HTTP: one
result per input in input order, identical inputs sent once, requests of at most 10,000, typed failures, credits."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest
from support import call, domain_of, last_seq, sent

import amplemarket
from amplemarket import Company, EnrichmentJob, EnrichmentResult, InvalidInputError
from amplemarket.testing import Sandbox

CREATE = "POST /companies/enrichment-requests"
POLL = "GET /companies/enrichment-requests/{id}"


def bodies(sb: Sandbox, since: int) -> list[list[dict[str, Any]]]:
    return [json.loads(r["body"])["companies"] for r in sent(sb, CREATE, since)]


def test_enrich_returns_one_result_per_input_in_order(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    truth = list(sb.companies[:6])
    inputs: list[Any] = [
        {"domain": domain_of(truth[0])},
        domain_of(truth[1]),
        {"linkedin_url": truth[2]["linkedin_url"]},
        {"name": truth[3]["name"]},
        {"domain": "no-such-company-anywhere.example"},
        {"domain": f"https://www.{domain_of(truth[4])}/about"},
    ]
    since = last_seq(sb)
    results = call(mode, Company, "enrich", inputs, client=client)
    assert len(results) == len(inputs)
    assert all(isinstance(r, EnrichmentResult) for r in results)
    assert [r.status for r in results] == ["enriched"] * 4 + ["not_found", "enriched"]
    expected = [truth[0], truth[1], truth[2], truth[3], None, truth[4]]
    for r, t in zip(results, expected, strict=True):
        if t is None:
            assert r.company is None
        else:
            assert isinstance(r.company, Company) and r.company.id == t["id"]
    assert results[0].domain == domain_of(truth[0])
    assert len(sent(sb, CREATE, since)) == 1
    assert "EnrichmentResult(status=" in repr(results[0])


def test_identical_companies_are_sent_once(sb: Sandbox, client: amplemarket.Client) -> None:
    d = domain_of(sb.companies[0])
    since = last_seq(sb)
    results = Company.enrich([d, {"domain": d.upper()}, {"domain": d}], client=client)
    assert bodies(sb, since) == [[{"domain": d}]]
    assert len({r.company.id for r in results if r.company}) == 1 and len(results) == 3


@pytest.mark.amplemarket_sandbox(companies=25_000, people=100)
def test_25000_companies_go_in_three_requests(sb: Sandbox, client: amplemarket.Client) -> None:
    domains = [domain_of(c) for c in sb.companies[:25_000]]
    since = last_seq(sb)
    results = Company.enrich(domains, client=client)
    assert [len(b) for b in bodies(sb, since)] == [10_000, 10_000, 5_000]
    assert len(results) == 25_000
    assert all(r.status == "enriched" for r in results)
    assert [r.company.id for r in results[:3] if r.company] == [c["id"] for c in sb.companies[:3]]
    table = results.to_arrow()
    assert table.num_rows == 25_000
    assert "company.name" in table.column_names and "company_json" in table.column_names


def test_invalid_inputs_come_back_invalid_without_being_sent(sb: Sandbox, client: amplemarket.Client) -> None:
    d = domain_of(sb.companies[0])
    since = last_seq(sb)
    results = Company.enrich([{"domain": "not a domain"}, d, {"website": d}, {}], client=client)
    assert [r.status for r in results] == ["invalid", "enriched", "invalid", "invalid"]
    assert "not a domain" in (results[0].error or "")
    assert "unknown field `website`" in (results[2].error or "")
    assert "no usable identifier" in (results[3].error or "")
    assert bodies(sb, since) == [[{"domain": d}]]


@pytest.mark.parametrize("bad", ["techco.com", {"domain": "techco.com"}, 5])
def test_a_single_value_is_a_type_error(client: amplemarket.Client, bad: Any) -> None:
    with pytest.raises(TypeError, match="companies must be"):
        Company.enrich(bad, client=client)


def test_items_of_the_wrong_type_are_type_errors(client: amplemarket.Client) -> None:
    with pytest.raises(TypeError, match="company 1 is a int"):
        Company.enrich(["techco.com", 5], client=client)


@pytest.mark.amplemarket_sandbox(company_enrichment_cost=1.0)
def test_enriched_companies_are_charged_and_not_found_ones_are_free(sb: Sandbox, client: amplemarket.Client) -> None:
    before = sb.credits["email_credits"]
    Company.enrich([domain_of(sb.companies[0]), "nothing-here.example"], client=client)
    assert sb.credits["email_credits"] == before - 1


def test_job_lifecycle_and_resume_by_id(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    domains = [domain_of(c) for c in sb.companies[:30]]
    job = call(mode, EnrichmentJob, "create_companies", domains, client=client)
    assert job.kind == "company" and isinstance(job.id, int)
    assert 'kind="company"' in repr(job)
    call(mode, job, "wait")
    assert job.status == "completed"
    results = list(job.results(page_size=7))
    assert sorted(r.domain or "" for r in results) == sorted(domains)
    assert all(r.company is not None for r in results)

    with sb.client(rate_limit=False) as other:
        again = call(mode, EnrichmentJob, "get", job.id, kind="company", client=other)
        assert again.kind == "company" and again.status == "completed"
        assert [r.to_json() for r in again.results()] == [r.to_json() for r in results]
        matched = again.results_for(list(reversed(domains)))
        assert [r.domain if r else None for r in matched] == list(reversed(domains))

    # Company and people jobs are numbered apart: this id is no people job's.
    with pytest.raises(amplemarket.NotFoundError):
        EnrichmentJob.get(job.id, client=client)
    assert pickle.loads(pickle.dumps(results[0])) == results[0]


def test_get_refuses_an_unknown_kind(client: amplemarket.Client) -> None:
    with pytest.raises(InvalidInputError, match='kind is "person" or "company"'):
        EnrichmentJob.get(1, kind="companies", client=client)  # type: ignore[arg-type]


@pytest.mark.amplemarket_sandbox(job_progression="never")
def test_cancel_keeps_the_job_and_its_kind(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    job = EnrichmentJob.create_companies([domain_of(c) for c in sb.companies[:5]], client=client)
    call(mode, job, "cancel")
    assert job.status == "canceled" and job.done
    assert sent(sb, "PATCH /companies/enrichment-requests/{id}")


def test_create_refuses_bad_input_before_sending(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    since = last_seq(sb)
    with pytest.raises(InvalidInputError, match="1 invalid company"):
        call(mode, EnrichmentJob, "create_companies", ["techco.com", "not a domain"], client=client)
    with pytest.raises(InvalidInputError, match="no companies to send"):
        call(mode, EnrichmentJob, "create_companies", [], client=client)
    with pytest.raises(InvalidInputError, match="more than one request takes"):
        call(mode, EnrichmentJob, "create_companies", [f"c{i}.example.com" for i in range(10_001)], client=client)
    assert sent(sb, CREATE, since) == []


@pytest.mark.amplemarket_sandbox(email_credits=0, company_enrichment_cost=1.0)
def test_no_credits_at_all_is_refused_before_any_job(sb: Sandbox, client: amplemarket.Client) -> None:
    with pytest.raises(amplemarket.InsufficientCreditsError, match="credits"):
        Company.enrich([domain_of(sb.companies[0])], client=client)


@pytest.mark.amplemarket_sandbox(email_credits=1, company_enrichment_cost=1.0)
def test_running_out_mid_job_fails_the_rest_with_the_reason(sb: Sandbox, client: amplemarket.Client) -> None:
    results = Company.enrich([domain_of(c) for c in sb.companies[:3]], client=client)
    assert results[0].status == "enriched"
    assert [r.status for r in results[1:]] == ["failed", "failed"]
    assert all("credit" in (r.error or "") for r in results[1:])
    assert sb.credits["email_credits"] == 0


def test_a_creation_cut_short_is_not_sent_again(sb: Sandbox, client: amplemarket.Client) -> None:
    d = domain_of(sb.companies[0])
    sb.script(CREATE, [502])
    since = last_seq(sb)
    with pytest.raises(amplemarket.APIStatusError, match="may have been created"):
        Company.enrich([d], client=client)
    assert len(sent(sb, CREATE, since)) == 1


def test_a_creation_refused_with_429_is_retried(sb: Sandbox, client: amplemarket.Client) -> None:
    d = domain_of(sb.companies[0])
    sb.script(CREATE, [{"status": 429, "retry_after": 1}])
    since = last_seq(sb)
    results = Company.enrich([d], client=client)
    assert results[0].status == "enriched"
    assert [r["status"] for r in sent(sb, CREATE, since)] == [429, 202]


@pytest.mark.parametrize("progression", ["immediate", "polls:3", "seconds:0.3"])
def test_company_jobs_in_every_progression(
    sb: Sandbox, client: amplemarket.Client, mode: str, progression: str
) -> None:
    sb.configure(job_progression=progression, poll_retry_after=0)
    domains = [domain_of(c) for c in sb.companies[:12]]
    job = call(mode, EnrichmentJob, "create_companies", domains, client=client)
    assert job.status == "queued"
    seen: list[str] = []
    call(mode, job, "wait", progress=lambda phase, done, total: seen.append(phase))
    assert job.status == "completed" and seen[-1] == "done"
    polls = len(sent(sb, POLL))
    assert polls == {"immediate": 1, "polls:3": 3}.get(progression, polls) and polls >= 1
    results = list(job.results(page_size=5))
    assert sorted(r.domain or "" for r in results) == sorted(domains), "every page read, none twice"
    assert len({r.id for r in results}) == len(results)
