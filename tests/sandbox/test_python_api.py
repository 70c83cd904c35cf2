"""The Python side of the sandbox: lifecycle, the people/companies views, adding people, data determinism, the
non-loopback warning, and the pytest fixture and marker."""

from __future__ import annotations

import json
import socket
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import DOCUMENTED_COMPANIES, DOCUMENTED_PEOPLE, client_for, error_of

from amplemarket.testing import Sandbox

ADA = {
    "name": "Ada Lovelace",
    "email": "Ada@Engine.example",
    "linkedin_url": "https://www.linkedin.com/in/ada-lovelace-1815",
    "title": "Analyst",
    "x_custom": {"notes": [1, 2, 3], "nested": {"deep": True}},
    "company": {"name": "Analytical Engines", "website": "https://engine.example"},
}


@pytest.fixture
def small() -> Any:
    with Sandbox(seed=1, people=200, rate_limit=None, search_rate_limit=None) as s:
        yield s


# -- lifecycle -----------------------------------------------------------------------------------------------------


def test_context_manager_stops_the_server() -> None:
    with Sandbox(people=20) as s:
        url = s.url
        assert s.running
        assert url.startswith("http://127.0.0.1:") and s.port == int(url.rsplit(":", 1)[1])
        with client_for(s) as c:
            assert c.get("/account-info").status_code == 200
        assert "running" in repr(s)
    assert not s.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/openapi.json", timeout=2)
    s.stop()  # idempotent
    s.close()


def test_repr_of_a_stopped_sandbox() -> None:
    s = Sandbox(people=20)
    s.stop()
    assert "stopped" in repr(s)


def test_stop_closes_kept_alive_connections() -> None:
    s = Sandbox(people=20)
    with client_for(s) as c:
        assert c.get("/account-info").status_code == 200
        s.stop()
        with pytest.raises(httpx.TransportError):
            c.get("/account-info", timeout=2)


def test_two_sandboxes_run_side_by_side() -> None:
    with Sandbox(people=10, api_key="amp_test_one") as a, Sandbox(people=10, api_key="amp_test_two") as b:
        assert a.url != b.url
        with client_for(a) as ca, client_for(b) as cb:
            assert ca.get("/account-info").status_code == 200
            assert cb.get("/account-info").status_code == 200
        assert httpx.get(f"{a.url}/account-info", headers={"Authorization": "Bearer amp_test_two"}).status_code == 401


def test_fixed_port(small: Sandbox) -> None:
    port = small.port
    small.stop()
    with Sandbox(people=10, port=port) as s:
        assert s.port == port and s.url.endswith(f":{port}")


# -- views ---------------------------------------------------------------------------------------------------------


def test_people_and_companies_are_sequence_views(small: Sandbox) -> None:
    people, companies = small.people, small.companies
    # 200 synthetic people and 20 companies, then the README's documented records
    n, m = 200 + DOCUMENTED_PEOPLE, 20 + DOCUMENTED_COMPANIES
    assert len(people) == n and len(companies) == m
    assert people[-1] == people[n - 1] and people[-1]["company"]["name"] == "TechCo"
    assert [p["email"] for p in people[200:]] == ["jane@techco.com", "sam@techco.com"]
    assert people[-n] == people[0]
    assert people[5:8] == [people[5], people[6], people[7]]
    assert people[::50] == [people[0], people[50], people[100], people[150], people[200]]
    assert people[190:500] == [people[i] for i in range(190, n)]
    assert len(list(people)) == n
    assert [p["id"] for p in people][:3] == [people[i]["id"] for i in range(3)]
    for bad in (n, -n - 1, 10**9):
        with pytest.raises(IndexError):
            people[bad]
    with pytest.raises(IndexError):
        companies[m]
    assert companies[-1] == companies[m - 1] and companies[-1]["name"] == "TechCo"
    assert all(p["object"] == "person" for p in people[:10])
    assert all(c["object"] == "company" for c in companies[:10])
    # each read is a fresh dict: changing it changes nothing in the sandbox
    p = people[0]
    p["name"] = "Changed"
    assert people[0]["name"] != "Changed"


def test_records_match_what_the_api_shows(small: Sandbox) -> None:
    with client_for(small) as c:
        for p in small.people[:30]:
            r = c.get(
                "/people/find",
                params={"linkedin_url": p["linkedin_url"], "reveal_email": "true", "reveal_phone_numbers": "true"},
            )
            if p.get("_gdpr_removed"):
                assert r.status_code == 451
            else:
                assert r.json() == p


def test_settings_and_credits_views(small: Sandbox) -> None:
    s = small.settings
    assert s["rate_limit"] is None and s["api_key"] == small.api_key == "amp_test_sandbox"
    s["rate_limit"] = 5
    assert small.settings["rate_limit"] is None
    assert small.credits == {"email_credits": 100000.0, "phone_credits": 10000.0, "charges": []}
    assert Sandbox.openapi()["openapi"].startswith("3.1")


# -- adding people -------------------------------------------------------------------------------------------------


