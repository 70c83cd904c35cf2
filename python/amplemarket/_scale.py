"""What ``amplemarket.spark`` and ``amplemarket.dask`` share: the settings a task carries (never the API key), the
client each task builds under its share of the account's rate limit, the checkpoint directory, and the enrichment
of one partition with idempotency keys derived from its content.

Nothing here imports pyspark or dask.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import sys
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from amplemarket._core import Client, RateLimits, _empty_results, _enrich_keyed

if TYPE_CHECKING:
    from typing_extensions import Unpack

#: The environment variable a task reads its key from unless ``api_key`` is a callable.
KEY_VARIABLE = "AMPLEMARKET_API_KEY"


def limits_of(rate_limit: bool | RateLimits | None) -> RateLimits | None:
    """The account's limits as given: ``True`` the documented ones, ``False`` / ``None`` none."""
    if rate_limit is True:
        return RateLimits()
    if rate_limit is False or rate_limit is None:
        return None
    if isinstance(rate_limit, RateLimits):
        return rate_limit
    raise TypeError(f"rate_limit must be True, False or an amplemarket.RateLimits, got {type(rate_limit).__name__}")


def check_key_argument(api_key: Any) -> Callable[[], str] | None:
    """``api_key`` as the scale-out functions take it: ``None`` (each task reads ``AMPLEMARKET_API_KEY``) or a
    callable run on the executor (it reads a secret there). A string is refused: it would travel inside the task's
    pickled closure, to every executor and into anything that stores the plan."""
    if api_key is None or callable(api_key):
        provider: Callable[[], str] | None = api_key
        return provider
    raise TypeError(
        "api_key must be None (each task reads AMPLEMARKET_API_KEY from its executor's environment) or a callable "
        "that returns the key on the executor (such as lambda: dbutils.secrets.get('scope', 'amplemarket')); a key "
        "given as text would be pickled into every task and could be read back from the plan"
    )


def check_base_url(base_url: str | None, sandbox_url: str | None) -> str | None:
    if base_url is not None and sandbox_url is not None and base_url != sandbox_url:
        raise ValueError("give base_url or sandbox_url, not both")
    return sandbox_url if sandbox_url is not None else base_url


@dataclass(frozen=True)
class TaskSettings:
    """What a task needs to build its client and enrich its partition. Pickled into every task: no key in it."""

    reveal_email: bool = False
    reveal_phone_numbers: bool = False
    columns: Mapping[str, str | None] | None = None
    api_key: Callable[[], str] | None = None
    base_url: str | None = None
    #: This task's share of the account's limits (``None``: unpaced).
    rate_limit: RateLimits | None = None
    timeout: float | None = None
    client_options: Mapping[str, Any] = field(default_factory=dict)
    checkpoint: str | None = None
    #: Mixed into every idempotency key: shared by every attempt of every task of one call.
    key_salt: str = field(default_factory=lambda: uuid.uuid4().hex)
    find_concurrency: int = 8

    def client(self) -> Client:
        """A client for this task: its key from the callable or the executor's environment, its share of the
        limits. Built in the task, so no key ever travels with the task."""
        _log_to_stderr()
        key = self.api_key() if self.api_key is not None else os.environ.get(KEY_VARIABLE)
        if not key:
            from amplemarket.errors import ConfigurationError

            raise ConfigurationError(
                f"no API key on this executor: set {KEY_VARIABLE} in the executors' environment (a cluster "
                "environment variable or secret), or pass api_key=<a callable returning the key on the executor>"
            )
        return Client(
            api_key=key,
            base_url=self.base_url,
            rate_limit=self.rate_limit if self.rate_limit is not None else False,
            **dict(self.client_options),
        )


class TaskOptions(TypedDict, total=False):
    """The options ``enrich`` and ``find`` share (each is described in ``Engine.enrich``)."""

    columns: Mapping[str, str | None] | None
    reveal_email: bool
    reveal_phone_numbers: bool
    api_key: Callable[[], str] | None
    base_url: str | None
    sandbox_url: str | None
    rate_limit: bool | RateLimits
    concurrency: int | None
    client_options: Mapping[str, Any] | None


