"""Type stubs for the Rust extension ``amplemarket._core``."""

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import Any, final

from typing_extensions import Self

_Progress = bool | Callable[[str, int, int], object] | None

__all__ = [
    "AsyncResultsIterator",
    "AsyncSearchIterator",
    "Client",
    "Company",
    "EnrichmentJob",
    "EnrichmentResult",
    "FindResult",
    "Person",
    "PhoneNumber",
    "RateLimits",
    "ResultsIterator",
    "SandboxServer",
    "SearchIterator",
    "SearchPage",
    "__version__",
    "check_lead",
    "get_default_client",
    "sandbox_default_settings",
    "sandbox_openapi",
    "set_default_client",
]

__version__: str

@final
class RateLimits:
    """Client-side pacing limits: at most ``requests`` calls (``search`` of them searches) per ``per`` seconds.

    ``None`` leaves that limit unpaced.
    """

    def __new__(cls, requests: int | None = 500, search: int | None = 30, per: float = 60.0) -> RateLimits: ...
    @property
    def requests(self) -> int | None: ...
    @property
    def search(self) -> int | None: ...
    @property
    def per(self) -> float: ...

@final
class Client:
    """A connection to the Amplemarket API: key, base URL, timeouts, retries, pacing, and one connection pool
    shared by every call and thread."""

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
    @property
    def base_url(self) -> str: ...
    @property
    def timeout(self) -> float:
        """Seconds per attempt (``inf`` for none)."""
    @property
    def max_retries(self) -> int: ...
    @property
    def trust_idempotency_key(self) -> bool:
        """Whether enrichment requests cut short are repeated with their ``Idempotency-Key``."""
    @property
    def rate_limit(self) -> RateLimits | None: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None:
        """Closes the connection pool; calls in flight and later calls raise ``ClientClosedError``."""
    def __enter__(self) -> Self: ...
    def __exit__(self, *args: object) -> None: ...
    def __aenter__(self) -> Awaitable[Self]: ...
    def __aexit__(self, *args: object) -> Awaitable[None]: ...
    def account_info(self) -> dict[str, Any]:
        """Credit balances and limits of the account (the cheapest call that checks the key works)."""
    def account_info_async(self) -> Awaitable[dict[str, Any]]:
        """Awaitable ``account_info()``."""

def get_default_client() -> Client:
    """The client used when a call is given ``client=None``."""

def set_default_client(client: Client | None) -> None:
    """Makes ``client`` the default for calls given ``client=None``."""

def check_lead(lead: Mapping[str, Any]) -> dict[str, str]:
    """Checks one lead as every call that sends leads does (``Person.enrich``, ``EnrichmentJob.create``, the CLI):
    known fields, text values, an email that looks like one, a LinkedIn URL that points at LinkedIn, and an
    identifier the API can use. Returns the lead as it would be sent (values trimmed, blank ones dropped), or
    raises ``InvalidInputError`` saying what is wrong (``TypeError`` for something that is not a mapping).
    """

@final
class PhoneNumber:
    """A revealed phone number."""

    @property
    def id(self) -> str | None: ...
    @property
    def object(self) -> str | None: ...
    @property
    def number(self) -> str | None: ...
    @property
    def type(self) -> str | None: ...
    @property
    def source(self) -> str | None: ...
    def to_dict(self) -> dict[str, Any]: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, text: str) -> PhoneNumber: ...
    def __reduce__(self) -> tuple[Any, tuple[str]]: ...
    def __hash__(self) -> int: ...

