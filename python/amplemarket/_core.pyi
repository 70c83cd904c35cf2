"""Type stubs for the Rust extension ``amplemarket._core``."""

from typing import Any, final

__version__: str

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
