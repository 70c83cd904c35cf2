"""Type stubs for the Rust extension ``amplemarket._core``."""

import os
import pathlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Final, Generic, Literal, ParamSpec, Protocol, TypeVar, final, overload

from typing_extensions import Self, TypedDict, Unpack

_Progress = bool | Callable[[str, int, int], object] | None
# A table given as leads or queries: a pandas or polars DataFrame (or LazyFrame), a pyarrow Table / RecordBatch /
# RecordBatchReader, or any object with ``__arrow_c_stream__`` (duckdb, arro3, nanoarrow).
_Table = Any
_Columns = Mapping[str, str | None] | None
_Credits = float | Mapping[str, float] | None
_R = TypeVar("_R")
_P = ParamSpec("_P")
_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)

def _awaitable(blocking: Callable[_P, _R], /) -> Callable[_P, Awaitable[_R]]:
    """The type of an awaitable twin ``<name>_async``: the blocking method's arguments, its result awaited. Both are
    generated from one Rust declaration, so they take the same arguments."""

def _async_iter(blocking: Callable[_P, Iterator[_R]], /) -> Callable[_P, AsyncIterator[_R]]:
    """The type of an async iterator twin: the blocking method's arguments, its items with ``async for``."""

class _StaticTwin(Protocol[_P, _T_co]):
    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _T_co: ...

def _static(twin: Callable[_P, _T], /) -> _StaticTwin[_P, _T]:
    """A twin of a static method: the same function read from the class or from an instance (no ``self`` bound)."""

__all__ = [
    "ArrowTable",
    "AsyncCompanySearchIterator",
    "AsyncResultsIterator",
    "AsyncSearchIterator",
    "AsyncValidationResultsIterator",
    "Cache",
    "Client",
    "Company",
    "CompanySearchIterator",
    "CompanySearchPage",
    "EmailValidation",
    "EnrichmentJob",
    "EnrichmentResult",
    "Estimate",
    "FindResult",
    "Person",
    "PhoneNumber",
    "RateLimits",
    "Results",
    "ResultsIterator",
    "SearchIterator",
    "SearchPage",
    "ValidationResult",
    "ValidationResultsIterator",
    "__version__",
    "check_company",
    "check_email",
    "check_lead",
    "estimate",
    "get_default_client",
    "set_default_client",
]

__version__: str

class _CompanyFiltersOfBoth(TypedDict, total=False):
    """The company filters both searches take: one value or a list (any of its values)."""

    company_names: str | list[str] | None
    company_domains: str | list[str] | None
    company_industries: str | list[str] | None
    company_sizes: str | list[str] | None
    company_locations: str | list[str] | None

class _PersonFilters(_CompanyFiltersOfBoth, total=False):
    """``Person.search`` filters, all optional and combined with AND; a list matches any of its values."""

    person_name: str | None
    person_titles: str | list[str] | None
    person_locations: str | list[str] | None
    person_seniorities: str | list[str] | None
    person_departments: str | list[str] | None
    person_job_functions: str | list[str] | None

class _CompanyFilters(_CompanyFiltersOfBoth, total=False):
    """``Company.search`` filters, all optional and combined with AND; a list matches any of its values."""

    company_types: str | list[str] | None
    company_keywords: str | list[str] | None

@final
class RateLimits:
    """Client-side pacing limits: at most ``requests`` calls (``search`` of them searches) per ``per`` seconds.
    ``None`` leaves that limit unpaced. ``burst`` is the most calls sent at once after an idle spell (``None``: the
    limit less one; ``1``: evenly spaced). Pickles, so it can travel to worker processes.
    """

    def __new__(
        cls, requests: int | None = 500, search: int | None = 30, per: float = 60.0, burst: int | None = None
    ) -> RateLimits: ...
    requests: Final[int | None]
    search: Final[int | None]
    per: Final[float]
    burst: Final[int | None]
    def share(self, n: int) -> RateLimits:
        """The share of one of ``n`` clients running at once under these limits (the tasks of a Spark or Dask job):
        each limit divided by ``n`` (at least 1), with ``burst=1``, so that together they stay under the whole.
        """
    def __reduce__(self) -> tuple[type[RateLimits], tuple[int | None, int | None, float, int | None]]: ...

