"""``Client`` configuration: environment fallbacks, validation with helpful messages, ``with_options``, context
managers, ``close()``, the default client, ``repr`` without the key, and ``account_info``."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest
from support import FIND, call, domain_of, sent

import amplemarket
from amplemarket import Client, Company, Person
from amplemarket.testing import Sandbox

LONG_KEY = "amp_test_0123456789abcdef0123456789abcdef"


@pytest.fixture
def target(with_email: list[dict[str, Any]]) -> dict[str, Any]:
    return with_email[5]


# -- key and base URL ----------------------------------------------------------------------------------------------


def test_environment_supplies_key_and_base_url(
    monkeypatch: pytest.MonkeyPatch, sb: Sandbox, target: dict[str, Any]
) -> None:
    monkeypatch.setenv("AMPLEMARKET_API_KEY", sb.api_key)
    monkeypatch.setenv("AMPLEMARKET_BASE_URL", sb.url)
    with Client(rate_limit=False) as c:
        assert c.base_url == sb.url
        assert Person.find(email=target["email"], client=c).id == target["id"]
    assert all(r["authorized"] for r in sb.requests)


def test_arguments_win_over_the_environment(
    monkeypatch: pytest.MonkeyPatch, sb: Sandbox, target: dict[str, Any]
) -> None:
    monkeypatch.setenv("AMPLEMARKET_API_KEY", "amp_test_wrong_key_from_env")
    monkeypatch.setenv("AMPLEMARKET_BASE_URL", "https://api.amplemarket.com")
    with Client(sb.api_key, base_url=sb.url, rate_limit=False) as c:
        assert c.base_url == sb.url
        assert Person.find(email=target["email"], client=c) is not None


def test_default_base_url() -> None:
    c = Client(api_key=LONG_KEY)
    assert c.base_url == "https://api.amplemarket.com"
    assert Client(api_key=LONG_KEY, base_url="https://api.amplemarket.com/").base_url == "https://api.amplemarket.com"


def test_missing_key_is_a_configuration_error_saying_how_to_fix_it() -> None:
    with pytest.raises(amplemarket.ConfigurationError) as info:
        Client()
    message = str(info.value)
    assert "AMPLEMARKET_API_KEY" in message and "api_key" in message
    assert isinstance(info.value, amplemarket.AmplemarketError)


@pytest.mark.parametrize("key", ["", "   ", "amp key with spaces", "amp_\x07key"])
def test_unusable_keys_are_configuration_errors(key: str) -> None:
    with pytest.raises(amplemarket.ConfigurationError):
        Client(api_key=key)


def test_key_is_trimmed(sb: Sandbox, target: dict[str, Any]) -> None:
    with Client(api_key=f" {sb.api_key} ", base_url=sb.url, rate_limit=False) as c:
        assert Person.find(email=target["email"], client=c) is not None


@pytest.mark.parametrize(
    "url", ["http://api.amplemarket.com", "http://10.0.0.1:8080", "http://example.com", "http://192.168.1.5"]
)
def test_plain_http_to_another_machine_is_refused(url: str) -> None:
    with pytest.raises(amplemarket.ConfigurationError, match="https://"):
        Client(api_key=LONG_KEY, base_url=url)


@pytest.mark.parametrize("url", ["http://localhost:8080", "http://127.0.0.1:1", "http://[::1]:9", "https://x.example"])
def test_loopback_http_and_https_are_accepted(url: str) -> None:
    assert Client(api_key=LONG_KEY, base_url=url).base_url == url


@pytest.mark.parametrize(
    "url",
    [
        "https://api.amplemarket.com/v1",
        "https://api.amplemarket.com/people/",
        "https://api.amplemarket.com?x=1",
        "http://127.0.0.1:8080/api",
    ],
)
def test_base_url_with_a_path_is_refused(url: str) -> None:
    with pytest.raises(amplemarket.ConfigurationError, match="path"):
        Client(api_key=LONG_KEY, base_url=url)


@pytest.mark.parametrize("url", ["api.amplemarket.com", "ftp://api.amplemarket.com", "https://user:pw@x.example"])
def test_other_bad_base_urls_are_refused(url: str) -> None:
    with pytest.raises(amplemarket.ConfigurationError):
        Client(api_key=LONG_KEY, base_url=url)


def test_bad_base_url_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMPLEMARKET_BASE_URL", "https://api.amplemarket.com/v2")
    with pytest.raises(amplemarket.ConfigurationError, match="path"):
        Client(api_key=LONG_KEY)


# -- numbers -------------------------------------------------------------------------------------------------------


def test_timeout_none_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="inf"):
        Client(api_key=LONG_KEY, timeout=None)


def test_settings_read_back() -> None:
    c = Client(api_key=LONG_KEY, timeout=2.5, max_retries=7, rate_limit=False)
    assert (c.timeout, c.max_retries, c.rate_limit, c.closed) == (2.5, 7, None, False)
    assert Client(api_key=LONG_KEY, timeout=float("inf")).timeout == math.inf
    default = Client(api_key=LONG_KEY)
    assert (default.timeout, default.max_retries) == (30.0, 3)
    assert default.rate_limit == amplemarket.RateLimits(requests=500, search=30, per=60.0)
    limits = amplemarket.RateLimits(requests=20, search=None, per=2.0)
    assert Client(api_key=LONG_KEY, rate_limit=limits).rate_limit == limits
    assert (limits.requests, limits.search, limits.per) == (20, None, 2.0)


BAD_SETTINGS: dict[str, dict[str, Any]] = {
    "timeout 0": {"timeout": 0},
    "timeout negative": {"timeout": -1.0},
    "timeout nan": {"timeout": float("nan")},
    "timeout -inf": {"timeout": float("-inf")},
    "connect_timeout 0": {"connect_timeout": 0.0},
    "connect_timeout inf": {"connect_timeout": float("inf")},
    "max_retries negative": {"max_retries": -1},
    "max_retries huge": {"max_retries": 1000},
    "max_retry_wait 0": {"max_retry_wait": 0.0},
    "reveal_timeout negative": {"reveal_timeout": -5.0},
}


@pytest.mark.parametrize("kwargs", list(BAD_SETTINGS.values()), ids=list(BAD_SETTINGS))
def test_bad_settings_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(amplemarket.AmplemarketError) as info:
        Client(api_key=LONG_KEY, **kwargs)
    assert isinstance(info.value, ValueError)
    assert next(iter(kwargs)) in str(info.value)  # names the setting
    with pytest.raises(ValueError):
        Client(api_key=LONG_KEY).with_options(**kwargs)


@pytest.mark.parametrize("kwargs", [{"timeout": -1.0}, {"max_retries": -1}], ids=["timeout", "max_retries"])
def test_bad_setting_values_are_invalid_input(kwargs: dict[str, Any]) -> None:
    # errors.py: ConfigurationError is for a missing or unusable key or base URL; bad values are InvalidInputError.
    with pytest.raises(amplemarket.InvalidInputError):
        Client(api_key=LONG_KEY, **kwargs)


@pytest.mark.parametrize(
    "kwargs", [{"requests": 0}, {"search": 0}, {"per": 0.0}, {"per": -1.0}], ids=["requests", "search", "per", "neg"]
)
def test_bad_rate_limits_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        amplemarket.RateLimits(**kwargs)


def test_user_agent(sb: Sandbox, target: dict[str, Any]) -> None:
    with sb.client(rate_limit=False) as c:
        Person.find(email=target["email"], client=c)
    with sb.client(rate_limit=False, user_agent="my-app/1.0") as c:
        Person.find(email=target["email"], client=c)
    default, custom = sent(sb, FIND)
    assert default["headers"]["user-agent"] == f"amplemarket-python/{amplemarket.__version__}"
    assert custom["headers"]["user-agent"] == "my-app/1.0"
    assert default["headers"]["authorization"] == "Bearer ***"  # the sandbox masks it; it was sent
    assert default["authorized"] and custom["authorized"]


# -- with_options --------------------------------------------------------------------------------------------------


def test_with_options_changes_apply_to_the_copy_only(sb: Sandbox, target: dict[str, Any]) -> None:
    with sb.client(rate_limit=False, max_retries=3, timeout=30.0) as c:
        fast = c.with_options(max_retries=0, timeout=5.0)
        assert (fast.max_retries, fast.timeout) == (0, 5.0)
        assert (c.max_retries, c.timeout) == (3, 30.0)
        assert fast.base_url == c.base_url
        kept = c.with_options()  # nothing given: everything kept
        assert (kept.max_retries, kept.timeout, kept.rate_limit) == (3, 30.0, None)
        limits = amplemarket.RateLimits(requests=5, search=1, per=1.0)
        assert c.with_options(rate_limit=limits).rate_limit == limits
        assert c.with_options(rate_limit=True).rate_limit == amplemarket.RateLimits()

        sb.script(FIND, [500, 500])
        with pytest.raises(amplemarket.InternalServerError):
            Person.find(email=target["email"], client=fast)
        assert len(sent(sb, FIND)) == 1  # the copy does not retry
        sb.reset()
        sb.script(FIND, [{"status": 500, "headers": {"Retry-After": "0"}}])
        assert Person.find(email=target["email"], client=c) is not None  # the original still retries
        assert len(sent(sb, FIND)) == 2


def test_with_options_timeout(mode: str, sb: Sandbox, target: dict[str, Any]) -> None:
    sb.script(FIND, [{"status": 200, "delay": 1.5}])
    with sb.client(rate_limit=False, max_retries=0) as c, pytest.raises(amplemarket.APITimeoutError):
        call(mode, Person, "find", email=target["email"], client=c.with_options(timeout=0.2))


def test_with_options_copies_all_work_and_close_together(sb: Sandbox, target: dict[str, Any]) -> None:
    c = sb.client(rate_limit=False)
    copy = c.with_options(max_retries=1, timeout=10.0)
    other = c.with_options(user_agent="my-app/2.0")  # a pool of its own (the user agent is built in), one closed state
    for client in (c, copy, other):
        assert Person.find(email=target["email"], client=client).id == target["id"]
    assert len(sent(sb, FIND)) == 3
    copy.close()  # closing a copy closes the pool it shares, so the original and every other copy
    assert c.closed and copy.closed and other.closed
    for client in (c, copy, other):
        with pytest.raises(amplemarket.ClientClosedError):
            Person.find(email=target["email"], client=client)
    assert len(sent(sb, FIND)) == 3, "a closed client sends nothing"


CONNECTED = "01"  # the TCP state ESTABLISHED in /proc/net/tcp


def connections_to(port: int) -> int:
    """This machine's open TCP connections to ``port`` on IPv4 (their client ends), from /proc/net/tcp."""
    with open("/proc/net/tcp", encoding="ascii") as f:
        rows = [line.split() for line in f.readlines()[1:]]
    return sum(1 for row in rows if int(row[2].rsplit(":", 1)[1], 16) == port and row[3] == CONNECTED)


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="counts connections in /proc/net/tcp (Linux)")
@pytest.mark.amplemarket_sandbox(seed=1, people=50)  # a server of its own: no other client holds connections to it
def test_with_options_copies_share_one_pooled_connection(sb: Sandbox, target: dict[str, Any]) -> None:
    with sb.client(rate_limit=False) as c:
        copy = c.with_options(max_retries=1, timeout=10.0)
        for client in (c, copy, c, copy):
            assert Person.find(email=target["email"], client=client).id == target["id"]
            # The client hands a finished connection back to its pool on a background task; a moment's pause makes
            # sure it is there for the next call (which would otherwise open another, even in a shared pool).
            time.sleep(0.05)
        assert connections_to(sb.port) == 1, "the copy used the original's pooled connection"
        # A different connect timeout needs a pool of its own: the count does see a second pool.
        separate = c.with_options(connect_timeout=2.0)
        assert Person.find(email=target["email"], client=separate).id == target["id"]
        assert connections_to(sb.port) == 2
        assert len(sent(sb, FIND)) == 5


