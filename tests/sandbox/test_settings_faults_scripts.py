"""Scripts, injected faults and their determinism, latency, the request log, reset() and configure()."""

from __future__ import annotations

import json
import re
import socket
from typing import Any

import httpx
import pytest
from support import FAST, client_for, error_of, retry_after, wait_for

from amplemarket.testing import Sandbox

from ._helpers import JOB_PATH, create_job, raw_http

FIND = "/people/find"


@pytest.fixture
def person(sb: Sandbox) -> dict[str, Any]:
    p = next(p for p in sb.people if not p.get("_gdpr_removed") and p.get("email"))
    return p


def find(api: httpx.Client, person: dict[str, Any], **kwargs: Any) -> httpx.Response:
    return api.get(FIND, params={"email": person["email"]}, **kwargs)


# -- scripts -------------------------------------------------------------------------------------------------------


def test_status_script_runs_in_order_then_normal(sb: Sandbox, api: httpx.Client, person: dict[str, Any]) -> None:
    sb.script("GET /people/find", [429, 503, 200])
    assert sb.pending_script_steps == 3
    r1, r2, r3, r4 = (find(api, person) for _ in range(4))
    error_of(r1, 429, "rate_limited")
    assert retry_after(r1) == 1
    error_of(r2, 503, "service_unavailable")
    assert retry_after(r2) == 1
    assert r3.status_code == 200 and r3.json()["id"] == person["id"]
    assert r4.status_code == 200 and r4.json()["id"] == person["id"]
    assert sb.pending_script_steps == 0
    assert [(e["status"], e["injected"]) for e in sb.requests] == [
        (429, "script"),
        (503, "script"),
        (200, "script"),
        (200, None),
    ]


def test_scripts_only_touch_their_route(sb: Sandbox, api: httpx.Client, person: dict[str, Any]) -> None:
    sb.script("POST /people/search", [500])
    assert find(api, person).status_code == 200
    assert api.get("/account-info").status_code == 200
    error_of(api.post("/people/search", json={}), 500, "internal_server_error")
    assert api.post("/people/search", json={}).status_code == 200


@pytest.mark.parametrize(
    ("status", "code", "has_retry_after"),
    [
        (400, "unsupported_value", False),
        (401, "unauthorized", False),
        (402, "insufficient_credits", False),
        (403, "forbidden", False),
        (404, "not_found", False),
        (408, "request_timeout", True),
        (429, "rate_limited", True),
        (451, "unavailable_for_legal_reasons", False),
        (500, "internal_server_error", False),
        (502, "bad_gateway", False),
        (503, "service_unavailable", True),
        (504, "gateway_timeout", False),
    ],
)
def test_status_steps_send_the_standard_error(
    sb: Sandbox, api: httpx.Client, status: int, code: str, has_retry_after: bool
) -> None:
    sb.script("GET /account-info", [status])
    r = api.get("/account-info")
    error_of(r, status, code)
    assert ("retry-after" in r.headers) is has_retry_after


def test_dict_steps(sb: Sandbox, api: httpx.Client, person: dict[str, Any]) -> None:
    sb.script(
        "GET /people/find",
        [
            {"status": 200, "body": {"hello": "world"}, "headers": {"X-Sandbox-Test": "yes"}},
            {"status": 429, "retry_after": 9},
            {"status": 503, "retry_after": 4, "headers": {"X-Extra": "1"}},
            {"status": 418, "body": "I'm a teapot"},
            {"body": [1, 2, 3]},
            {"status": 200, "headers": {"Retry-After": "30"}},
            {"delay": 0.3},
        ],
    )
    r = find(api, person)
    assert r.status_code == 200 and r.json() == {"hello": "world"} and r.headers["x-sandbox-test"] == "yes"
    r = find(api, person)
    error_of(r, 429, "rate_limited")
    assert retry_after(r) == 9
    r = find(api, person)
    error_of(r, 503, "service_unavailable")
    assert retry_after(r) == 4 and r.headers["x-extra"] == "1"
    r = find(api, person)
    assert r.status_code == 418 and r.text == "I'm a teapot"
    r = find(api, person)
    assert r.status_code == 200 and r.json() == [1, 2, 3]
    r = find(api, person)
    assert r.status_code == 200 and r.json()["id"] == person["id"] and retry_after(r) == 30
    r = find(api, person)
    assert r.status_code == 200 and r.json()["id"] == person["id"]
    assert sb.requests[-1]["duration"] >= 0.3
    assert sb.requests[-1]["injected"] == "script"
    assert find(api, person).json()["id"] == person["id"]