@final
class Client:
    """A connection to the Amplemarket API: key, base URL, timeouts, retries and pacing, and one connection pool
    shared by every call and thread.

    Args:
        api_key: Defaults to the ``AMPLEMARKET_API_KEY`` environment variable.
        base_url: Defaults to ``AMPLEMARKET_BASE_URL``, else ``https://api.amplemarket.com``. ``http://`` is
            accepted only for localhost (the sandbox).
        timeout: Seconds per attempt; ``float("inf")`` for none.
        connect_timeout: Seconds to establish a connection.
        max_retries: Retries of retryable failures (connection errors, 408, 429, 5xx).
        max_retry_wait: A ``Retry-After`` longer than this raises instead of sleeping.
        reveal_timeout: How long a reveal answering 408 "still processing" is waited out.
        rate_limit: ``True`` paces calls to the documented limits (500/min, 30/min for search), ``False``
            turns pacing off, or a ``RateLimits``.
        user_agent: Replaces ``amplemarket-python/<version>``.
        trust_idempotency_key: Retry an enrichment request cut short where the server may have started it (a 5xx,
            a dropped connection, a cut answer), sending its ``Idempotency-Key`` again so the server can answer with
            the job it started. The sandbox honours the key; the public API does not document it, so by default
            such a request is not repeated (it could charge twice) and its leads come back ``failed``.
        cache: Remember the API's answers across calls, processes and restarts: ``True`` (a file in the user's
            cache directory), a path, or an ``amplemarket.Cache``. Off by default.
        max_credits: The most this client may spend, checked against each call's worst case before anything is
            sent (``BudgetExceededError``): one number for each pool, or ``{"email": ..., "phone": ...}``.
    """

    def __new__(
        cls,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | None = 30.0,
        connect_timeout: float = 10.0,
        max_retries: int = 3,
        max_retry_wait: float = 120.0,
        reveal_timeout: float = 180.0,
        rate_limit: bool | RateLimits = True,
        user_agent: str | None = None,
        trust_idempotency_key: bool = False,
        cache: bool | str | os.PathLike[str] | Cache | None = None,
        max_credits: _Credits = None,
    ) -> Client: ...
    def with_options(
        self,
        *,
        timeout: float | None = None,
        connect_timeout: float | None = None,
        max_retries: int | None = None,
        max_retry_wait: float | None = None,
        reveal_timeout: float | None = None,
        rate_limit: bool | RateLimits | None = None,
        user_agent: str | None = None,
        trust_idempotency_key: bool | None = None,
    ) -> Client:
        """A copy with some settings changed, sharing this client's connection pool."""
    base_url: Final[str]
    timeout: Final[float]
    """Seconds per attempt (``inf`` for none)."""
    max_retries: Final[int]
    trust_idempotency_key: Final[bool]
    """Whether enrichment requests cut short are repeated with their ``Idempotency-Key``."""
    cache: Final[Cache | None]
    """The client's result cache, or ``None``."""
    max_credits: Final[dict[str, float] | None]
    """The client's ``max_credits`` (``{"email": ..., "phone": ...}``, ``inf`` where not capped), or ``None``."""
    spent: Final[dict[str, float] | None]
    """What the client's calls have spent at most so far (a call's worst case until its answers are in, then what
    those answers can have cost), counted when it has ``max_credits``; ``None`` otherwise.
    """
    rate_limit: Final[RateLimits | None]
    closed: Final[bool]
    def __reduce__(self) -> tuple[Callable[[dict[str, Any]], Client], tuple[dict[str, Any]]]:
        """Pickles as its configuration without the API key: the key is read again where the client is unpickled,
        from ``AMPLEMARKET_API_KEY`` there, and must be the same key (its last four characters are compared).
        """
    @classmethod
    def _from_pickle(cls, state: dict[str, Any]) -> Client:
        """A client from the state ``__reduce__`` gave, with the key of ``AMPLEMARKET_API_KEY`` in this process."""
    def close(self) -> None:
        """Closes the connection pool; calls in flight and later calls raise ``ClientClosedError``. Returns once the
        answers stored behind the last calls are in the cache file.
        """
    def __enter__(self) -> Self: ...
    def __exit__(self, *args: object) -> None: ...
    def __aenter__(self) -> Awaitable[Self]: ...
    def __aexit__(self, *args: object) -> Awaitable[None]: ...
    def account_info(self) -> dict[str, Any]:
        """Credit balances and limits of the account (the cheapest call that checks the key works)."""
    account_info_async = _awaitable(account_info)

def get_default_client() -> Client:
    """The client used when a call is given ``client=None``: the one set with ``set_default_client``, else one built
    from the environment on first use.
    """

def set_default_client(client: Client | None) -> None:
    """Makes ``client`` the default for calls given ``client=None`` (``None`` goes back to the environment's)."""

def _map_columns(
    columns: list[str], overrides: list[tuple[str, str | None]], kind: Literal["lead", "company", "email"] = "lead"
) -> list[tuple[str, str]]:
    """The field of each column that maps to one, by the header rules tables share with the CLI's files:
    ``overrides`` (``column -> field``, ``None`` to leave one out) first, then the header names of exports. ``kind``
    is ``"lead"``, ``"company"`` or ``"email"``. Raises ``InvalidInputError`` for an override naming a missing
    column or a field that does not exist.
    """

def check_company(company: Mapping[str, Any] | str) -> dict[str, str]:
    """Checks one company as ``Company.enrich`` and ``EnrichmentJob.create_companies`` do: known fields (``domain``,
    ``linkedin_url``, ``name``), text values, a domain (a website URL is cut down to it), a LinkedIn URL that points
    at LinkedIn, and at least one of them. A string is read as a domain. Returns the company as it would be sent, or
    raises ``InvalidInputError`` saying what is wrong (``TypeError`` for something that is neither).
    """

def check_email(email: str) -> str:
    """Checks one email as ``validate_emails`` does (``invalid`` otherwise, never sent): returns it trimmed, or raises
    ``InvalidInputError`` saying why it is not an email address.
    """

def _enrich_keyed(
    leads: Any,
    *,
    key_salt: str,
    jobs: Mapping[str, str] | None = None,
    on_job: Callable[[str, str], object] | None = None,
    reveal_email: bool = False,
    reveal_phone_numbers: bool = False,
    timeout: float | None = None,
    columns: Mapping[str, str | None] | None = None,
    client: Client | None = None,
) -> Results[EnrichmentResult]:
    """``Person.enrich`` for a task of a Spark or Dask job (``amplemarket.spark``, ``amplemarket.dask``): each request's
    ``Idempotency-Key`` is derived from ``key_salt``, the options and the leads it carries, so a retried task sends
    the same keys; ``jobs`` maps keys to the ids of jobs an earlier attempt started (fetched, not created again);
    ``on_job(key, job_id)`` is called as soon as each job is created.
    """

