"""`EmailValidation` and `amplemarket.validate_emails` (blocking and awaitable) against the sandbox over HTTP: one
result per input in order, invalid text never sent nor charged, identical emails sent once, requests split at the
hourly limit and waited for rather than failed, resume by id, cancel."""

from __future__ import annotations

import json
import pickle
import re
from typing import Any

import pytest
from support import call, last_seq, sent

import amplemarket
from amplemarket import EmailValidation, InvalidInputError, ValidationResult
from amplemarket.testing import Sandbox

CREATE = "POST /email-validations"
OUTCOMES = {"deliverable", "risky", "unknown", "undeliverable"}


def bodies(sb: Sandbox, since: int) -> list[list[dict[str, Any]]]:
    return [json.loads(r["body"])["emails"] for r in sent(sb, CREATE, since) if r["status"] == 202]


def test_validate_emails_gives_one_result_per_input(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    known = [p["email"] for p in sb.people[:3]]
    emails = [*known, "not an email", known[0], "someone@example.org", ""]
    since = last_seq(sb)
    before = sb.credits["email_credits"]
    results = call(mode, amplemarket, "validate_emails", emails, client=client)
    assert len(results) == len(emails)
    assert all(isinstance(r, ValidationResult) for r in results)
    assert [r.email for r in results] == emails
    assert [r.status for r in results] == ["validated"] * 3 + ["invalid", "validated", "validated", "invalid"]
    for r in results:
        if r.status == "validated":
            assert r.result in OUTCOMES and isinstance(r.catch_all, bool) and r.error is None
        else:
            assert r.result is None and r.catch_all is None and r.error
    assert results[0].to_dict() == results[4].to_dict()
    # Text that is not an email is neither sent nor charged; a repeated email is sent once.
    assert bodies(sb, since) == [[{"email": e} for e in [*known, "someone@example.org"]]]
    assert sb.credits["email_credits"] == before - 4
    assert pickle.loads(pickle.dumps(results[0])) == results[0]
    assert "ValidationResult(" in repr(results[0])


def test_outcomes_are_stable_per_email(sb: Sandbox, client: amplemarket.Client) -> None:
    emails = [f"user{i}@domain{i % 40}.example.com" for i in range(400)]
    first = amplemarket.validate_emails(emails, client=client)
    again = amplemarket.validate_emails(list(reversed(emails)), client=client)
    assert [r.result for r in first] == [r.result for r in reversed(list(again))]
    assert {r.result for r in first} == OUTCOMES
    # A catch-all domain is catch-all for every address on it.
    by_domain: dict[str, set[bool | None]] = {}
    for r in first:
        by_domain.setdefault((r.email or "").split("@")[1], set()).add(r.catch_all)
    assert all(len(v) == 1 for v in by_domain.values())
    assert any(v == {True} for v in by_domain.values()) and any(v == {False} for v in by_domain.values())


@pytest.mark.amplemarket_sandbox(validations_per_hour=100_000, validation_window_seconds=2, email_credits=1_000_000)
def test_250000_emails_go_in_three_requests_waiting_for_the_hourly_limit(
    sb: Sandbox, client: amplemarket.Client
) -> None:
    emails = [f"person{i}@company{i % 997}.example.com" for i in range(250_000)]
    seen: list[str] = []
    since = last_seq(sb)
    results = amplemarket.validate_emails(
        emails, validations_per_hour=100_000, client=client, progress=lambda phase, done, total: seen.append(phase)
    )
    assert len(results) == 250_000
    assert [r.email for r in results[:3]] == emails[:3] and results[-1].email == emails[-1]
    assert all(r.status == "validated" for r in results)
    assert [len(b) for b in bodies(sb, since)] == [100_000, 100_000, 50_000]
    # The second and third requests met the hourly limit: refused with 429, waited for, then accepted.
    assert [r["status"] for r in sent(sb, CREATE, since)].count(429) >= 1
    assert any("hourly validation limit" in p or "429" in p for p in seen), set(seen)
    table = results.to_arrow()
    assert table.column_names[-4:] == ["status", "error", "result", "catch_all"]


def test_requests_are_split_at_the_hourly_limit(sb: Sandbox, client: amplemarket.Client) -> None:
    emails = [f"u{i}@x{i % 7}.example.com" for i in range(25)]
    since = last_seq(sb)
    results = amplemarket.validate_emails(emails, validations_per_hour=10, client=client)
    assert [len(b) for b in bodies(sb, since)] == [10, 10, 5] and len(results) == 25


def test_lifecycle_resume_and_results(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    emails = [f"a{i}@b{i}.example.com" for i in range(30)]
    v = call(mode, EmailValidation, "create", emails, client=client)
    assert isinstance(v, EmailValidation) and isinstance(v.id, str) and v.id in repr(v)
    assert v.status == "queued" and not v.done
    call(mode, v, "wait")
    assert v.status == "completed" and v.done and v.errors == []
    results = list(v.results(page_size=7))
    assert [r.email for r in results] == emails
    with sb.client(rate_limit=False) as other:
        again = call(mode, EmailValidation, "get", v.id, client=other)
        assert again.status == "completed"
        assert [r.to_json() for r in again.collect()] == [r.to_json() for r in results]


@pytest.mark.amplemarket_sandbox(job_progression="never")
def test_cancel_and_reading_early_is_refused(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    v = EmailValidation.create(["a@b.example.com"], client=client)
    with pytest.raises(InvalidInputError, match="call wait\\(\\) before reading"):
        v.results()
    with pytest.raises(amplemarket.JobTimeoutError, match=re.escape('EmailValidation.get("')):
        v.wait(timeout=0.2)
    call(mode, v, "cancel")
    assert v.status == "canceled"


@pytest.mark.parametrize(
    ("emails", "error", "message"),
    [
        ("jane@techco.com", TypeError, "not one string"),
        (5, TypeError, "iterable of strings"),
        (["jane@techco.com", 5], TypeError, "email 1 is a int"),
    ],
)
def test_wrong_types_are_type_errors(client: amplemarket.Client, emails: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        amplemarket.validate_emails(emails, client=client)


def test_create_refuses_bad_input_before_sending(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    since = last_seq(sb)
    with pytest.raises(InvalidInputError, match="1 invalid email"):
        call(mode, EmailValidation, "create", ["a@b.example.com", "nope"], client=client)
    with pytest.raises(InvalidInputError, match="no emails to send"):
        call(mode, EmailValidation, "create", [], client=client)
    with pytest.raises(InvalidInputError, match="validation_id must be"):
        call(mode, EmailValidation, "get", "../people", client=client)
    with pytest.raises(InvalidInputError, match="validations_per_hour"):
        amplemarket.validate_emails(["a@b.example.com"], validations_per_hour=0, client=client)
    assert sent(sb, CREATE, since) == []


def test_an_unknown_id_is_not_found(client: amplemarket.Client) -> None:
    with pytest.raises(amplemarket.NotFoundError):
        EmailValidation.get("00000000-0000-4000-8000-000000000000", client=client)


def test_a_creation_cut_short_is_not_sent_again(sb: Sandbox, client: amplemarket.Client) -> None:
    sb.script(CREATE, [502])
    since = last_seq(sb)
    with pytest.raises(amplemarket.APIStatusError, match="may have been created"):
        amplemarket.validate_emails(["a@b.example.com"], client=client)
    assert len(sent(sb, CREATE, since)) == 1


@pytest.mark.amplemarket_sandbox(email_credits=2)
def test_running_out_of_credits_fails_the_rest(sb: Sandbox, client: amplemarket.Client) -> None:
    emails = [f"u{i}@v{i}.example.com" for i in range(5)]
    results = amplemarket.validate_emails(emails, client=client)
    statuses = [r.status for r in results]
    assert statuses[:2] == ["validated", "validated"] and set(statuses[2:]) == {"failed"}
    assert all("credit" in (r.error or "") for r in results[2:])


@pytest.mark.parametrize("progression", ["immediate", "polls:3", "seconds:0.3"])
def test_validations_in_every_progression(sb: Sandbox, client: amplemarket.Client, mode: str, progression: str) -> None:
    sb.configure(job_progression=progression, poll_retry_after=0)
    emails = [f"p{i}@q{i % 3}.example.com" for i in range(23)]
    v = call(mode, EmailValidation, "create", emails, client=client)
    call(mode, v, "wait")
    assert v.status == "completed"
    polls = len(sent(sb, "GET /email-validations/{id}"))
    assert polls == {"immediate": 1, "polls:3": 3}.get(progression, polls) and polls >= 1
    assert [r.email for r in v.results(page_size=4)] == emails, "every page read in order, none twice"