def test_concrete_path_scripts_take_precedence_over_templates(
    sb: Sandbox, api: httpx.Client, person: dict[str, Any]
) -> None:
    for _ in range(2):
        create_job(api, [{"email": person["email"]}])
    sb.script(f"GET {JOB_PATH}/{{id}}", [503, 502])
    sb.script(f"GET {JOB_PATH}/2", [429])
    assert api.get(f"{JOB_PATH}/2").status_code == 429
    assert api.get(f"{JOB_PATH}/1").status_code == 503
    assert api.get(f"{JOB_PATH}/2").status_code == 502
    assert api.get(f"{JOB_PATH}/2").status_code == 200
    assert api.get(f"{JOB_PATH}/1").status_code == 200


def test_scripts_for_other_methods_and_heads(sb: Sandbox, api: httpx.Client, person: dict[str, Any]) -> None:
    job = create_job(api, [{"email": person["email"]}])
    sb.script(f"PATCH {JOB_PATH}/{{id}}", [409])
    error_of(api.patch(f"{JOB_PATH}/{job['id']}", json={"status": "canceled"}), 409)
    sb.script(f"post {JOB_PATH}", [{"status": 202, "body": {"id": 77}}])
    r = api.post(JOB_PATH, json={"leads": [{"email": "a@b.c"}]})
    assert r.status_code == 202 and r.json() == {"id": 77}


@pytest.mark.parametrize(
    ("route", "steps"),
    [
        ("FETCH /people/find", [200]),
        ("GET people/find", [200]),
        ("/people/find", [200]),
        ("GET /people/find", [99]),
        ("GET /people/find", [700]),
        ("GET /people/find", [{"fault": "explode"}]),
        ("GET /people/find", [{"delay": -1}]),
        ("GET /people/find", [{"status": 200, "colour": "red"}]),
    ],
)
def test_bad_scripts_raise_value_error(sb: Sandbox, route: str, steps: list[Any]) -> None:
    with pytest.raises(ValueError):
        sb.script(route, steps)
    assert sb.pending_script_steps == 0


# -- scripted faults -----------------------------------------------------------------------------------------------


def test_drop_fault_closes_without_a_response(sb: Sandbox, api: httpx.Client, person: dict[str, Any]) -> None:
    sb.script("GET /people/find", [{"fault": "drop"}])
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        find(api, person)
    assert find(api, person).status_code == 200
    first = sb.requests[0]
    assert first["outcome"] == "dropped" and first["status"] is None and first["injected"] == "script"


def test_truncate_fault_never_delivers_a_whole_response(sb: Sandbox, api: httpx.Client, person: dict[str, Any]) -> None:
    sb.script("GET /people/find", [{"fault": "truncate"}])
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        find(api, person)
    assert sb.requests[0]["outcome"] == "truncated"
    assert find(api, person).status_code == 200


def _raw_get(sb: Sandbox, path: str) -> bytes:
    return raw_http(sb, f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {sb.api_key}\r\n\r\n".encode())


def _assert_cut_body(raw: bytes) -> None:
    head, sep, body = raw.partition(b"\r\n\r\n")
    assert sep, f"no response head at all: {raw[:200]!r}"
    assert head.startswith(b"HTTP/1.1 200")
    match = re.search(rb"(?i)content-length: *(\d+)", head)
    assert match, head
    assert 0 < len(body) < int(match.group(1))


def test_truncate_script_sends_head_and_half_the_body(sb: Sandbox, api: httpx.Client) -> None:
    sb.script("GET /account-info", [{"fault": "truncate"}])
    _assert_cut_body(_raw_get(sb, "/account-info"))
    sb.script("GET /account-info", [{"fault": "truncate"}])
    with api.stream("GET", "/account-info") as r:
        assert r.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError, match=r"incomplete|complete message body"):
            r.read()