def test_add_person_is_found_and_keeps_unknown_fields(small: Sandbox) -> None:
    record = small.add_person(ADA)
    assert record["object"] == "person" and record["id"]
    assert len(small.people) == 201 + DOCUMENTED_PEOPLE
    assert small.people[-1] == record
    assert record["x_custom"] == ADA["x_custom"]
    with client_for(small) as c:
        for params in (
            {"email": "ada@engine.example"},
            {"linkedin_url": "linkedin.com/in/ada-lovelace-1815/"},
            {"name": "ada lovelace", "company_domain": "engine.example"},
            {"name": "Ada Lovelace", "company_name": "analytical engines"},
        ):
            r = c.get("/people/find", params=params)
            assert r.status_code == 200, (params, r.text)
            body = r.json()
            assert body["id"] == record["id"]
            assert body["x_custom"] == ADA["x_custom"]
            assert "email" not in body
            assert body["company"]["object"] == "company" and body["company"]["name"] == "Analytical Engines"
        revealed = c.get("/people/find", params={"email": "ada@engine.example", "reveal_email": "1"}).json()
        assert revealed["email"] == ADA["email"]
        assert c.get("/companies/find", params={"domain": "engine.example"}).json()["name"] == "Analytical Engines"
        found = c.post("/people/search", json={"person_name": "lovelace"}).json()
        assert [p["id"] for p in found["results"]] == [record["id"]]


def test_add_person_links_a_known_company(small: Sandbox) -> None:
    known = small.companies[2]
    record = small.add_person(
        {"name": "Grace Hopper", "email": "grace@navy.example", "company": {"website": known["website"]}}
    )
    assert record["company"] == known
    with client_for(small) as c:
        body = c.get("/people/find", params={"name": "grace hopper", "company_domain": known["website"]}).json()
        assert body["id"] == record["id"] and body["company"] == known


def test_add_gdpr_removed_person(small: Sandbox) -> None:
    record = small.add_person({"name": "Gone Person", "email": "gone@example.org", "_gdpr_removed": True})
    assert record["_gdpr_removed"] is True
    assert small.people[-1]["_gdpr_removed"] is True
    with client_for(small) as c:
        error_of(c.get("/people/find", params={"email": "gone@example.org"}), 451, "unavailable_for_legal_reasons")
        assert c.post("/people/search", json={"person_name": "Gone Person"}).json()["_pagination"]["total"] == 0


def test_add_people_from_json_and_jsonl(small: Sandbox, tmp_path: Path) -> None:
    many = tmp_path / "people.json"
    many.write_text(json.dumps([{"name": f"Json Person{i}", "email": f"json{i}@files.example"} for i in range(3)]))
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"name": "Single Object", "linkedin_url": "https://linkedin.com/in/single-object"}))
    lines = tmp_path / "people.jsonl"
    lines.write_text(
        "\n".join(json.dumps({"name": f"Line Person{i}", "email": f"line{i}@files.example"}) for i in range(4)) + "\n\n"
    )
    n = 200 + DOCUMENTED_PEOPLE
    assert small.add_people_from(many) == [n, n + 1, n + 2]
    assert small.add_people_from(str(one)) == [n + 3]
    assert small.add_people_from(lines) == [n + 4, n + 5, n + 6, n + 7]
    with client_for(small) as c:
        for params in (
            {"email": "JSON2@files.example"},
            {"email": "line3@files.example"},
            {"linkedin_url": "single-object"},
        ):
            assert c.get("/people/find", params=params).status_code == 200, params
    assert small.people[207 + DOCUMENTED_PEOPLE]["name"] == "Line Person3"


