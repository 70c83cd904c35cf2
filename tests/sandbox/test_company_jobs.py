"""Company enrichment requests: creation, validation with exact pointers, matching, progression, pages, cancel,
idempotency, credits and failures, all over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support import domain_of, error_of, retry_after

from amplemarket.testing import Sandbox

from ._helpers import COMPANY_JOBS, JOB_PATH, all_results, create_job, finish, start


def by_domain(sb: Sandbox, n: int, first: int = 0) -> list[dict[str, str]]:
    return [{"domain": domain_of(sb.companies[i])} for i in range(first, first + n)]


def company_job(api: httpx.Client, companies: list[dict[str, Any]], **headers: str) -> dict[str, Any]:
    return start(api, COMPANY_JOBS, {"companies": companies}, **headers)


# -- creation ------------------------------------------------------------------------------------------------------


def test_create_answers_202_with_location_and_a_queued_job(sb: Sandbox, api: httpx.Client) -> None:
    r = api.post(COMPANY_JOBS, json={"companies": by_domain(sb, 2)})
    assert r.status_code == 202, r.text
    body = r.json()
    href = f"{COMPANY_JOBS}/{body['id']}"
    assert isinstance(body["id"], int)
    assert r.headers["location"] == href
    assert body == {
        "id": body["id"],
        "object": "company_enrichment",
        "status": "queued",
        "results": [],
        "_links": {"self": {"href": href}},
    }


def test_kinds_are_not_found_under_each_others_paths(
    sb: Sandbox, api: httpx.Client, live: list[dict[str, Any]]
) -> None:
    company = company_job(api, by_domain(sb, 1))
    person = create_job(api, [{"linkedin_url": live[0]["linkedin_url"]}])
    assert company["id"] != person["id"]
    error_of(api.get(f"{JOB_PATH}/{company['id']}"), 404, "enrichment_request_not_found")
    error_of(api.get(f"{COMPANY_JOBS}/{person['id']}"), 404, "enrichment_request_not_found")
    error_of(
        api.patch(f"{COMPANY_JOBS}/{person['id']}", json={"status": "canceled"}), 404, "enrichment_request_not_found"
    )
    assert api.get(f"{COMPANY_JOBS}/{company['id']}").status_code == 200


@pytest.mark.parametrize("job_id", ["999", "abc", "-1"])
def test_unknown_job_is_404(api: httpx.Client, job_id: str) -> None:
    error_of(api.get(f"{COMPANY_JOBS}/{job_id}"), 404, "enrichment_request_not_found")


@pytest.mark.parametrize(
    ("body", "code", "pointer"),
    [
        ({}, "missing_field", ""),
        ({"companies": None}, "missing_field", ""),
        ({"companies": []}, "missing_field", "/companies"),
        ({"companies": "techco.com"}, "unsupported_value", "/companies"),
        ({"companies": [{"domain": "techco.com"}], "reveal_email": True}, "unsupported_value", "/reveal_email"),
        ({"companies": [{"domain": "techco.com"}, {"website": "x.com"}]}, "unsupported_value", "/companies/1/website"),
        ({"companies": [{"domain": "techco.com"}, {}]}, "missing_field", "/companies/1"),
        ({"companies": [{"domain": " ", "name": ""}]}, "missing_field", "/companies/0"),
        ({"companies": [{"domain": 5}]}, "unsupported_value", "/companies/0/domain"),
        ({"companies": [{"name": ["TechCo"]}]}, "unsupported_value", "/companies/0/name"),
        ({"companies": ["techco.com"]}, "unsupported_value", "/companies/0"),
    ],
)
def test_bad_bodies_are_400_with_exact_pointers(
    api: httpx.Client, body: dict[str, Any], code: str, pointer: str
) -> None:
    e = error_of(api.post(COMPANY_JOBS, json=body), 400, code)
    assert e["source"] == {"pointer": pointer}


def test_too_many_companies_is_400(api: httpx.Client) -> None:
    r = api.post(COMPANY_JOBS, json={"companies": [{"name": f"c{i}"} for i in range(10_001)]})
    e = error_of(r, 400, "unsupported_value")
    assert e["source"] == {"pointer": "/companies"}
    assert e["detail"] == "Number of companies exceeds 10000 limit"


def test_every_item_error_is_listed(api: httpx.Client) -> None:
    r = api.post(COMPANY_JOBS, json={"companies": [{}, {"domain": 1}, {"name": "ok"}, {"x": "y"}]})
    assert r.status_code == 400
    pointers = [e["source"]["pointer"] for e in r.json()["_errors"]]
    assert pointers == ["/companies/0", "/companies/1/domain", "/companies/3/x"]


# -- matching and results ------------------------------------------------------------------------------------------


def test_matching_by_each_key_echoes_the_input_and_renders_the_company(sb: Sandbox, api: httpx.Client) -> None:
    c0, c1, c2 = sb.companies[0], sb.companies[1], sb.companies[2]
    inputs = [
        {"domain": "https://WWW." + domain_of(c0) + "/about"},
        {"linkedin_url": c1["linkedin_url"].replace("https://www.", "")},
        {"name": c2["name"].upper()},
        {"domain": "nowhere.invalid", "name": c0["name"]},  # falls through to the name
        {"domain": "nowhere.invalid"},
        {"name": "No Such Company"},
    ]
    job = company_job(api, inputs)
    done = finish(api, job["_links"]["self"]["href"])
    assert done["status"] == "completed"
    results = done["results"]
    assert [r["status"] for r in results] == ["enriched"] * 4 + ["not_found"] * 2
    assert [r["result"]["id"] for r in results[:4]] == [c0["id"], c1["id"], c2["id"], c0["id"]]
    assert results[0]["result"] == c0
    for sent, got in zip(inputs, results, strict=True):
        assert {k: got[k] for k in sent} == sent
    assert "result" not in results[4] and "result" not in results[5]
    assert [r["id"] for r in results] == list(range(results[0]["id"], results[0]["id"] + 6))


# -- progression, pages, cancel ------------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(job_progression="polls:3", poll_retry_after=4)
def test_polls_progression(sb: Sandbox, api: httpx.Client) -> None:
    href = company_job(api, by_domain(sb, 6))["_links"]["self"]["href"]
    for _ in range(2):
        r = api.get(href)
        assert r.json()["status"] == "processing" and r.json()["results"] == []
        assert retry_after(r) == 4
    r = api.get(href)
    assert r.json()["status"] == "completed" and "retry-after" not in r.headers
    assert len(r.json()["results"]) == 6


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_immediate_progression(sb: Sandbox, api: httpx.Client) -> None:
    href = company_job(api, by_domain(sb, 3))["_links"]["self"]["href"]
    assert api.get(href).json()["status"] == "completed"


@pytest.mark.amplemarket_sandbox(job_progression="seconds:0")
def test_seconds_progression(sb: Sandbox, api: httpx.Client) -> None:
    href = company_job(api, by_domain(sb, 3))["_links"]["self"]["href"]
    assert len(api.get(href).json()["results"]) == 3


@pytest.mark.amplemarket_sandbox(job_progression="never", poll_retry_after=2)
def test_never_progression_then_cancel(sb: Sandbox, api: httpx.Client) -> None:
    href = company_job(api, by_domain(sb, 3))["_links"]["self"]["href"]
    for _ in range(5):
        r = api.get(href)
        assert r.json()["status"] == "processing" and retry_after(r) == 2
    r = api.patch(href, json={"status": "canceled"})
    assert r.json()["status"] == "canceled" and r.json()["results"] == []
    assert "retry-after" not in r.headers


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_pages_walk_both_ways_without_loss_or_duplicates(sb: Sandbox, api: httpx.Client) -> None:
    inputs = by_domain(sb, 250)
    href = company_job(api, inputs)["_links"]["self"]["href"]
    first = finish(api, href, **{"page[size]": 40})
    assert "prev" not in first["_links"]
    results = all_results(api, first)
    assert [r["domain"] for r in results] == [i["domain"] for i in inputs]
    assert len({r["id"] for r in results}) == 250
    last_page = api.get(href, params={"page[size]": 40, "page[after]": results[-11]["id"]}).json()
    assert len(last_page["results"]) == 10 and "next" not in last_page["_links"]
    back = api.get(last_page["_links"]["prev"]["href"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in results[200:240]]


@pytest.mark.amplemarket_sandbox(job_progression="polls:2")
def test_cancel_keeps_results_so_far_and_honours_page_params(sb: Sandbox, api: httpx.Client) -> None:
    href = company_job(api, by_domain(sb, 10))["_links"]["self"]["href"]
    api.get(href)  # half done
    r = api.patch(href, params={"page[size]": 3}, json={"status": "canceled"})
    assert r.status_code == 200
    page = r.json()
    assert page["status"] == "canceled" and len(page["results"]) == 3
    assert len(all_results(api, page)) == 5
    again = api.patch(href, json={"status": "canceled"}).json()
    assert again["status"] == "canceled" and len(again["results"]) == 5


@pytest.mark.parametrize(
    ("body", "code", "pointer"),
    [({"status": "done"}, "unsupported_value", "/status"), ({}, "missing_field", "")],
)
def test_patch_with_another_status_is_400(
    sb: Sandbox, api: httpx.Client, body: dict[str, Any], code: str, pointer: str
) -> None:
    job = company_job(api, by_domain(sb, 1))
    e = error_of(api.patch(f"{COMPANY_JOBS}/{job['id']}", json=body), 400, code)
    assert e["source"] == {"pointer": pointer}


def test_idempotency_key_returns_the_same_job(sb: Sandbox, api: httpx.Client) -> None:
    a = company_job(api, by_domain(sb, 2), **{"Idempotency-Key": "co-1"})
    b = company_job(api, by_domain(sb, 5), **{"Idempotency-Key": "co-1"})
    c = company_job(api, by_domain(sb, 2), **{"Idempotency-Key": "co-2"})
    assert a["id"] == b["id"] != c["id"]
    # the same key on the people route names another creation
    person = api.post(JOB_PATH, json={"leads": [{"email": "a@b.co"}]}, headers={"Idempotency-Key": "co-1"})
    assert person.json()["id"] not in (a["id"], c["id"])


# -- credits and failures ------------------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(job_progression="immediate", email_credits=100)
def test_enriched_companies_are_charged_once_and_not_found_is_free(sb: Sandbox, api: httpx.Client) -> None:
    inputs = [*by_domain(sb, 3), {"domain": "nowhere.invalid"}, *by_domain(sb, 1)]
    finish(api, company_job(api, inputs)["_links"]["self"]["href"])
    charges = sb.credits["charges"]
    assert [(c["company_id"], c["kind"], c["pool"], c["amount"], c["via"]) for c in charges] == [
        (sb.companies[i]["id"], "company", "email", 1.0, "enrichment") for i in range(3)
    ]
    assert sb.credits["email_credits"] == 97.0
    finish(api, company_job(api, by_domain(sb, 2))["_links"]["self"]["href"])
    assert sb.credits["email_credits"] == 97.0, "within 24 h a company is charged once"


@pytest.mark.amplemarket_sandbox(job_progression="immediate", company_enrichment_cost=2.5)
def test_company_enrichment_cost_setting(sb: Sandbox, api: httpx.Client) -> None:
    before = sb.credits["email_credits"]
    finish(api, company_job(api, by_domain(sb, 2))["_links"]["self"]["href"])
    assert sb.credits["email_credits"] == before - 5.0


@pytest.mark.amplemarket_sandbox(job_progression="immediate", email_credits=3)
def test_running_out_ends_the_job_in_error_keeping_earlier_results(sb: Sandbox, api: httpx.Client) -> None:
    done = finish(api, company_job(api, by_domain(sb, 5))["_links"]["self"]["href"])
    assert done["status"] == "error"
    assert len(done["results"]) == 3
    assert done["_errors"][0]["code"] == "insufficient_credits"
    assert sb.credits["email_credits"] == 0
    error_of(api.post(COMPANY_JOBS, json={"companies": by_domain(sb, 1, 10)}), 402, "insufficient_credits")


@pytest.mark.amplemarket_sandbox(job_progression="immediate", job_error_rate=1.0)
def test_job_error_rate_applies(sb: Sandbox, api: httpx.Client) -> None:
    done = finish(api, company_job(api, by_domain(sb, 2))["_links"]["self"]["href"])
    assert done["status"] == "error" and done["_errors"][0]["code"] == "internal_server_error"
    assert len(done["results"]) == 2


def test_scripts_faults_and_the_request_log_cover_the_routes(sb: Sandbox, api: httpx.Client) -> None:
    job = company_job(api, by_domain(sb, 1))
    sb.script(f"GET {COMPANY_JOBS}/{{id}}", [503])
    sb.script(f"POST {COMPANY_JOBS}", [{"status": 429, "headers": {"Retry-After": "3"}}])
    error_of(api.get(f"{COMPANY_JOBS}/{job['id']}"), 503, "service_unavailable")
    r = api.post(COMPANY_JOBS, json={"companies": by_domain(sb, 1)})
    assert r.status_code == 429 and retry_after(r) == 3
    routes = [(e["route"], e["status"], e["injected"]) for e in sb.requests]
    assert routes[-3:] == [
        (f"POST {COMPANY_JOBS}", 202, None),
        (f"GET {COMPANY_JOBS}/{{id}}", 503, "script"),
        (f"POST {COMPANY_JOBS}", 429, "script"),
    ]
    assert api.put(COMPANY_JOBS).status_code == 405