def _empty_results(kind: Literal["enrich", "find"], input: Any) -> Results[Any]:
    """No results, over the (empty) table ``input``: its ``to_arrow()`` / ``to_pandas()`` give the schema and dtypes
    of ``Person.enrich`` (``kind="enrich"``) or ``Person.find_many`` (``kind="find"``) results for that input.
    """

def check_lead(lead: Mapping[str, Any]) -> dict[str, str]:
    """Checks one lead as every call that sends leads does (``Person.enrich``, ``EnrichmentJob.create``, the CLI):
    known fields, text values, an email that looks like one, a LinkedIn URL that points at LinkedIn, and an
    identifier the API can use. Returns the lead as it would be sent (values trimmed, blank ones dropped), or
    raises ``InvalidInputError`` saying what is wrong (``TypeError`` for something that is not a mapping).
    """

class _Json:
    """What objects made of the server's JSON share: ``to_json()`` and back, and pickling through it."""

    def to_json(self) -> str:
        """``to_dict()`` as JSON text."""
    @classmethod
    def from_json(cls, text: str) -> Self:
        """Rebuilds an object from ``to_json()`` output (used by pickle)."""
    def __reduce__(self) -> tuple[Any, tuple[str]]: ...

class _Result(_Json):
    """What the results of jobs share."""

    def to_dict(self) -> dict[str, Any]:
        """The result exactly as the server sent it (or as this SDK made it, for ``invalid`` / ``failed``)."""
    from_cache: Final[bool]
    """Whether the client's result cache gave this result (nothing was sent for it)."""

class _Model(_Json):
    """What the API's objects share: the server's exact JSON, read field by field; equal when their JSON is."""

    FIELDS: ClassVar[tuple[str, ...]]
    """The names of this class's fields, in the API's order."""

    id: Final[str | None]
    """The API's id of this object."""
    object: Final[str | None]
    """The API's name for this kind of object: ``"person"``, ``"company"``, ``"phone_number"``…"""
    def to_dict(self) -> dict[str, Any]:
        """Exactly the JSON the server sent, as Python objects, unknown fields included."""
    def __hash__(self) -> int: ...

@final
class PhoneNumber(_Model):
    """A revealed phone number."""

    number: Final[str | None]
    """The number, such as ``"+1 123456789"``."""
    type: Final[str | None]
    """``"mobile"``, ``"work"``, ``"landline"``, or another value the API adds later; the API's field ``type``."""
    source: Final[str | None]

@final
class Company(_Model):
    """A company as the API returns it."""

    SEARCH_FILTERS: ClassVar[tuple[str, ...]]
    """The filters ``search`` and ``search_iter`` take, by name."""
    name: Final[str | None]
    linkedin_url: Final[str | None]
    website: Final[str | None]
    overview: Final[str | None]
    logo_url: Final[str | None]
    founded_year: Final[int | None]
    traffic_rank: Final[int | None]
    sic_codes: Final[list[int] | None]
    naics_codes: Final[list[int] | None]
    type: Final[str | None]
    """Type of the company (``"Public Company"``, ``"Privately Held"``…); the API's field ``type``."""
    total_funding: Final[int | None]
    latest_funding_stage: Final[str | None]
    latest_funding_date: Final[str | None]
    keywords: Final[list[str] | None]
    estimated_number_of_employees: Final[int | None]
    followers: Final[int | None]
    """Followers on LinkedIn."""
    size: Final[str | None]
    """Self-reported size, such as ``"201-500 employees"``."""
    industry: Final[str | None]
    location: Final[str | None]
    location_details: Final[dict[str, Any] | None]
    locations: Final[list[dict[str, Any]] | None]
    """A list of location dicts (``address``, ``is_primary``, ``country``)."""
    is_b2b: Final[bool | None]
    is_b2c: Final[bool | None]
    technologies: Final[list[str] | None]
    department_headcount: Final[dict[str, int] | None]
    """Headcount by department, a dict of name to count."""
    job_function_headcount: Final[dict[str, int] | None]
    estimated_revenue: Final[str | None]
    """Estimated annual revenue, such as ``"$10M-$50M"``."""
    revenue: Final[int | None]
    def _repr_html_(self) -> str:
        """The card Jupyter shows, drawn by `amplemarket._display`."""
    @staticmethod
    def find(
        *, domain: str | None = None, linkedin_url: str | None = None, client: Client | None = None
    ) -> Company | None:
        """Finds a company by ``domain`` (like ``example.com``) or ``linkedin_url``; ``None`` when none matches.
        Costs no credits.
        """
    find_async = _static(_awaitable(find))
    @staticmethod
    def search(
        *,
        page: int = 1,
        page_size: int = 10,
        client: Client | None = None,
        **filters: Unpack[_CompanyFilters],
    ) -> CompanySearchPage:
        """One page of companies matching the filters (all optional, combined with AND; each takes one value or a
        list, matching any of its values): names (part of the name), domains, industries, sizes
        (``"51-200 employees"``), types, locations (part of the location) and keywords. Costs no credits; paced to
        the search rate limit.
        """
    search_async = _static(_awaitable(search))
    @staticmethod
    def search_iter(
        *,
        page: int = 1,
        page_size: int = 100,
        max_results: int | None = None,
        client: Client | None = None,
        **filters: Unpack[_CompanyFilters],
    ) -> CompanySearchIterator:
        """Every company matching the filters (as ``search`` takes them), page after page (``page_size`` per
        request) until the last page, an empty or repeated page, or ``max_results``. Always ends.
        """
    search_iter_async = _static(_async_iter(search_iter))
    @staticmethod
    def enrich(
        companies: Iterable[Mapping[str, Any] | str] | _Table,
        *,
        timeout: float | None = None,
        columns: _Columns = None,
        progress: _Progress = None,
        client: Client | None = None,
    ) -> Results[EnrichmentResult]:
        """Enriches any number of companies: dicts with ``domain`` (a website URL is cut down to its domain),
        ``linkedin_url`` and/or ``name``, plain strings read as domains, or a table (DataFrame, Arrow) whose
        columns map by their headers (Domain or Website, Company LinkedIn URL, Company) and ``columns=``
        (``{"Account Domain": "domain"}``). Identical companies are sent once, the
        rest split into requests of at most 10,000, waited on together, and collected. Returns ``Results``: one
        ``EnrichmentResult`` per input, in input order, its ``company`` set when ``status`` is ``enriched``; an
        input that cannot be sent comes back ``invalid`` with an ``error``. ``timeout`` (seconds) bounds the wait.
        """
    enrich_async = _static(_awaitable(enrich))

