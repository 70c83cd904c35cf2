"""Bad input, as one table per side, each case with the exact exception class and the words its message must carry.

Client side (``CLIENT_CASES``): arguments the SDK must refuse before sending anything — missing or ambiguous
identifiers, wrong types, empty strings, malformed emails and URLs, too many or unreadable leads, settings out of
range, unknown keyword arguments, a missing key, unsafe or malformed base URLs. Each case raises exactly the
expected class, its message (with the ``__notes__`` Python shows under it) names what was wrong and how to fix it,
and the sandbox receives no request. Where the documents say a malformed value is passed through (a lead's email, a
company's LinkedIn URL), the case asserts that it is sent.

Server side (``SERVER_CASES``): scripted sandbox responses the SDK must survive — malformed or wrongly shaped JSON,
HTML error pages, empty and huge bodies, redirect loops, unknown statuses and job statuses, error envelopes, and
``Retry-After`` values of garbage, of an hour and past any clock. Each ends in a typed error from
``amplemarket.errors`` or a handled value: never a Rust panic, a Rust backtrace in a message or on stderr, or a hang
(``pytest.mark.timeout`` is the hang guard).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from support import COMPANY, CREATE, FIND, MIN_FIRST_BACKOFF, POLL, SEARCH, last_seq, sent

import amplemarket
from amplemarket import Client, Company, EnrichmentJob, Person, RateLimits
from amplemarket.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    InsufficientCreditsError,
    InternalServerError,
    InvalidInputError,
    JobTimeoutError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    UnavailableForLegalReasonsError,
)
from amplemarket.testing import Sandbox

KEY = "amp_test_0123456789abcdef0123456789abcdef"
# What a Rust panic or backtrace looks like when it leaks to the user.
RUST_LEAKS = ("panicked at", "RUST_BACKTRACE", ".rs:", "stack backtrace")
MB50 = 50_000_000


@dataclass
class Ctx:
    """What a case needs: the sandbox, a client for it, a real person's email and (made on demand) a finished job."""

    sb: Sandbox
    client: Client
    email: str
    leads: list[dict[str, str]]
    _job: EnrichmentJob | None = None

    def job(self) -> EnrichmentJob:
        if self._job is None:
            self._job = EnrichmentJob.create(self.leads, client=self.client).wait(timeout=30)
        return self._job


@dataclass(frozen=True)
class Case:
    """One bad call: ``raises`` (exact class) with ``says`` in its message, or a value for which ``holds`` is true."""

    run: Callable[[Ctx], Any]
    raises: type[BaseException] | None = None
    says: tuple[str, ...] = ()
    holds: Callable[[Any], bool] | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    # Server side only: the route scripted, its steps (a callable when they need the job), client options.
    route: str = FIND
    steps: list[Any] | Callable[[Ctx], list[Any]] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    sends: bool = False  # client side: a value passed through as documented (the request goes out)
    # Server side: what the scripted route's requests must show afterwards (their log entries, oldest first).
    sent_as: Callable[[list[dict[str, Any]]], None] | None = None


def case(name: str, run: Callable[[Ctx], Any], raises: type[BaseException] | None = None, *says: str, **kw: Any) -> Any:
    marks = kw.pop("marks", ())
    return pytest.param(Case(run, raises, says, **kw), id=name, marks=marks)


def outcome(ctx: Ctx, run: Callable[[Ctx], Any]) -> tuple[Any, BaseException | None]:
    """Runs a case, awaiting what it returns when that is awaitable; every exception is caught, panics too."""
    try:
        value = run(ctx)
        if inspect.isawaitable(value):

            async def settle(aw: Any = value) -> Any:
                return await aw

            value = asyncio.run(settle())
        return value, None
    except BaseException as e:  # a PanicException is a BaseException, and is what we look for
        if isinstance(e, KeyboardInterrupt):
            raise
        return None, e


def message(e: BaseException) -> str:
    """The text a user reads: the message and the notes Python prints under it (PyO3 names the argument there)."""
    return "\n".join([str(e), *getattr(e, "__notes__", [])])


def check(c: Case, value: Any, exc: BaseException | None) -> None:
    if exc is not None:
        text = message(exc)
        assert not [leak for leak in RUST_LEAKS if leak in text], f"Rust internals reach the user: {text!r}"
        assert c.raises is not None, f"expected a handled value, got {type(exc).__name__}: {text}"
        assert type(exc) is c.raises, f"expected {c.raises.__name__}, got {type(exc).__name__}: {text}"
        missing = [s for s in c.says if s not in text]
        assert not missing, f"message lacks {missing}: {text!r}"
        assert len(text) < 2_000, "a message must stay readable whatever the body"
        for name, want in c.attrs.items():
            assert getattr(exc, name) == want, (name, getattr(exc, name))
        return
    assert c.raises is None, f"expected {c.raises.__name__}, got the value {value!r}"
    assert c.holds is not None and c.holds(value), f"unexpected value {value!r}"


def leads(n: int) -> list[dict[str, str]]:
    return [{"email": f"lead{i}@example.com"} for i in range(n)]


def client_with(**options: Any) -> Callable[[Ctx], Client]:
    return lambda ctx: Client(api_key=KEY, **options)


# -- client side -------------------------------------------------------------------------------------------------

