"""The OpenAPI document: served as `Sandbox.openapi()`, valid, complete, and every response the sandbox sends
conforms to it (checked here with jsonschema, and by a schemathesis run)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from openapi_spec_validator import validate

from amplemarket.testing import Sandbox

from ._helpers import JOB_PATH, create_job, pick

ROUTES = {
    ("GET", "/people/find"),
    ("GET", "/companies/find"),
    ("POST", "/people/search"),
    ("POST", "/people/enrichment-requests"),
    ("GET", "/people/enrichment-requests/{id}"),
    ("PATCH", "/people/enrichment-requests/{id}"),
    ("POST", "/companies/search"),
    ("POST", "/companies/enrichment-requests"),
    ("GET", "/companies/enrichment-requests/{id}"),
    ("PATCH", "/companies/enrichment-requests/{id}"),
    ("POST", "/email-validations"),
    ("GET", "/email-validations/{id}"),
    ("PATCH", "/email-validations/{id}"),
    ("GET", "/account-info"),
    ("GET", "/openapi.json"),
}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return Sandbox.openapi()


def resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node and node["$ref"].startswith("#/"):
        target: Any = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def schema_validator(doc: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator for ``schema`` whose ``#/components/...`` references resolve into the document."""
    root = {**schema, "components": doc["components"]}
    Draft202012Validator.check_schema(root)
    return Draft202012Validator(root)


def check_response(doc: dict[str, Any], template: str, r: httpx.Response) -> None:
    """Asserts that ``r`` is a documented response of the operation and conforms to its schema and headers."""
    op = doc["paths"][template][r.request.method.lower()]
    assert str(r.status_code) in op["responses"], f"{r.request.method} {template} does not document {r.status_code}"
    spec = resolve(doc, op["responses"][str(r.status_code)])
    media = spec["content"]
    ctype = r.headers["content-type"].split(";")[0]
    assert ctype in media, (ctype, list(media))
    schema = media[ctype]["schema"]
    errors = sorted(schema_validator(doc, schema).iter_errors(r.json()), key=str)
    assert not errors, f"{r.request.method} {r.url} {r.status_code}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]
    )
    for name, header in spec.get("headers", {}).items():
        header = resolve(doc, header)
        value = r.headers.get(name)
        if header.get("required"):
            assert value is not None, f"{name} missing on {r.status_code}"
        if value is not None:
            hschema = resolve(doc, header)["schema"]
            parsed: Any = int(value) if hschema.get("type") == "integer" else value
            assert not list(schema_validator(doc, hschema).iter_errors(parsed)), (name, value)


# -- the document --------------------------------------------------------------------------------------------------


def test_served_document_equals_sandbox_openapi(anon: httpx.Client, doc: dict[str, Any]) -> None:
    r = anon.get("/openapi.json")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == doc


def test_document_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    assert doc["openapi"].startswith("3.1")
    validate(doc)


def test_document_lists_every_route(doc: dict[str, Any]) -> None:
    listed = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops if m in ("get", "post", "patch", "put")}
    assert listed == ROUTES
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if method not in ("get", "post", "patch"):
                continue
            assert op.get("operationId"), (method, path)
            if path != "/openapi.json":
                assert "401" in op["responses"], (method, path)
    assert doc["paths"]["/openapi.json"]["get"]["security"] == []
    assert doc["security"] == [{"bearerAuth": []}]


def test_every_schema_is_valid_and_every_example_conforms(doc: dict[str, Any]) -> None:
    for name, schema in doc["components"]["schemas"].items():
        schema_validator(doc, schema)
        assert name
    checked = 0
    for ops in doc["paths"].values():
        for op in ops.values():
            if not isinstance(op, dict):
                continue
            bodies = [op.get("requestBody", {})] + [resolve(doc, r) for r in op.get("responses", {}).values()]
            for body in bodies:
                for media in body.get("content", {}).values():
                    v = schema_validator(doc, media["schema"])
                    for ex in media.get("examples", {}).values():
                        errors = list(v.iter_errors(ex["value"]))
                        assert not errors, (ex.get("summary"), errors[0].message)
                        checked += 1
    assert checked >= 5


# -- responses conform ---------------------------------------------------------------------------------------------