@final
class Company:
    """A company as the API returns it; ``to_dict()`` gives exactly what the server sent."""

    @property
    def id(self) -> str | None: ...
    @property
    def object(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def linkedin_url(self) -> str | None: ...
    @property
    def website(self) -> str | None: ...
    @property
    def overview(self) -> str | None: ...
    @property
    def logo_url(self) -> str | None: ...
    @property
    def founded_year(self) -> int | None: ...
    @property
    def traffic_rank(self) -> int | None: ...
    @property
    def sic_codes(self) -> list[int] | None: ...
    @property
    def naics_codes(self) -> list[int] | None: ...
    @property
    def type(self) -> str | None: ...
    @property
    def total_funding(self) -> int | None: ...
    @property
    def latest_funding_stage(self) -> str | None: ...
    @property
    def latest_funding_date(self) -> str | None: ...
    @property
    def keywords(self) -> list[str] | None: ...
    @property
    def estimated_number_of_employees(self) -> int | None: ...
    @property
    def followers(self) -> int | None: ...
    @property
    def size(self) -> str | None: ...
    @property
    def industry(self) -> str | None: ...
    @property
    def location(self) -> str | None: ...
    @property
    def location_details(self) -> dict[str, Any] | None: ...
    @property
    def locations(self) -> list[dict[str, Any]] | None: ...
    @property
    def is_b2b(self) -> bool | None: ...
    @property
    def is_b2c(self) -> bool | None: ...
    @property
    def technologies(self) -> list[str] | None: ...
    @property
    def department_headcount(self) -> dict[str, int] | None: ...
    @property
    def job_function_headcount(self) -> dict[str, int] | None: ...
    @property
    def estimated_revenue(self) -> str | None: ...
    @property
    def revenue(self) -> int | None: ...
    def to_dict(self) -> dict[str, Any]:
        """The company exactly as the server sent it, unknown fields included."""
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, text: str) -> Company: ...
    def __reduce__(self) -> tuple[Any, tuple[str]]: ...
    def __hash__(self) -> int: ...
    def _repr_html_(self) -> str: ...
    @staticmethod
    def find(
        *, domain: str | None = None, linkedin_url: str | None = None, client: Client | None = None
    ) -> Company | None:
        """Finds a company by ``domain`` or ``linkedin_url``; ``None`` when none matches."""
    @staticmethod
    def find_async(
        *, domain: str | None = None, linkedin_url: str | None = None, client: Client | None = None
    ) -> Awaitable[Company | None]:
        """Awaitable ``find``."""