def test_truncate_rate_sends_head_and_half_the_body(sb: Sandbox) -> None:
    sb.configure(truncate_rate=1.0)
    _assert_cut_body(_raw_get(sb, "/account-info"))


def test_html_fault(sb: Sandbox, api: httpx.Client, person: dict[str, Any]) -> None:
    sb.script("GET /people/find", [{"fault": "html"}, {"fault": "html", "status": 504}])
    r = find(api, person)
    assert r.status_code == 502
    assert r.headers["content-type"].startswith("text/html")
    assert r.text.lstrip().lower().startswith("<html")
    assert find(api, person).status_code == 504


def test_malformed_fault(sb: Sandbox, api: httpx.Client, person: dict[str, Any]) -> None:
    sb.script("GET /people/find", [{"fault": "malformed"}])
    r = find(api, person)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.amp+json"
    with pytest.raises(json.JSONDecodeError):
        r.json()


# -- random faults -------------------------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(fault_rate=1.0, fault_statuses=[503])
def test_fault_rate_one_gives_503_with_retry_after(sb: Sandbox, api: httpx.Client, person: dict[str, Any]) -> None:
    for r in (find(api, person), api.post("/people/search", json={}), api.get("/account-info")):
        error_of(r, 503, "service_unavailable")
        assert retry_after(r) >= 1
    assert api.get("/openapi.json").status_code == 200
    assert all(e["injected"] == "fault" for e in sb.requests if e["path"] != "/openapi.json")


@pytest.mark.amplemarket_sandbox(fault_rate=1.0, fault_statuses=[500, 502, 504])
def test_fault_statuses_are_drawn_from_the_list(api: httpx.Client, person: dict[str, Any]) -> None:
    seen = {find(api, person).status_code for _ in range(40)}
    assert seen <= {500, 502, 504}
    assert len(seen) >= 2


@pytest.mark.amplemarket_sandbox(drop_rate=1.0)
def test_drop_rate_one_drops_everything_but_openapi(sb: Sandbox, api: httpx.Client, person: dict[str, Any]) -> None:
    for _ in range(3):
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            find(api, person)
    assert api.get("/openapi.json").status_code == 200
    assert [e["outcome"] for e in sb.requests] == ["dropped"] * 3 + ["completed"]


def _pattern(sb: Sandbox, person: dict[str, Any]) -> list[int | str]:
    """Statuses of a fixed sequence of 50 requests ("drop" for a dropped connection)."""
    out: list[int | str] = []
    with client_for(sb) as c:
        for i in range(50):
            try:
                if i % 3 == 0:
                    r = c.post("/people/search", json={"page": 1 + i % 4})
                else:
                    r = c.get(FIND, params={"email": person["email"]})
                out.append(r.status_code)
            except httpx.TransportError:
                out.append("drop")
    return out


FAULTY = {**FAST, "fault_rate": 0.3, "drop_rate": 0.1, "fault_statuses": [500, 502, 503]}


def test_same_seed_same_requests_same_faults() -> None:
    with Sandbox(seed=11, people=300, **FAULTY) as a, Sandbox(seed=11, people=300, **FAULTY) as b:
        person = next(p for p in a.people if not p.get("_gdpr_removed") and p.get("email"))
        first, second = _pattern(a, person), _pattern(b, person)
        assert first == second
        assert len(set(first)) >= 3, first  # faults happened, of more than one kind
        assert [e["status"] for e in a.requests] == [e["status"] for e in b.requests]
    with Sandbox(seed=12, people=300, **FAULTY) as c:
        assert _pattern(c, person) != first


def test_reset_replays_the_same_faults() -> None:
    with Sandbox(seed=11, people=300, **FAULTY) as sb:
        person = next(p for p in sb.people if not p.get("_gdpr_removed") and p.get("email"))
        first = _pattern(sb, person)
        sb.reset()
        assert _pattern(sb, person) == first