@pytest.mark.parametrize(
    ("record", "words"),
    [
        ({"email": "x@y.z"}, "name"),
        ({"name": "Lonely Person"}, "linkedin_url"),
        ({"name": "X", "email": 5}, "email"),
        ({"name": "X", "email": "x@y.z", "company": "Acme"}, "company"),
        (
            {"name": "X", "company": {"website": "nameless.example", "industry": "Retail", "size": "1-10", "x": 1}},
            "name",
        ),
    ],
)
def test_bad_records_raise_value_error_with_a_message(small: Sandbox, record: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        small.add_person(record)
    assert len(small.people) == 200 + DOCUMENTED_PEOPLE


def test_add_people_is_all_or_nothing(small: Sandbox) -> None:
    good = {"name": "Good Person", "email": "good@batch.example"}
    with pytest.raises(ValueError, match=r"person 1"):
        small.add_people([good, {"email": "no-name@batch.example"}])
    assert len(small.people) == 200 + DOCUMENTED_PEOPLE
    with client_for(small) as c:
        error_of(c.get("/people/find", params={"email": "good@batch.example"}), 404, "person_not_found")
    assert small.add_people([good]) == [200 + DOCUMENTED_PEOPLE]


def test_bad_files_raise_value_error(small: Sandbox, tmp_path: Path) -> None:
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("[{not json")
    with pytest.raises(ValueError, match=r"bad\.json"):
        small.add_people_from(bad_json)
    bad_lines = tmp_path / "bad.jsonl"
    bad_lines.write_text('{"name": "Ok Line", "email": "ok@lines.example"}\n{broken\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:2"):
        small.add_people_from(bad_lines)
    not_objects = tmp_path / "numbers.json"
    not_objects.write_text("[1, 2]")
    with pytest.raises(ValueError):
        small.add_people_from(not_objects)
    assert len(small.people) == 200 + DOCUMENTED_PEOPLE


# -- data ----------------------------------------------------------------------------------------------------------


def test_same_seed_same_data_other_seed_other_data() -> None:
    with Sandbox(seed=3, people=300) as a, Sandbox(seed=3, people=300) as b, Sandbox(seed=4, people=300) as c:
        assert list(a.people) == list(b.people)
        assert list(a.companies) == list(b.companies)
        assert [p["id"] for p in c.people] != [p["id"] for p in a.people]
        assert sum(p["name"] == q["name"] for p, q in zip(a.people, c.people, strict=True)) < 30
        with client_for(a) as ca, client_for(b) as cb:
            body = {"page_size": 100, "page": 2}
            assert ca.post("/people/search", json=body).json() == cb.post("/people/search", json=body).json()


def test_companies_count_option() -> None:
    with Sandbox(people=100, companies=7) as s:
        assert len(s.companies) == 7 + DOCUMENTED_COMPANIES
        assert {p["company"]["id"] for p in s.people if p["company"]} <= {c["id"] for c in s.companies}


def test_200k_people_start() -> None:
    with Sandbox(people=200_000, rate_limit=None) as s:
        assert len(s.people) == 200_000 + DOCUMENTED_PEOPLE
        last = s.people[199_999]
        with client_for(s) as c:
            r = c.get("/people/find", params={"linkedin_url": last["linkedin_url"]})
            assert r.status_code == (451 if last.get("_gdpr_removed") else 200)
            assert c.post("/people/search", json={"page_size": 1}).json()["_pagination"]["total"] > 195_000


# -- binding -------------------------------------------------------------------------------------------------------


def test_non_loopback_host_warns() -> None:
    with pytest.warns(UserWarning, match=r"0\.0\.0\.0"):
        s = Sandbox(host="0.0.0.0", port=0, people=10)
    try:
        assert s.running
        with httpx.Client(base_url=f"http://127.0.0.1:{s.port}") as c:
            assert c.get("/openapi.json").status_code == 200
    finally:
        s.stop()


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        pytest.param("::1", marks=pytest.mark.skipif(not has_ipv6_loopback(), reason="this machine has no ::1")),
    ],
)
def test_loopback_hosts_do_not_warn(host: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning fails the test
        s = Sandbox(host=host, port=0, people=10)
    try:
        assert s.running and s.host == host
        with client_for(s) as c:
            assert c.get("/account-info").json()["object"] == "account_info"
    finally:
        s.stop()
    assert not s.running


# -- the pytest fixture and marker ---------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(job_progression="immediate", email_credits=12, rate_limit=None)
def test_marker_settings_apply(amplemarket_sandbox: Sandbox) -> None:
    sb = amplemarket_sandbox
    assert sb.settings["job_progression"] == "immediate"
    assert sb.credits["email_credits"] == 12
    with client_for(sb) as c:
        assert c.get("/account-info").json()["email_credits"] == 12
        # leave some state behind for the next test to not see
        r = c.post("/people/enrichment-requests", json={"leads": [{"email": "left@behind.example"}]})
        assert r.status_code == 202
    sb.script("GET /account-info", [500, 500, 500])


def test_state_is_reset_between_tests(amplemarket_sandbox: Sandbox) -> None:
    sb = amplemarket_sandbox
    assert sb.requests == []
    assert sb.pending_script_steps == 0
    assert sb.settings["job_progression"] == "polls:2"
    assert sb.settings["rate_limit"] == 500
    assert sb.credits == {"email_credits": 100000.0, "phone_credits": 10000.0, "charges": []}
    with client_for(sb) as c:
        assert c.get("/account-info").status_code == 200
        error_of(c.get("/people/enrichment-requests/1"), 404, "enrichment_request_not_found")


@pytest.mark.amplemarket_sandbox(seed=5, people=50, api_key="amp_test_own")
def test_marker_with_data_options_gives_an_own_server(amplemarket_sandbox: Sandbox) -> None:
    sb = amplemarket_sandbox
    assert len(sb.people) == 50 + DOCUMENTED_PEOPLE and sb.seed == 5
    assert sb.api_key == "amp_test_own"
    with client_for(sb) as c:
        assert c.get("/account-info").status_code == 200


def test_fixture_is_the_shared_default_server(amplemarket_sandbox: Sandbox) -> None:
    assert len(amplemarket_sandbox.people) == 10_000 + DOCUMENTED_PEOPLE
    assert amplemarket_sandbox.seed == 0
    assert amplemarket_sandbox.api_key == "amp_test_sandbox"
