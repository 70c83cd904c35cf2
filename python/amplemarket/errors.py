"""The exceptions this SDK raises.

::

    AmplemarketError
    ├── InvalidInputError (also a ValueError): bad arguments, caught before any request
    ├── ConfigurationError: a client that cannot work as configured (no API key, a bad base URL)
    ├── ClientClosedError: the client was closed
    ├── APIConnectionError: the server could not be reached or the connection broke
    │   └── APITimeoutError
    ├── APIResponseValidationError: a 2xx response this SDK cannot read
    ├── APIStatusError: the server answered with an error status
    │   ├── BadRequestError (400)            ├── AuthenticationError (401)
    │   ├── InsufficientCreditsError (402, or code insufficient_credits)
    │   ├── PermissionDeniedError (403)      ├── NotFoundError (404)
    │   ├── RequestTimeoutError (408)        ├── RateLimitError (429)
    │   ├── UnavailableForLegalReasonsError (451)
    │   └── InternalServerError (5xx)
    ├── BudgetExceededError: a call could cost more than its ``max_credits``; refused before sending
    ├── JobFailedError: a job (an enrichment or an email validation) ended in status ``error``
    └── JobTimeoutError (also a TimeoutError): a job was not done by the deadline given to ``wait``

``CacheWarning`` (a ``RuntimeWarning``, not an exception) says the result cache failed while in use; calls go on
without it. No message, attribute or pickle of these ever contains the API key.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AmplemarketError",
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceededError",
    "CacheWarning",
    "ClientClosedError",
    "ConfigurationError",
    "InsufficientCreditsError",
    "InternalServerError",
    "InvalidInputError",
    "JobFailedError",
    "JobTimeoutError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTimeoutError",
    "UnavailableForLegalReasonsError",
]


class AmplemarketError(Exception):
    """Base class of every error raised by this SDK."""

    def __init__(self, message: str, **attrs: Any) -> None:
        super().__init__(message)
        self.message = message
        self._attrs = attrs
        for k, v in attrs.items():
            setattr(self, k, v)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self._attrs))

    def __str__(self) -> str:
        return self.message


def _rebuild(cls: type[AmplemarketError], message: str, attrs: dict[str, Any]) -> AmplemarketError:
    return cls(message, **attrs)


class InvalidInputError(AmplemarketError, ValueError):
    """Arguments that cannot make a valid request; nothing was sent."""


class ConfigurationError(AmplemarketError):
    """The client cannot work as configured: no API key, an unusable key or base URL. (A setting with a bad value,
    such as ``timeout=-1``, raises ``InvalidInputError``.)"""


class ClientClosedError(AmplemarketError):
    """The client was closed; create a new one."""


class APIConnectionError(AmplemarketError):
    """The server could not be reached, or the connection failed before a full response arrived.

    Attributes: ``request`` (such as ``"GET /people/find"``).
    """

    request: str


class APITimeoutError(APIConnectionError):
    """The request timed out (see ``Client(timeout=...)``)."""


class APIResponseValidationError(AmplemarketError):
    """The server answered 2xx with a body this SDK cannot read. Attributes: ``status_code``, ``request``."""

    status_code: int
    request: str


class APIStatusError(AmplemarketError):
    """The server answered with an error status.

    Attributes: ``status_code``; ``code``, ``title``, ``detail`` and ``source`` of the first entry of the
    response's ``_errors``; ``errors`` (all of them, as sent); ``retry_after`` (seconds, or ``None``);
    ``headers``; ``request``; ``refused`` (a 4xx other than 408 and 429: nothing was started, and the same request
    would be refused again).
    """

    status_code: int
    refused: bool
    code: str | None
    title: str | None
    detail: str | None
    source: dict[str, Any] | None
    errors: list[dict[str, Any]]
    retry_after: float | None
    headers: dict[str, str]
    request: str


class BadRequestError(APIStatusError):
    """400: a parameter is missing or has an unsupported value (see ``source``)."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or wrong."""


class InsufficientCreditsError(APIStatusError):
    """The account has run out of credits (402, or the code ``insufficient_credits``)."""


class PermissionDeniedError(APIStatusError):
    """403: the account may not use this endpoint."""


class NotFoundError(APIStatusError):
    """404 (finds return ``None`` instead)."""


class RequestTimeoutError(APIStatusError):
    """408: a reveal was still processing after ``reveal_timeout``; ask again later (charged once)."""


class RateLimitError(APIStatusError):
    """429: over the rate limit even after retries; ``retry_after`` says when to come back."""


class UnavailableForLegalReasonsError(APIStatusError):
    """451: the person's data was removed for privacy reasons (GDPR)."""


class InternalServerError(APIStatusError):
    """5xx: the server failed, even after retries."""


class BudgetExceededError(AmplemarketError):
    """A call whose worst-case cost is more than its budget (the client's ``max_credits`` left, or the call's own),
    refused before anything was sent. Attributes: ``estimate`` and ``remaining``, each ``{"email": ..., "phone":
    ...}`` credits. ``amplemarket.estimate()`` tells a call's cost beforehand.
    """

    estimate: dict[str, float]
    remaining: dict[str, float]


class CacheWarning(RuntimeWarning):
    """The result cache failed while in use (a full disk, a file made read-only); the calls go on without it."""


class JobFailedError(AmplemarketError):
    """A job (an enrichment or an email validation) ended in status ``error``. Attributes: ``job_id`` (an integer,
    or an email validation's uuid), ``errors`` (the server's ``_errors``).

    Results produced before the failure can still be read with ``job.results()``.
    """

    job_id: int | str
    errors: list[dict[str, Any]]


class JobTimeoutError(AmplemarketError, TimeoutError):
    """``wait(timeout=...)`` ran out before the job finished; the job keeps running on the server.

    Attributes: ``job_id``, ``status`` (its last status), ``waited`` (seconds). Resume with
    ``EnrichmentJob.get(job_id)`` (``EmailValidation.get(job_id)`` for a validation); the message says which.
    """

    job_id: int | str
    status: str
    waited: float


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: RequestTimeoutError,
    429: RateLimitError,
    451: UnavailableForLegalReasonsError,
}


def _status_error_class(status: int, code: str | None) -> type[APIStatusError]:
    """The class for a status (unknown ones map to their family) and code."""
    if code == "insufficient_credits":
        return InsufficientCreditsError
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return InternalServerError
    return APIStatusError