@final
class Person(_Model):
    """A person (a B2B contact) as the API returns it."""

    SEARCH_FILTERS: ClassVar[tuple[str, ...]]
    """The filters ``search`` and ``search_iter`` take, by name."""
    name: Final[str | None]
    first_name: Final[str | None]
    last_name: Final[str | None]
    linkedin_url: Final[str | None]
    email: Final[str | None]
    """The email address, when revealed (``reveal_email=True``)."""
    gender: Final[str | None]
    """``"male"``, ``"female"``, or another value the API adds later."""
    title: Final[str | None]
    headline: Final[str | None]
    about: Final[str | None]
    current_position_start_date: Final[str | None]
    current_position_description: Final[str | None]
    location: Final[str | None]
    image_url: Final[str | None]
    location_details: Final[dict[str, Any] | None]
    """``{"city": ..., "state": ..., "country": ...}``."""
    experiences: Final[list[dict[str, Any]] | None]
    """A list of experience dicts (company, title, dates…)."""
    educations: Final[list[dict[str, Any]] | None]
    languages: Final[list[dict[str, Any]] | None]
    phone_numbers: Final[list[PhoneNumber] | None]
    """The phone numbers, when revealed (``reveal_phone_numbers=True``); ``None`` otherwise."""
    company: Final[Company | None]
    """The company the person works for now."""
    def _repr_html_(self) -> str:
        """The card Jupyter shows, drawn by `amplemarket._display`."""
    @staticmethod
    def find(
        *,
        linkedin_url: str | None = None,
        email: str | None = None,
        name: str | None = None,
        title: str | None = None,
        company_name: str | None = None,
        company_domain: str | None = None,
        reveal_email: bool = False,
        reveal_phone_numbers: bool = False,
        client: Client | None = None,
    ) -> Person | None:
        """Finds one person by ``linkedin_url``, by ``email``, or by ``name`` with ``company_name`` or
        ``company_domain`` (``title`` helps pick among namesakes). Returns ``None`` when nobody matches.

        ``reveal_email`` / ``reveal_phone_numbers`` add the email / phone numbers (charged once per person).
        A reveal the server is still processing (408) is waited out up to the client's ``reveal_timeout``.
        """
    find_async = _static(_awaitable(find))
    @staticmethod
    def search(
        *,
        page: int = 1,
        page_size: int = 10,
        client: Client | None = None,
        **filters: Unpack[_PersonFilters],
    ) -> SearchPage:
        """One page of people matching the filters (all optional, combined with AND; a list matches any of its
        values). Costs no credits; paced to the search rate limit.
        """
    search_async = _static(_awaitable(search))
    @staticmethod
    def search_iter(
        *,
        page: int = 1,
        page_size: int = 100,
        max_results: int | None = None,
        client: Client | None = None,
        **filters: Unpack[_PersonFilters],
    ) -> SearchIterator:
        """Every person matching the filters, page after page (``page_size`` per request) until the last page, an
        empty or repeated page, or ``max_results``. Always ends.
        """
    search_iter_async = _static(_async_iter(search_iter))

    @staticmethod
    def find_many(
        queries: Iterable[Mapping[str, Any]] | _Table,
        *,
        reveal_email: bool = False,
        reveal_phone_numbers: bool = False,
        concurrency: int = 8,
        columns: _Columns = None,
        max_credits: _Credits = None,
        progress: _Progress = None,
        client: Client | None = None,
    ) -> Results[FindResult]:
        """Finds many people at once, at most ``concurrency`` requests in flight, paced by the client's rate limits.
        ``queries`` are dicts of ``find`` arguments, or a table (pandas or polars DataFrame, Arrow table) whose
        columns are read as ``Person.enrich`` reads them (``columns=`` maps the others). Returns ``Results``: one
        ``FindResult`` per query, in input order, with ``to_arrow()`` / ``to_polars()`` / ``to_pandas()``; a failed
        query never sinks the others.
        """
    find_many_async = _static(_awaitable(find_many))
    @staticmethod
    def enrich(
        leads: Iterable[Mapping[str, Any]] | _Table,
        *,
        reveal_email: bool = False,
        reveal_phone_numbers: bool = False,
        timeout: float | None = None,
        columns: _Columns = None,
        max_credits: _Credits = None,
        progress: _Progress = None,
        client: Client | None = None,
    ) -> Results[EnrichmentResult]:
        """Enriches any number of leads: identical leads are sent once, the rest split into requests of at most
        10,000, waited on together, and collected. ``leads`` are dicts of lead fields, or a table: a pandas or
        polars DataFrame (eager or lazy), a pyarrow Table / RecordBatch / RecordBatchReader, or anything with
        ``__arrow_c_stream__`` (duckdb, arro3…), whose columns map to lead fields by their headers (Email, LinkedIn
        URL, Full Name or First Name + Last Name, Company, Domain, Title…) and ``columns={"Work Email": "email"}``
        (``None`` leaves a column out). Returns ``Results``: one ``EnrichmentResult`` per input row, in input order,
        with ``to_arrow()`` / ``to_polars()`` / ``to_pandas()``; a lead that cannot be sent comes back with status
        ``invalid`` and an ``error``. ``timeout`` (seconds) bounds the wait for the jobs.
        """
    enrich_async = _static(_awaitable(enrich))