LOOKUPS = ("linkedin_url", "email", "company_name", "company_domain")
PAGE_SIZE = ("`page_size`", "1 to 100")
LEAD_IDS = ("lead 0", "`email`", "`linkedin_url`", "`company_name`")
SECONDS = ("positive number of seconds", "at most a week")


def find(**kw: Any) -> Callable[[Ctx], Any]:
    return lambda ctx: Person.find(client=ctx.client, **kw)


def find_async(**kw: Any) -> Callable[[Ctx], Any]:
    return lambda ctx: Person.find_async(client=ctx.client, **kw)


def company(**kw: Any) -> Callable[[Ctx], Any]:
    return lambda ctx: Company.find(client=ctx.client, **kw)


def search(**kw: Any) -> Callable[[Ctx], Any]:
    return lambda ctx: Person.search(client=ctx.client, **kw)


def search_iter(**kw: Any) -> Callable[[Ctx], Any]:
    return lambda ctx: list(Person.search_iter(client=ctx.client, **kw))


def search_iter_async(**kw: Any) -> Callable[[Ctx], Any]:
    async def run(ctx: Ctx) -> list[Person]:
        return [p async for p in Person.search_iter_async(client=ctx.client, **kw)]

    return run


def create(given: Any, **kw: Any) -> Callable[[Ctx], Any]:
    return lambda ctx: EnrichmentJob.create(given() if callable(given) else given, client=ctx.client, **kw)


def create_async(given: Any, **kw: Any) -> Callable[[Ctx], Any]:
    return lambda ctx: EnrichmentJob.create_async(given() if callable(given) else given, client=ctx.client, **kw)


def on_job(method: str, *args: Any, **kw: Any) -> Callable[[Ctx], Any]:
    """A method of the finished job; iterators are drained (their errors may come at the first ``next``)."""

    def run(ctx: Ctx) -> Any:
        got = getattr(ctx.job(), method)(*args, **kw)
        if hasattr(got, "__anext__"):

            async def drain() -> list[Any]:
                return [r async for r in got]

            return drain()
        return list(got) if hasattr(got, "__next__") else got

    return run