def test_find_responses_conform(
    sb: Sandbox, api: httpx.Client, doc: dict[str, Any], people: list[dict[str, Any]], live: list[dict[str, Any]]
) -> None:
    t = "/people/find"
    p = pick(people, lambda p: not p.get("_gdpr_removed") and bool(p.get("email")) and bool(p.get("phone_numbers")))[0]
    sparse = pick(people, lambda p: not p.get("_gdpr_removed") and p.get("headline") is None)[0]
    nocompany = pick(people, lambda p: not p.get("_gdpr_removed") and p["company"] is None)[0]
    gone = pick(people, lambda p: bool(p.get("_gdpr_removed")))[0]
    for params in (
        {"email": p["email"]},
        {"email": p["email"], "reveal_email": "true", "reveal_phone_numbers": "true"},
        {"linkedin_url": sparse["linkedin_url"], "reveal_email": "1", "reveal_phone_numbers": "1"},
        {"linkedin_url": nocompany["linkedin_url"], "reveal_email": "true"},
        {},
        {"email": "nobody@nowhere.invalid"},
        {"linkedin_url": gone["linkedin_url"]},
        {"email": p["email"], "reveal_email": "perhaps"},
    ):
        check_response(doc, t, api.get(t, params=params))
    sb.configure(reveal_timeout_rate=1.0)
    check_response(doc, t, api.get(t, params={"linkedin_url": nocompany["linkedin_url"], "reveal_phone_numbers": "1"}))
    sb.configure(email_credits=0)
    other = live[50]
    check_response(doc, t, api.get(t, params={"linkedin_url": other["linkedin_url"]}))
    sb.configure(rate_limit=1)
    api.get("/account-info")
    check_response(doc, t, api.get(t, params={"linkedin_url": other["linkedin_url"]}))


def test_company_and_account_responses_conform(sb: Sandbox, api: httpx.Client, doc: dict[str, Any]) -> None:
    for i in (0, 1, 2, 3, 40):
        c = sb.companies[i]
        check_response(doc, "/companies/find", api.get("/companies/find", params={"linkedin_url": c["linkedin_url"]}))
    check_response(doc, "/companies/find", api.get("/companies/find", params={"domain": "nope.invalid"}))
    check_response(doc, "/companies/find", api.get("/companies/find"))
    check_response(doc, "/account-info", api.get("/account-info"))
    sb.configure(rate_limit=1000, search_rate_limit=10)
    check_response(doc, "/account-info", api.get("/account-info"))


def test_search_responses_conform(sb: Sandbox, api: httpx.Client, doc: dict[str, Any]) -> None:
    t = "/people/search"
    for body in ({}, {"page": 2, "page_size": 100}, {"person_name": "zzz-nobody"}, {"page_size": 0}, {"page": "x"}):
        check_response(doc, t, api.post(t, json=body))
    check_response(doc, t, api.post(t, content=b"{bad", headers={"Content-Type": "application/json"}))
    sb.configure(max_body_bytes=1024)
    check_response(doc, t, api.post(t, json={"person_titles": ["x" * 2000]}))
    sb.configure(max_body_bytes=1 << 20, search_rate_limit=1)
    check_response(doc, t, api.post(t, json={}))


def test_enrichment_responses_conform(
    sb: Sandbox, api: httpx.Client, doc: dict[str, Any], people: list[dict[str, Any]], live: list[dict[str, Any]]
) -> None:
    t, tid = JOB_PATH, f"{JOB_PATH}/{{id}}"
    ok = live
    gone = pick(people, lambda p: bool(p.get("_gdpr_removed")))[0]
    leads = [{"linkedin_url": p["linkedin_url"]} for p in ok[:150]]
    leads += [{"email": "nobody@nowhere.invalid"}, {"linkedin_id": gone["linkedin_url"]}]
    leads += [{"name": ok[0]["name"], "company_name": "Nowhere", "title": "CEO"}]
    sb.configure(job_progression="polls:2")
    r = api.post(t, json={"leads": leads, "reveal_email": True, "reveal_phone_numbers": True})
    check_response(doc, t, r)
    job_id = r.json()["id"]
    check_response(doc, tid, api.get(f"{t}/{job_id}"))  # processing
    done = api.get(f"{t}/{job_id}")
    check_response(doc, tid, done)
    assert done.json()["status"] == "completed"
    check_response(doc, tid, api.get(done.json()["_links"]["next"]["href"]))
    check_response(doc, tid, api.get(f"{t}/{job_id}", params={"page[size]": 0}))
    check_response(doc, tid, api.get(f"{t}/999"))
    check_response(doc, tid, api.patch(f"{t}/{job_id}", json={"status": "canceled"}))
    other = create_job(api, leads[:3])
    check_response(doc, tid, api.patch(f"{t}/{other['id']}", json={"status": "canceled"}))
    check_response(doc, tid, api.patch(f"{t}/{other['id']}", json={"status": "done"}))
    check_response(doc, tid, api.patch(f"{t}/999", json={"status": "canceled"}))
    bad_bodies: list[dict[str, Any]] = [{"leads": []}, {"leads": [{}]}, {"leads": [{"email": 1}]}, {"nope": 1}]
    for body in bad_bodies:
        check_response(doc, t, api.post(t, json=body))
    sb.configure(job_error_rate=1.0, job_progression="immediate")
    failing = create_job(api, leads[:2])
    check_response(doc, tid, api.get(f"{t}/{failing['id']}"))
    sb.configure(job_error_rate=0.0, email_credits=1)
    short = create_job(api, [{"linkedin_url": p["linkedin_url"]} for p in ok[200:205]])  # not yet charged
    r = api.get(f"{t}/{short['id']}")
    assert r.json()["status"] == "error"
    check_response(doc, tid, r)
    sb.configure(email_credits=0)
    check_response(doc, t, api.post(t, json={"leads": leads[:2]}))


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_injected_errors_conform(sb: Sandbox, api: httpx.Client, doc: dict[str, Any], status: int) -> None:
    for route, method, path in (
        ("GET /people/find", "GET", "/people/find"),
        ("POST /people/search", "POST", "/people/search"),
        (f"GET {JOB_PATH}/{{id}}", "GET", f"{JOB_PATH}/1"),
    ):
        sb.script(route, [status])
        r = api.request(method, path, json={} if method == "POST" else None)
        template = f"{JOB_PATH}/{{id}}" if "{id}" in route else path
        check_response(doc, template, r)