@final
class FindResult:
    """The outcome of one query of ``Person.find_many``: ``person`` (or ``None`` when nobody matched) or the
    ``error`` that query met; ``query`` is the query as given.
    """

    def __new__(
        cls, query: Any, person: Person | None = None, error: BaseException | None = None, from_cache: bool = False
    ) -> FindResult:
        """Built by ``find_many``; public so results pickle (back from a worker process) and can be faked in tests."""
    from_cache: Final[bool]
    """Whether the client's result cache gave this answer (nothing was sent for it)."""
    query: Final[Any]
    person: Final[Person | None]
    error: Final[BaseException | None]
    """The exception this query met, or ``None``."""
    ok: Final[bool]
    """``True`` when the query ran without error (whether or not someone matched)."""
    def unwrap(self) -> Person | None:
        """The person (or ``None``), raising this query's error if it had one."""

@final
class EnrichmentResult(_Result):
    """One result of an enrichment job: the input's echoed fields, a ``status`` (``enriched``, ``not_found``,
    ``gdpr_removed``, or a value the API adds later; ``invalid`` / ``failed`` for inputs this SDK could not send or
    whose job failed, with ``error`` saying why) and the ``person`` (people) or ``company`` (companies) when
    enriched.
    """

    id: Final[int | None]
    """ID of the result (``None`` for results made by this SDK)."""
    status: Final[str | None]
    person: Final[Person | None]
    """The enriched person, when ``status`` is ``enriched``."""
    company: Final[Company | None]
    """The enriched company of a company enrichment; for a person, the company they work for."""
    domain: Final[str | None]
    error: Final[str | None]
    """Why this SDK could not send the lead (``invalid``) or its job failed (``failed``)."""
    lead: Final[dict[str, Any]]
    """The lead fields as echoed, a dict."""
    email: Final[str | None]
    linkedin_id: Final[str | None]
    linkedin_url: Final[str | None]
    company_domain: Final[str | None]
    company_name: Final[str | None]
    name: Final[str | None]
    title: Final[str | None]

class _Job:
    """What a job on the server (an enrichment or an email validation) does."""

    status: Final[str]
    """``queued``, ``processing``, ``completed``, ``canceled``, ``error`` (or a value the API adds later),
    as of the last call.
    """
    done: Final[bool]
    """Whether the job has ended (anything but ``queued`` and ``processing``)."""
    errors: Final[list[dict[str, Any]]]
    """The server's ``_errors`` for a job in ``error``."""
    def refresh(self) -> Self:
        """Fetches the current status."""
    refresh_async = _awaitable(refresh)
    def wait(self, timeout: float | None = None, progress: _Progress = None) -> Self:
        """Polls until the job is done, honouring the server's ``Retry-After``. ``timeout`` (seconds) raises
        ``JobTimeoutError`` when it runs out (the job keeps running); a job ending in ``error`` raises
        ``JobFailedError``. ``progress=True`` shows a bar with the job's status; a callable gets
        ``(phase, results produced, inputs)`` at each poll (``inputs`` is 0 for a job this process did not
        create).
        """
    wait_async = _awaitable(wait)
    def cancel(self) -> Self:
        """Stops the job, keeping the results produced so far."""
    cancel_async = _awaitable(cancel)

