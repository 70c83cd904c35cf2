"""Scale-out benchmark: 100,000 leads through ``amplemarket.spark.enrich`` on Spark ``local[2]`` against an
``amplemarket sandbox`` server process.

1. Limits off: rows/s through Spark, and the wall time over ``Person.enrich`` of the same table in one process.
2. The default limits (500 requests a minute) on both sides: the share of the allowed rate the cluster holds, and the
   429s it met, read from the sandbox's request log (``--record``).

    python bench/scale.py [--leads 100000] [--partitions 10] [--skip-limited]

Writes ``bench/results/scale.{json,md}``. Needs ``pip install '.[spark]'`` and Java 17.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

import amplemarket

ROOT = Path(__file__).resolve().parent
KEY = "amp_bench_scale_key_0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, record: Path, *settings: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.record = record
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "amplemarket.cli",
                "sandbox",
                "--port",
                str(self.port),
                "--api-key",
                KEY,
                "--job-progression",
                "immediate",
                "--set",
                "poll_retry_after=0",
                "--record",
                str(record),
                *settings,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.proc.stdout.readline()

    def stop(self) -> dict[str, Any]:
        self.proc.terminate()
        self.proc.communicate(timeout=120)
        data: dict[str, Any] = json.loads(self.record.read_text())
        return data


def leads(n: int) -> pa.Table:
    """``n`` distinct leads: the sandbox's people's emails first, then addresses nobody has."""
    from amplemarket.testing import Sandbox

    with Sandbox() as twin:
        emails = [p["email"] for p in twin.people if p.get("email")]
    emails = emails[:n] + [f"lead{i}@nowhere.test" for i in range(max(0, n - len(emails)))]
    return pa.table({"row_id": pa.array(range(n), pa.int64()), "email": pa.array(emails[:n], pa.string())})


def spark_session() -> Any:
    from pyspark.sql import SparkSession

    os.environ["AMPLEMARKET_API_KEY"] = KEY
    s = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").getOrCreate()
    s.sparkContext.setLogLevel("ERROR")
    return s


def spark_run(spark: Any, table: pa.Table, partitions: int, url: str, rate_limit: Any) -> float:
    import amplemarket.spark as amp_spark

    df = spark.createDataFrame(table.to_pandas()).repartition(partitions, "row_id").cache()
    df.count()  # the input is built and cached before the clock starts
    started = time.perf_counter()
    amp_spark.enrich(df, sandbox_url=url, rate_limit=rate_limit).write.format("noop").mode("overwrite").save()
    wall = time.perf_counter() - started
    df.unpersist()
    return wall


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--leads", type=int, default=100_000)
    p.add_argument("--partitions", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3, help="timed runs of each side after one warm-up (limits off)")
    p.add_argument("--skip-limited", action="store_true")
    args = p.parse_args()
    out_dir = ROOT / "results"
    out_dir.mkdir(exist_ok=True)
    table = leads(args.leads)
    report: dict[str, Any] = {"leads": args.leads, "partitions": args.partitions, "cores": os.cpu_count()}

    # 1. Limits off: one process, then Spark, each warmed first (the sandbox's first sight of the leads, the Python
    # workers' imports). The one-process runs go before Spark's JVM starts, so they do not share the cores with it.
    records = Path(tempfile.mkdtemp(prefix="amplemarket-bench-scale-"))
    server = Server(records / "unlimited.json", "--no-rate-limits")
    with amplemarket.Client(api_key=KEY, base_url=server.url, rate_limit=False) as client:

        def direct() -> float:
            started = time.perf_counter()
            pa.table(amplemarket.Person.enrich(table, client=client).to_arrow())
            return time.perf_counter() - started

        direct_s = [direct() for _ in range(args.repeats + 1)][1:]
    spark = spark_session()
    first, *spark_s = [spark_run(spark, table, args.partitions, server.url, False) for _ in range(args.repeats + 1)]
    server.stop()
    d, w = statistics.median(direct_s), statistics.median(spark_s)
    report["unlimited"] = {
        "repeats": args.repeats,
        "direct_s": round(d, 2),
        "direct_min_max_s": [round(min(direct_s), 2), round(max(direct_s), 2)],
        "spark_s": round(w, 2),
        "spark_min_max_s": [round(min(spark_s), 2), round(max(spark_s), 2)],
        "spark_first_run_s": round(first, 2),
        "spark_rows_per_s": round(args.leads / w),
        "overhead": round(w / d, 2),
    }
    print(json.dumps(report["unlimited"]), flush=True)

    # 2. The default limits, on the server and shared by the tasks.
    if not args.skip_limited:
        server = Server(records / "limited.json")
        wall = spark_run(spark, table, args.partitions, server.url, True)
        record = server.stop()
        times = sorted(float(r["time"]) for r in record["requests"])
        span = times[-1] - times[0]
        lo, hi = int(len(times) * 0.1), int(len(times) * 0.9)
        report["limited"] = {
            "spark_s": round(wall, 2),
            "requests": len(times),
            "429": sum(1 for r in record["requests"] if r["status"] == 429),
            "requests_per_min_whole_run": round(60 * (len(times) - 1) / span, 1),
            "requests_per_min_steady": round(60 * (hi - lo) / (times[hi] - times[lo]), 1),
            "share_of_500_whole_run": round((len(times) - 1) / span * 60 / 500, 3),
            "share_of_500_steady": round((hi - lo) / (times[hi] - times[lo]) * 60 / 500, 3),
        }
        print(json.dumps(report["limited"]), flush=True)
    spark.stop()
    (out_dir / "scale.json").write_text(json.dumps(report, indent=1))
    lines = ["| run | figure |", "|---|---|"]
    u = report["unlimited"]
    lines += [
        f"| limits off: `Person.enrich` in one process, median of {u['repeats']} "
        f"| {u['direct_s']} s ({u['direct_min_max_s'][0]} to {u['direct_min_max_s'][1]}) |",
        f"| limits off: Spark local[2], {args.partitions} partitions, median of {u['repeats']} "
        f"| {u['spark_s']} s ({u['spark_min_max_s'][0]} to {u['spark_min_max_s'][1]}), "
        f"{u['spark_rows_per_s']} rows/s |",
        f"| limits off: Spark's first run (its Python workers start and import) | {u['spark_first_run_s']} s |",
        f"| overhead (Spark wall / one process, medians) | {u['overhead']}x |",
    ]
    if "limited" in report:
        m = report["limited"]
        lines += [
            f"| default limits: Spark wall | {m['spark_s']} s for {m['requests']} requests |",
            f"| requests/min, whole run (first to last request) | {m['requests_per_min_whole_run']} "
            f"({m['share_of_500_whole_run']:.1%} of 500) |",
            f"| requests/min, steady (10th to 90th percentile) | {m['requests_per_min_steady']} "
            f"({m['share_of_500_steady']:.1%} of 500) |",
            f"| 429 responses | {m['429']} |",
        ]
    (out_dir / "scale.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
