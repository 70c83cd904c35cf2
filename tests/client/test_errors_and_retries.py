"""Errors and retries, driven by sandbox scripts and faults: every exception class and its attributes, what is
retried and how often, Retry-After (seconds and HTTP-date) honoured, ``max_retry_wait``, broken responses,
dropped and truncated connections, timeouts, and client-side pacing with zero 429s."""

from __future__ import annotations

import email.utils
import socket
import time
from typing import Any

import pytest
from support import FIND, MIN_FIRST_BACKOFF, SEARCH, call, sent, wait_for

import amplemarket
from amplemarket import Company, Person
from amplemarket.testing import Sandbox

# -- status -> class -----------------------------------------------------------------------------------------------

NOT_RETRIED: list[tuple[int, type[amplemarket.APIStatusError], str | None]] = [
    (400, amplemarket.BadRequestError, "unsupported_value"),
    (401, amplemarket.AuthenticationError, "unauthorized"),
    (402, amplemarket.InsufficientCreditsError, "insufficient_credits"),
    (403, amplemarket.PermissionDeniedError, "forbidden"),
    (405, amplemarket.APIStatusError, None),
    (409, amplemarket.APIStatusError, None),
    (413, amplemarket.APIStatusError, None),
    (418, amplemarket.APIStatusError, None),
    (422, amplemarket.APIStatusError, None),
    (451, amplemarket.UnavailableForLegalReasonsError, "unavailable_for_legal_reasons"),
    (501, amplemarket.InternalServerError, None),
    (599, amplemarket.InternalServerError, None),
]


@pytest.fixture
def target(with_email: list[dict[str, Any]]) -> dict[str, Any]:
    return with_email[3]


@pytest.mark.parametrize(("status", "cls", "code"), NOT_RETRIED, ids=[str(s) for s, _, _ in NOT_RETRIED])
def test_error_statuses_map_to_classes_and_are_sent_once(
    mode: str,
    sb: Sandbox,
    client: amplemarket.Client,
    target: dict[str, Any],
    status: int,
    cls: type[amplemarket.APIStatusError],
    code: str | None,
) -> None:
    sb.script(FIND, [status, 200])
    with pytest.raises(amplemarket.APIStatusError) as info:
        call(mode, Person, "find", email=target["email"], client=client)
    e = info.value
    assert type(e) is cls
    assert isinstance(e, amplemarket.AmplemarketError)
    assert e.status_code == status
    if code is not None:
        assert e.code == code
    assert isinstance(e.code, str) and isinstance(e.title, str) and isinstance(e.detail, str)
    assert isinstance(e.errors, list) and e.errors and e.errors[0]["status"] == str(status)
    assert isinstance(e.headers, dict) and e.headers.get("content-type", "").startswith("application/")
    assert e.retry_after is None
    assert e.request == "GET /people/find"
    assert str(status) in str(e)
    assert len(sent(sb, FIND)) == 1  # never retried (the 200 step is still queued)
    assert sb.pending_script_steps == 1


def test_status_error_attributes_come_from_the_envelope(mode: str, sb: Sandbox, client: amplemarket.Client) -> None:
    errors = [
        {
            "id": "e1",
            "status": "400",
            "code": "unsupported_value",
            "title": "Unsupported value",
            "detail": "`email` must be an address.",
            "source": {"parameter": "email"},
        },
        {"status": "400", "code": "x_future_code", "title": "Another", "detail": "More.", "meta": {"k": 1}},
    ]
    body = {"object": "error", "_errors": errors}
    sb.script(FIND, [{"status": 400, "body": body, "headers": {"X-Request-Id": "req-123"}}])
    with pytest.raises(amplemarket.BadRequestError) as info:
        call(mode, Person, "find", email="jane@techco.com", client=client)
    e = info.value
    assert (e.status_code, e.code, e.title, e.detail) == (
        400,
        "unsupported_value",
        "Unsupported value",
        errors[0]["detail"],
    )
    assert e.source == {"parameter": "email"}
    assert e.errors == errors  # all of them, as sent, unknown codes and keys kept
    assert e.headers["x-request-id"] == "req-123"
    assert "must be an address" in str(e) and "email" in str(e)
    assert e.message == str(e)


