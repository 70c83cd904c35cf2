"""Enrichment requests: creation, polling and progression, results, cursor pages, cancel, validation,
idempotency, credits and failures."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import httpx
import pytest
from support import domain_of, error_of, public, retry_after

from amplemarket.testing import Sandbox

from ._helpers import JOB_PATH, all_results, create_job, pick, poll


def slug_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


def leads_for(people: list[dict[str, Any]], n: int, start: int = 0) -> list[dict[str, str]]:
    """One lead per person (email when there is one, else the LinkedIn URL), for people ``start``…"""
    out = []
    for p in people[start : start + n]:
        out.append({"email": p["email"]} if p.get("email") else {"linkedin_url": p["linkedin_url"]})
    return out


def get(api: httpx.Client, path: str, **params: Any) -> httpx.Response:
    return api.get(path, params=params or None)


# -- creation ------------------------------------------------------------------------------------------------------


def test_create_answers_202_with_location_and_a_queued_job(api: httpx.Client, people: list[dict[str, Any]]) -> None:
    r = api.post(JOB_PATH, json={"leads": leads_for(people, 3)})
    assert r.status_code == 202, r.text
    body = r.json()
    href = f"{JOB_PATH}/{body['id']}"
    assert isinstance(body["id"], int)
    assert r.headers["location"] == href
    assert body == {
        "id": body["id"],
        "object": "person_enrichment",
        "status": "queued",
        "results": [],
        "_links": {"self": {"href": href}},
    }
    assert list(body) == ["id", "object", "status", "results", "_links"]


def test_job_ids_count_up_from_one_after_reset(api: httpx.Client, people: list[dict[str, Any]]) -> None:
    ids = [create_job(api, leads_for(people, 1))["id"] for _ in range(3)]
    assert ids == [1, 2, 3]


# -- progression ---------------------------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(job_progression="polls:3", poll_retry_after=5)
def test_polls_progression_processing_then_completed(api: httpx.Client, people: list[dict[str, Any]]) -> None:
    job = create_job(api, leads_for(people, 9))
    href = job["_links"]["self"]["href"]
    for _ in range(2):
        r = api.get(href)
        assert r.status_code == 200
        body = r.json()
        assert body["status"] == "processing"
        assert body["results"] == []
        assert body["_links"] == {"self": {"href": href}}
        assert retry_after(r) == 5
    r = api.get(href)
    body = r.json()
    assert body["status"] == "completed"
    assert "retry-after" not in r.headers
    assert len(body["results"]) == 9
    # later polls keep answering the same
    r2 = api.get(href)
    assert r2.json() == body and "retry-after" not in r2.headers


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_immediate_progression_completes_at_the_first_poll(api: httpx.Client, people: list[dict[str, Any]]) -> None:
    job = create_job(api, leads_for(people, 4))
    assert job["status"] == "queued"
    r = api.get(f"{JOB_PATH}/{job['id']}")
    assert r.json()["status"] == "completed"
    assert "retry-after" not in r.headers


@pytest.mark.amplemarket_sandbox(job_progression="never")
def test_never_progression_stays_processing(api: httpx.Client, people: list[dict[str, Any]]) -> None:
    job = create_job(api, leads_for(people, 4))
    for _ in range(25):
        r = api.get(f"{JOB_PATH}/{job['id']}")
        assert r.json()["status"] == "processing" and r.json()["results"] == []
        assert retry_after(r) == 0
    body = api.patch(f"{JOB_PATH}/{job['id']}", json={"status": "canceled"}).json()
    assert body["status"] == "canceled" and body["results"] == []


@pytest.mark.parametrize(("progression", "status"), [("seconds:0", "completed"), ("seconds:600", "processing")])
def test_seconds_progression(
    sb: Sandbox, api: httpx.Client, people: list[dict[str, Any]], progression: str, status: str
) -> None:
    sb.configure(job_progression=progression)
    job = create_job(api, leads_for(people, 4))
    assert api.get(f"{JOB_PATH}/{job['id']}").json()["status"] == status


# -- results -------------------------------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
@pytest.mark.parametrize(("reveal_email", "reveal_phones"), [(False, False), (True, False), (False, True)])
def test_results_echo_leads_and_carry_statuses(
    api: httpx.Client, people: list[dict[str, Any]], live: list[dict[str, Any]], reveal_email: bool, reveal_phones: bool
) -> None:
    ok = [p for p in live if p.get("email") and p["company"] and p.get("phone_numbers")]
    gone = pick(people, lambda p: bool(p.get("_gdpr_removed")))[0]
    a, b, c, d, e = ok[:5]
    leads: list[dict[str, Any]] = [
        {"linkedin_id": slug_of(a["linkedin_url"])},
        {"email": b["email"].upper()},
        {"name": c["name"], "title": c["title"], "company_domain": domain_of(c["company"])},
        {"linkedin_url": d["linkedin_url"] + "/", "name": "Whoever"},
        {"email": "nobody@nowhere.invalid"},
        {"linkedin_url": gone["linkedin_url"]},
        {"name": e["name"], "company_name": e["company"]["name"]},
        {"name": "Nobody Atall", "company_name": "Nowhere Inc", "title": "CEO"},
    ]
    expected = [a, b, c, d, None, "gdpr", e, None]
    job = create_job(api, leads, reveal_email=reveal_email, reveal_phone_numbers=reveal_phones)
    body = poll(api, job["id"])
    assert body["status"] == "completed"
    results = body["results"]
    assert len(results) == len(leads)
    ids = [r["id"] for r in results]
    assert all(isinstance(i, int) for i in ids) and ids == list(range(ids[0], ids[0] + len(leads)))
    for lead, want, res in zip(leads, expected, results, strict=True):
        echo = {k: v for k, v in res.items() if k not in ("id", "status", "result")}
        assert echo == lead
        assert list(res) == ["id", *lead, "status"] + (["result"] if "result" in res else [])
        if want is None:
            assert res["status"] == "not_found" and "result" not in res
        elif want == "gdpr":
            assert res["status"] == "gdpr_removed" and "result" not in res
        else:
            assert isinstance(want, dict)
            assert res["status"] == "enriched"
            assert res["result"] == public(want, email=reveal_email, phones=reveal_phones)


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_linkedin_id_and_linkedin_url_are_both_accepted(api: httpx.Client, live: list[dict[str, Any]]) -> None:
    p = live[5]
    url, slug = p["linkedin_url"], slug_of(p["linkedin_url"])
    leads = [
        {"linkedin_id": slug},
        {"linkedin_id": url},
        {"linkedin_url": url},
        {"linkedin_url": url.removeprefix("https://www.")},
        {"linkedin_url": slug.upper()},
    ]
    results = poll(api, create_job(api, leads)["id"])["results"]
    assert [r["status"] for r in results] == ["enriched"] * len(leads)
    assert {r["result"]["id"] for r in results} == {p["id"]}


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_result_ids_are_unique_across_jobs(api: httpx.Client, people: list[dict[str, Any]]) -> None:
    first = poll(api, create_job(api, leads_for(people, 3))["id"])["results"]
    second = poll(api, create_job(api, leads_for(people, 4, 3))["id"])["results"]
    ids = [r["id"] for r in first + second]
    assert len(set(ids)) == 7
    assert max(r["id"] for r in first) < min(r["id"] for r in second)


# -- pages ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def job250(sb: Sandbox, api: httpx.Client, people: list[dict[str, Any]]) -> dict[str, Any]:
    sb.configure(job_progression="immediate")
    job = create_job(api, leads_for(people, 250))
    body = poll(api, job["id"])
    assert body["status"] == "completed"
    return body


def test_pages_follow_next_and_prev_links(api: httpx.Client, job250: dict[str, Any]) -> None:
    job_id = job250["id"]
    href = f"{JOB_PATH}/{job_id}"
    assert len(job250["results"]) == 100  # default page size
    first = api.get(href, params={"page[size]": 100}).json()
    assert first["results"] == job250["results"]
    assert "prev" not in first["_links"]
    assert first["_links"]["self"] == {"href": href}
    pages = [first]
    while "next" in pages[-1]["_links"]:
        nxt = pages[-1]["_links"]["next"]["href"]
        last_id = pages[-1]["results"][-1]["id"]
        assert nxt == f"{href}?page[size]=100&page[after]={last_id}"
        r = api.get(nxt)
        assert r.status_code == 200
        pages.append(r.json())
        assert len(pages) < 10
    assert [len(p["results"]) for p in pages] == [100, 100, 50]
    ids = [r["id"] for p in pages for r in p["results"]]
    assert len(ids) == len(set(ids)) == 250
    assert ids == list(range(ids[0], ids[0] + 250))
    assert "next" not in pages[-1]["_links"]
    # walk back along prev links
    back = [pages[-1]]
    while "prev" in back[-1]["_links"]:
        prv = back[-1]["_links"]["prev"]["href"]
        assert prv == f"{href}?page[size]=100&page[before]={back[-1]['results'][0]['id']}"
        back.append(api.get(prv).json())
        assert len(back) < 10
    assert [p["results"] for p in reversed(back)] == [p["results"] for p in pages]
    assert "prev" not in back[-1]["_links"]
    assert all(p["_links"]["self"] == {"href": href} for p in pages + back)


def test_small_pages_and_cursors_are_exclusive(api: httpx.Client, job250: dict[str, Any]) -> None:
    href = f"{JOB_PATH}/{job250['id']}"
    ids = [r["id"] for r in all_results(api, api.get(href, params={"page[size]": 7}).json())]
    assert ids == list(range(ids[0], ids[0] + 250))
    mid = ids[120]
    after = api.get(href, params={"page[size]": 5, "page[after]": mid}).json()
    assert [r["id"] for r in after["results"]] == ids[121:126]
    assert "prev" in after["_links"] and "next" in after["_links"]
    before = api.get(href, params={"page[size]": 5, "page[before]": mid}).json()
    assert [r["id"] for r in before["results"]] == ids[115:120]
    near_start = api.get(href, params={"page[size]": 5, "page[before]": ids[3]}).json()
    assert [r["id"] for r in near_start["results"]] == ids[:3]
    assert "prev" not in near_start["_links"] and "next" in near_start["_links"]
    end = api.get(href, params={"page[after]": ids[-1]}).json()
    assert end["results"] == [] and "next" not in end["_links"]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"page[size]": 0}, "page[size]"),
        ({"page[size]": 101}, "page[size]"),
        ({"page[size]": "ten"}, "page[size]"),
        ({"page[after]": "abc"}, "page[after]"),
        ({"page[before]": "-1"}, "page[before]"),
        ({"page[after]": 3, "page[before]": 9}, None),
    ],
)
def test_bad_page_parameters_are_400(
    api: httpx.Client, job250: dict[str, Any], params: dict[str, Any], parameter: str | None
) -> None:
    e = error_of(api.get(f"{JOB_PATH}/{job250['id']}", params=params), 400, "unsupported_value")
    assert "parameter" in e["source"]
    if parameter:
        assert e["source"] == {"parameter": parameter}


@pytest.mark.parametrize("job_id", ["999", "0", "abc", "1.5"])
def test_unknown_job_is_404(api: httpx.Client, job_id: str) -> None:
    error_of(api.get(f"{JOB_PATH}/{job_id}"), 404, "enrichment_request_not_found")
    error_of(api.patch(f"{JOB_PATH}/{job_id}", json={"status": "canceled"}), 404, "enrichment_request_not_found")


# -- cancel --------------------------------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(job_progression="polls:10")
def test_cancel_mid_way_keeps_partial_results(api: httpx.Client, people: list[dict[str, Any]]) -> None:
    job = create_job(api, leads_for(people, 250))
    href = f"{JOB_PATH}/{job['id']}"
    for _ in range(3):
        assert api.get(href).json()["status"] == "processing"
    r = api.patch(href, json={"status": "canceled"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "canceled"
    assert "retry-after" not in r.headers
    kept = all_results(api, body)
    assert 0 < len(kept) < 250
    assert [x["id"] for x in kept] == list(range(kept[0]["id"], kept[0]["id"] + len(kept)))
    # the job stays canceled with the same results, and cancelling again changes nothing
    for _ in range(3):
        again = api.get(href).json()
        assert again["status"] == "canceled"
        assert len(all_results(api, again)) == len(kept)
    assert api.patch(href, json={"status": "canceled"}).json()["status"] == "canceled"


@pytest.mark.amplemarket_sandbox(job_progression="polls:2")
def test_cancel_a_queued_job_and_a_finished_one(api: httpx.Client, people: list[dict[str, Any]]) -> None:
    queued = create_job(api, leads_for(people, 5))
    body = api.patch(f"{JOB_PATH}/{queued['id']}", json={"status": "canceled", "reason": "ignored"}).json()
    assert body["status"] == "canceled" and body["results"] == []
    done = create_job(api, leads_for(people, 5))
    final = poll(api, done["id"])
    assert final["status"] == "completed"
    r = api.patch(f"{JOB_PATH}/{done['id']}", json={"status": "canceled"})
    assert r.status_code == 200 and r.json() == final


@pytest.mark.parametrize(
    ("body", "code", "pointer"),
    [
        ({"status": "completed"}, "unsupported_value", "/status"),
        ({"status": "CANCELED"}, "unsupported_value", "/status"),
        ({"status": 1}, "unsupported_value", "/status"),
        ({"status": None}, "unsupported_value", "/status"),
        # the pointer names the body: `/status` is absent from the request
        ({}, "missing_field", ""),
    ],
)
def test_patch_with_another_status_is_400(
    api: httpx.Client, people: list[dict[str, Any]], body: dict[str, Any], code: str, pointer: str
) -> None:
    job = create_job(api, leads_for(people, 2))
    e = error_of(api.patch(f"{JOB_PATH}/{job['id']}", json=body), 400, code)
    assert e["source"] == {"pointer": pointer}
    assert api.get(f"{JOB_PATH}/{job['id']}").json()["status"] != "canceled"


def test_patch_with_malformed_json_is_400(api: httpx.Client, people: list[dict[str, Any]]) -> None:
    job = create_job(api, leads_for(people, 2))
    r = api.patch(f"{JOB_PATH}/{job['id']}", content=b"{status", headers={"Content-Type": "application/json"})
    error_of(r, 400, "unsupported_value")


# -- validation ----------------------------------------------------------------------------------------------------


def test_leads_without_identifiers_are_all_listed(sb: Sandbox, api: httpx.Client, people: list[dict[str, Any]]) -> None:
    good = leads_for(people, 1)[0]
    leads = [good, {}, good, {"title": "CEO"}, {"name": "Jane Doe"}, {"email": "  "}, {"company_domain": "acme.com"}]
    r = api.post(JOB_PATH, json={"leads": leads})
    error_of(r, 400, "missing_field")
    errors = r.json()["_errors"]
    assert [e["source"] for e in errors] == [{"pointer": f"/leads/{i}"} for i in (1, 3, 4, 5, 6)]
    assert all(e["code"] == "missing_field" for e in errors)
    # nothing was created
    assert create_job(api, [good])["id"] == 1


def test_title_with_company_but_no_name_is_accepted(api: httpx.Client, people: list[dict[str, Any]]) -> None:
    # people-api.txt: company keys are "used with name and/or title".
    p = pick(people, lambda p: not p.get("_gdpr_removed") and bool(p.get("company")) and bool(p.get("title")))[0]
    lead = {"title": p["title"], "company_domain": domain_of(p["company"])}
    job = create_job(api, [lead])
    (result,) = all_results(api, poll(api, job["id"]))
    assert result["status"] == "enriched"
    # the first person at that company with that title: maybe p, maybe a colleague with the same title
    assert result["result"]["title"] == p["title"]
    assert result["result"]["company"]["website"] == p["company"]["website"]


@pytest.mark.parametrize(
    ("lead", "pointer"),
    [
        ({"email": 5}, "/leads/0/email"),
        ({"linkedin_url": ["x"]}, "/leads/0/linkedin_url"),
        ({"name": "Jane", "company_name": {"n": 1}}, "/leads/0/company_name"),
        ({"linkedin_id": True}, "/leads/0/linkedin_id"),
    ],
)
def test_wrong_lead_field_type_points_at_the_field(api: httpx.Client, lead: dict[str, Any], pointer: str) -> None:
    e = error_of(api.post(JOB_PATH, json={"leads": [lead]}), 400, "unsupported_value")
    assert e["source"] == {"pointer": pointer}


def test_unknown_lead_key_is_400(api: httpx.Client) -> None:
    r = api.post(JOB_PATH, json={"leads": [{"email": "a@b.c"}, {"email": "d@e.f", "phone": "123"}]})
    e = error_of(r, 400, "unsupported_value")
    assert e["source"]["pointer"].startswith("/leads/1")
    assert "phone" in e["detail"]


def test_lead_that_is_not_an_object_is_400(api: httpx.Client) -> None:
    e = error_of(api.post(JOB_PATH, json={"leads": [{"email": "a@b.c"}, "a@b.c"]}), 400, "unsupported_value")
    assert e["source"] == {"pointer": "/leads/1"}


def test_errors_are_capped_at_100(api: httpx.Client) -> None:
    r = api.post(JOB_PATH, json={"leads": [{}] * 150})
    error_of(r, 400, "missing_field")
    assert len(r.json()["_errors"]) == 100


def test_too_many_leads_is_400(api: httpx.Client) -> None:
    r = api.post(JOB_PATH, json={"leads": [{"email": f"p{i}@example.com"} for i in range(10_001)]})
    e = error_of(r, 400, "unsupported_value")
    assert e["source"] == {"pointer": "/leads"}
    assert e["detail"] == "Number of leads exceeds 10000 limit"


@pytest.mark.parametrize(
    ("body", "code", "pointer"),
    [
        ({"leads": []}, "missing_field", "/leads"),
        # absent (or null): the pointer names the body
        ({}, "missing_field", ""),
        ({"leads": None}, "missing_field", ""),
        ({"leads": {"email": "a@b.c"}}, "unsupported_value", "/leads"),
        ({"leads": "a@b.c"}, "unsupported_value", "/leads"),
    ],
)
def test_missing_or_empty_leads_is_400(api: httpx.Client, body: dict[str, Any], code: str, pointer: str) -> None:
    e = error_of(api.post(JOB_PATH, json=body), 400, code)
    assert e["source"] == {"pointer": pointer}


@pytest.mark.parametrize("name", ["reveal_email", "reveal_phone_numbers"])
def test_bad_reveal_flag_is_400(api: httpx.Client, name: str) -> None:
    e = error_of(api.post(JOB_PATH, json={"leads": [{"email": "a@b.c"}], name: "yes"}), 400, "unsupported_value")
    assert e["source"] == {"pointer": f"/{name}"}


@pytest.mark.parametrize("content", [b"{", b"[]", b"null", b"", b'"leads"'])
def test_malformed_or_non_object_body_is_400(api: httpx.Client, content: bytes) -> None:
    r = api.post(JOB_PATH, content=content, headers={"Content-Type": "application/json"})
    error_of(r, 400, "unsupported_value")


# -- idempotency ---------------------------------------------------------------------------------------------------


def test_idempotency_key_returns_the_same_job(api: httpx.Client, people: list[dict[str, Any]]) -> None:
    leads = leads_for(people, 3)
    first = api.post(JOB_PATH, json={"leads": leads}, headers={"Idempotency-Key": "k-1"})
    again = api.post(JOB_PATH, json={"leads": leads}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["location"] == first.headers["location"]
    other = api.post(JOB_PATH, json={"leads": leads}, headers={"Idempotency-Key": "k-2"})
    plain = api.post(JOB_PATH, json={"leads": leads})
    # exactly one job per key: the ids go on without a gap
    assert [other.json()["id"], plain.json()["id"]] == [first.json()["id"] + 1, first.json()["id"] + 2]


# -- big jobs ------------------------------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_ten_thousand_leads_complete_with_ten_thousand_results(api: httpx.Client, people: list[dict[str, Any]]) -> None:
    leads = leads_for(people, 10_000)
    job = create_job(api, leads)
    first = poll(api, job["id"])
    assert first["status"] == "completed"
    results = all_results(api, first)
    assert len(results) == 10_000
    assert len({r["id"] for r in results}) == 10_000
    statuses = Counter(r["status"] for r in results)
    gone = sum(1 for p in people[:10_000] if p.get("_gdpr_removed"))
    assert statuses == {"enriched": 10_000 - gone, "gdpr_removed": gone}
    for lead, res, p in zip(leads[::997], results[::997], people[:10_000:997], strict=True):
        assert {k: res[k] for k in lead} == lead
        if res["status"] == "enriched":
            assert res["result"]["id"] == p["id"]


# -- failures ------------------------------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(job_progression="immediate", job_error_rate=1.0)
def test_job_error_rate_ends_jobs_in_error(api: httpx.Client, people: list[dict[str, Any]]) -> None:
    job = create_job(api, leads_for(people, 5))
    body = poll(api, job["id"])
    assert body["status"] == "error"
    assert body["_errors"] and all(isinstance(e["code"], str) and e["status"].isdigit() for e in body["_errors"])
    assert body["_links"]["self"]["href"] == f"{JOB_PATH}/{job['id']}"


@pytest.mark.amplemarket_sandbox(job_progression="immediate", email_credits=2)
def test_running_out_of_credits_mid_job_ends_in_error(
    sb: Sandbox, api: httpx.Client, live: list[dict[str, Any]]
) -> None:
    ok = [p for p in live if p.get("email")][:10]
    job = create_job(api, [{"email": p["email"]} for p in ok])
    body = poll(api, job["id"])
    assert body["status"] == "error"
    assert [e["code"] for e in body["_errors"]] == ["insufficient_credits"]
    # 2 credits pay for 4 found people at 0.5 each; those results are kept
    assert [r["status"] for r in body["results"]] == ["enriched"] * 4
    assert [r["result"]["id"] for r in body["results"]] == [p["id"] for p in ok[:4]]
    assert sb.credits["email_credits"] == 0


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_enrichment_charges_like_find(sb: Sandbox, api: httpx.Client, live: list[dict[str, Any]]) -> None:
    ok = [p for p in live if p.get("email") and p.get("phone_numbers")][:3]
    assert api.get("/people/find", params={"email": ok[0]["email"]}).status_code == 200
    job = create_job(api, [{"email": p["email"]} for p in ok], reveal_email=True, reveal_phone_numbers=True)
    assert poll(api, job["id"])["status"] == "completed"
    charges = [(c["person_id"], c["kind"], c["via"]) for c in sb.credits["charges"]]
    assert charges == [
        (ok[0]["id"], "found", "find"),
        (ok[0]["id"], "email", "enrichment"),
        (ok[0]["id"], "phone", "enrichment"),
        *[(p["id"], kind, "enrichment") for p in ok[1:] for kind in ("found", "email", "phone")],
    ]


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_links_are_relative_paths(api: httpx.Client, job250: dict[str, Any]) -> None:
    for link in job250["_links"].values():
        assert re.fullmatch(
            r"/people/enrichment-requests/\d+(\?page\[size\]=\d+&page\[(after|before)\]=\d+)?", link["href"]
        )


@pytest.mark.amplemarket_sandbox(job_progression="polls:2")
def test_credits_are_charged_as_results_are_produced(
    sb: Sandbox, api: httpx.Client, live: list[dict[str, Any]]
) -> None:
    ok = [p for p in live if p.get("email")][:10]
    job = create_job(api, [{"email": p["email"]} for p in ok])
    assert sb.credits["charges"] == []  # nothing before the first poll
    assert api.get(f"{JOB_PATH}/{job['id']}").json()["status"] == "processing"
    assert [c["person_id"] for c in sb.credits["charges"]] == [p["id"] for p in ok[:5]]
    assert api.get(f"{JOB_PATH}/{job['id']}").json()["status"] == "completed"
    assert [c["person_id"] for c in sb.credits["charges"]] == [p["id"] for p in ok]


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_not_found_and_gdpr_results_cost_nothing(sb: Sandbox, api: httpx.Client, people: list[dict[str, Any]]) -> None:
    gone = [p for p in people if p.get("_gdpr_removed")][:3]
    leads = [{"linkedin_url": p["linkedin_url"]} for p in gone] + [{"email": "nobody@nowhere.invalid"}]
    body = poll(api, create_job(api, leads, reveal_email=True, reveal_phone_numbers=True)["id"])
    assert [r["status"] for r in body["results"]] == ["gdpr_removed"] * 3 + ["not_found"]
    assert sb.credits["charges"] == []