@final
class Person:
    """A person as the API returns it; ``to_dict()`` gives exactly what the server sent."""

    @property
    def id(self) -> str | None: ...
    @property
    def object(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def first_name(self) -> str | None: ...
    @property
    def last_name(self) -> str | None: ...
    @property
    def linkedin_url(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def gender(self) -> str | None: ...
    @property
    def title(self) -> str | None: ...
    @property
    def headline(self) -> str | None: ...
    @property
    def about(self) -> str | None: ...
    @property
    def current_position_start_date(self) -> str | None: ...
    @property
    def current_position_description(self) -> str | None: ...
    @property
    def location(self) -> str | None: ...
    @property
    def image_url(self) -> str | None: ...
    @property
    def location_details(self) -> dict[str, Any] | None: ...
    @property
    def experiences(self) -> list[dict[str, Any]] | None: ...
    @property
    def educations(self) -> list[dict[str, Any]] | None: ...
    @property
    def languages(self) -> list[dict[str, Any]] | None: ...
    @property
    def phone_numbers(self) -> list[PhoneNumber] | None: ...
    @property
    def company(self) -> Company | None: ...
    def to_dict(self) -> dict[str, Any]:
        """The person exactly as the server sent it, unknown fields included."""
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, text: str) -> Person: ...
    def __reduce__(self) -> tuple[Any, tuple[str]]: ...
    def __hash__(self) -> int: ...
    def _repr_html_(self) -> str: ...
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
        """Finds one person; ``None`` when nobody matches."""
    @staticmethod
    def find_async(
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
    ) -> Awaitable[Person | None]:
        """Awaitable ``find``."""
    @staticmethod
    def search(
        *,
        person_name: str | None = None,
        person_titles: str | list[str] | None = None,
        person_locations: str | list[str] | None = None,
        person_seniorities: str | list[str] | None = None,
        person_departments: str | list[str] | None = None,
        person_job_functions: str | list[str] | None = None,
        company_names: str | list[str] | None = None,
        company_domains: str | list[str] | None = None,
        company_industries: str | list[str] | None = None,
        company_sizes: str | list[str] | None = None,
        company_locations: str | list[str] | None = None,
        page: int = 1,
        page_size: int = 10,
        client: Client | None = None,
    ) -> SearchPage:
        """One page of people matching the filters."""
    @staticmethod
    def search_async(
        *,
        person_name: str | None = None,
        person_titles: str | list[str] | None = None,
        person_locations: str | list[str] | None = None,
        person_seniorities: str | list[str] | None = None,
        person_departments: str | list[str] | None = None,
        person_job_functions: str | list[str] | None = None,
        company_names: str | list[str] | None = None,
        company_domains: str | list[str] | None = None,
        company_industries: str | list[str] | None = None,
        company_sizes: str | list[str] | None = None,
        company_locations: str | list[str] | None = None,
        page: int = 1,
        page_size: int = 10,
        client: Client | None = None,
    ) -> Awaitable[SearchPage]:
        """Awaitable ``search``."""
    @staticmethod
    def search_iter(
        *,
        person_name: str | None = None,
        person_titles: str | list[str] | None = None,
        person_locations: str | list[str] | None = None,
        person_seniorities: str | list[str] | None = None,
        person_departments: str | list[str] | None = None,
        person_job_functions: str | list[str] | None = None,
        company_names: str | list[str] | None = None,
        company_domains: str | list[str] | None = None,
        company_industries: str | list[str] | None = None,
        company_sizes: str | list[str] | None = None,
        company_locations: str | list[str] | None = None,
        page: int = 1,
        page_size: int = 100,
        max_results: int | None = None,
        client: Client | None = None,
    ) -> SearchIterator:
        """Every person matching the filters, page after page; always ends."""
    @staticmethod
    def search_iter_async(
        *,
        person_name: str | None = None,
        person_titles: str | list[str] | None = None,
        person_locations: str | list[str] | None = None,
        person_seniorities: str | list[str] | None = None,
        person_departments: str | list[str] | None = None,
        person_job_functions: str | list[str] | None = None,
        company_names: str | list[str] | None = None,
        company_domains: str | list[str] | None = None,
        company_industries: str | list[str] | None = None,
        company_sizes: str | list[str] | None = None,
        company_locations: str | list[str] | None = None,
        page: int = 1,
        page_size: int = 100,
        max_results: int | None = None,
        client: Client | None = None,
    ) -> AsyncSearchIterator:
        """Async iterator form of ``search_iter``."""

    @staticmethod
    def find_many(
        queries: Iterable[Mapping[str, Any]],
        *,
        reveal_email: bool = False,
        reveal_phone_numbers: bool = False,
        concurrency: int = 8,
        progress: _Progress = None,
        client: Client | None = None,
    ) -> list[FindResult]:
        """Finds many people at once; one ``FindResult`` per query, in input order.

        Each query is a dict of ``find`` arguments; one that is not a dict raises ``TypeError`` before anything is
        sent. ``progress=True`` shows one bar counting queries; a callable gets ``(phase, done, total)``.
        """
    @staticmethod
    def find_many_async(
        queries: Iterable[Mapping[str, Any]],
        *,
        reveal_email: bool = False,
        reveal_phone_numbers: bool = False,
        concurrency: int = 8,
        progress: _Progress = None,
        client: Client | None = None,
    ) -> Awaitable[list[FindResult]]:
        """Awaitable ``find_many``."""
    @staticmethod
    def enrich(
        leads: Iterable[Mapping[str, Any]],
        *,
        reveal_email: bool = False,
        reveal_phone_numbers: bool = False,
        timeout: float | None = None,
        progress: _Progress = None,
        client: Client | None = None,
    ) -> list[EnrichmentResult]:
        """Enriches any number of leads; one ``EnrichmentResult`` per input lead, in input order.

        Each lead is a dict of lead fields (see ``check_lead``); one that is not a dict raises ``TypeError`` before
        anything is sent, a dict that cannot be sent comes back ``invalid`` with its reason. ``progress=True`` shows
        one bar counting leads whose description follows the phase (``submitting``, ``waiting: processing``,
        ``retrying after 429 for 3 s``, ``reading results``, ``done``); a callable gets ``(phase, done, total)``.
        """
    @staticmethod
    def enrich_async(
        leads: Iterable[Mapping[str, Any]],
        *,
        reveal_email: bool = False,
        reveal_phone_numbers: bool = False,
        timeout: float | None = None,
        progress: _Progress = None,
        client: Client | None = None,
    ) -> Awaitable[list[EnrichmentResult]]:
        """Awaitable ``enrich``."""

@final
class FindResult:
    """The outcome of one query of ``Person.find_many``."""

    def __new__(cls, query: Any, person: Person | None = None, error: BaseException | None = None) -> FindResult:
        """Built by ``find_many``; public so results pickle (back from a worker process) and can be faked in tests."""
    @property
    def query(self) -> Any: ...
    @property
    def person(self) -> Person | None: ...
    @property
    def error(self) -> BaseException | None: ...
    @property
    def ok(self) -> bool: ...
    def unwrap(self) -> Person | None:
        """The person (or ``None``), raising this query's error if it had one."""

@final
class EnrichmentResult:
    """One result of an enrichment job."""

    @property
    def id(self) -> int | None: ...
    @property
    def status(self) -> str | None: ...
    @property
    def person(self) -> Person | None: ...
    @property
    def error(self) -> str | None: ...
    @property
    def lead(self) -> dict[str, Any]: ...
    @property
    def email(self) -> str | None: ...
    @property
    def linkedin_id(self) -> str | None: ...
    @property
    def linkedin_url(self) -> str | None: ...
    @property
    def company_domain(self) -> str | None: ...
    @property
    def company_name(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def title(self) -> str | None: ...
    def to_dict(self) -> dict[str, Any]: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, text: str) -> EnrichmentResult: ...
    def __reduce__(self) -> tuple[Any, tuple[str]]: ...

@final
class EnrichmentJob:
    """A bulk enrichment request on the server (up to 10,000 leads)."""

    @staticmethod
    def create(
        leads: Iterable[Mapping[str, Any]],
        *,
        reveal_email: bool = False,
        reveal_phone_numbers: bool = False,
        idempotency_key: str | None = None,
        client: Client | None = None,
    ) -> EnrichmentJob:
        """Starts a job; every lead is checked first."""
    @staticmethod
    def create_async(
        leads: Iterable[Mapping[str, Any]],
        *,
        reveal_email: bool = False,
        reveal_phone_numbers: bool = False,
        idempotency_key: str | None = None,
        client: Client | None = None,
    ) -> Awaitable[EnrichmentJob]:
        """Awaitable ``create``."""
    @staticmethod
    def get(job_id: int, *, client: Client | None = None) -> EnrichmentJob:
        """The job with this id, as the server has it now."""
    @staticmethod
    def get_async(job_id: int, *, client: Client | None = None) -> Awaitable[EnrichmentJob]:
        """Awaitable ``get``."""
    @property
    def id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def done(self) -> bool: ...
    @property
    def errors(self) -> list[dict[str, Any]]: ...
    def refresh(self) -> Self:
        """Fetches the current status."""
    def refresh_async(self) -> Awaitable[Self]: ...
    def wait(self, timeout: float | None = None, progress: _Progress = None) -> Self:
        """Polls until the job is done, honouring ``Retry-After``.

        ``progress=True`` shows a bar in leads with the job's status; a callable gets ``(phase, results produced,
        leads)`` at each poll (``leads`` is 0 for a job this process did not create).
        """
    def wait_async(self, timeout: float | None = None, progress: _Progress = None) -> Awaitable[Self]: ...
    def cancel(self) -> Self:
        """Stops the job, keeping the results produced so far."""
    def cancel_async(self) -> Awaitable[Self]: ...
    def results(self, page_size: int = 100) -> ResultsIterator:
        """Streams every result of a finished job."""
    def results_async(self, page_size: int = 100) -> AsyncResultsIterator: ...
    def results_for(self, leads: Iterable[Mapping[str, Any]]) -> list[EnrichmentResult | None]:
        """Every result matched to the leads this job was given, in their order."""
    def to_pandas(self) -> Any:
        """The results as a pandas DataFrame."""

@final
class ResultsIterator:
    """Iterator returned by ``EnrichmentJob.results()``."""

    def __iter__(self) -> Self: ...
    def __next__(self) -> EnrichmentResult: ...

@final
class AsyncResultsIterator:
    """Async iterator returned by ``EnrichmentJob.results_async()``."""

    def __aiter__(self) -> Self: ...
    def __anext__(self) -> Awaitable[EnrichmentResult]: ...

@final
class SearchPage:
    """One page of search results: iterable, with its pagination numbers and ``next_page()``."""

    @property
    def results(self) -> list[Person]: ...
    @property
    def page(self) -> int: ...
    @property
    def page_size(self) -> int: ...
    @property
    def total_pages(self) -> int: ...
    @property
    def total(self) -> int: ...
    @property
    def has_next_page(self) -> bool: ...
    def next_page(self) -> SearchPage | None:
        """The following page, or ``None`` after the last one."""
    def next_page_async(self) -> Awaitable[SearchPage | None]: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Person]: ...

