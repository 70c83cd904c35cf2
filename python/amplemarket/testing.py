"""A local Amplemarket API for tests, demos and offline development.

``Sandbox`` runs a faithful emulator of the Amplemarket People API (written in Rust, inside this package) on a
free local port, with a deterministic synthetic data set::

    from amplemarket.testing import Sandbox

    with Sandbox(seed=0, people=10_000, job_progression="immediate") as sb:
        person = sb.people[0]          # a full record, to build queries that match
        sb.script("GET /people/find", [429, 200])
        ...                            # talk HTTP to sb.url with sb.api_key
        sb.requests                    # what the sandbox received

This module is also a pytest plugin: the ``amplemarket_sandbox`` fixture gives each test a fresh sandbox state
(one server per session, reset between tests); ``@pytest.mark.amplemarket_sandbox(**settings)`` changes settings
for one test, and a ``seed``/``people``/``companies`` there gives that test its own server.
"""

from __future__ import annotations

import ipaddress
import json
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, overload

from amplemarket._core import Client, SandboxServer, sandbox_default_settings, sandbox_openapi

__all__ = ["Sandbox", "is_loopback"]

_DATA_OPTIONS = ("seed", "people", "companies")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine: a sandbox bound elsewhere is reachable by others."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Records(Sequence[dict[str, Any]]):
    """A read-only list view of the sandbox's people or companies; each item is built when read."""

    def __init__(self, count: Any, get: Any) -> None:
        self._count = count
        self._get = get

    def __len__(self) -> int:
        return int(self._count())

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        n = len(self)
        if isinstance(index, slice):
            return [self._get(i) for i in range(*index.indices(n))]
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"index {index} out of range for {n} records")
        return dict(self._get(index))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for i in range(len(self)):
            yield self._get(i)

    def __repr__(self) -> str:
        return f"<{len(self)} sandbox records>"


