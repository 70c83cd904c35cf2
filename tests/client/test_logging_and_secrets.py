"""Request logging through Python's ``logging`` (``AMPLEMARKET_LOG``), and the API key never showing in full: not in
``repr``, messages, exception attributes, pickles, tracebacks or log records."""

from __future__ import annotations

import logging
import pickle
import secrets
import traceback
from typing import Any

import pytest
from support import FIND, call, domain_of

import amplemarket
from amplemarket import Company, Person
from amplemarket.testing import Sandbox

KEY = "amp_test_" + secrets.token_hex(16)
WRONG_KEY = "amp_test_" + secrets.token_hex(16)


def _texts_of(obj: Any) -> list[str]:
    """Every rendering of an object that could end up in a log, a notebook or a bug report."""
    out = [repr(obj), str(obj)]
    out.append(pickle.dumps(obj).decode("latin-1"))
    if isinstance(obj, BaseException):
        out.append(repr(vars(obj)))
        out += ["".join(traceback.format_exception(obj))]
    return out


def _assert_no_key(texts: list[str], *keys: str) -> None:
    for text in texts:
        for key in keys:
            assert key not in text, f"the API key leaked into: {text[:300]!r}"
            assert key.removeprefix("amp_test_") not in text, f"the API key's secret part leaked into: {text[:300]!r}"


def _records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("amplemarket")]


@pytest.mark.amplemarket_sandbox(api_key=KEY)
def test_the_key_never_shows(
    mode: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    sb: Sandbox,
    with_email: list[dict[str, Any]],
) -> None:
    assert sb.api_key == KEY
    monkeypatch.setenv("AMPLEMARKET_LOG", "debug")
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    client = sb.client(rate_limit=False)
    texts += [repr(client), str(client), repr(client.with_options(max_retries=0))]

    # Successes, a retry, a reveal, a company, a search.
    sb.script(FIND, [{"status": 503, "retry_after": 0}, 200])
    person = call(mode, Person, "find", email=with_email[0]["email"], reveal_email=True, client=client)
    company = call(mode, Company, "find", domain=domain_of(with_email[1]["company"]), client=client)
    page = call(mode, Person, "search", person_titles="Engineer", page_size=2, client=client)
    for obj in (person, company, *page):
        texts += [*_texts_of(obj), obj.to_json()]

    # Failures: a wrong key (401), a timeout, retries exhausted, a closed client, bad input.
    errors: list[BaseException] = []
    bad = amplemarket.Client(api_key=WRONG_KEY, base_url=sb.url, rate_limit=False)
    texts.append(repr(bad))
    try:
        call(mode, Person, "find", email=with_email[2]["email"], client=bad)
    except amplemarket.AuthenticationError as e:
        errors.append(e)
        texts.append(traceback.format_exc())
    sb.script(FIND, [{"status": 200, "delay": 1}, {"status": 500, "headers": {"Retry-After": "0"}}])
    for c in (client.with_options(timeout=0.1, max_retries=0), client.with_options(max_retries=0)):
        try:
            call(mode, Person, "find", email=with_email[3]["email"], client=c)
        except amplemarket.AmplemarketError as e:
            errors.append(e)
            texts.append(traceback.format_exc())
    closed = sb.client()
    closed.close()
    for c, kwargs in ((closed, {"email": "a@b.co"}), (client, {"email": "not an email"})):
        try:
            call(mode, Person, "find", client=c, **kwargs)
        except amplemarket.AmplemarketError as e:
            errors.append(e)
            texts.append(traceback.format_exc())
    assert [type(e) for e in errors] == [
        amplemarket.AuthenticationError,
        amplemarket.APITimeoutError,
        amplemarket.InternalServerError,
        amplemarket.ClientClosedError,
        amplemarket.InvalidInputError,
    ]
    for e in errors:
        texts += _texts_of(e)
        texts += [repr(getattr(e, a, None)) for a in ("headers", "request", "errors", "source", "detail")]
    client.close()

    records = _records(caplog)
    assert records, "AMPLEMARKET_LOG=debug logged nothing"
    texts += [r.getMessage() for r in records] + [repr(r.args) for r in records] + [caplog.text]
    _assert_no_key(texts, KEY, WRONG_KEY)

    # The debug log shows the requests, with the key redacted to tell keys apart.
    messages = [r.getMessage() for r in records]
    assert any("GET /people/find" in m for m in messages)
    assert any("POST /people/search" in m for m in messages)
    assert any(f"amp_…{KEY[-4:]}" in m for m in messages)
    assert any(f"amp_…{WRONG_KEY[-4:]}" in m for m in messages)
    assert any("503" in m for m in messages) and any("retrying" in m for m in messages)
    assert any("401" in m for m in messages)
    assert {r.levelno for r in records} >= {logging.DEBUG, logging.INFO}


@pytest.mark.parametrize("level", ["info", "INFO"])
def test_info_logging_shows_outcomes_without_debug_lines(
    level: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    sb: Sandbox,
    with_email: list[dict[str, Any]],
) -> None:
    monkeypatch.setenv("AMPLEMARKET_LOG", level)
    caplog.set_level(logging.DEBUG)
    with sb.client(rate_limit=False) as c:
        sb.script(FIND, [{"status": 429, "retry_after": 0}, 200])
        assert Person.find(email=with_email[0]["email"], client=c) is not None
    records = _records(caplog)
    assert records and all(r.levelno == logging.INFO for r in records)
    messages = [r.getMessage() for r in records]
    assert any("GET /people/find" in m and "429" in m for m in messages)
    assert any("GET /people/find" in m and "200" in m for m in messages)
    assert any("retrying" in m for m in messages)


def test_no_logging_unless_asked(caplog: pytest.LogCaptureFixture, sb: Sandbox, with_email: list) -> None:
    caplog.set_level(logging.DEBUG)
    with sb.client(rate_limit=False) as c:
        sb.script(FIND, [{"status": 503, "retry_after": 0}, 200])
        assert Person.find(email=with_email[0]["email"], client=c) is not None
    assert _records(caplog) == []


def test_logging_is_read_when_the_client_is_made(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, sb: Sandbox, with_email: list
) -> None:
    caplog.set_level(logging.DEBUG)
    quiet = sb.client(rate_limit=False)
    monkeypatch.setenv("AMPLEMARKET_LOG", "debug")
    loud = sb.client(rate_limit=False)
    Person.find(email=with_email[0]["email"], client=quiet)
    assert _records(caplog) == []
    Person.find(email=with_email[0]["email"], client=loud)
    assert _records(caplog)


def test_the_sandbox_received_the_key_in_the_authorization_header(sb: Sandbox, with_email: list) -> None:
    with sb.client(rate_limit=False) as c:
        Person.find(email=with_email[0]["email"], client=c)
    (entry,) = sb.requests
    assert entry["authorized"] is True
    assert entry["headers"]["authorization"] == "Bearer ***"
