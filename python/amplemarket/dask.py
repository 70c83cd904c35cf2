"""Enrich a Dask DataFrame where it lives: ``amplemarket.dask.enrich(ddf)`` and ``amplemarket.dask.find(ddf)``.

The same design as ``amplemarket.spark``: ``map_partitions`` hands each pandas partition to the Rust core, which sends
it as bulk enrichment requests of at most 10,000 leads under the task's share of the account's rate limit, with
idempotency keys derived from the leads (and job ids recorded in ``checkpoint=`` when given), so a task that Dask
runs again re-attaches instead of paying again. ``meta`` is computed locally, so Dask never calls the API to learn
the output's columns. Needs ``pip install 'amplemarket[dask]'``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from amplemarket._scale import (
    Engine,
    TaskSettings,
    empty_results,
    enrich_partition,
    find_partition,
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


_engine = Engine(slots=task_slots, run=_map)
enrich = _engine.enrich
find = _engine.find