def test_404_outside_finds_is_not_found_error(mode: str, sb: Sandbox, client: amplemarket.Client) -> None:
    # Finds answer None for a 404; other calls raise NotFoundError.
    sb.script("GET /account-info", [404])
    with pytest.raises(amplemarket.NotFoundError) as info:
        call(mode, client, "account_info")
    assert (info.value.status_code, info.value.request) == (404, "GET /account-info")
    sb.script(SEARCH, [404])
    with pytest.raises(amplemarket.NotFoundError):
        call(mode, Person, "search", person_titles="CEO", client=client)
    assert len(sb.requests) == 2


def test_code_insufficient_credits_wins_over_the_status(mode: str, sb: Sandbox, client: amplemarket.Client) -> None:
    body = {"object": "error", "_errors": [{"status": "403", "code": "insufficient_credits", "detail": "Top up."}]}
    sb.script(FIND, [{"status": 403, "body": body}])
    with pytest.raises(amplemarket.InsufficientCreditsError) as info:
        call(mode, Person, "find", email="jane@techco.com", client=client)
    assert info.value.status_code == 403


@pytest.mark.amplemarket_sandbox(email_credits=0.0)
def test_running_out_of_credits(mode: str, sb: Sandbox, client: amplemarket.Client, target: dict) -> None:
    with pytest.raises(amplemarket.InsufficientCreditsError) as info:
        call(mode, Person, "find", email=target["email"], reveal_email=True, client=client)
    assert (info.value.status_code, info.value.code) == (402, "insufficient_credits")
    assert len(sent(sb, FIND)) == 1
    assert sb.credits["email_credits"] == 0.0


def test_error_without_an_envelope_keeps_an_excerpt(mode: str, sb: Sandbox, client: amplemarket.Client) -> None:
    sb.script(FIND, [{"fault": "html"}])
    with sb.client(rate_limit=False, max_retries=0) as c, pytest.raises(amplemarket.APIStatusError) as info:
        call(mode, Person, "find", email="jane@techco.com", client=c)
    e = info.value
    assert isinstance(e, amplemarket.InternalServerError) and e.status_code == 502
    assert "502 Bad Gateway" in str(e)  # the body explains what happened
    assert "502 Bad Gateway" in (e.detail or "")
    assert e.code is None and e.errors == []


def test_html_error_page_is_retried(mode: str, sb: Sandbox, client: amplemarket.Client, target: dict) -> None:
    sb.script(FIND, [{"fault": "html", "headers": {"Retry-After": "0"}}, 200])
    person = call(mode, Person, "find", email=target["email"], client=client)
    assert person.id == target["id"]
    assert [r["status"] for r in sent(sb, FIND)] == [502, 200]


# -- retried, then success -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "step",
    [
        {"status": 429, "retry_after": 0},
        {"status": 503, "retry_after": 0},
        {"status": 500, "headers": {"Retry-After": "0"}},
        {"status": 502, "headers": {"Retry-After": "0"}},
        {"status": 504, "headers": {"Retry-After": "0"}},
        {"status": 408, "retry_after": 0},
    ],
    ids=["429", "503", "500", "502", "504", "408"],
)
def test_retryable_status_then_success(
    mode: str, sb: Sandbox, client: amplemarket.Client, target: dict, step: dict[str, Any]
) -> None:
    sb.script(FIND, [step, step, 200])
    person = call(mode, Person, "find", email=target["email"], client=client)
    assert person.id == target["id"]
    assert [r["status"] for r in sent(sb, FIND)] == [step["status"], step["status"], 200]