@pytest.mark.parametrize(
    "kwargs", [{"user_agent": "my-app/2.0"}, {"connect_timeout": 2.0}], ids=lambda k: next(iter(k))
)
def test_with_options_copies_close_with_the_original_whatever_changes(kwargs: dict[str, Any]) -> None:
    c = Client(api_key=LONG_KEY, base_url="http://127.0.0.1:9")
    copy = c.with_options(**kwargs)
    c.close()
    assert copy.closed


# -- lifecycle -----------------------------------------------------------------------------------------------------


def test_context_manager_closes(sb: Sandbox, target: dict[str, Any]) -> None:
    c = sb.client(rate_limit=False)
    with c as entered:
        assert entered is c
        assert Person.find(email=target["email"], client=c) is not None
    assert c.closed
    assert "closed" in repr(c)
    with pytest.raises(amplemarket.ClientClosedError):
        Person.find(email=target["email"], client=c)


async def test_async_context_manager_closes(sb: Sandbox, target: dict[str, Any]) -> None:
    c = sb.client(rate_limit=False)
    async with c as entered:
        assert entered is c
        assert (await Person.find_async(email=target["email"], client=c)) is not None
        assert (await c.account_info_async())["object"] == "account_info"
    assert c.closed
    with pytest.raises(amplemarket.ClientClosedError):
        await Person.find_async(email=target["email"], client=c)