class Sandbox:
    """A running local emulator of the Amplemarket People API.

    Args:
        seed: Seed of the synthetic data set and of fault injection; the same seed gives the same data.
        people: How many synthetic people to generate (200,000 start in well under 2 s).
        companies: How many companies (default: one per ten people).
        host: Interface to bind; loopback by default. Binding elsewhere exposes the sandbox to the network
            and warns.
        port: Port to bind; 0 picks a free one.
        **settings: Behaviour settings (see ``docs/sandbox.md``), e.g. ``rate_limit=None``,
            ``job_progression="polls:3"``, ``poll_retry_after=0``, ``fault_rate=0.1``, ``api_key="..."``.

    The server starts at construction and stops on ``stop()``, at the end of a ``with`` block, or when the
    object is garbage-collected.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        people: int = 10_000,
        companies: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        **settings: Any,
    ) -> None:
        if not is_loopback(host):
            warnings.warn(
                f"the Amplemarket sandbox is binding {host}, reachable from other machines; it accepts a "
                "fixed test key and holds synthetic data only. Bind 127.0.0.1 unless you mean it.",
                stacklevel=2,
            )
        self._server = SandboxServer(
            host=host, port=port, seed=seed, people=people, companies=companies, settings=settings
        )
        self.seed = seed
        self.host = host

    # -- lifecycle ---------------------------------------------------------------------------------------

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stops the server; idempotent."""
        self._server.stop()

    close = stop

    @property
    def running(self) -> bool:
        return self._server.running

    # -- where and how to reach it ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL to give a client, such as ``http://127.0.0.1:49152``."""
        return self._server.url

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def api_key(self) -> str:
        """The key the sandbox accepts (``amp_test_sandbox`` unless set)."""
        return str(self._server.settings()["api_key"])

    def client(self, **options: Any) -> Client:
        """An ``amplemarket.Client`` for this sandbox (``options`` as for ``Client``, e.g. ``max_retries=0``)."""
        from amplemarket import Client

        return Client(api_key=self.api_key, base_url=self.url, **options)

    def __repr__(self) -> str:
        if not self.running:
            return f"<Sandbox {self.url} seed={self.seed} stopped>"
        return f"<Sandbox {self.url} seed={self.seed} people={len(self.people)} running>"

    # -- settings ---------------------------------------------------------------------------------------

    @property
    def settings(self) -> dict[str, Any]:
        """The current behaviour settings."""
        return self._server.settings()

    def configure(self, **settings: Any) -> None:
        """Changes behaviour settings while the sandbox runs, e.g. ``configure(fault_rate=0.1)``."""
        self._server.configure(settings)

    def reset(self) -> None:
        """Forgets jobs, charges, scripts, rate-limit state and the request log; keeps data and settings."""
        self._server.reset()

    # -- data -------------------------------------------------------------------------------------------

    @property
    def people(self) -> Sequence[dict[str, Any]]:
        """Every person as a full record (email and phone numbers included); GDPR-removed people carry
        ``"_gdpr_removed": True``."""
        return _Records(self._server.people_count, self._server.person)

    @property
    def companies(self) -> Sequence[dict[str, Any]]:
        return _Records(self._server.companies_count, self._server.company)

    def add_person(self, person: Mapping[str, Any]) -> dict[str, Any]:
        """Adds a person (a dict shaped like a Person object) and returns its stored record.

        It needs a ``name`` (or ``first_name`` and ``last_name``) and one of ``linkedin_url``, ``email`` or
        ``company``. A ``company`` dict that names a known company by ``website`` or ``linkedin_url`` (and
        nothing more) links to it; otherwise it is added. ``"_gdpr_removed": True`` marks the person removed.
        """
        (index,) = self._server.add_people([dict(person)])
        return self._server.person(index)

    def add_people(self, people: Iterable[Mapping[str, Any]]) -> list[int]:
        """Adds many people at once (all or none); returns their indexes in ``people``."""
        return self._server.add_people([dict(p) for p in people])

    def add_people_from(self, path: str | os.PathLike[str]) -> list[int]:
        """Adds people from a ``.json`` file (a list of objects, or one object) or a ``.jsonl`` file."""
        p = Path(path)
        text = p.read_text(encoding="utf-8")
        records: list[Any]
        if p.suffix.lower() == ".jsonl":
            records = []
            for n, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    try:
                        records.append(json.loads(line))
                    except json.JSONDecodeError as e:
                        raise ValueError(f"{p}:{n}: not a JSON object: {e.msg}") from None
        else:
            try:
                loaded = json.loads(text)
            except json.JSONDecodeError as e:
                raise ValueError(f"{p}: not valid JSON: {e}") from None
            records = loaded if isinstance(loaded, list) else [loaded]
        return self._server.add_people(records)

    def add_company(self, company: Mapping[str, Any]) -> dict[str, Any]:
        """Adds a company (``name`` required; ``website`` gives its domain) and returns its record."""
        index = self._server.add_company(dict(company))
        return self._server.company(index)

    # -- behaviour for one test -------------------------------------------------------------------------

    def script(self, route: str, steps: Sequence[int | Mapping[str, Any]]) -> None:
        """Queues exact responses for a route, taken one per request before normal handling resumes.

        ``route`` is ``"METHOD /path"``; the path may be a template (``/people/enrichment-requests/{id}``) or a
        concrete path. Each step is a status (``429`` sends the standard error with ``Retry-After``; ``200``
        lets the real handler answer) or a dict with ``status``, ``body`` (str sent as is, else JSON),
        ``headers``, ``delay`` (seconds), ``retry_after`` and ``fault`` (``drop``, ``truncate``, ``html``,
        ``malformed``).
        """
        self._server.script(route, [s if isinstance(s, int) else dict(s) for s in steps])

    @property
    def pending_script_steps(self) -> int:
        return self._server.pending_script_steps()

    # -- what happened ------------------------------------------------------------------------------------

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request received (up to ``capture_limit``): ``seq``, ``time``, ``method``, ``path``,
        ``query``, ``headers`` (authorization masked), ``authorized``, ``body``, ``route``, ``status``,
        ``outcome`` (completed, aborted, dropped, truncated), ``injected`` and ``duration``."""
        return self._server.requests()

    def requests_since(self, seq: int) -> list[dict[str, Any]]:
        """Requests with ``seq`` above the given one."""
        return self._server.requests(seq)

    @property
    def credits(self) -> dict[str, Any]:
        """Balances (``email_credits``, ``phone_credits``) and every charge (``charges``)."""
        return self._server.credits()

    @staticmethod
    def openapi() -> dict[str, Any]:
        """The OpenAPI 3.1 document describing the API the sandbox serves."""
        doc: dict[str, Any] = json.loads(sandbox_openapi())
        return doc


# -- pytest plugin -------------------------------------------------------------------------------------------

try:
    import pytest
except ImportError:  # pragma: no cover - pytest is optional outside tests
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    def pytest_configure(config: Any) -> None:
        config.addinivalue_line(
            "markers",
            "amplemarket_sandbox(**settings): settings for the amplemarket_sandbox fixture in this test "
            "(seed/people/companies give the test its own server)",
        )

    @pytest.fixture(scope="session")
    def _amplemarket_sandbox_server() -> Iterator[Sandbox]:
        sb = Sandbox()
        yield sb
        sb.stop()

    @pytest.fixture
    def amplemarket_sandbox(request: Any, _amplemarket_sandbox_server: Sandbox) -> Iterator[Sandbox]:
        """A sandbox in a fresh state for this test (jobs, charges, scripts and log cleared)."""
        marker = request.node.get_closest_marker("amplemarket_sandbox")
        options: dict[str, Any] = dict(marker.kwargs) if marker else {}
        data = {k: options.pop(k) for k in _DATA_OPTIONS if k in options}
        if data:
            with Sandbox(**data, **options) as own:
                yield own
            return
        sb = _amplemarket_sandbox_server
        sb._server.configure(sandbox_default_settings() | options)
        sb.reset()
        yield sb

    @pytest.fixture
    def amplemarket_client(amplemarket_sandbox: Sandbox) -> Iterator[Client]:
        """An ``amplemarket.Client`` talking to the ``amplemarket_sandbox`` of this test."""
        with amplemarket_sandbox.client() as client:
            yield client