def test_500_without_retry_after_backs_off(mode: str, sb: Sandbox, client: amplemarket.Client, target: dict) -> None:
    sb.script(FIND, [500, 200])
    assert call(mode, Person, "find", email=target["email"], client=client).id == target["id"]
    first, second = sent(sb, FIND)
    assert (first["status"], second["status"]) == (500, 200)
    assert second["time"] - first["time"] >= 0.5 * 0.75  # min(0.5 * 2**0, 8) s, less at most a quarter of jitter


def test_search_is_retried_too(mode: str, sb: Sandbox, client: amplemarket.Client) -> None:
    sb.script(SEARCH, [{"status": 429, "retry_after": 0}, {"status": 503, "retry_after": 0}])
    page = call(mode, Person, "search", person_titles="Engineer", page_size=2, client=client)
    assert len(page) == 2
    assert [r["status"] for r in sent(sb, SEARCH)] == [429, 503, 200]


@pytest.mark.parametrize("max_retries", [0, 2])
def test_retries_exhausted(mode: str, sb: Sandbox, target: dict, max_retries: int) -> None:
    errors = [
        {"status": "500", "code": "internal_server_error", "title": "Oops", "detail": "Database on fire."},
        {"status": "500", "code": "x_shard", "detail": "Shard 7."},
    ]
    step = {"status": 500, "body": {"object": "error", "_errors": errors}, "headers": {"Retry-After": "0"}}
    sb.script(FIND, [step] * 5)
    with (
        sb.client(rate_limit=False, max_retries=max_retries) as c,
        pytest.raises(amplemarket.InternalServerError) as info,
    ):
        call(mode, Person, "find", email=target["email"], client=c)
    e = info.value
    assert e.status_code == 500
    assert e.errors == errors
    assert (e.code, e.title, e.detail) == ("internal_server_error", "Oops", "Database on fire.")
    assert f"{max_retries + 1} attempt" in str(e)
    assert len(sent(sb, FIND)) == max_retries + 1


def test_rate_limited_after_every_retry(mode: str, sb: Sandbox, target: dict) -> None:
    sb.script(FIND, [{"status": 429, "retry_after": 0}] * 3)
    with sb.client(rate_limit=False, max_retries=2) as c, pytest.raises(amplemarket.RateLimitError) as info:
        call(mode, Person, "find", email=target["email"], client=c)
    assert info.value.retry_after == 0.0
    assert info.value.code == "rate_limited"
    assert info.value.headers["retry-after"] == "0"
    assert len(sent(sb, FIND)) == 3


# -- Retry-After and max_retry_wait ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(mode: str, sb: Sandbox, client: amplemarket.Client, target: dict, status: int) -> None:
    sb.script(FIND, [{"status": status, "retry_after": 1}, 200])
    assert call(mode, Person, "find", email=target["email"], client=client).id == target["id"]
    first, second = sent(sb, FIND)
    assert (first["status"], second["status"]) == (status, 200)
    assert second["time"] - first["time"] >= 1.0


def test_retry_after_as_an_http_date_is_honoured(mode: str, sb: Sandbox, client: amplemarket.Client, target) -> None:
    when = email.utils.formatdate(time.time() + 3, usegmt=True)  # whole seconds: 2 to 3 s from now
    sb.script(FIND, [{"status": 503, "headers": {"Retry-After": when}}, 200])
    assert call(mode, Person, "find", email=target["email"], client=client).id == target["id"]
    first, second = sent(sb, FIND)
    assert second["time"] - first["time"] >= 1.0  # backoff alone would be at most 0.5 s