def test_context_manager_closes_on_error(sb: Sandbox) -> None:
    c = sb.client(rate_limit=False)
    with pytest.raises(RuntimeError), c:
        raise RuntimeError("boom")
    assert c.closed


@pytest.mark.parametrize(
    ("owner", "name", "kwargs"),
    [
        (Person, "find", {"email": "jane@techco.com"}),
        (Person, "search", {"person_titles": "CEO"}),
        (Company, "find", {"domain": "techco.com"}),
    ],
    ids=["Person.find", "Person.search", "Company.find"],
)
def test_calls_after_close_raise_client_closed(
    mode: str, sb: Sandbox, owner: Any, name: str, kwargs: dict[str, Any]
) -> None:
    c = sb.client(rate_limit=False)
    c.close()
    c.close()  # idempotent
    with pytest.raises(amplemarket.ClientClosedError) as info:
        call(mode, owner, name, client=c, **kwargs)
    assert isinstance(info.value, amplemarket.AmplemarketError)
    assert "Client" in str(info.value)  # says to make a new one
    with pytest.raises(amplemarket.ClientClosedError):
        call(mode, c, "account_info")
    assert sb.requests == []


def test_search_iter_after_close_raises(sb: Sandbox) -> None:
    c = sb.client(rate_limit=False)
    it = Person.search_iter(person_titles="Engineer", page_size=2, client=c)
    assert next(it) is not None
    c.close()
    with pytest.raises(amplemarket.ClientClosedError):
        for _ in range(5):
            next(it)