@final
class SearchIterator:
    """Iterator returned by ``Person.search_iter``."""

    def __iter__(self) -> Self: ...
    def __next__(self) -> Person: ...

@final
class AsyncSearchIterator:
    """Async iterator returned by ``Person.search_iter_async``."""

    def __aiter__(self) -> Self: ...
    def __anext__(self) -> Awaitable[Person]: ...

@final
class SandboxServer:
    """A running sandbox server (a local emulator of the Amplemarket API).

    Use ``amplemarket.testing.Sandbox``, which wraps this class.
    """

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
    @property
    def url(self) -> str:
        """The base URL, such as ``http://127.0.0.1:49152``."""
    @property
    def running(self) -> bool: ...
    def stop(self) -> None:
        """Stops the server and closes its connections; idempotent."""
    def settings(self) -> dict[str, Any]:
        """The current settings as a dict."""
    def configure(self, changes: dict[str, Any]) -> None:
        """Changes settings while the server runs (names as in ``settings()``)."""
    def reset(self) -> None:
        """Forgets jobs, charges, scripts, rate-limit state and the request log; keeps data and settings."""
    def people_count(self) -> int: ...
    def companies_count(self) -> int: ...
    def person(self, index: int) -> dict[str, Any]:
        """Person ``index`` with its email and phone numbers."""
    def company(self, index: int) -> dict[str, Any]: ...
    def add_people(self, people: list[dict[str, Any]]) -> list[int]:
        """Adds people (dicts shaped like Person objects); all or none. Returns their indexes."""
    def add_company(self, company: dict[str, Any]) -> int: ...
    def script(self, route: str, steps: list[Any]) -> None:
        """Queues scripted responses for a route such as ``"GET /people/find"``."""
    def pending_script_steps(self) -> int: ...
    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        """The request log (entries with ``seq`` above ``since``)."""
    def credits(self) -> dict[str, Any]:
        """Balances and every charge so far."""

def sandbox_openapi() -> str:
    """The OpenAPI document the sandbox serves."""

def sandbox_default_settings() -> dict[str, Any]:
    """The settings a new sandbox starts with."""