CLIENT_CASES = [
    # Person.find: identifiers
    case("find/nothing", find(), InvalidInputError, "nothing to look up", *LOOKUPS),
    case("find/only-reveals", find(reveal_email=True), InvalidInputError, "nothing to look up", *LOOKUPS),
    case("find/name-without-company", find(name="Jane Doe"), InvalidInputError, "`name`", "company_name"),
    case("find/title-alone", find(title="CEO"), InvalidInputError, "add `name`", *LOOKUPS),
    case("find/domain-without-name", find(company_domain="techco.com"), InvalidInputError, "add `name`"),
    # Person.find: types and values
    case("find/int-email", find(email=5), TypeError, "'int'", "'str'", "'email'"),
    case("find/list-title", find(email="jane@techco.com", title=["CEO"]), TypeError, "'list'", "'title'"),
    case("find/bytes-name", find(name=b"Jane", company_name="TechCo"), TypeError, "'bytes'", "'name'"),
    case("find/str-reveal", find(email="jane@techco.com", reveal_email="yes"), TypeError, "'bool'", "reveal_email"),
    case("find/client-not-a-client", lambda ctx: Person.find(email="j@t.co", client="c"), TypeError, "'Client'"),
    case("find/empty-email", find(email=""), InvalidInputError, "`email` is empty", "leave it out"),
    case("find/blank-name", find(name="  ", company_name="TechCo"), InvalidInputError, "`name` is empty"),
    case("find/empty-company", find(name="Jane", company_domain="\t"), InvalidInputError, "`company_domain` is empty"),
    case("find/email-no-at", find(email="jane.techco.com"), InvalidInputError, "`email`", "jane@example.com"),
    case("find/email-no-dot", find(email="jane@techco"), InvalidInputError, "not an email address"),
    case("find/email-space", find(email="jane doe@techco.com"), InvalidInputError, "not an email address"),
    case(
        "find/url-not-linkedin",
        find(linkedin_url="https://example.com/in/jane"),
        InvalidInputError,
        "`linkedin_url`",
        "linkedin.com/in/",
    ),
    case("find/url-not-a-url", find(linkedin_url="jane-doe"), InvalidInputError, "LinkedIn profile URL"),
    case("find/unknown-kwarg", find(emial="jane@techco.com"), TypeError, "unexpected keyword argument 'emial'"),
    case("find/positional", lambda ctx: Person.find("jane@techco.com"), TypeError, "positional"),
    case("find_async/name-without-company", find_async(name="Jane Doe"), InvalidInputError, "company_domain"),
    case("find_async/int-email", find_async(email=5), TypeError, "'email'"),
    case("find_async/bad-email", find_async(email="nobody"), InvalidInputError, "jane@example.com"),
    # Company.find
    case("company/nothing", company(), InvalidInputError, "`domain`", "`linkedin_url`"),
    case("company/empty-domain", company(domain=""), InvalidInputError, "is empty", "give a value"),
    case("company/int-domain", company(domain=3), TypeError, "'int'", "'domain'"),
    case("company/unknown-kwarg", company(name="TechCo"), TypeError, "unexpected keyword argument 'name'"),
    case("company_async/nothing", lambda ctx: Company.find_async(client=ctx.client), InvalidInputError, "`domain`"),
    # Documented as passed through: the API decides what a company LinkedIn URL is (no match: None).
    case("company/odd-linkedin-url-is-sent", company(linkedin_url="not a url"), holds=lambda v: v is None, sends=True),
    # Person.search / search_iter
    case("search/page_size-0", search(page_size=0), InvalidInputError, *PAGE_SIZE, "got 0"),
    case("search/page_size-101", search(page_size=101), InvalidInputError, *PAGE_SIZE, "got 101"),
    case("search/page-0", search(page=0), InvalidInputError, "`page` starts at 1"),
    case("search/str-page", search(page="2"), TypeError, "integer", "'page'"),
    case("search/int-in-list", search(person_titles=["CEO", 1]), TypeError, "'int'", "'person_titles'"),
    case("search/int-filter", search(company_sizes=50), TypeError, "'company_sizes'"),
    case("search/empty-in-list", search(person_titles=["CEO", " "]), InvalidInputError, "`person_titles`[1] is empty"),
    case("search/int-name", search(person_name=7), TypeError, "'person_name'"),
    case("search/unknown-kwarg", search(titles=["CEO"]), TypeError, "unexpected keyword argument 'titles'"),
    case("search/unknown-kwarg-none", search(titles=None), TypeError, "unexpected keyword argument 'titles'"),
    case(
        "search_async/page_size-0",
        lambda ctx: Person.search_async(page_size=0, client=ctx.client),
        InvalidInputError,
        *PAGE_SIZE,
    ),
    case("search_iter/page_size-101", search_iter(page_size=101), InvalidInputError, *PAGE_SIZE),
    case(
        "search_iter/max_results-negative", search_iter(max_results=-1), InvalidInputError, "`max_results`", "negative"
    ),
    case("search_iter/max_results-float", search_iter(max_results=2.5), TypeError, "integer", "'max_results'"),
    case(
        "search_iter_async/max_results-negative", search_iter_async(max_results=-3), InvalidInputError, "`max_results`"
    ),
    case("search_iter_async/page_size-0", search_iter_async(page_size=0), InvalidInputError, *PAGE_SIZE),
    # EnrichmentJob.create: the leads container
    case("create/no-leads", create([]), InvalidInputError, "no leads"),
    case(
        "create/10001-leads",
        create(lambda: leads(10_001)),
        InvalidInputError,
        "10001 leads",
        "10000",
        "Person.enrich()",
    ),
    case(
        "create_async/10001-leads", create_async(lambda: leads(10_001)), InvalidInputError, "10000", "Person.enrich()"
    ),
    case("create/leads-int", create(5), TypeError, "leads must be an iterable of dicts", "int"),
    case("create/leads-none", create(None), TypeError, "leads must be an iterable of dicts", "NoneType"),
    case("create/leads-str", create("jane@techco.com"), TypeError, "iterable of dicts", "one per lead"),
    case("create/leads-one-dict", create({"email": "jane@techco.com"}), TypeError, "iterable of dicts"),
    case("create_async/leads-int", create_async(7), TypeError, "iterable of dicts"),
    # EnrichmentJob.create: each lead
    case("create/lead-str", create(["jane@techco.com"]), TypeError, "lead 0 is a str", "not a dict", '{"email": '),
    case("create/lead-tuple", create([("email", "j@t.co")]), TypeError, "lead 0 is a tuple", "not a dict"),
    case("enrich/lead-none", lambda ctx: Person.enrich([None], client=ctx.client), TypeError, "lead 0 is a NoneType"),
    case(
        "find_many/query-str",
        lambda ctx: Person.find_many(["jane@techco.com"], client=ctx.client),
        TypeError,
        "query 0 is a str",
        "not a dict",
    ),
    case(
        "create/lead-name-without-company",
        create([{"name": "Jane Doe"}]),
        InvalidInputError,
        "no usable identifier",
        *LEAD_IDS,
    ),
    case("create/lead-title-without-company", create([{"title": "CEO"}]), InvalidInputError, "no usable identifier"),
    case(
        "create/lead-int-email",
        create([{"email": 5}]),
        InvalidInputError,
        "lead 0: field `email`",
        "must be a string",
        "a number",
    ),
    case(
        "create/lead-list-title",
        create([{"email": "j@t.co", "title": ["CEO"]}]),
        InvalidInputError,
        "field `title` must be a string",
        "a list",
    ),
    case("create/lead-bool", create([{"linkedin_url": True}]), InvalidInputError, "`linkedin_url`", "a bool"),
    case("create/lead-dict-value", create([{"email": {"a": 1}}]), InvalidInputError, "`email`", "an object"),
    case(
        "create/lead-unknown-key",
        create([{"mail": "j@t.co"}]),
        InvalidInputError,
        "unknown field `mail`",
        "lead fields are email",
    ),
    case("create/lead-empty-strings", create([{"email": "", "name": " "}]), InvalidInputError, "no usable identifier"),
    case("create/lead-int-key", create([{1: "j@t.co"}]), InvalidInputError, "lead 0: cannot be read", "'str'"),
    case("create/lead-bytes", create([{"email": b"j@t.co"}]), InvalidInputError, "lead 0: cannot be read"),
    case("create/lead-huge-int", create([{"email": 10**30}]), InvalidInputError, "lead 0", "out of range"),
    case(
        "create/second-lead-bad",
        create([{"email": "j@t.co"}, {"name": "Jane"}]),
        InvalidInputError,
        "1 invalid lead(s)",
        "lead 1: no usable identifier",
    ),
    case(
        "create/unknown-kwarg",
        create([{"email": "j@t.co"}], reveal=True),
        TypeError,
        "unexpected keyword argument 'reveal'",
    ),
    case(
        "create_async/lead-name-without-company",
        create_async([{"name": "Jane"}]),
        InvalidInputError,
        "lead 0: no usable identifier",
    ),
    # One validation for every path: find, find_many, enrich and create refuse the same email with the same words.
    case(
        "create/odd-email-is-refused",
        create([{"email": "jane at example dot com"}]),
        InvalidInputError,
        'lead 0: `email` "jane at example dot com" is not an email address (like jane@example.com)',
    ),
    case(
        "create/odd-linkedin-url-is-refused",
        create([{"linkedin_url": "https://example.com/in/jane"}]),
        InvalidInputError,
        "lead 0: `linkedin_url`",
        "is not a LinkedIn profile URL",
    ),
    # Other bulk entry points
    case("enrich/leads-int", lambda ctx: Person.enrich(5, client=ctx.client), TypeError, "iterable of dicts"),
    case(
        "find_many/concurrency-0",
        lambda ctx: Person.find_many([{"email": "j@t.co"}], concurrency=0, client=ctx.client),
        InvalidInputError,
        "concurrency",
        "1 to 256",
    ),
    case(
        "find_many/queries-int",
        lambda ctx: Person.find_many(5, client=ctx.client),
        TypeError,
        "queries",
        "iterable",
    ),
    case(
        "get/negative-id", lambda ctx: EnrichmentJob.get(-1, client=ctx.client), InvalidInputError, "job_id", "positive"
    ),
    case("get/zero-id", lambda ctx: EnrichmentJob.get(0, client=ctx.client), InvalidInputError, "job_id", "create"),
    case("get/str-id", lambda ctx: EnrichmentJob.get("12", client=ctx.client), TypeError, "integer", "'job_id'"),
    # Client: key and base URL
    case("client/missing-key", lambda ctx: Client(), ConfigurationError, "AMPLEMARKET_API_KEY", "api_key="),
    case(
        "client/empty-key",
        lambda ctx: Client(api_key=" "),
        ConfigurationError,
        "API key is empty",
        "AMPLEMARKET_API_KEY",
    ),
    case("client/key-with-space", lambda ctx: Client(api_key="amp key"), ConfigurationError, "whitespace"),
    case("client/int-key", lambda ctx: Client(api_key=123), TypeError, "'api_key'"),
    case(
        "client/http-remote",
        client_with(base_url="http://api.amplemarket.com"),
        ConfigurationError,
        "plain http://",
        "use https://",
        "localhost",
    ),
    case("client/http-private-ip", client_with(base_url="http://10.0.0.1:8080"), ConfigurationError, "use https://"),
    case(
        "client/base-url-path",
        client_with(base_url="https://api.amplemarket.com/v1"),
        ConfigurationError,
        "has a path or query",
        "scheme, host and port",
    ),
    case(
        "client/base-url-query",
        client_with(base_url="https://api.amplemarket.com?x=1"),
        ConfigurationError,
        "path or query",
    ),
    case(
        "client/base-url-fragment",
        client_with(base_url="https://api.amplemarket.com#top"),
        ConfigurationError,
        "scheme, host and port",
    ),
    case(
        "client/base-url-no-scheme",
        client_with(base_url="api.amplemarket.com"),
        ConfigurationError,
        "is not a URL",
        "https://api.amplemarket.com",
    ),
    case("client/base-url-garbage", client_with(base_url="::not a url::"), ConfigurationError, "is not a URL"),
    case("client/base-url-no-host", client_with(base_url="https://"), ConfigurationError, "empty host"),
    case(
        "client/base-url-ftp",
        client_with(base_url="ftp://api.amplemarket.com"),
        ConfigurationError,
        'scheme "ftp"',
        "use https://",
    ),
    case(
        "client/base-url-credentials",
        client_with(base_url="https://me:pw@api.amplemarket.com"),
        ConfigurationError,
        "credentials",
        "api_key=",
    ),
    case(
        "client/env-base-url-path",
        lambda ctx: Client(api_key=KEY),
        ConfigurationError,
        "path",
        env={"AMPLEMARKET_BASE_URL": "https://api.amplemarket.com/v2"},
    ),
    # Client: numbers
    case("client/timeout-negative", client_with(timeout=-1.0), InvalidInputError, "timeout", *SECONDS),
    case("client/timeout-zero", client_with(timeout=0), InvalidInputError, "timeout", "positive"),
    case("client/timeout-nan", client_with(timeout=math.nan), InvalidInputError, "timeout", "got NaN"),
    case("client/timeout-over-a-week", client_with(timeout=10.0**7), InvalidInputError, "at most a week"),
    case("client/timeout-none", client_with(timeout=None), TypeError, "timeout=None", "float('inf')"),
    case("client/timeout-str", client_with(timeout="30"), TypeError, "real number", "'timeout'"),
    case("client/connect_timeout-none", client_with(connect_timeout=None), TypeError, "'connect_timeout'"),
    case("client/max_retries-negative", client_with(max_retries=-1), InvalidInputError, "max_retries", "from 0 to 20"),
    case("client/max_retries-21", client_with(max_retries=21), InvalidInputError, "from 0 to 20", "got 21"),
    case("client/max_retries-float", client_with(max_retries=1.5), TypeError, "integer", "'max_retries'"),
    case("client/max_retries-str", client_with(max_retries="3"), TypeError, "'max_retries'"),
    case(
        "client/max_retry_wait-inf", client_with(max_retry_wait=math.inf), InvalidInputError, "max_retry_wait", *SECONDS
    ),
    case(
        "client/reveal_timeout-negative",
        client_with(reveal_timeout=-5.0),
        InvalidInputError,
        "reveal_timeout",
        "positive",
    ),
    case("client/rate_limit-str", client_with(rate_limit="fast"), TypeError, "'rate_limit'", "RateLimits"),
    case("client/unknown-kwarg", client_with(retries=3), TypeError, "unexpected keyword argument 'retries'"),
    case(
        "client/user_agent-newline",
        client_with(user_agent="my-app\r\nX-Evil: 1"),
        InvalidInputError,
        "user_agent",
    ),
    case(
        "with_options/timeout-negative",
        lambda ctx: ctx.client.with_options(timeout=-2.0),
        InvalidInputError,
        "timeout",
        "positive",
    ),
    case(
        "with_options/max_retries-99",
        lambda ctx: ctx.client.with_options(max_retries=99),
        InvalidInputError,
        "from 0 to 20",
    ),
    case(
        "with_options/unknown-kwarg",
        lambda ctx: ctx.client.with_options(base_url="https://x.example"),
        TypeError,
        "unexpected keyword argument 'base_url'",
    ),
    case("rate_limits/zero", lambda ctx: RateLimits(requests=0), InvalidInputError, "limit of 0", "None"),
    case("rate_limits/per-zero", lambda ctx: RateLimits(per=0.0), InvalidInputError, "per", "positive"),
    case("rate_limits/per-inf", lambda ctx: RateLimits(per=math.inf), InvalidInputError, "per", "at most a week"),
    case(
        "rate_limits/negative",
        lambda ctx: RateLimits(search=-1),
        InvalidInputError,
        "search",
        "None",
    ),
    # A finished job's methods
    case("results/page_size-0", on_job("results", page_size=0), InvalidInputError, "page_size", "1 to 100"),
    case("results/page_size-101", on_job("results", page_size=101), InvalidInputError, "got 101"),
    case("results_async/page_size-negative", on_job("results_async", page_size=-1), InvalidInputError, "1 to 100"),
    case("wait/timeout-negative", on_job("wait", timeout=-1), InvalidInputError, "timeout", "positive"),
    case("wait/timeout-nan", on_job("wait", timeout=math.nan), InvalidInputError, "timeout", "got NaN"),
    case("wait/timeout-str", on_job("wait", timeout="10"), TypeError, "real number", "'timeout'"),
    case("wait_async/timeout-zero", on_job("wait_async", timeout=0), InvalidInputError, "timeout", "positive"),
]