# -- default client ------------------------------------------------------------------------------------------------


def test_set_default_client_is_used_by_client_none(sb: Sandbox, target: dict[str, Any], mode: str) -> None:
    with sb.client(rate_limit=False) as c:
        amplemarket.set_default_client(c)
        assert amplemarket.get_default_client() is c
        assert call(mode, Person, "find", email=target["email"]).id == target["id"]
        company = target["company"]
        assert call(mode, Company, "find", domain=domain_of(company)).id == company["id"]
        assert len(call(mode, Person, "search", person_titles="Engineer", page_size=3)) == 3
        assert len(list(Person.search_iter(person_titles="Engineer", page_size=2, max_results=3))) == 3
    assert len(sb.requests) >= 5
    assert all(r["authorized"] for r in sb.requests)


def test_default_client_is_built_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, sb: Sandbox, target: dict[str, Any]
) -> None:
    monkeypatch.setenv("AMPLEMARKET_API_KEY", sb.api_key)
    monkeypatch.setenv("AMPLEMARKET_BASE_URL", sb.url)
    default = amplemarket.get_default_client()
    assert default.base_url == sb.url
    assert amplemarket.get_default_client() is default  # built once
    assert Person.find(email=target["email"]).id == target["id"]
    amplemarket.set_default_client(None)  # back to the environment's, built afresh
    assert amplemarket.get_default_client() is not default