@pytest.mark.parametrize("value", ["soon", "-5", ""])
def test_unreadable_retry_after_falls_back_to_backoff(
    mode: str, sb: Sandbox, client: amplemarket.Client, target: dict, value: str
) -> None:
    sb.script(FIND, [{"status": 503, "headers": {"Retry-After": value}}, 200])
    assert call(mode, Person, "find", email=target["email"], client=client).id == target["id"]
    first, second = sent(sb, FIND)
    assert (first["status"], second["status"]) == (503, 200)
    # The retry waited out the backoff: read as "0" (or a negative wait), the value would have sent it at once.
    assert second["time"] - first["time"] >= MIN_FIRST_BACKOFF


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_above_max_retry_wait_raises_at_once(mode: str, sb: Sandbox, target: dict, status: int) -> None:
    sb.script(FIND, [{"status": status, "retry_after": 30}, 200])
    with sb.client(rate_limit=False, max_retry_wait=5.0) as c, pytest.raises(amplemarket.APIStatusError) as info:
        call(mode, Person, "find", email=target["email"], client=c)
    e = info.value
    assert e.status_code == status
    assert e.retry_after == 30.0
    assert "max_retry_wait" in str(e)
    assert len(sent(sb, FIND)) == 1


def test_the_next_call_after_a_refused_wait_does_not_sleep_it_anyway(sb: Sandbox, target: dict) -> None:
    sb.script(FIND, [{"status": 429, "retry_after": 2}])
    with sb.client(rate_limit=False, max_retry_wait=0.5) as c:
        with pytest.raises(amplemarket.RateLimitError):
            Person.find(email=target["email"], client=c)
        try:
            Person.find(email=target["email"], client=c)
        except amplemarket.RateLimitError:
            assert len(sent(sb, FIND)) == 1  # refusing again without sending is fine too
            return
    first, second = sent(sb, FIND)
    assert second["time"] - first["time"] < 0.5 + 0.25, "the second call waited out the refused Retry-After"


# -- broken responses and connections --------------------------------------------------------------------------


def test_malformed_json_200_is_a_validation_error(mode: str, sb: Sandbox, client: amplemarket.Client) -> None:
    sb.script(FIND, [{"fault": "malformed"}, 200])
    with pytest.raises(amplemarket.APIResponseValidationError) as info:
        call(mode, Person, "find", email="jane@techco.com", client=client)
    e = info.value
    assert e.status_code == 200
    assert e.request == "GET /people/find"
    assert "Person" in str(e)
    assert len(sent(sb, FIND)) == 1  # a 2xx is not sent again (it may have been charged)


@pytest.mark.parametrize(
    ("body", "owner", "name", "kwargs"),
    [
        ("", Person, "find", {"email": "jane@techco.com"}),
        ("[1, 2]", Person, "find", {"email": "jane@techco.com"}),
        ('"a string"', Company, "find", {"domain": "techco.com"}),
        ("{not json", Company, "find", {"domain": "techco.com"}),
        ('{"results": 5}', Person, "search", {"person_titles": "CEO"}),
        ('{"results": [1, 2]}', Person, "search", {"person_titles": "CEO"}),
    ],
    ids=["empty", "array", "string", "broken", "results not a list", "results not objects"],
)
def test_unreadable_2xx_bodies(
    mode: str, sb: Sandbox, client: amplemarket.Client, body: str, owner: Any, name: str, kwargs: dict
) -> None:
    route = SEARCH if name == "search" else ("GET /companies/find" if owner is Company else FIND)
    sb.script(route, [{"status": 200, "body": body}])
    with pytest.raises(amplemarket.APIResponseValidationError) as info:
        call(mode, owner, name, client=client, **kwargs)
    assert info.value.status_code == 200


@pytest.mark.amplemarket_sandbox(content_type="application/vnd.amp+json; charset=utf-8")
def test_vendor_media_type_is_read(mode: str, sb: Sandbox, client: amplemarket.Client, target: dict) -> None:
    assert call(mode, Person, "find", email=target["email"], client=client).id == target["id"]


def test_dropped_connection_is_retried(mode: str, sb: Sandbox, client: amplemarket.Client, target: dict) -> None:
    sb.script(FIND, [{"fault": "drop"}, 200])
    assert call(mode, Person, "find", email=target["email"], client=client).id == target["id"]
    assert [r["outcome"] for r in sent(sb, FIND)] == ["dropped", "completed"]