# -- schemathesis --------------------------------------------------------------------------------------------------


def _schemathesis() -> list[str]:
    exe = Path(sys.executable).with_name("schemathesis")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "schemathesis.cli"]


def test_schemathesis_finds_no_server_errors_or_schema_violations(tmp_path: Path) -> None:
    with Sandbox(rate_limit=None, search_rate_limit=None, job_progression="immediate", poll_retry_after=0) as sb:
        cmd = [
            *_schemathesis(),
            "run",
            f"{sb.url}/openapi.json",
            "--header",
            f"Authorization: Bearer {sb.api_key}",
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--max-examples",
            "25",
            "--seed",
            "20240601",
            # One worker: schemathesis' threads call ast.parse concurrently (through hypothesis), which CPython
            # before 3.11.8 and 3.12.1 can fail with "AST constructor recursion depth mismatch" (gh-106905).
            "--workers",
            "1",
            "--request-timeout",
            "10",
        ]
        env = {**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""}
        proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, output
        assert "Operations:" in output and "14 selected" in output, output
        assert len(sb.requests) > 100  # it really exercised the sandbox


def test_company_and_validation_responses_conform(sb: Sandbox, api: httpx.Client, doc: dict[str, Any]) -> None:
    cj, vj = "/companies/enrichment-requests", "/email-validations"
    sb.configure(job_progression="polls:2")
    for template, body in (
        (cj, {"companies": [{"domain": "techco.com"}, {"name": "No Such Co"}, {"linkedin_url": "x"}]}),
        (vj, {"emails": [{"email": "jane@techco.com"}, {"email": "junk"}]}),
    ):
        r = api.post(template, json=body)
        check_response(doc, template, r)
        href = r.json()["_links"]["self"]["href"]
        check_response(doc, f"{template}/{{id}}", api.get(href))  # processing
        check_response(doc, f"{template}/{{id}}", api.get(href, params={"page[size]": 1}))  # completed
        check_response(doc, f"{template}/{{id}}", api.patch(href, json={"status": "canceled"}))
        check_response(doc, f"{template}/{{id}}", api.patch(href, json={}))
        check_response(doc, f"{template}/{{id}}", api.get(f"{template}/999"))
        for bad in ({}, {"x": 1}, {next(iter(body)): [{}]}):
            check_response(doc, template, api.post(template, json=bad))
    sb.configure(validations_per_hour=1)
    check_response(doc, vj, api.post(vj, json={"emails": [{"email": "a@b.co"}] * 2}))
    check_response(doc, vj, api.post(vj, json={"emails": [{"email": "a@b.co"}]}))
    check_response(doc, vj, api.post(vj, json={"emails": [{"email": "a@b.co"}]}))  # 429
    t = "/companies/search"
    for search in ({}, {"company_names": "a", "page_size": 100}, {"company_types": 1}, {"page": 0}):
        check_response(doc, t, api.post(t, json=search))