def test_default_client_without_a_key_raises(mode: str) -> None:
    with pytest.raises(amplemarket.ConfigurationError, match="AMPLEMARKET_API_KEY"):
        amplemarket.get_default_client()
    with pytest.raises(amplemarket.ConfigurationError):
        call(mode, Person, "find", email="jane@techco.com")


def test_explicit_client_wins_over_the_default(sb: Sandbox, target: dict[str, Any]) -> None:
    amplemarket.set_default_client(Client(api_key=LONG_KEY, base_url="http://127.0.0.1:9", max_retries=0))
    with sb.client(rate_limit=False) as c:
        assert Person.find(email=target["email"], client=c) is not None


def test_plugin_fixture_client(amplemarket_client: Client, sb: Sandbox, target: dict[str, Any]) -> None:
    assert amplemarket_client.base_url == sb.url
    assert Person.find(email=target["email"], client=amplemarket_client).id == target["id"]


# -- repr, account_info --------------------------------------------------------------------------------------------


def test_repr_shows_no_key() -> None:
    c = Client(api_key=LONG_KEY, base_url="http://127.0.0.1:8080")
    for text in (repr(c), str(c)):
        assert LONG_KEY not in text
        assert LONG_KEY[4:-4] not in text
        assert "amp_…cdef" in text
        assert "127.0.0.1:8080" in text


def test_account_info(mode: str, sb: Sandbox, client: Client) -> None:
    info = call(mode, client, "account_info")
    assert info["object"] == "account_info"
    credits = sb.credits
    assert info["email_credits"] == credits["email_credits"]
    assert info["phone_credits"] == credits["phone_credits"]
    assert "rate_limits" in info
    assert [r["route"] for r in sb.requests] == ["GET /account-info"]


def test_account_info_with_a_wrong_key(mode: str, sb: Sandbox) -> None:
    with Client(api_key=LONG_KEY, base_url=sb.url) as c, pytest.raises(amplemarket.AuthenticationError) as info:
        call(mode, c, "account_info")
    assert info.value.source == {"header": "Authorization"}
    assert info.value.request == "GET /account-info"


@pytest.mark.parametrize("source", ["argument", "environment", "default client"])
def test_a_rejected_key_says_it_was_rejected_and_where_it_came_from(
    mode: str, sb: Sandbox, source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMPLEMARKET_BASE_URL", sb.url)
    monkeypatch.setenv("AMPLEMARKET_API_KEY", LONG_KEY)
    amplemarket.set_default_client(None)
    try:
        with pytest.raises(amplemarket.AuthenticationError) as info:
            if source == "default client":
                call(mode, amplemarket.Person, "find", email="jane@techco.com")
            else:
                c = Client(api_key=LONG_KEY) if source == "argument" else Client()
                call(mode, amplemarket.Person, "find", email="jane@techco.com", client=c)
    finally:
        amplemarket.set_default_client(None)
    message = str(info.value)
    assert "rejected" in message and "No API key was sent" not in message, message
    assert "amp_…cdef" in message, "the key is named the way repr names it"
    where = {
        "argument": "passed as Client(api_key=...)",
        "environment": "read from the AMPLEMARKET_API_KEY environment variable",
        "default client": "by the default client (client=None)",
    }[source]
    assert where in message, message
    assert LONG_KEY not in message and LONG_KEY[4:20] not in message