@pytest.mark.amplemarket_sandbox(drop_rate=1.0)
def test_always_dropped_is_a_connection_error(mode: str, sb: Sandbox, target: dict) -> None:
    with sb.client(rate_limit=False, max_retries=1) as c, pytest.raises(amplemarket.APIConnectionError) as info:
        call(mode, Person, "find", email=target["email"], client=c)
    e = info.value
    assert not isinstance(e, amplemarket.APITimeoutError)
    assert not isinstance(e, amplemarket.APIStatusError)
    assert e.request == "GET /people/find"
    assert "2 attempts" in str(e)
    assert [r["outcome"] for r in sent(sb, FIND)] == ["dropped", "dropped"]


def test_truncated_body_is_retried(mode: str, sb: Sandbox, client: amplemarket.Client, target: dict) -> None:
    sb.script(FIND, [{"fault": "truncate"}, 200])
    person = call(mode, Person, "find", email=target["email"], client=client)
    assert person.id == target["id"]
    assert [r["outcome"] for r in sent(sb, FIND)] == ["truncated", "completed"]


def test_connection_refused_is_a_connection_error(mode: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens on the port now.
    with (
        amplemarket.Client(api_key="amp_test_x", base_url=f"http://127.0.0.1:{port}", max_retries=0) as c,
        pytest.raises(amplemarket.APIConnectionError) as info,
    ):
        call(mode, Person, "find", email="jane@techco.com", client=c)
    assert not isinstance(info.value, amplemarket.APITimeoutError)
    assert "connect" in str(info.value)


def test_timeout(mode: str, sb: Sandbox, target: dict) -> None:
    sb.script(FIND, [{"status": 200, "delay": 2}])
    with (
        sb.client(rate_limit=False, timeout=0.2, max_retries=0) as c,
        pytest.raises(amplemarket.APITimeoutError) as info,
    ):
        call(mode, Person, "find", email=target["email"], client=c)
    assert isinstance(info.value, amplemarket.APIConnectionError)
    assert info.value.request == "GET /people/find"
    assert wait_for(lambda: [r["outcome"] for r in sent(sb, FIND)] == ["aborted"])


def test_timeout_is_retried(mode: str, sb: Sandbox, target: dict) -> None:
    sb.script(FIND, [{"status": 200, "delay": 2}, 200])
    with sb.client(rate_limit=False, timeout=0.5, max_retries=1) as c:
        assert call(mode, Person, "find", email=target["email"], client=c).id == target["id"]
    assert [r["outcome"] for r in sent(sb, FIND)] == ["aborted", "completed"]


# -- pacing --------------------------------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(
    rate_limit=10, rate_limit_window=1.0, search_rate_limit=3, search_rate_limit_window=1.0
)
def test_pacing_keeps_loops_free_of_429s(sb: Sandbox, with_email: list[dict[str, Any]]) -> None:
    # The same limits as the server: a burst of 10, then one request every 0.1 s (searches: 3, then one per 0.33 s).
    # A few fresh clients, since each starts with a burst, then searches on top of a saturated overall limit.
    limits = amplemarket.RateLimits(requests=10, search=3, per=1.0)
    rate_limited: list[tuple[int, int, str]] = []
    for trial in range(4):
        sb.reset()
        with sb.client(rate_limit=limits, max_retries=5) as c:
            assert c.rate_limit == limits
            for i in range(16):
                assert Person.find(email=with_email[i]["email"], client=c) is not None
            if trial == 3:
                for page in range(1, 7):
                    assert len(Person.search(person_titles="Engineer", page=page, page_size=1, client=c)) == 1
        rate_limited += [(trial, r["seq"], r["route"]) for r in sb.requests if r["status"] == 429]
    assert rate_limited == []
