"""``amplemarket.spark`` on a real pyspark in local mode (2 task slots; ``local[2,2]`` lets Spark retry a failed
task once, as a cluster does) against ``amplemarket sandbox`` server processes, checked through each server's
request log and ledger: one row per input row with the right person, each distinct lead submitted once, no 429
while the tasks run at the account's rate, a retried task re-attaching to its jobs, and the key nowhere in the plan,
the task logs or the pickled task."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'amplemarket[spark]')")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("pyspark needs Java (17), which is not installed", allow_module_level=True)

import amplemarket
import amplemarket.spark as amp_spark

from ._helpers import KEY, ServerProcess, creations, jobs_polled, people_of, statuses, steady_rate, submitted_leads

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def spark_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("spark") / "jvm-and-tasks.log"


@pytest.fixture(scope="module")
def spark(spark_log: Path) -> Iterator[Any]:
    """One session for the module. The executors' environment holds the key (as a cluster secret would); the
    driver's does not, once the session runs. The JVM's stderr, with every task's, goes to ``spark_log``."""
    from pyspark.sql import SparkSession

    saved = {k: os.environ.get(k) for k in ("AMPLEMARKET_API_KEY", "AMPLEMARKET_LOG")}
    os.environ["AMPLEMARKET_API_KEY"] = KEY
    os.environ["AMPLEMARKET_LOG"] = "debug"
    stderr = os.dup(2)
    with open(spark_log, "wb") as log:
        os.dup2(log.fileno(), 2)  # the JVM inherits it, and its Python workers from it
        try:
            session = (
                SparkSession.builder.master("local[2,2]")
                .appName("amplemarket-tests")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.python.worker.reuse", "true")
                .getOrCreate()
            )
        finally:
            os.dup2(stderr, 2)
            os.close(stderr)
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    s = ServerProcess(tmp_path, "--no-rate-limits", "--job-progression", "immediate")
    yield s
    s.kill()


def frame(spark: Any, rows: list[tuple[Any, ...]], schema: str, partitions: int) -> Any:
    return spark.createDataFrame(rows, schema).repartition(partitions, "row_id")


def test_enrich_gives_one_row_per_input_row_with_the_right_person(spark: Any, server: ServerProcess) -> None:
    people = people_of(server, 400)
    rows: list[tuple[Any, ...]] = [(i, p["email"], p["name"]) for i, p in enumerate(people)]
    rows += [(1000, None, None), (1001, "nobody-at-all@nowhere.test", None), (1002, "", "  ")]  # nulls, blanks
    df = frame(spark, rows, "row_id long, email string, owner string", 4)
    out = amp_spark.enrich(df, sandbox_url=server.url, rate_limit=False)
    assert out.columns[:3] == ["row_id", "email", "owner"]
    assert out.columns[3:6] == ["status", "error", "result_id"]
    got = {r["row_id"]: r for r in out.collect()}
    assert len(got) == len(rows) == out.count()
    for i, p in enumerate(people):
        assert got[i]["status"] == "enriched", got[i]
        assert got[i]["person.name"] == p["name"]
        assert got[i]["person.id"] == p["id"]
    assert got[1000]["status"] == "invalid" and got[1000]["error"]
    assert got[1001]["status"] == "not_found"
    assert got[1002]["status"] == "invalid"
    record = server.stop()
    # Two actions ran the plan (collect, count): the second re-attached to the first one's jobs by key.
    assert all(n == 1 for n in submitted_leads(record).values())
    assert sum(submitted_leads(record).values()) == len(people) + 1
    charged = [c["person_id"] for c in record["credits"]["charges"] if c["kind"] == "found"]
    assert sorted(charged) == sorted({p["id"] for p in people})


def test_empty_and_skewed_partitions(spark: Any, server: ServerProcess) -> None:
    """One partition of 25,000 rows (three requests of at most 10,000), one empty, one of a single row."""
    people = people_of(server, 51)
    big = [(i, f"lead{i}@nowhere.test") for i in range(25_000)]
    big[:50] = [(i, p["email"]) for i, p in enumerate(people[:50])]
    rows = [*big, (99_999, people[0]["email"])]
    df = spark.createDataFrame(rows, "row_id long, email string").coalesce(1)
    skewed = df.unionByName(spark.createDataFrame([(100_000, people[50]["email"])], "row_id long, email string"))
    skewed = skewed.unionByName(spark.createDataFrame([], "row_id long, email string"))
    assert skewed.rdd.getNumPartitions() >= 2
    out = amp_spark.enrich(skewed, sandbox_url=server.url, rate_limit=False).select("row_id", "status", "`person.id`")
    got = {r["row_id"]: r for r in out.collect()}
    assert len(got) == len(rows) + 1
    assert [got[i]["person.id"] for i in range(50)] == [p["id"] for p in people[:50]]
    assert got[99_999]["person.id"] == people[0]["id"]  # a duplicate of row 0, in the same partition
    assert got[100_000]["person.id"] == people[50]["id"]
    assert got[24_999]["status"] == "not_found"
    record = server.stop()
    sizes = sorted(len(json.loads(r["body"])["leads"]) for r in creations(record))
    assert sizes == [1, 5_000, 10_000, 10_000]  # the duplicate was sent once
    assert all(n == 1 for n in submitted_leads(record).values())