@final
class EnrichmentJob(_Job):
    """A bulk enrichment request on the server: of people (up to 10,000 leads) or of companies (up to 10,000),
    told apart by ``kind``.

    ``create`` / ``create_companies`` start one, ``get`` resumes one by id (from another process, after a
    crash…), ``wait`` polls until it is done, ``results()`` streams its results page by page, ``cancel`` stops it
    keeping what is done.
    """

    MAX_LEADS: ClassVar[int]
    """The most leads one enrichment request takes (``Person.enrich`` splits more into several)."""

    @staticmethod
    def create(
        leads: Iterable[Mapping[str, Any]] | _Table,
        *,
        reveal_email: bool = False,
        reveal_phone_numbers: bool = False,
        idempotency_key: str | None = None,
        columns: _Columns = None,
        client: Client | None = None,
    ) -> EnrichmentJob:
        """Starts a job for ``leads`` (dicts with ``email``, ``linkedin_url``/``linkedin_id``, ``name``, ``title``,
        ``company_name``, ``company_domain``; or a table, read as ``Person.enrich`` reads one, ``columns=``
        included). Every lead is checked first; more than 10,000 is refused (use
        ``Person.enrich``). Retried only where the server cannot have started the job. Save an
        ``idempotency_key`` before calling, and a create cut short by a crash can be repeated with it without
        starting a second job (where the server honours ``Idempotency-Key``, as the sandbox does).
        """
    create_async = _static(_awaitable(create))
    @staticmethod
    def create_companies(
        companies: Iterable[Mapping[str, Any] | str],
        *,
        idempotency_key: str | None = None,
        client: Client | None = None,
    ) -> EnrichmentJob:
        """Starts a job enriching ``companies``: dicts with ``domain`` (or a website URL), ``linkedin_url`` and/or
        ``name``, or plain strings read as domains. Every company is checked first; more than 10,000 is refused
        (use ``Company.enrich``). Retried only where the server cannot have started the job; ``idempotency_key``
        as for ``create``.
        """
    create_companies_async = _static(_awaitable(create_companies))
    @staticmethod
    def get(
        job_id: int, *, kind: Literal["person", "company"] = "person", client: Client | None = None
    ) -> EnrichmentJob:
        """The job with this id, as the server has it now (resume a job started elsewhere). ``kind`` is
        ``"person"`` (the default) or ``"company"``: the two kinds of job are numbered apart.
        """
    get_async = _static(_awaitable(get))
    id: Final[int]
    kind: Final[Literal["person", "company"]]
    """``"person"`` or ``"company"``: what the job enriches (the server's ``object``)."""
    def results(self, page_size: int = 100) -> ResultsIterator:
        """Streams every result of a finished (completed, canceled or failed) job, fetching the next page while
        the current one is read.
        """
    results_async = _async_iter(results)
    def results_for(self, leads: Iterable[Mapping[str, Any]]) -> list[EnrichmentResult | None]:
        """Every result of a finished job matched to ``leads`` (the leads this job was given, in the order given):
        one ``EnrichmentResult`` or ``None`` per lead, whatever order the server returned them in.
        """
    def collect(self) -> Results[EnrichmentResult]:
        """Every result of the finished job as ``Results`` (in the server's order; their input columns are the
        fields each result echoes), ready for ``to_arrow()`` / ``to_polars()`` / ``to_pandas()``.
        """
    def to_arrow(self) -> ArrowTable:
        """``collect().to_arrow()``: the finished job's results as an Arrow table."""
    def to_polars(self) -> Any:
        """``collect().to_polars()``: the finished job's results as a polars DataFrame (needs polars)."""
    def to_pandas(self) -> Any:
        """``collect().to_pandas()``: the finished job's results as a pandas DataFrame (needs pandas)."""

@final
class Results(Sequence[_R], Generic[_R]):
    """Results of ``Person.enrich`` (``EnrichmentResult``) or ``Person.find_many`` (``FindResult``), one per input row
    in input order: a sequence (``len``, indexing, iteration, ``==`` with a list) that also converts to a table with
    ``to_arrow()``, ``to_polars()`` or ``to_pandas()``.

    The table's columns: the input's own (a table's columns with their types, or the fields of the dicts given),
    then ``status``, ``error``, ``result_id`` (enrichment only), the person's fields as ``person.<field>`` and its
    company's as ``company.<field>`` (typed: text, integers, booleans, dates, lists, structs), and ``person_json``,
    the person exactly as the server sent it. A result column whose name the input already has gets ``_result``
    appended. Row ``i`` is input row ``i``.
    """
    def __len__(self) -> int: ...
    @overload
    def __getitem__(self, index: int, /) -> _R: ...
    @overload
    def __getitem__(self, index: slice, /) -> list[_R]: ...
    def __iter__(self) -> Iterator[_R]: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...
    _source: Final[Any]
    """The table given as input (a collected LazyFrame's DataFrame), or ``None`` for dicts."""
    def _result_columns(self) -> ArrowTable:
        """The result columns alone, named as beside the input's columns, to join to the input frame."""
    def index(self, value: object, start: int = 0, stop: int | None = None) -> int:
        """The index of the first result equal to ``value`` from ``start`` up to ``stop`` (``ValueError`` when none
        is), as ``list.index``.
        """
    def count(self, value: object) -> int:
        """How many results equal ``value``."""
    def to_arrow(self, input_columns: bool = True) -> ArrowTable:
        """The results as an Arrow table (see the class for its columns), built in Rust from the text the server
        sent. ``input_columns=False`` leaves out the input's columns (and renames no result column).
        """
    def to_polars(self, input_columns: bool = True) -> Any:
        """The results as a polars DataFrame: the input's columns (a polars input's own, unchanged), then the result
        columns. Needs polars.
        """
    def to_pandas(self, input_columns: bool = True) -> Any:
        """The results as a pandas DataFrame: the input's columns (a pandas input's own, with its index), then the
        result columns in nullable dtypes (``string``, ``Int64``, ``boolean``). Needs pandas; fastest with pyarrow.
        """

@final
class ArrowTable:
    """A table of results in Arrow form. It holds no Python objects: ``pyarrow.table(t)``, ``polars.DataFrame(t)``,
    ``duckdb.sql("select * from t")`` and any reader of the Arrow PyCapsule interface (``__arrow_c_stream__``) take
    its columns without copying them through Python.
    """
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """"""
    def __arrow_c_schema__(self) -> object:
        """"""
    column_names: Final[list[str]]
    """The names of the columns, in order."""
    num_rows: Final[int]
    num_columns: Final[int]
    def __len__(self) -> int: ...
    def to_pydict(self) -> dict[str, list[Any]]:
        """Each column as a list of Python values (``str``, ``int``, ``float``, ``bool``, ``datetime.date``, lists,
        dicts, ``None``): for code without pyarrow or polars.
        """

class _Page(Generic[_R]):
    """One page of search results: iterable, with its ``_pagination`` numbers and ``next_page()``."""

    @property
    def results(self) -> list[_R]: ...
    page: Final[int]
    page_size: Final[int]
    total_pages: Final[int]
    total: Final[int]
    has_next_page: Final[bool]
    """Whether ``next_page()`` has a page to fetch."""
    def next_page(self) -> Self | None:
        """The following page, or ``None`` after the last one."""
    next_page_async = _awaitable(next_page)
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[_R]: ...

