"""Email validations: creation, validation with exact pointers, the hourly limit, progression, pages, cancel,
idempotency, deterministic outcomes (catch-all domains included) and credits, over HTTP."""

from __future__ import annotations

import re
import time
from collections import Counter
from typing import Any

import httpx
import pytest
from support import error_of, retry_after

from amplemarket.testing import Sandbox

from ._helpers import VALIDATIONS, all_results, finish, start

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def emails(n: int, domain: str = "example{i}.org") -> list[dict[str, str]]:
    return [{"email": f"user{i}@{domain.format(i=i % 97)}"} for i in range(n)]


def validate(api: httpx.Client, items: list[dict[str, Any]], **headers: str) -> dict[str, Any]:
    return start(api, VALIDATIONS, {"emails": items}, **headers)


def results_of(api: httpx.Client, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    done = finish(api, validate(api, items)["_links"]["self"]["href"])
    assert done["status"] == "completed", done
    return all_results(api, done)


# -- creation ------------------------------------------------------------------------------------------------------


def test_create_answers_202_with_a_uuid_location_and_a_queued_job(api: httpx.Client) -> None:
    r = api.post(VALIDATIONS, json={"emails": emails(2)})
    assert r.status_code == 202, r.text
    body = r.json()
    assert UUID.match(body["id"]), body["id"]
    href = f"{VALIDATIONS}/{body['id']}"
    assert r.headers["location"] == href
    assert body == {
        "id": body["id"],
        "object": "email_validation",
        "status": "queued",
        "results": [],
        "_links": {"self": {"href": href}},
    }


@pytest.mark.parametrize("job_id", ["1", "00000000-0000-4000-8000-000000000000", "nope"])
def test_unknown_validation_is_404(api: httpx.Client, job_id: str) -> None:
    error_of(api.get(f"{VALIDATIONS}/{job_id}"), 404, "email_validation_not_found")
    error_of(api.patch(f"{VALIDATIONS}/{job_id}", json={"status": "canceled"}), 404, "email_validation_not_found")


@pytest.mark.parametrize(
    ("body", "code", "pointer"),
    [
        ({}, "missing_field", ""),
        ({"emails": None}, "missing_field", ""),
        ({"emails": []}, "missing_field", "/emails"),
        ({"emails": "a@b.co"}, "unsupported_value", "/emails"),
        ({"emails": [{"email": "a@b.co"}], "webhook": "x"}, "unsupported_value", "/webhook"),
        ({"emails": [{"email": "a@b.co"}, {"email": "c@d.co", "name": "C"}]}, "unsupported_value", "/emails/1/name"),
        ({"emails": [{"email": "a@b.co"}, {}]}, "missing_field", "/emails/1"),
        ({"emails": [{"email": None}]}, "missing_field", "/emails/0"),
        ({"emails": [{"email": 7}]}, "unsupported_value", "/emails/0/email"),
        ({"emails": [{"email": ["a@b.co"]}]}, "unsupported_value", "/emails/0/email"),
        ({"emails": ["a@b.co"]}, "unsupported_value", "/emails/0"),
    ],
)
def test_bad_bodies_are_400_with_exact_pointers(
    api: httpx.Client, body: dict[str, Any], code: str, pointer: str
) -> None:
    e = error_of(api.post(VALIDATIONS, json=body), 400, code)
    assert e["source"] == {"pointer": pointer}


@pytest.mark.amplemarket_sandbox(validations_per_hour=None)
def test_more_than_100000_emails_is_400(api: httpx.Client) -> None:
    r = api.post(VALIDATIONS, json={"emails": [{"email": f"u{i}@x.io"} for i in range(100_001)]})
    e = error_of(r, 400, "unsupported_value")
    assert e["source"] == {"pointer": "/emails"}


# -- the hourly limit ----------------------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(validations_per_hour=10, validation_window_seconds=1.5)
def test_hourly_limit_accepts_then_429s_then_frees(api: httpx.Client) -> None:
    validate(api, emails(6))
    validate(api, emails(4))  # exactly at the limit
    r = api.post(VALIDATIONS, json={"emails": emails(1)})
    error_of(r, 429, "rate_limited")
    assert 1 <= retry_after(r) <= 2
    e = error_of(api.post(VALIDATIONS, json={"emails": emails(11)}), 400, "unsupported_value")
    assert e["source"] == {"pointer": "/emails"}
    assert "hourly limit" in e["detail"] and "split" in e["detail"]
    deadline = time.monotonic() + 10
    while (r := api.post(VALIDATIONS, json={"emails": emails(5)})).status_code == 429:
        assert time.monotonic() < deadline, "the window never freed"
        time.sleep(0.2)
    assert r.status_code == 202


@pytest.mark.amplemarket_sandbox(validations_per_hour=10, validation_window_seconds=3600)
def test_retry_after_counts_until_enough_of_the_window_frees(api: httpx.Client) -> None:
    validate(api, emails(8))
    r = api.post(VALIDATIONS, json={"emails": emails(3)})
    error_of(r, 429, "rate_limited")
    assert 3590 <= retry_after(r) <= 3600
    # refusals take nothing: two more still fit
    validate(api, emails(2))


@pytest.mark.amplemarket_sandbox(validations_per_hour=5, validation_window_seconds=3600)
def test_idempotent_replays_and_refusals_take_nothing_from_the_window(api: httpx.Client) -> None:
    a = validate(api, emails(3), **{"Idempotency-Key": "v1"})
    b = validate(api, emails(3), **{"Idempotency-Key": "v1"})
    assert a["id"] == b["id"]
    error_of(api.post(VALIDATIONS, json={"emails": [{"email": 1}] * 3}), 400, "unsupported_value")
    validate(api, emails(2))


@pytest.mark.amplemarket_sandbox(validations_per_hour=None)
def test_no_hourly_limit_when_turned_off(api: httpx.Client) -> None:
    validate(api, emails(20_000))


# -- progression, pages, cancel ------------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(job_progression="polls:2", poll_retry_after=3)
def test_polls_progression(api: httpx.Client) -> None:
    href = validate(api, emails(4))["_links"]["self"]["href"]
    r = api.get(href)
    assert r.json()["status"] == "processing" and r.json()["results"] == [] and retry_after(r) == 3
    r = api.get(href)
    assert r.json()["status"] == "completed" and "retry-after" not in r.headers
    assert [x["email"] for x in r.json()["results"]] == [e["email"] for e in emails(4)]


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_immediate_progression(api: httpx.Client) -> None:
    assert api.get(validate(api, emails(2))["_links"]["self"]["href"]).json()["status"] == "completed"


@pytest.mark.amplemarket_sandbox(job_progression="seconds:0")
def test_seconds_progression(api: httpx.Client) -> None:
    body = api.get(validate(api, emails(3))["_links"]["self"]["href"]).json()
    assert body["status"] == "completed" and len(body["results"]) == 3


@pytest.mark.amplemarket_sandbox(job_progression="never")
def test_never_progression_then_cancel(api: httpx.Client) -> None:
    href = validate(api, emails(3))["_links"]["self"]["href"]
    assert all(api.get(href).json()["status"] == "processing" for _ in range(5))
    assert api.patch(href, json={"status": "canceled"}).json()["status"] == "canceled"


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_pages_walk_both_ways_without_loss_or_duplicates(api: httpx.Client) -> None:
    items = emails(230)
    href = validate(api, items)["_links"]["self"]["href"]
    first = finish(api, href, **{"page[size]": 50})
    results = all_results(api, first)
    assert [r["email"] for r in results] == [i["email"] for i in items]
    last = first
    while "next" in last["_links"]:
        last = api.get(last["_links"]["next"]["href"]).json()
    assert len(last["results"]) == 30
    back = api.get(last["_links"]["prev"]["href"]).json()
    assert [r["email"] for r in back["results"]] == [i["email"] for i in items[150:200]]
    assert all(link["href"].startswith(href + "?") for link in (first["_links"]["next"], back["_links"]["prev"]))


@pytest.mark.amplemarket_sandbox(job_progression="polls:2")
def test_cancel_keeps_results_so_far_and_honours_page_params(api: httpx.Client) -> None:
    href = validate(api, emails(8))["_links"]["self"]["href"]
    api.get(href)
    page = api.patch(href, params={"page[size]": 2}, json={"status": "canceled"}).json()
    assert page["status"] == "canceled" and len(page["results"]) == 2
    assert [r["email"] for r in all_results(api, page)] == [e["email"] for e in emails(4)]


@pytest.mark.parametrize(
    ("body", "code", "pointer"),
    [({"status": "completed"}, "unsupported_value", "/status"), ({}, "missing_field", "")],
)
def test_patch_with_another_status_is_400(api: httpx.Client, body: dict[str, Any], code: str, pointer: str) -> None:
    job = validate(api, emails(1))
    e = error_of(api.patch(f"{VALIDATIONS}/{job['id']}", json=body), 400, code)
    assert e["source"] == {"pointer": pointer}


# -- outcomes ------------------------------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_results_echo_the_email_as_sent_with_a_verdict(api: httpx.Client) -> None:
    items = [{"email": " Mixed.Case@Example.ORG "}, {"email": "not an email"}, {"email": "a@b"}, {"email": "@x.io"}]
    results = results_of(api, items)
    assert [r["email"] for r in results] == [i["email"] for i in items]
    for r in results:
        assert list(r) == ["email", "result", "catch_all"]
        assert r["result"] in ("deliverable", "risky", "unknown", "undeliverable")
    assert [(r["result"], r["catch_all"]) for r in results[1:]] == [("undeliverable", False)] * 3


@pytest.mark.amplemarket_sandbox(job_progression="immediate", validations_per_hour=None)
def test_people_are_deliverable_unless_their_domain_is_catch_all(api: httpx.Client, live: list[dict[str, Any]]) -> None:
    with_email = [p for p in live if p.get("email")][:400]
    results = results_of(api, [{"email": p["email"]} for p in with_email])
    by_domain: dict[str, set[tuple[str, bool]]] = {}
    for r in results:
        by_domain.setdefault(r["email"].split("@")[1].lower(), set()).add((r["result"], r["catch_all"]))
    assert all(v <= {("deliverable", False)} or v == {("risky", True)} for v in by_domain.values()), by_domain
    assert any(v == {("deliverable", False)} for v in by_domain.values())


@pytest.mark.amplemarket_sandbox(job_progression="immediate", validations_per_hour=None)
def test_catch_all_domains_and_the_mix(api: httpx.Client) -> None:
    items = [{"email": f"someone{i}@domain{i % 500}.net"} for i in range(5000)]
    results = results_of(api, items)
    catch_all = {r["email"].split("@")[1] for r in results if r["catch_all"]}
    assert 0.10 < len(catch_all) / 500 < 0.20
    # a catch-all domain is so for every address there
    assert all(r["catch_all"] == (r["email"].split("@")[1] in catch_all) for r in results)
    assert all(r["result"] == "risky" for r in results if r["catch_all"])
    mix = Counter(r["result"] for r in results if not r["catch_all"])
    n = sum(mix.values())
    assert 0.50 < mix["deliverable"] / n < 0.60
    for kind in ("risky", "unknown", "undeliverable"):
        assert 0.11 < mix[kind] / n < 0.19, mix


def test_outcomes_and_ids_are_the_same_for_the_same_seed() -> None:
    items = [{"email": f"p{i}@site{i % 40}.com"} for i in range(300)]

    def run(seed: int) -> tuple[str, list[tuple[str, bool]]]:
        with (
            Sandbox(seed=seed, people=500, job_progression="immediate", rate_limit=None) as sb,
            httpx.Client(base_url=sb.url, headers={"Authorization": f"Bearer {sb.api_key}"}) as api,
        ):
            job = validate(api, items)
            return job["id"], [(r["result"], r["catch_all"]) for r in results_of(api, items)]

    a, b, c = run(11), run(11), run(12)
    assert a == b
    assert a[1] != c[1] and a[0] != c[0]


# -- credits -------------------------------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(job_progression="immediate", email_credits=50)
def test_each_email_costs_one_credit_every_time(sb: Sandbox, api: httpx.Client) -> None:
    items = [{"email": "a@b.co"}, {"email": "a@b.co"}, {"email": "junk"}]
    results_of(api, items)
    charges = sb.credits["charges"]
    assert [(c["email"], c["kind"], c["pool"], c["amount"], c["via"]) for c in charges] == [
        (i["email"], "validation", "email", 1.0, "validation") for i in items
    ]
    assert sb.credits["email_credits"] == 47


@pytest.mark.amplemarket_sandbox(job_progression="immediate", email_credits=2)
def test_running_out_ends_the_job_in_error_keeping_earlier_results(api: httpx.Client) -> None:
    done = finish(api, validate(api, emails(5))["_links"]["self"]["href"])
    assert done["status"] == "error" and len(done["results"]) == 2
    assert done["_errors"][0]["code"] == "insufficient_credits"
    error_of(api.post(VALIDATIONS, json={"emails": emails(1)}), 402, "insufficient_credits")


@pytest.mark.amplemarket_sandbox(job_progression="immediate", job_error_rate=1.0)
def test_job_error_rate_applies(api: httpx.Client) -> None:
    done = finish(api, validate(api, emails(2))["_links"]["self"]["href"])
    assert done["status"] == "error" and done["_errors"][0]["code"] == "internal_server_error"


def test_scripts_and_the_request_log_cover_the_routes(sb: Sandbox, api: httpx.Client) -> None:
    job = validate(api, emails(1))
    sb.script(f"PATCH {VALIDATIONS}/{{id}}", [502])
    error_of(api.patch(f"{VALIDATIONS}/{job['id']}", json={"status": "canceled"}), 502, "bad_gateway")
    assert [(e["route"], e["status"]) for e in sb.requests[-2:]] == [
        (f"POST {VALIDATIONS}", 202),
        (f"PATCH {VALIDATIONS}/{{id}}", 502),
    ]
    assert api.delete(f"{VALIDATIONS}/{job['id']}").status_code == 405
