"""Enrich a Dask DataFrame where it lives: ``amplemarket.dask.enrich(ddf)`` and ``amplemarket.dask.find(ddf)``.

The same design as ``amplemarket.spark``: ``map_partitions`` hands each pandas partition to the Rust core, which sends
it as bulk enrichment requests of at most 10,000 leads under the task's share of the account's rate limit, with
idempotency keys derived from the leads (and job ids recorded in ``checkpoint=`` when given), so a task that Dask
runs again re-attaches instead of paying again. ``meta`` is computed locally, so Dask never calls the API to learn
the output's columns. Needs ``pip install 'amplemarket[dask]'``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from amplemarket._core import RateLimits
from amplemarket._scale import (
    TaskSettings,
    empty_results,
    enrich_partition,
    find_partition,
    task_settings,
)

__all__ = ["enrich", "find", "task_slots"]


def task_slots(ddf: Any) -> int:
    """How many tasks of ``ddf`` run at once: the threads of the distributed cluster in use (else the machine's
    cores), at most the number of partitions."""
    try:
        from distributed import get_client

        slots = int(sum(get_client().nthreads().values()))  # type: ignore[no-untyped-call]
    except (ImportError, ValueError):
        import os

        slots = os.cpu_count() or 1
    return max(1, min(slots, int(ddf.npartitions)))


def _partition(kind: Literal["enrich", "find"], settings: TaskSettings) -> Callable[[Any], Any]:
    work = enrich_partition if kind == "enrich" else find_partition

    def run(pdf: Any) -> Any:
        if len(pdf) == 0:
            return empty_results(kind, pdf).to_pandas()
        return work(pdf, settings).to_pandas()

    return run


def _map(ddf: Any, kind: Literal["enrich", "find"], settings: TaskSettings) -> Any:
    meta = empty_results(kind, ddf._meta).to_pandas()
    return ddf.map_partitions(_partition(kind, settings), meta=meta, enforce_metadata=False)


def enrich(
    ddf: Any,
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
    """``ddf`` enriched: each partition's columns and index, then the result columns of ``Person.enrich`` in
    pandas' nullable dtypes, one row per input row. Arguments as ``amplemarket.spark.enrich``."""
    settings = task_settings(
        lambda: task_slots(ddf),
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
    return _map(ddf, "enrich", settings)


def find(
    ddf: Any,
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
    """``ddf`` with each row looked up on its own (``/people/find``), as ``amplemarket.spark.find``."""
    settings = task_settings(
        lambda: task_slots(ddf),
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
    return _map(ddf, "find", settings)