class _Iterator(Generic[_R]):
    """An iterator over results fetched page by page."""

    def __iter__(self) -> Self: ...
    def __next__(self) -> _R: ...

class _AsyncIterator(Generic[_R]):
    """Its async form (``async for``)."""

    def __aiter__(self) -> Self: ...
    def __anext__(self) -> Awaitable[_R]: ...

@final
class SearchPage(_Page[Person]):
    """One page of people search results: iterable, with its ``_pagination`` numbers and ``next_page()``."""

@final
class CompanySearchPage(_Page[Company]):
    """One page of company search results: iterable, with its ``_pagination`` numbers and ``next_page()``."""

@final
class SearchIterator(_Iterator[Person]):
    """Iterator returned by ``Person.search_iter``."""

@final
class AsyncSearchIterator(_AsyncIterator[Person]):
    """Async form of ``SearchIterator`` (``async for``)."""

@final
class CompanySearchIterator(_Iterator[Company]):
    """Iterator returned by ``Company.search_iter``."""

@final
class AsyncCompanySearchIterator(_AsyncIterator[Company]):
    """Async form of ``CompanySearchIterator`` (``async for``)."""

@final
class ResultsIterator(_Iterator[EnrichmentResult]):
    """Iterator returned by ``EnrichmentJob.results()``."""

@final
class AsyncResultsIterator(_AsyncIterator[EnrichmentResult]):
    """Async form of ``ResultsIterator`` (``async for``)."""

@final
class ValidationResultsIterator(_Iterator[ValidationResult]):
    """Iterator returned by ``EmailValidation.results()``."""

@final
class AsyncValidationResultsIterator(_AsyncIterator[ValidationResult]):
    """Async form of ``ValidationResultsIterator`` (``async for``)."""

@final
class SandboxServer:
    """A running sandbox server (a local emulator of the Amplemarket API). Use `amplemarket.testing.Sandbox`."""

    def __new__(
        cls,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        people: int = 10_000,
        companies: int | None = None,
        settings: dict[str, Any] | None = None,
    ) -> SandboxServer: ...
    url: Final[str]
    """The base URL, such as `http://127.0.0.1:49152`."""
    running: Final[bool]
    def stop(self) -> None:
        """Stops the server and closes its connections; idempotent."""
    def settings(self) -> dict[str, Any]:
        """The current settings as a dict."""
    def configure(self, changes: dict[str, Any]) -> None:
        """Changes settings while the server runs (names as in `settings()`)."""
    def reset(self) -> None:
        """Forgets jobs, charges, scripts, rate-limit state and the request log; keeps data and settings."""
    def people_count(self) -> int: ...
    def companies_count(self) -> int: ...
    def person(self, index: int) -> dict[str, Any]:
        """Person `index` with its email and phone numbers (`_gdpr_removed: True` marks removed people)."""
    def company(self, index: int) -> dict[str, Any]: ...
    def add_people(self, people: list[dict[str, Any]]) -> list[int]:
        """Adds people (dicts shaped like Person objects); all or none. Returns their indexes."""
    def add_company(self, company: dict[str, Any]) -> int: ...
    def script(self, route: str, steps: list[Any]) -> None:
        """Queues scripted responses for a route such as `"GET /people/find"`."""
    def pending_script_steps(self) -> int: ...
    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        """The request log (entries with `seq` above `since`)."""
    def credits(self) -> dict[str, Any]:
        """Balances and every charge so far."""

def sandbox_openapi() -> str:
    """The OpenAPI document the sandbox serves."""

def sandbox_default_settings() -> dict[str, Any]:
    """The settings a new sandbox starts with."""

@final
class ValidationResult(_Result):
    """The outcome of one email's validation: ``email``, ``result`` (``deliverable``, ``risky``, ``unknown``,
    ``undeliverable``, or a value the API adds later), ``catch_all`` (whether the domain accepts any address) and
    ``status``: ``validated`` for an answer of the server, ``invalid`` for text that is not an email address (not
    sent, not charged), ``failed`` when its request failed; ``error`` says why for the last two.
    """

    email: Final[str | None]
    result: Final[str | None]
    catch_all: Final[bool | None]
    status: Final[str]
    error: Final[str | None]

@final
class EmailValidation(_Job):
    """An email validation request on the server (up to 100,000 emails; 1 email credit each).

    ``create`` starts one, ``get`` resumes one by id, ``wait`` polls until it is done, ``results()`` streams its
    results, ``cancel`` stops it keeping what is done. ``amplemarket.validate_emails`` does all of it for any
    number of emails.
    """

    MAX_EMAILS: ClassVar[int]
    """The most emails one validation request takes."""

    @staticmethod
    def create(
        emails: Iterable[str], *, idempotency_key: str | None = None, client: Client | None = None
    ) -> EmailValidation:
        """Starts validating ``emails`` (a list of strings, at most 100,000; each must look like an email address).
        Retried only where the server cannot have started it; ``idempotency_key`` as for
        ``EnrichmentJob.create``.
        """
    create_async = _static(_awaitable(create))
    @staticmethod
    def get(validation_id: str, *, client: Client | None = None) -> EmailValidation:
        """The validation with this id, as the server has it now (resume one started elsewhere)."""
    get_async = _static(_awaitable(get))
    @staticmethod
    def validate_many(
        emails: Iterable[str | None] | _Table,
        *,
        validations_per_hour: int = 15000,
        timeout: float | None = None,
        columns: _Columns = None,
        max_credits: _Credits = None,
        progress: _Progress = None,
        client: Client | None = None,
    ) -> Results[ValidationResult]:
        """Validates any number of emails (a list of strings, a pandas / polars / Arrow column of them, or a table
        with an Email column, or another mapped by ``columns=``): one ``ValidationResult`` per input, in input
        order, in ``Results`` (with ``to_arrow()`` / ``to_polars()`` / ``to_pandas()``). Identical emails are sent
        once; a missing value is ``invalid``; text that is not an
        email address comes back ``invalid`` without being sent or charged; the rest go in requests of at most
        100,000, or ``validations_per_hour`` (the account's hourly limit, 15,000 unless your plan says more) when
        lower. A request over the hourly limit is waited for, not failed: the progress shows the wait.
        ``timeout`` (seconds) bounds the wait for each request once started.
        """
    validate_many_async = _static(_awaitable(validate_many))
    id: Final[str]
    """The id the server gave (a uuid)."""
    def results(self, page_size: int = 100) -> ValidationResultsIterator:
        """Streams every result of a finished (completed, canceled or failed) job, fetching the next page while
        the current one is read.
        """
    results_async = _async_iter(results)
    def collect(self) -> Results[ValidationResult]:
        """Every result of the finished job as ``Results`` (in the server's order; their input columns are the
        fields each result echoes), ready for ``to_arrow()`` / ``to_polars()`` / ``to_pandas()``.
        """

