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

from collections.abc import Iterator
from typing import Any, Literal

from amplemarket._scale import (
    Engine,
    TaskSettings,
    empty_results,
    enrich_partition,
    find_partition,
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


_engine = Engine(slots=task_slots, run=_map)
enrich = _engine.enrich
find = _engine.find
