"""Enrich a Spark DataFrame where it lives: ``amplemarket.spark.enrich(df)`` and ``amplemarket.spark.find(df)``.

Each task reads its partition as Arrow batches (``mapInArrow``), hands them to the Rust core, and sends them as bulk
enrichment requests of at most 10,000 leads, paced to its share of the account's rate limit (the limit divided by
the tasks that run at once). Requests carry idempotency keys derived from their leads, and with ``checkpoint=`` each
job's id is recorded as soon as it exists, so a task that Spark runs again (a lost executor, speculation, a second
action on the same DataFrame) re-attaches to the jobs its first attempt started instead of paying again.

The API key never travels with the tasks: each reads ``AMPLEMARKET_API_KEY`` from its executor's environment, or
calls ``api_key`` (a callable) there. Needs ``pip install 'amplemarket[spark]'``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

from amplemarket._core import RateLimits
from amplemarket._scale import (
    TaskSettings,
    empty_results,
    enrich_partition,
    find_partition,
    task_settings,
)

__all__ = ["enrich", "find", "output_schema", "task_slots"]


def _pyspark() -> Any:
    try:
        import pyarrow
        import pyspark
    except ImportError as e:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            f"amplemarket.spark needs pyspark and pyarrow ({e}); install them with pip install 'amplemarket[spark]'"
        ) from None
    return pyspark, pyarrow


def task_slots(df: Any) -> int:
    """How many tasks of ``df`` run at once: the engine's parallelism (``defaultParallelism`` divided by
    ``spark.task.cpus``), at most the number of partitions."""
    spark = df.sparkSession
    sc = spark.sparkContext
    cpus = int(sc.getConf().get("spark.task.cpus", "1") or 1)
    slots = max(1, int(sc.defaultParallelism) // max(1, cpus))
    return max(1, min(slots, int(df.rdd.getNumPartitions())))


def output_schema(df: Any, kind: Literal["enrich", "find"] = "enrich") -> Any:
    """The Spark schema of ``enrich(df)`` (``kind="enrich"``) or ``find(df)`` (``kind="find"``): ``df``'s columns,
    then the result columns (see ``amplemarket.Results``), computed without calling the API."""
    _, pa = _pyspark()
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    empty = to_arrow_schema(df.schema).empty_table()
    arrow = pa.table(empty_results(kind, empty).to_arrow()).schema
    return from_arrow_schema(arrow)


def _map(df: Any, kind: Literal["enrich", "find"], settings: TaskSettings) -> Any:
    _pyspark()
    from pyspark.sql.pandas.types import to_arrow_schema

    schema = output_schema(df, kind)
    arrow_schema = to_arrow_schema(schema)
    work = enrich_partition if kind == "enrich" else find_partition

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow

        given = [b for b in batches if b.num_rows]
        if not given:
            return
        table = pyarrow.Table.from_batches(given)
        out = pyarrow.table(work(table, settings).to_arrow())
        yield from out.cast(arrow_schema).to_batches()

    return df.mapInArrow(run, schema)


def enrich(
    df: Any,
    *,
    columns: Mapping[str, str | None] | None = None,
    reveal_email: bool = False,
    reveal_phone_numbers: bool = False,
    api_key: Callable[[], str] | None = None,
    base_url: str | None = None,
    sandbox_url: str | None = None,
    rate_limit: bool | RateLimits = True,
    concurrency: int | None = None,
    checkpoint: str | None = None,
    timeout: float | None = None,
    client_options: Mapping[str, Any] | None = None,
) -> Any:
    """``df`` enriched: every input column, then the result columns of ``Person.enrich`` (``status``, ``error``,
    ``result_id``, ``person.*``, ``company.*``, ``person_json``), one output row per input row.

    Args:
        columns: Maps columns to lead fields as ``Person.enrich`` does (headers like Email are found alone).
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
    settings = task_settings(
        lambda: task_slots(df),
        columns=columns,
        reveal_email=reveal_email,
        reveal_phone_numbers=reveal_phone_numbers,
        api_key=api_key,
        base_url=base_url,
        sandbox_url=sandbox_url,
        rate_limit=rate_limit,
        concurrency=concurrency,
        checkpoint=checkpoint,
        timeout=timeout,
        client_options=client_options,
    )
    return _map(df, "enrich", settings)


def find(
    df: Any,
    *,
    columns: Mapping[str, str | None] | None = None,
    reveal_email: bool = False,
    reveal_phone_numbers: bool = False,
    api_key: Callable[[], str] | None = None,
    base_url: str | None = None,
    sandbox_url: str | None = None,
    rate_limit: bool | RateLimits = True,
    concurrency: int | None = None,
    find_concurrency: int = 8,
    client_options: Mapping[str, Any] | None = None,
) -> Any:
    """``df`` with each row looked up on its own (``/people/find``, as ``Person.find_many``): every input column,
    then ``status`` (``found``, ``not_found``, ``invalid``, ``failed``), ``error``, ``person.*``, ``company.*``,
    ``person_json``. One request per row, so ~100x slower than ``enrich`` under the same rate limit; use it where
    ``/people/find``'s matching is wanted. Arguments as ``enrich``; ``find_concurrency`` bounds each task's
    requests in flight."""
    settings = task_settings(
        lambda: task_slots(df),
        columns=columns,
        reveal_email=reveal_email,
        reveal_phone_numbers=reveal_phone_numbers,
        api_key=api_key,
        base_url=base_url,
        sandbox_url=sandbox_url,
        rate_limit=rate_limit,
        concurrency=concurrency,
        checkpoint=None,
        timeout=None,
        client_options=client_options,
        find_concurrency=find_concurrency,
    )
    return _map(df, "find", settings)