def task_settings(
    call: Callable[..., Any],
    slots: Callable[[], int],
    options: TaskOptions,
    *,
    checkpoint: str | None = None,
    timeout: float | None = None,
    find_concurrency: int = 8,
) -> TaskSettings:
    """The settings every task of one call gets: its share of the rate limit (the limit over ``concurrency``, or
    over the engine's task slots), the key source, the checkpoint and the idempotency salt."""
    unknown = sorted(set(options) - set(TaskOptions.__annotations__))
    if unknown:
        own = [p.name for p in inspect.signature(call).parameters.values() if p.kind is p.KEYWORD_ONLY]
        known = ", ".join(sorted({*TaskOptions.__annotations__, *own}))
        raise TypeError(f"{call.__name__}() got an unexpected keyword argument {unknown[0]!r}; it takes {known}")
    concurrency = options.get("concurrency")
    if concurrency is not None and concurrency < 1:
        raise ValueError(f"concurrency must be a positive number of tasks running at once, got {concurrency}")
    limits = limits_of(options.get("rate_limit", True))
    n = concurrency if concurrency is not None else slots()
    if checkpoint is not None:
        Checkpoint(checkpoint).prepare()
    columns = options.get("columns")
    return TaskSettings(
        reveal_email=options.get("reveal_email", False),
        reveal_phone_numbers=options.get("reveal_phone_numbers", False),
        columns=dict(columns) if columns is not None else None,
        api_key=check_key_argument(options.get("api_key")),
        base_url=check_base_url(options.get("base_url"), options.get("sandbox_url")),
        rate_limit=limits.share(n) if limits is not None else None,
        timeout=timeout,
        client_options=dict(options.get("client_options") or {}),
        checkpoint=checkpoint,
        key_salt=salt_for(checkpoint),
        find_concurrency=find_concurrency,
    )


Kind = Literal["enrich", "find"]


@dataclass(frozen=True)
class Engine:
    """``enrich`` and ``find`` over one engine's DataFrames (``amplemarket.spark``, ``amplemarket.dask``), declared
    once: ``slots`` counts the tasks of a DataFrame that run at once, ``run`` maps each partition through the
    Rust core."""

    slots: Callable[[Any], int]
    run: Callable[[Any, Kind, TaskSettings], Any]

    def enrich(
        self, df: Any, *, checkpoint: str | None = None, timeout: float | None = None, **options: Unpack[TaskOptions]
    ) -> Any:
        """``df`` (a Spark or Dask DataFrame) enriched: every input column (and a Dask DataFrame's index), then the
        result columns of ``Person.enrich`` (``status``, ``error``, ``result_id``, ``person.*``, ``company.*``,
        ``person_json``; in pandas' nullable dtypes for Dask), one output row per input row.

        Args:
            columns: Maps columns to lead fields as ``Person.enrich`` does (headers like Email are found alone).
            reveal_email / reveal_phone_numbers: Reveal each person's email / phone numbers, as ``Person.enrich``
                (each reveal costs a credit).
            api_key: ``None``: each task reads ``AMPLEMARKET_API_KEY`` on its executor; or a callable run there that
                returns the key (a secret store). Never the key itself: it would be pickled into every task.
            base_url / sandbox_url: The API's address (a sandbox server's, in tests and demos); else each executor's
                ``AMPLEMARKET_BASE_URL``, else the public API.
            rate_limit: The account's limits (``True``: 500 requests and 30 searches a minute), shared by the tasks
                that run at once: each task gets the limit divided by ``concurrency``, evenly spaced.
            concurrency: Tasks running at once; default the engine's parallelism (at most the partitions).
            checkpoint: A directory (local path, ``dbfs:/…``, or any fsspec URL) where each request's job id is
                recorded as it is created; a retried task re-attaches to its first attempt's jobs. It also names the
                run: the same checkpoint and the same leads find the same jobs (use a new one for a new run).
            timeout: Seconds each task waits for its jobs.
            client_options: More ``Client`` settings (``max_retries``, ``timeout``…) for the tasks' clients.
        """
        settings = task_settings(self.enrich, lambda: self.slots(df), options, checkpoint=checkpoint, timeout=timeout)
        return self.run(df, "enrich", settings)

    def find(self, df: Any, *, find_concurrency: int = 8, **options: Unpack[TaskOptions]) -> Any:
        """``df`` with each row looked up on its own (``/people/find``, as ``Person.find_many``): every input column,
        then ``status`` (``found``, ``not_found``, ``invalid``, ``failed``), ``error``, ``person.*``, ``company.*``,
        ``person_json``. One request per row, so ~100x slower than ``enrich`` under the same rate limit; use it where
        ``/people/find``'s matching is wanted. Arguments as ``enrich``; ``find_concurrency`` bounds each task's
        requests in flight."""
        settings = task_settings(self.find, lambda: self.slots(df), options, find_concurrency=find_concurrency)
        return self.run(df, "find", settings)


