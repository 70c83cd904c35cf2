"""The issue-12 fidelity fixes on the people endpoints: cancel honours page parameters, unknown top-level members
are refused, pointers name only what the request holds, and the API's own media type by default."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support import error_of

from amplemarket import Person
from amplemarket.testing import Sandbox

from ._helpers import JOB_PATH, all_results, create_job


def leads(people: list[dict[str, Any]], n: int) -> list[dict[str, str]]:
    return [{"linkedin_url": p["linkedin_url"]} for p in people[:n]]


@pytest.mark.amplemarket_sandbox(job_progression="polls:2")
def test_cancel_answers_the_page_its_parameters_ask_for(api: httpx.Client, live: list[dict[str, Any]]) -> None:
    job = create_job(api, leads(live, 10))
    href = job["_links"]["self"]["href"]
    assert api.get(href).json()["status"] == "processing"  # half the leads are done
    r = api.patch(href, params={"page[size]": 2}, json={"status": "canceled"})
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["status"] == "canceled"
    assert len(page["results"]) == 2
    assert page["_links"]["next"]["href"].startswith(f"{href}?page[size]=2&page[after]=")
    second = api.patch(
        href, params={"page[size]": 2, "page[after]": page["results"][1]["id"]}, json={"status": "canceled"}
    )
    assert [x["id"] for x in second.json()["results"]] == [page["results"][1]["id"] + 1, page["results"][1]["id"] + 2]
    every = all_results(api, page)
    assert len(every) == 5 and len({x["id"] for x in every}) == 5


def test_cancel_with_a_bad_page_parameter_is_400_and_cancels_nothing(
    api: httpx.Client, live: list[dict[str, Any]]
) -> None:
    job = create_job(api, leads(live, 2))
    href = job["_links"]["self"]["href"]
    e = error_of(api.patch(href, params={"page[size]": 0}, json={"status": "canceled"}), 400, "unsupported_value")
    assert e["source"] == {"parameter": "page[size]"}
    assert api.get(href).json()["status"] != "canceled"


@pytest.mark.parametrize("key", ["reveal_emails", "lead", "Leads", "a/b"])
def test_unknown_top_level_member_is_400_at_its_pointer(api: httpx.Client, key: str) -> None:
    r = api.post(JOB_PATH, json={"leads": [{"email": "a@b.co"}], key: True})
    e = error_of(r, 400, "unsupported_value")
    assert e["source"] == {"pointer": "/" + key.replace("/", "~1")}
    assert key in e["detail"]


def test_every_unknown_member_is_listed(api: httpx.Client) -> None:
    r = api.post(JOB_PATH, json={"leads": [{"email": "a@b.co"}], "x": 1, "y": 2})
    error_of(r, 400, "unsupported_value")
    assert sorted(e["source"]["pointer"] for e in r.json()["_errors"]) == ["/x", "/y"]


def test_missing_leads_points_at_the_body(api: httpx.Client) -> None:
    e = error_of(api.post(JOB_PATH, json={"reveal_email": True}), 400, "missing_field")
    assert e["source"] == {"pointer": ""}


def test_missing_status_points_at_the_body(api: httpx.Client, live: list[dict[str, Any]]) -> None:
    job = create_job(api, leads(live, 1))
    e = error_of(api.patch(f"{JOB_PATH}/{job['id']}", json={}), 400, "missing_field")
    assert e["source"] == {"pointer": ""}


def test_default_media_type_is_the_apis_own(api: httpx.Client, anon: httpx.Client) -> None:
    for r in (api.get("/account-info"), api.get("/people/find"), anon.get("/account-info"), api.get("/nope")):
        assert r.headers["content-type"] == "application/vnd.amp+json", r.request.url
    assert anon.get("/openapi.json").headers["content-type"].startswith("application/json")


@pytest.mark.amplemarket_sandbox(content_type="application/json")
def test_plain_json_stays_selectable(api: httpx.Client) -> None:
    assert api.get("/account-info").headers["content-type"] == "application/json"


def test_the_client_reads_the_default_media_type(sb: Sandbox, live: list[dict[str, Any]]) -> None:
    with sb.client(rate_limit=False) as client:
        person = Person.find(linkedin_url=live[0]["linkedin_url"], client=client)
        assert person.name == live[0]["name"]
        assert client.account_info()["object"] == "account_info"