def test_the_cluster_holds_the_rate_limit_without_429(spark: Any, tmp_path: Path) -> None:
    """The server allows 40 requests per 4 s; the client gets the same limits, shared by 2 tasks (20 per 4 s each,
    evenly spaced). 6 partitions of 1,500 leads: ~18 requests each, so pacing decides how long it takes."""
    server = ServerProcess(
        tmp_path, "--job-progression", "immediate", "--set", "rate_limit=40", "--set", "rate_limit_window=4"
    )
    try:
        people = people_of(server, 9_000 // 6)
        rows = [(i, p["email"] if i < len(people) else f"lead{i}@nowhere.test") for i, p in enumerate(people)]
        rows += [(i, f"lead{i}@nowhere.test") for i in range(len(people), 9_000)]
        df = frame(spark, rows, "row_id long, email string", 6)
        limits = amplemarket.RateLimits(requests=40, search=None, per=4)
        out = amp_spark.enrich(df, sandbox_url=server.url, rate_limit=limits)
        assert out.count() == 9_000
        record = server.stop()
    finally:
        server.kill()
    counted = statuses(record)
    assert counted[429] == 0, counted
    assert len(record["requests"]) >= 100
    rate = steady_rate(record)
    assert rate >= 0.9 * 40 / 4, f"{rate:.2f} requests/s while both tasks ran; allowed 10"
    assert rate <= 40 / 4 * 1.02
    assert all(n == 1 for n in submitted_leads(record).values())


@pytest.mark.parametrize("with_checkpoint", [False, True])
def test_a_retried_task_does_not_submit_again(
    spark: Any, server: ServerProcess, tmp_path: Path, with_checkpoint: bool
) -> None:
    people = people_of(server, 300)
    df = frame(spark, [(i, p["email"]) for i, p in enumerate(people)], "row_id long, email string", 3)
    checkpoint = str(tmp_path / "checkpoint") if with_checkpoint else None
    enriched = amp_spark.enrich(df, sandbox_url=server.url, rate_limit=False, checkpoint=checkpoint)

    def fail_first_attempt_of_partition_1(batches: Iterator[Any]) -> Iterator[Any]:
        """Downstream in the same task: the enrichment has finished (its jobs exist) when the task dies."""
        from pyspark import TaskContext

        ctx = TaskContext.get()
        for b in batches:
            if ctx is not None and ctx.partitionId() == 1 and ctx.attemptNumber() == 0:
                raise RuntimeError("injected: executor lost mid-task")
            yield b

    # Spark reads a dot in a name as a struct field, and mapInArrow names its input columns: rename first.
    flat = enriched.toDF(*[c.replace(".", "__") for c in enriched.columns])
    out = flat.mapInArrow(fail_first_attempt_of_partition_1, flat.schema)
    got = {r["row_id"]: r["person__id"] for r in out.collect()}
    assert got == {i: p["id"] for i, p in enumerate(people)}
    record = server.stop()
    # Three partitions, three jobs, whatever the retry did.
    assert len(jobs_polled(record)) == 3
    assert all(n == 1 for n in submitted_leads(record).values())
    if with_checkpoint:
        # The retry found its job in the checkpoint and fetched it: no creation was sent again at all.
        assert len(creations(record)) == 3
        assert len(list((tmp_path / "checkpoint").glob("*.json"))) == 3
    else:
        # The retry sent its creation again with the same key; the server answered with the job it had.
        keys = [r["headers"]["idempotency-key"] for r in creations(record)]
        assert len(keys) == 4 and len(set(keys)) == 3
    charged = [c["person_id"] for c in record["credits"]["charges"] if c["kind"] == "found"]
    assert len(charged) == len(set(charged)) == len(people)


def test_the_key_is_not_in_the_plan_the_logs_or_the_task(
    spark: Any, server: ServerProcess, spark_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    people = people_of(server, 20)
    df = frame(spark, [(i, p["email"]) for i, p in enumerate(people)], "row_id long, email string", 2)
    out = amp_spark.enrich(df, sandbox_url=server.url, rate_limit=False)
    out.explain(extended=True)
    plan = capsys.readouterr().out + out._jdf.queryExecution().toString()
    assert "MapInArrow" in plan
    assert out.count() == 20
    # The task logs: every task logged its requests at DEBUG (AMPLEMARKET_LOG on the executors).
    log = spark_log.read_text(errors="replace")
    assert "amplemarket DEBUG" in log or "amplemarket INFO" in log
    for text in (plan, log):
        for i in range(len(KEY) - 7):
            assert KEY[i : i + 8] not in text, KEY[i : i + 8]
    assert "amp_…" in log or server.url in log


def test_find_looks_each_row_up(spark: Any, server: ServerProcess) -> None:
    people = people_of(server, 30)
    rows = [(i, p["email"]) for i, p in enumerate(people)] + [(30, "nobody@nowhere.test"), (31, None)]
    df = frame(spark, rows, "row_id long, email string", 2)
    out = amp_spark.find(df, sandbox_url=server.url, rate_limit=False)
    assert "result_id" not in out.columns
    got = {r["row_id"]: r for r in out.collect()}
    assert [got[i]["person.id"] for i in range(30)] == [p["id"] for p in people]
    assert (got[30]["status"], got[31]["status"]) == ("not_found", "invalid")
    finds = [r for r in server.stop()["requests"] if r["route"] == "GET /people/find"]
    assert len(finds) == 31


def test_a_client_travels_to_the_executors(spark: Any, server: ServerProcess) -> None:
    """A client captured in a closure unpickles on the executor with the executor's key."""
    client = amplemarket.Client(api_key=KEY, base_url=server.url)
    got = spark.sparkContext.parallelize([1, 2], 2).map(lambda _: client.account_info()["object"]).collect()
    assert got == ["account_info", "account_info"]


def test_a_literal_key_is_refused(spark: Any) -> None:
    df = spark.createDataFrame([(1, "a@b.com")], "row_id long, email string")
    with pytest.raises(TypeError, match="pickled into every task"):
        amp_spark.enrich(df, api_key=KEY)  # type: ignore[arg-type]
