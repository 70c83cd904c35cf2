"""Authentication, unknown routes and methods, body limits, the error envelope and content type, and garbage input
that must never get a 5xx."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import error_of, examples, is_json_content_type

from amplemarket.testing import Sandbox

from ._helpers import JOB_PATH, raw_http

ROUTES = [
    ("GET", "/people/find"),
    ("GET", "/companies/find"),
    ("POST", "/people/search"),
    ("POST", JOB_PATH),
    ("GET", f"{JOB_PATH}/1"),
    ("PATCH", f"{JOB_PATH}/1"),
    ("GET", "/account-info"),
]

FUZZ = examples(30)  # derandomized unless HYPOTHESIS_EXPLORE is set (see support.py)


def not_a_server_error(r: httpx.Response) -> None:
    assert r.status_code < 500, f"{r.status_code}: {r.text[:500]}"
    if r.status_code >= 400:
        error_of(r, r.status_code)


# -- authentication ------------------------------------------------------------------------------------------------


def _unauthorized(r: httpx.Response) -> None:
    e = error_of(r, 401, "unauthorized")
    assert e["source"] == {"header": "Authorization"}


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_missing_key_is_401_on_every_route(anon: httpx.Client, method: str, path: str) -> None:
    _unauthorized(anon.request(method, path, json={"leads": [{"email": "a@b.c"}]} if method != "GET" else None))


@pytest.mark.parametrize(
    "header",
    [
        "Bearer amp_test_wrong",
        "Bearer  amp_test_sandbox",
        "Bearer",
        "amp_test_sandbox",
        "Token amp_test_sandbox",
        "Bearer amp_test_sandbox2",
        "Bearer amp_test_sandbo",
        "bearer amp_test_sandbox",
        "Basic " + base64.b64encode(b"amp_test_sandbox:").decode(),
        "Basic " + base64.b64encode(b"user:amp_test_sandbox").decode(),
    ],
)
def test_wrong_key_is_401(anon: httpx.Client, header: str) -> None:
    _unauthorized(anon.get("/account-info", headers={"Authorization": header}))


def test_the_401_detail_tells_a_missing_key_from_a_rejected_one(anon: httpx.Client) -> None:
    missing = error_of(anon.get("/account-info"), 401, "unauthorized")["detail"]
    rejected = error_of(
        anon.get("/account-info", headers={"Authorization": "Bearer amp_test_wrong"}), 401, "unauthorized"
    )["detail"]
    not_bearer = error_of(
        anon.get("/account-info", headers={"Authorization": "Token amp_test_sandbox"}), 401, "unauthorized"
    )["detail"]
    assert "No API key was sent" in missing and "Bearer <key>" in missing
    assert "rejected" in rejected and "No API key" not in rejected
    assert "Bearer scheme" in not_bearer
    assert len({missing, rejected, not_bearer}) == 3
    assert not any("amp_test" in d for d in (missing, rejected, not_bearer)), "the sandbox never echoes a key"


def test_basic_auth_through_httpx_is_401(sb: Sandbox) -> None:
    with httpx.Client(base_url=sb.url, auth=(sb.api_key, "")) as c:
        _unauthorized(c.get("/account-info"))


def test_right_key_passes(anon: httpx.Client, sb: Sandbox) -> None:
    r = anon.get("/account-info", headers={"Authorization": f"Bearer {sb.api_key}"})
    assert r.status_code == 200
    assert r.json()["object"] == "account_info"


@pytest.mark.amplemarket_sandbox(api_key="amp_test_custom_key")
def test_api_key_setting_changes_the_key(sb: Sandbox, anon: httpx.Client) -> None:
    assert sb.api_key == "amp_test_custom_key"
    assert anon.get("/account-info", headers={"Authorization": "Bearer amp_test_custom_key"}).status_code == 200
    _unauthorized(anon.get("/account-info", headers={"Authorization": "Bearer amp_test_sandbox"}))


def test_openapi_needs_no_key(anon: httpx.Client) -> None:
    r = anon.get("/openapi.json")
    assert r.status_code == 200
    assert r.json()["openapi"].startswith("3.1")
    r = anon.get("/openapi.json", headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 200


def test_unauthorized_requests_are_logged_as_such(sb: Sandbox, anon: httpx.Client, api: httpx.Client) -> None:
    anon.get("/account-info")
    api.get("/account-info")
    assert [(e["authorized"], e["status"]) for e in sb.requests] == [(False, 401), (True, 200)]


# -- routes and methods --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/people", "/people/finds", "/people/find/", "/v1/people/find", f"{JOB_PATH}/1/results", "/x" * 50]
)
def test_unknown_route_is_404_not_found(api: httpx.Client, path: str) -> None:
    e = error_of(api.get(path), 404, "not_found")
    assert "source" not in e


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/people/find", "GET"),
        ("DELETE", "/people/find", "GET"),
        ("GET", "/people/search", "POST"),
        ("PUT", "/people/search", "POST"),
        ("GET", JOB_PATH, "POST"),
        ("DELETE", f"{JOB_PATH}/1", "GET, PATCH"),
        ("POST", f"{JOB_PATH}/1", "GET, PATCH"),
        ("POST", "/account-info", "GET"),
        ("POST", "/companies/find", "GET"),
    ],
)
def test_wrong_method_is_405_with_allow(api: httpx.Client, method: str, path: str, allow: str) -> None:
    r = api.request(method, path)
    error_of(r, 405, "method_not_allowed")
    assert r.headers["allow"] == allow


# -- body limit ----------------------------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(max_body_bytes=2048)
def test_body_over_the_limit_is_413(api: httpx.Client) -> None:
    small = {"person_titles": ["x" * 1000]}
    assert api.post("/people/search", json=small).status_code == 200
    big = {"person_titles": ["x" * 5000]}
    error_of(api.post("/people/search", json=big), 413, "payload_too_large")
    leads = [{"email": f"person{i}@example.com"} for i in range(200)]
    error_of(api.post(JOB_PATH, json={"leads": leads}), 413, "payload_too_large")


# -- envelope and content type -------------------------------------------------------------------------------------


def test_error_envelope_is_exact(api: httpx.Client) -> None:
    r = api.get("/people/find")
    assert r.headers["content-type"] == "application/vnd.amp+json"
    body = r.json()
    assert body == {
        "object": "error",
        "_errors": [
            {
                "status": "400",
                "code": "missing_field",
                "title": "Missing field",
                "detail": body["_errors"][0]["detail"],
                "source": {"parameter": "linkedin_url"},
            }
        ],
    }
    assert list(body["_errors"][0]) == ["status", "code", "title", "detail", "source"]


@pytest.mark.amplemarket_sandbox(content_type="application/vnd.amp+json; charset=utf-8")
def test_content_type_setting_applies_to_every_response(sb: Sandbox, api: httpx.Client) -> None:
    ct = "application/vnd.amp+json; charset=utf-8"
    p = sb.people[0]
    assert api.get("/people/find", params={"linkedin_url": p["linkedin_url"]}).headers["content-type"] == ct
    assert api.get("/people/find").headers["content-type"] == ct
    assert api.post("/people/search", json={}).headers["content-type"] == ct
    assert api.get("/nope").headers["content-type"] == ct
    assert api.post(JOB_PATH, json={"leads": [{"email": "a@b.c"}]}).headers["content-type"] == ct
    assert api.get("/account-info").headers["content-type"] == ct
    assert is_json_content_type(ct)


# -- garbage never gets a 5xx --------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
# Text a URL can carry: no lone surrogates (not encodable).
url_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
# httpx refuses ASCII control characters in a URL path, so path segments leave them out.
segment_text = st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=40)


@FUZZ
@given(body=st.binary(max_size=300), target=st.sampled_from(["/people/search", JOB_PATH, f"{JOB_PATH}/1"]))
def test_random_bytes_bodies(api: httpx.Client, body: bytes, target: str) -> None:
    method = "PATCH" if target.endswith("/1") else "POST"
    r = api.request(method, target, content=body, headers={"Content-Type": "application/json"})
    not_a_server_error(r)


@FUZZ
@given(value=json_values, target=st.sampled_from(["/people/search", JOB_PATH]))
def test_random_json_bodies(api: httpx.Client, value: Any, target: str) -> None:
    not_a_server_error(api.post(target, json=value))


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(
            ["linkedin_url", "email", "name", "title", "company_name", "company_domain", "reveal_email", "domain", "x"]
        )
        | url_text,
        url_text,
        max_size=6,
    ),
    path=st.sampled_from(["/people/find", "/companies/find", f"{JOB_PATH}/1"]),
)
def test_random_query_strings(api: httpx.Client, params: dict[str, str], path: str) -> None:
    not_a_server_error(api.get(path, params=params))


@FUZZ
@given(
    leads=st.lists(
        st.dictionaries(
            st.sampled_from(
                ["email", "linkedin_url", "linkedin_id", "name", "title", "company_name", "company_domain"]
            ),
            json_values,
            max_size=4,
        ),
        min_size=1,
        max_size=5,
    ),
    reveal=json_values,
)
def test_wrong_types_in_leads(api: httpx.Client, leads: list[dict[str, Any]], reveal: Any) -> None:
    r = api.post(JOB_PATH, json={"leads": leads, "reveal_email": reveal})
    not_a_server_error(r)
    if r.status_code == 202:
        assert all(isinstance(v, str) for lead in leads for v in lead.values() if v is not None)
        assert reveal is None or isinstance(reveal, bool)


@FUZZ
@given(segment=segment_text.filter(lambda s: "/" not in s and "?" not in s and "#" not in s and s not in (".", "..")))
def test_random_job_ids(api: httpx.Client, segment: str) -> None:
    r = api.get(f"{JOB_PATH}/{segment}")
    not_a_server_error(r)
    assert r.status_code in (200, 400, 404)


def test_deeply_nested_json_is_400(api: httpx.Client) -> None:
    for content in (b"[" * 100_000, b'{"a":' * 50_000, json.dumps({"leads": [[[[[[[[[[{}]]]]]]]]]]}).encode()):
        r = api.post(JOB_PATH, content=content, headers={"Content-Type": "application/json"})
        error_of(r, 400, "unsupported_value")


def test_huge_query_string(api: httpx.Client, sb: Sandbox) -> None:
    not_a_server_error(api.get("/people/find", params={"email": "a" * 60_000, "name": "b" * 1000}))
    # past what any server takes: refused at the HTTP layer, but never with a 5xx
    reply = raw_http(
        sb, b"GET /people/find?email=" + b"a" * 500_000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert reply.startswith(b"HTTP/1.1 4"), reply[:100]


def test_huge_header_and_garbage_request_line(sb: Sandbox) -> None:
    for request in (
        b"GET /account-info HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: " + b"b" * 300_000 + b"\r\n\r\n",
        b"GET /account-info HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: " + b"b" * 1_000_000 + b"\r\n\r\n",
        b"\x00\x01\x02 not http at all\r\n\r\n",
        b"GET /account-info HTTP/9.9\r\nHost: x\r\n\r\n",
    ):
        reply = raw_http(sb, request)
        # An answer, and a 4xx one: no reply at all (a dropped connection) is no better than a 5xx.
        assert re.match(rb"HTTP/1\.1 4\d\d ", reply), reply[:100]


def test_bad_percent_encoding_and_non_utf8(api: httpx.Client) -> None:
    for query in ("email=%ff%fe", "email=%zz&name=%", "linkedin_url=%00", "reveal_email=%ff&email=a@b.c", "&&&=&="):
        not_a_server_error(api.get(f"/people/find?{query}"))
    r = api.post("/people/search", content=b'{"person_name": "\xff\xfe"}', headers={"Content-Type": "application/json"})
    not_a_server_error(r)


def test_bodies_over_two_megabytes_pass_up_to_max_body_bytes(api: httpx.Client) -> None:
    # 10,000 leads with long fields: about 3 MB, under the 16 MiB default limit (and over the 2 MB that web
    # frameworks often cap bodies at by default).
    leads = [
        {"email": f"lead{i}.{'x' * 120}@example.com", "name": "N" * 80, "company_name": "C" * 80} for i in range(10_000)
    ]
    body = json.dumps({"leads": leads}).encode()
    assert len(body) > 3_000_000
    r = api.post(JOB_PATH, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 202, r.text[:300]