# -- latency -------------------------------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(latency=0.25, latency_jitter=0.1)
def test_latency_shows_in_the_logged_duration(sb: Sandbox, api: httpx.Client, person: dict[str, Any]) -> None:
    for _ in range(3):
        assert find(api, person).status_code == 200
    durations = [e["duration"] for e in sb.requests]
    assert len(durations) == 3
    assert all(d >= 0.25 for d in durations), durations


# -- the request log -----------------------------------------------------------------------------------------------


def test_request_log_captures_each_request(sb: Sandbox, api: httpx.Client, person: dict[str, Any]) -> None:
    find(api, person)
    api.post("/people/search", json={"person_name": "Ada"}, headers={"X-Trace": "t-1"})
    job = create_job(api, [{"email": person["email"]}])
    api.get(f"{JOB_PATH}/{job['id']}", params={"page[size]": 5})
    api.get("/nope")
    log = sb.requests
    assert [(e["method"], e["path"], e["route"], e["status"]) for e in log] == [
        ("GET", FIND, "GET /people/find", 200),
        ("POST", "/people/search", "POST /people/search", 200),
        ("POST", JOB_PATH, f"POST {JOB_PATH}", 202),
        ("GET", f"{JOB_PATH}/1", f"GET {JOB_PATH}/{{id}}", 200),
        ("GET", "/nope", None, 404),
    ]
    assert log[0]["query"] == httpx.QueryParams({"email": person["email"]}).__str__()
    assert log[0]["body"] is None
    assert json.loads(log[1]["body"]) == {"person_name": "Ada"}
    assert log[1]["headers"]["x-trace"] == "t-1"
    assert log[3]["query"] == "page%5Bsize%5D=5"
    seqs = [e["seq"] for e in log]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    times = [e["time"] for e in log]
    assert times == sorted(times)
    for e in log:
        assert e["authorized"] is True
        assert e["outcome"] == "completed" and e["injected"] is None
        assert e["duration"] >= 0
        assert e["headers"]["authorization"] == "Bearer ***"
        assert set(e) == {"seq", "time", "method", "path", "query", "headers", "authorized", "body", "route"} | {
            "status",
            "outcome",
            "injected",
            "duration",
        }
    assert sb.requests_since(seqs[2]) == log[3:]


@pytest.mark.amplemarket_sandbox(api_key="amp_test_Secret_Key_123")
def test_request_log_never_holds_the_key(sb: Sandbox, api: httpx.Client, anon: httpx.Client) -> None:
    api.get("/account-info")
    api.post("/people/search", json={})
    anon.get("/account-info", headers={"Authorization": "Bearer amp_test_Secret_Key_12"})
    anon.get("/account-info", headers={"Authorization": "Basic YW1wOnNlY3JldA=="})
    text = str(sb.requests)
    assert "amp_test_Secret_Key_123" not in text
    assert "Secret_Key" not in text
    assert "YW1wOnNlY3JldA" not in text
    assert [e["headers"]["authorization"] for e in sb.requests] == ["Bearer ***"] * 4


def test_aborted_when_the_client_gives_up(sb: Sandbox, api: httpx.Client, person: dict[str, Any]) -> None:
    sb.script("GET /people/find", [{"delay": 2}])
    with pytest.raises(httpx.TimeoutException):
        find(api, person, timeout=0.2)
    assert wait_for(lambda: sb.requests[0]["outcome"] == "aborted", timeout=3), sb.requests[0]
    entry = sb.requests[0]
    assert entry["status"] is None
    assert entry["duration"] < 2


def test_log_stays_in_seq_order_and_complete_when_a_body_arrives_late(sb: Sandbox, api: httpx.Client) -> None:
    body = b"{}"
    head = (
        f"POST /people/search HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {sb.api_key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
    )
    with socket.create_connection((sb.host, sb.port), timeout=5) as slow:
        slow.sendall(head.encode())
        # "100 Continue" comes once the sandbox starts reading the body; a request is numbered and logged
        # when all of it has arrived, so the quick request in between comes first
        assert slow.recv(100).startswith(b"HTTP/1.1 100")
        assert api.get("/account-info").status_code == 200
        slow.sendall(body)
        assert slow.recv(65536).startswith(b"HTTP/1.1 200")
    log = sb.requests
    assert [e["seq"] for e in log] == sorted(e["seq"] for e in log)
    assert [(e["path"], e["status"], e["outcome"]) for e in sorted(log, key=lambda e: e["seq"])] == [
        ("/account-info", 200, "completed"),
        ("/people/search", 200, "completed"),
    ]