@pytest.fixture
def ctx(sb: Sandbox, live: list[dict[str, Any]]) -> Iterable[Ctx]:
    with_email = [p for p in live if p.get("email")]
    with sb.client(rate_limit=False, max_retries=0, timeout=5.0) as c:
        yield Ctx(sb, c, with_email[0]["email"], [{"email": p["email"]} for p in with_email[:3]])


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
@pytest.mark.parametrize("c", CLIENT_CASES)
def test_client_side_bad_input(c: Case, ctx: Ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in c.env.items():
        monkeypatch.setenv(name, value)
    if c.run.__qualname__.startswith("on_job"):
        ctx.job()  # the job exists before counting what the bad call sends
    since = last_seq(ctx.sb)
    value, exc = outcome(ctx, c.run)
    check(c, value, exc)
    if isinstance(exc, amplemarket.AmplemarketError):
        assert isinstance(exc, InvalidInputError | ConfigurationError)
    if isinstance(exc, InvalidInputError):
        assert isinstance(exc, ValueError)  # documented: also a ValueError
    went = sent(ctx.sb, since=since)
    if c.sends:
        assert len(went) == 1 and went[0]["route"] in (COMPANY, CREATE)
    else:
        assert went == [], f"a refused call sent {[r['route'] for r in went]}"


# -- server side -------------------------------------------------------------------------------------------------

HTML = {"fault": "html"}
MALFORMED = {"fault": "malformed"}


def body(status: int, text: Any, **headers: str) -> dict[str, Any]:
    return {"status": status, "body": text, "headers": headers}


def retry_after(status: int, value: str) -> dict[str, Any]:
    return {"status": status, "headers": {"Retry-After": value}}


def found(ctx: Ctx) -> Any:
    return Person.find(email=ctx.email, client=ctx.client)


def backed_off(log: list[dict[str, Any]]) -> None:
    """An unreadable Retry-After is no wait at all: the retry came after the client's own backoff."""
    first, second = log
    assert (first["status"], second["status"]) == (503, 200), log
    assert second["time"] - first["time"] >= MIN_FIRST_BACKOFF, log


async def found_async(ctx: Ctx) -> Any:
    return await Person.find_async(email=ctx.email, client=ctx.client)


def company_found(ctx: Ctx) -> Any:
    return Company.find(domain="techco.com", client=ctx.client)


def searched(ctx: Ctx) -> Any:
    return Person.search(person_titles="CEO", client=ctx.client)


def job_body(ctx: Ctx, status: str = "completed", results: Any = (), **extra: Any) -> dict[str, Any]:
    return {"id": ctx.job().id, "object": "person_enrichment", "status": status, "results": list(results), **extra}


def job_step(
    status: str = "completed", http: int = 200, headers: dict[str, str] | None = None, times: int = 1, **kw: Any
) -> Any:
    return lambda ctx: [{"status": http, "body": job_body(ctx, status, **kw), "headers": headers or {}}] * times


def got(ctx: Ctx) -> EnrichmentJob:
    return EnrichmentJob.get(ctx.job().id, client=ctx.client)


def waited(timeout: float) -> Callable[[Ctx], EnrichmentJob]:
    # The job is already finished here, but wait() always asks the server once: that poll is scripted.
    return lambda ctx: ctx.job().wait(timeout=timeout)


def results(ctx: Ctx, cap: int = 50) -> list[Any]:
    out = []
    for r in ctx.job().results(page_size=1):
        out.append(r)
        if len(out) >= cap:  # a loop that never ends is cut here, and reads as "too many"
            break
    return out


def looping_page(ctx: Ctx) -> list[Any]:
    path = f"/people/enrichment-requests/{ctx.job().id}"
    page = job_body(
        ctx,
        results=[{"id": 1, "email": "a@example.com", "status": "not_found"}],
        _links={"self": {"href": path}, "next": {"href": f"{path}?page[size]=1&page[after]=0"}},
    )
    return [{"status": 200, "body": page}] * 30


PERSON_299 = {"id": "p-299", "object": "person", "name": "Ada Lovelace"}
SAME_SEARCH_PAGE = {
    "object": "person_search_result",
    "results": [{"id": "p-1", "object": "person", "name": "Ada"}],
    "_pagination": {"page": 1, "page_size": 1, "total_pages": 1000, "total": 1000},
}

SERVER_CASES = [
    # Person.find: 2xx bodies that are not a Person
    case(
        "find/malformed-json",
        found,
        APIResponseValidationError,
        "a Person object",
        "200",
        steps=[MALFORMED],
        attrs={"status_code": 200, "request": "GET /people/find"},
    ),
    case(
        "find/json-array",
        found,
        APIResponseValidationError,
        "expected a Person object",
        "[1,2]",
        steps=[body(200, "[1,2]")],
    ),
    case("find/json-null", found, APIResponseValidationError, "got null", steps=[body(200, "null")]),
    case("find/json-string", found, APIResponseValidationError, "Person", steps=[body(200, '"person"')]),
    case(
        "find/html-200",
        found,
        APIResponseValidationError,
        "text/html",
        "502 Bad Gateway",
        steps=[{"fault": "html", "status": 200}],
    ),
    case("find/empty-200", found, APIResponseValidationError, "empty body", steps=[body(200, "")]),
    case("find/empty-204", found, APIResponseValidationError, "empty body", "204", steps=[body(204, "")]),
    case("find_async/malformed-json", found_async, APIResponseValidationError, "Person", steps=[MALFORMED]),
    # ... or a Person of the wrong shape: kept as sent, unreadable fields read as None (documented)
    case(
        "find/object-missing-fields", found, holds=lambda p: p.id is None and p.to_dict() == {}, steps=[body(200, "{}")]
    ),
    case(
        "find/fields-of-wrong-types",
        found,
        steps=[body(200, {"id": 5, "name": ["x"], "company": "acme"})],
        holds=lambda p: (p.id, p.name, p.company) == (None, None, None) and p.to_dict()["name"] == ["x"],
    ),
    case(
        "find/huge-valid-body",
        found,
        holds=lambda p: p.id == "big" and len(p.about) == MB50,
        steps=[body(200, json.dumps({"id": "big", "object": "person", "about": "x" * MB50}))],
    ),
    case("find/huge-garbage-body", found, APIResponseValidationError, "Person", steps=[body(200, "[" * MB50)]),
    # Statuses
    case(
        "find/html-502",
        found,
        InternalServerError,
        "502",
        "Bad Gateway",
        "1 attempt",
        steps=[HTML],
        attrs={"status_code": 502, "code": None},
    ),
    case("find/500-not-json", found, InternalServerError, "500", "Internal oops", steps=[body(500, "Internal oops")]),
    case("find/500-huge-body", found, InternalServerError, "500", steps=[body(500, "E" * MB50)]),
    case(
        "find/400-envelope-wrong-shape",
        found,
        BadRequestError,
        "400",
        "unexpected response body",
        steps=[body(400, {"_errors": "nope"})],
        attrs={"errors": []},
    ),
    case("find/401", found, AuthenticationError, "401", "API key", steps=[401], attrs={"status_code": 401}),
    case("find/402", found, InsufficientCreditsError, "402", "credits", steps=[402]),
    case("find/403", found, PermissionDeniedError, "403", steps=[403]),
    case("find/451", found, UnavailableForLegalReasonsError, "451", "GDPR", steps=[451]),
    case("find/418", found, APIStatusError, "418", steps=[418], attrs={"status_code": 418}),
    case("find/599", found, InternalServerError, "599", steps=[599]),
    case("find/301-without-location", found, APIStatusError, "301", steps=[301]),
    case("find/299-is-a-success", found, holds=lambda p: p.id == "p-299", steps=[body(299, PERSON_299)]),
    case(
        "find/redirect-loop",
        found,
        APIConnectionError,
        "redirect",
        "GET /people/find",
        steps=[{"status": 302, "headers": {"Location": "/people/find?email=a%40example.com"}}] * 12,
    ),
    case("find/dropped", found, APIConnectionError, "GET /people/find", steps=[{"fault": "drop"}]),
    case("find/truncated", found, APIConnectionError, "connection broke", steps=[{"fault": "truncate"}]),
    case(
        "find/slower-than-timeout",
        found,
        APITimeoutError,
        "timed out",
        steps=[{"status": 200, "delay": 3}],
        options={"timeout": 0.3},
    ),
    # Retry-After: an hour is refused at once (max_retry_wait); garbage falls back to backoff
    case(
        "find/retry-after-hour-429",
        found,
        RateLimitError,
        "max_retry_wait",
        "3600",
        steps=[retry_after(429, "3600")],
        options={"max_retries": 3},
        attrs={"retry_after": 3600.0},
    ),
    case(
        "find/retry-after-hour-503",
        found,
        InternalServerError,
        "max_retry_wait",
        steps=[retry_after(503, "3600")],
        options={"max_retries": 3},
    ),
    case(
        "find/retry-after-far-date",
        found,
        InternalServerError,
        "max_retry_wait",
        steps=[retry_after(503, "Wed, 21 Oct 2099 07:28:00 GMT")],
        options={"max_retries": 3},
    ),
    case(
        "find_async/retry-after-hour",
        found_async,
        RateLimitError,
        "max_retry_wait",
        steps=[retry_after(429, "3600")],
        options={"max_retries": 3},
    ),
    case(
        "find/retry-after-garbage",
        found,
        holds=lambda p: p is not None,
        steps=[retry_after(503, "later, maybe"), 200],
        options={"max_retries": 1},
        sent_as=backed_off,
    ),
    case(
        "find/retry-after-huge-number",
        found,
        RateLimitError,
        "max_retry_wait",
        steps=[retry_after(429, "1e300")],
        options={"max_retries": 3},
    ),
    case(
        "find_async/retry-after-huge-number",
        found_async,
        RateLimitError,
        "max_retry_wait",
        steps=[retry_after(429, "99999999999999999999999")],
        options={"max_retries": 3},
    ),
    # A reveal answering 408 is waited out up to reveal_timeout: an hour (or more than a clock holds) is not.
    case(
        "find/reveal-408-retry-after-hour",
        lambda ctx: Person.find(email=ctx.email, reveal_email=True, client=ctx.client),
        RequestTimeoutError,
        "reveal_timeout",
        steps=[retry_after(408, "3600")],
        attrs={"retry_after": 3600.0},
    ),
    case(
        "find/reveal-408-retry-after-huge-number",
        lambda ctx: Person.find(email=ctx.email, reveal_email=True, client=ctx.client),
        RequestTimeoutError,
        "reveal_timeout",
        steps=[retry_after(408, "1e300")],
    ),
    # Company.find
    case(
        "company/malformed-json",
        company_found,
        APIResponseValidationError,
        "a Company object",
        route=COMPANY,
        steps=[MALFORMED],
    ),
    case(
        "company/json-array",
        company_found,
        APIResponseValidationError,
        "Company",
        route=COMPANY,
        steps=[body(200, "[]")],
    ),
    case(
        "company/empty-200",
        company_found,
        APIResponseValidationError,
        "empty body",
        route=COMPANY,
        steps=[body(200, "")],
    ),
    case("company/html-502", company_found, InternalServerError, "Bad Gateway", route=COMPANY, steps=[HTML]),
    case(
        "company/retry-after-hour",
        company_found,
        RateLimitError,
        "max_retry_wait",
        route=COMPANY,
        steps=[retry_after(429, "3600")],
        options={"max_retries": 2},
    ),
    # Person.search
    case(
        "search/json-array",
        searched,
        APIResponseValidationError,
        "person_search_result",
        route=SEARCH,
        steps=[body(200, "[]")],
    ),
    case(
        "search/pagination-wrong-type",
        searched,
        APIResponseValidationError,
        "person_search_result",
        route=SEARCH,
        steps=[body(200, {"results": [], "_pagination": {"page": "one"}})],
    ),
    case(
        "search/negative-total",
        searched,
        APIResponseValidationError,
        "-1",
        route=SEARCH,
        steps=[body(200, {"results": [], "_pagination": {"page": 1, "page_size": 10, "total_pages": -1}})],
    ),
    case(
        "search/results-not-objects",
        searched,
        APIResponseValidationError,
        "200",
        route=SEARCH,
        steps=[body(200, {"results": [1, 2]})],
    ),
    case(
        "search_iter/same-page-forever-ends",
        lambda ctx: list(Person.search_iter(page_size=1, client=ctx.client)),
        holds=lambda ps: [p.id for p in ps] == ["p-1"],
        route=SEARCH,
        steps=[body(200, SAME_SEARCH_PAGE)] * 5,
    ),
    # Enrichment jobs: create
    case(
        "create/500-not-json",
        lambda ctx: EnrichmentJob.create(ctx.leads, client=ctx.client),
        InternalServerError,
        "500",
        "may have been created",
        route=CREATE,
        steps=[body(500, "oops")],
        options={"max_retries": 3},
    ),
    case(
        "create/malformed-202",
        lambda ctx: EnrichmentJob.create(ctx.leads, client=ctx.client),
        APIResponseValidationError,
        "person_enrichment",
        route=CREATE,
        steps=[{"fault": "malformed", "status": 202}],
    ),
    case(
        "create/retry-after-hour",
        lambda ctx: EnrichmentJob.create(ctx.leads, client=ctx.client),
        RateLimitError,
        "max_retry_wait",
        route=CREATE,
        steps=[retry_after(429, "3600")],
        options={"max_retries": 3},
    ),
    # Enrichment jobs: get / wait
    case(
        "get/unknown-status-is-final",
        got,
        holds=lambda j: (j.status, j.done) == ("exploded", True),
        route=POLL,
        steps=job_step("exploded"),
    ),
    case(
        "wait/unknown-status-ends-the-wait",
        waited(10),
        holds=lambda j: j.status == "exploded",
        route=POLL,
        steps=job_step("exploded"),
    ),
    case("get/malformed-json", got, APIResponseValidationError, "person_enrichment", route=POLL, steps=[MALFORMED]),
    case("get/html-502", got, InternalServerError, "Bad Gateway", route=POLL, steps=[HTML]),
    case("get/empty-200", got, APIResponseValidationError, "empty body", route=POLL, steps=[body(200, "")]),
    case(
        "get/missing-id",
        got,
        APIResponseValidationError,
        "missing field `id`",
        route=POLL,
        steps=[body(200, {"status": "completed"})],
    ),
    case(
        "get/status-not-a-string",
        got,
        APIResponseValidationError,
        "person_enrichment",
        route=POLL,
        steps=[body(200, {"id": 1, "status": 5})],
    ),
    case(
        "get/results-not-a-list",
        got,
        APIResponseValidationError,
        "person_enrichment",
        route=POLL,
        steps=lambda ctx: [body(200, job_body(ctx) | {"results": 5})],
    ),
    case(
        "get/another-jobs-body",
        got,
        APIResponseValidationError,
        "answered about 999999",
        route=POLL,
        steps=lambda ctx: [body(200, job_body(ctx) | {"id": 999999})],
    ),
    case(
        "get/results-not-objects",
        got,
        APIResponseValidationError,
        "enrichment result",
        route=POLL,
        steps=job_step(results=[1]),
    ),
    # A pause past the deadline is cut to it: one poll now, a last one at the deadline (both still processing).
    case(
        "wait/retry-after-hour-past-the-deadline",
        waited(0.3),
        JobTimeoutError,
        "still processing",
        "EnrichmentJob.get",
        route=POLL,
        steps=job_step("processing", headers={"Retry-After": "3600"}, times=2),
        attrs={"status": "processing"},
    ),
    # Garbage: the default 5 s poll pause, cut to the deadline like any other.
    case(
        "wait/retry-after-garbage",
        waited(0.3),
        JobTimeoutError,
        "still processing",
        route=POLL,
        steps=job_step("processing", headers={"Retry-After": "soon"}, times=2),
    ),
    case(
        "wait/retry-after-huge-number",
        waited(0.3),
        JobTimeoutError,
        "still processing",
        route=POLL,
        steps=job_step("processing", headers={"Retry-After": "1e300"}, times=2),
    ),
    # Enrichment jobs: result pages
    case("results/second-page-html", results, InternalServerError, "Bad Gateway", route=POLL, steps=[200, HTML]),
    case(
        "results/second-page-malformed",
        results,
        APIResponseValidationError,
        "person_enrichment",
        route=POLL,
        steps=[200, MALFORMED],
    ),
    case(
        "results/fields-of-wrong-types",
        results,
        route=POLL,
        steps=job_step(results=[{"id": "x", "status": 5, "result": "nope"}]),
        holds=lambda rs: (
            [(r.id, r.status, r.person, r.to_dict()["result"]) for r in rs] == [(None, None, None, "nope")]
        ),
    ),
    case(
        "results/second-page-huge-retry-after",
        results,
        holds=lambda rs: len(rs) == 2,
        route=POLL,
        steps=lambda ctx: [200, *job_step(headers={"Retry-After": "1e300"}, results=[{"id": 99, "status": "x"}])(ctx)],
    ),
    case(
        "results/next-link-loop-ends",
        results,
        holds=lambda rs: len(rs) <= 2,
        route=POLL,
        steps=looping_page,
    ),
]


@pytest.mark.timeout(120)  # a hang guard, not a speed assertion
@pytest.mark.amplemarket_sandbox(job_progression="immediate")
@pytest.mark.parametrize("c", SERVER_CASES)
def test_server_side_bad_responses(c: Case, ctx: Ctx, capfd: pytest.CaptureFixture[str]) -> None:
    steps = c.steps(ctx) if callable(c.steps) else c.steps  # may create the job first
    if c.options:
        ctx.client = ctx.client.with_options(**c.options)
    ctx.sb.script(c.route, steps)
    since = last_seq(ctx.sb)
    value, exc = outcome(ctx, c.run)
    check(c, value, exc)
    if c.sent_as is not None:
        c.sent_as(sent(ctx.sb, c.route, since))
    if exc is not None:
        assert isinstance(exc, amplemarket.AmplemarketError)
        assert not isinstance(exc, InvalidInputError | ConfigurationError)  # nothing was wrong with the call
    err = capfd.readouterr().err
    assert not [leak for leak in RUST_LEAKS if leak in err], f"Rust internals on stderr: {err[:500]}"


def test_the_tables_are_big_enough() -> None:
    assert len(CLIENT_CASES) >= 40
    assert len(SERVER_CASES) >= 40
    ids = [p.id for p in CLIENT_CASES + SERVER_CASES]
    assert len(ids) == len(set(ids)), "case ids are unique"