@final
class Cache:
    """A result cache: a SQLite file remembering the API's answers (finds, enrichment results, validations and search
    pages) across processes and restarts, so a re-run neither waits on the rate limit nor pays again. Give it to a
    client: ``Client(cache=amplemarket.Cache("leads.sqlite3"))`` (or ``cache=True`` for the default file in the
    user's cache directory, or ``cache="path"``).

    ``ttl`` (seconds, 30 days by default) is how long a found answer is used, ``not_found_ttl`` (1 day) a
    not-found one, ``search_ttl`` (1 hour) a search page. An answer made with more reveals serves a call asking for
    fewer, never the reverse. Answers are kept per account (a hash of the API key, which the file never holds);
    the file is readable by its owner only. A file that is not a cache, or one written by a newer release, raises
    ``ConfigurationError``; a failure later (a full disk) warns once and the calls go on without the cache.
    """

    def __new__(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        ttl: float = 2592000.0,
        not_found_ttl: float = 86400.0,
        search_ttl: float = 3600.0,
    ) -> Cache: ...
    path: Final[pathlib.Path]
    """Where the file is."""
    def stats(self) -> dict[str, Any]:
        """``entries`` and ``bytes`` of the file, and this process's ``hits``, ``misses``, ``requests_saved`` and
        ``credits_saved`` (the worst-case credits the answers from the cache would have cost).
        """
    def flush(self) -> None:
        """Returns once every answer this process stored is in the file. Large batches (an enrichment's results) are
        written behind the call that fetched them; reads in this process wait for them anyway, and
        ``Client.close()`` and the end of the interpreter flush. Only a process killed before that loses them.
        """
    def clear(self, older_than: float | None = None) -> int:
        """Deletes the stored answers (``older_than``: only those stored more than that many seconds ago) and returns
        how many. Markers of people removed for GDPR stay, so they are not stored again.
        """
    @classmethod
    def default_path(cls) -> pathlib.Path:
        """The default file: in the user's cache directory (``~/.cache/amplemarket/cache.sqlite3`` on Linux)."""

@final
class Estimate:
    """What a call would send and cost: ``rows`` given, ``invalid`` ones (never sent), ``distinct`` valid inputs,
    ``cached`` (answered by the client's cache), ``to_send``, and ``credits``: the most those can cost, as
    ``{"email": ..., "phone": ...}`` (every lead found and every reveal charged; 0.5 email credit a person found,
    1 per revealed email, 1 phone credit per revealed phone number set, 1 email credit per validated email).
    """

    rows: Final[int]
    invalid: Final[int]
    distinct: Final[int]
    cached: Final[int]
    to_send: Final[int]
    credits: Final[dict[str, float]]
    def to_dict(self) -> dict[str, Any]:
        """Every number as a dict."""

def estimate(
    inputs: Any,
    *,
    kind: Literal["person", "company", "email"] = "person",
    reveal_email: bool = False,
    reveal_phone_numbers: bool = False,
    columns: _Columns = None,
    client: Client | None = None,
) -> Estimate:
    """What ``Person.enrich`` (``kind="person"``), ``Company.enrich`` (``"company"``) or ``validate_emails``
    (``"email"``) would send for ``inputs`` and the most it could cost, with the client's cache taken into account.
    Nothing is sent. ``inputs`` and ``columns`` as those calls take them.
    """

def _flush_caches() -> None:
    """Waits for every answer this process stores behind its calls; run at interpreter exit."""

def _recall(
    client: Client,
    kind: Literal["person", "company", "email"],
    inputs: Iterable[Mapping[str, Any] | str],
    *,
    reveal_email: bool = False,
    reveal_phone_numbers: bool = False,
) -> list[EnrichmentResult | ValidationResult | None]:
    """For the command line, which runs its own jobs: the results the client's cache holds for ``inputs`` (one per
    input, ``None`` where it has none), each with ``from_cache`` set.
    """

def _remember(
    client: Client,
    kind: Literal["person", "company", "email"],
    inputs: Iterable[Mapping[str, Any] | str],
    results: list[EnrichmentResult | ValidationResult | None],
    *,
    reveal_email: bool = False,
    reveal_phone_numbers: bool = False,
) -> None:
    """For the command line: stores the results its jobs gave for ``inputs`` (``None`` where there is none)."""