def _log_to_stderr() -> None:
    """With ``AMPLEMARKET_LOG=info|debug`` on the executor, the SDK's log lines go to the task's stderr (its log)."""
    level = os.environ.get("AMPLEMARKET_LOG", "").strip().lower()
    logger = logging.getLogger("amplemarket")
    if level in ("info", "debug") and not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("amplemarket %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG if level == "debug" else logging.INFO)


class Checkpoint:
    """A directory (local, or any fsspec URL) holding one small JSON file per enrichment request started:
    ``<idempotency key>.json`` with its job id, written as soon as the job exists. A retried task reads them and
    re-attaches to its first attempt's jobs instead of submitting again. ``dbfs:/x`` is read through the ``/dbfs``
    mount where it exists."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        if self.url.startswith("dbfs:/") and os.path.isdir("/dbfs"):
            self.url = "/dbfs/" + self.url[len("dbfs:/") :].lstrip("/")

    def _fs(self) -> tuple[Any, str]:
        if "://" not in self.url:
            return None, self.url
        try:
            import fsspec
        except ImportError:  # pragma: no cover - fsspec is a dependency of the extras
            raise ImportError(f"checkpoint={self.url!r} needs fsspec: pip install fsspec") from None
        fs, path = fsspec.core.url_to_fs(self.url)
        return fs, path

    def prepare(self) -> None:
        """Creates the directory (on the driver, before any task runs), so a bad path fails early."""
        fs, path = self._fs()
        if fs is None:
            os.makedirs(path, exist_ok=True)
        else:
            fs.makedirs(path, exist_ok=True)

    def load(self) -> dict[str, str]:
        """Every job recorded so far, by idempotency key."""
        fs, path = self._fs()
        found: dict[str, str] = {}
        if fs is None:
            names = [n for n in os.listdir(path) if n.endswith(".json")] if os.path.isdir(path) else []
            for name in names:
                try:
                    with open(os.path.join(path, name), encoding="utf-8") as f:
                        record = json.load(f)
                except (OSError, ValueError):
                    continue  # a file cut short by a crash: its job was never confirmed
                found[str(record["key"])] = str(record["job_id"])
            return found
        if not fs.exists(path):
            return found
        for name in fs.ls(path, detail=False):
            if str(name).endswith(".json"):
                try:
                    record = json.loads(fs.cat_file(name))
                except (OSError, ValueError):
                    continue
                found[str(record["key"])] = str(record["job_id"])
        return found

    def record(self, key: str, job_id: str) -> None:
        """Writes one job's file: complete or absent (a temporary file renamed into place, where renames exist)."""
        fs, path = self._fs()
        body = json.dumps({"key": key, "job_id": job_id}).encode()
        if fs is None:
            os.makedirs(path, exist_ok=True)
            tmp = os.path.join(path, f".{key}.{uuid.uuid4().hex}.tmp")
            with open(tmp, "wb") as f:
                f.write(body)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, os.path.join(path, f"{key}.json"))
        else:
            fs.pipe_file(f"{path}/{key}.json", body)  # one object written whole


def enrich_partition(table: Any, settings: TaskSettings) -> Any:
    """One partition (anything ``Person.enrich`` reads as a table) enriched: its ``Results``. Requests carry
    idempotency keys derived from the call's salt, the options and their leads; with a checkpoint, jobs an earlier
    attempt started are fetched instead of created."""
    checkpoint = Checkpoint(settings.checkpoint) if settings.checkpoint else None
    known = checkpoint.load() if checkpoint else {}
    with settings.client() as client:
        return _enrich_keyed(
            table,
            key_salt=settings.key_salt,
            jobs=known,
            on_job=checkpoint.record if checkpoint else None,
            reveal_email=settings.reveal_email,
            reveal_phone_numbers=settings.reveal_phone_numbers,
            timeout=settings.timeout,
            columns=dict(settings.columns) if settings.columns is not None else None,
            client=client,
        )


def find_partition(table: Any, settings: TaskSettings) -> Any:
    """One partition's rows looked up one by one (``Person.find_many``): its ``Results``."""
    from amplemarket._core import Person

    with settings.client() as client:
        return Person.find_many(
            table,
            reveal_email=settings.reveal_email,
            reveal_phone_numbers=settings.reveal_phone_numbers,
            concurrency=settings.find_concurrency,
            columns=dict(settings.columns) if settings.columns is not None else None,
            client=client,
        )


def empty_results(kind: Literal["enrich", "find"], table: Any) -> Any:
    """No results over an empty table: the schema (``to_arrow``) and dtypes (``to_pandas``) of real ones."""
    return _empty_results(kind, table)


def salt_for(checkpoint: str | None) -> str:
    """The key salt of one call: fixed by its checkpoint (so a driver run again with the same checkpoint finds its
    jobs), else fresh."""
    return f"checkpoint:{checkpoint}" if checkpoint else uuid.uuid4().hex