@pytest.mark.amplemarket_sandbox(capture_limit=5)
def test_capture_limit_keeps_the_newest(sb: Sandbox, api: httpx.Client) -> None:
    for _ in range(8):
        api.get("/account-info")
    seqs = [e["seq"] for e in sb.requests]
    assert len(seqs) == 5 and seqs == list(range(seqs[0], seqs[0] + 5))
    assert seqs[-1] - seqs[0] == 4


# -- reset and configure -------------------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(email_credits=50, phone_credits=5, search_rate_limit=2)
def test_reset_clears_jobs_log_scripts_and_restores_credits(
    sb: Sandbox, api: httpx.Client, person: dict[str, Any]
) -> None:
    job = create_job(api, [{"email": person["email"]}])
    api.get(FIND, params={"email": person["email"], "reveal_email": "true"})
    api.post("/people/search", json={})
    api.post("/people/search", json={})
    assert api.post("/people/search", json={}).status_code == 429
    sb.script("GET /account-info", [500, 500])
    assert sb.credits["email_credits"] == 48.5
    sb.reset()
    assert sb.requests == []
    assert sb.pending_script_steps == 0
    assert sb.credits == {"email_credits": 50.0, "phone_credits": 5.0, "charges": []}
    error_of(api.get(f"{JOB_PATH}/{job['id']}"), 404, "enrichment_request_not_found")
    assert api.get("/account-info").status_code == 200
    assert api.post("/people/search", json={}).status_code == 200
    assert create_job(api, [{"email": person["email"]}])["id"] == 1
    assert sb.settings["email_credits"] == 50  # settings are kept
    assert len(sb.requests) == 4


def test_configure_changes_settings_live(sb: Sandbox, api: httpx.Client) -> None:
    sb.configure(rate_limit=1000, email_credits=7.5, job_progression="polls:4")
    s = sb.settings
    assert (s["rate_limit"], s["email_credits"], s["job_progression"]) == (1000, 7.5, "polls:4")
    info = api.get("/account-info").json()
    assert info == {
        "object": "account_info",
        "email_credits": 7.5,
        "phone_credits": sb.settings["phone_credits"],
        "rate_limits": {"requests_per_minute": 1000, "search_requests_per_minute": None},
    }
    sb.configure(rate_limit=10, rate_limit_window=30, search_rate_limit=5, search_rate_limit_window=120)
    limits = api.get("/account-info").json()["rate_limits"]
    assert limits == {"requests_per_minute": 20, "search_requests_per_minute": 3}


def test_configure_unknown_setting_names_it(sb: Sandbox) -> None:
    with pytest.raises(ValueError, match="rate_limt"):
        sb.configure(rate_limt=5)
    with pytest.raises(ValueError, match="no_such_setting"):
        Sandbox(people=10, no_such_setting=1)


@pytest.mark.parametrize(
    "changes",
    [
        {"fault_rate": 2},
        {"drop_rate": -0.1},
        {"reveal_timeout_rate": 1.5},
        {"job_progression": "sometimes"},
        {"job_progression": "polls:0"},
        {"job_progression": "seconds:-1"},
        {"rate_limit": 0},
        {"rate_limit": "x"},
        {"rate_limit_window": 0},
        {"latency": -1},
        {"latency": 601},
        {"fault_statuses": [200]},
        {"email_credits": -1},
        {"api_key": ""},
        {"max_body_bytes": 10},
        {"max_leads": 0},
        {"poll_retry_after": -1},
    ],
)
def test_bad_setting_values_raise_and_change_nothing(sb: Sandbox, changes: dict[str, Any]) -> None:
    before = sb.settings
    with pytest.raises(ValueError):
        sb.configure(**changes)
    assert sb.settings == before


def test_bad_constructor_values_raise() -> None:
    with pytest.raises(ValueError, match="fault_rate"):
        Sandbox(people=10, fault_rate=2)
