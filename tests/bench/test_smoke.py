"""The benchmark suite at tiny sizes, so it cannot rot: it runs end to end and reports every figure and verdict.
Speed itself is never asserted here (that is what `python bench/run.py` is for)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_runs_end_to_end(tmp_path: Path) -> None:
    p = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--no-chart", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    report = json.loads((tmp_path / "results.json").read_text())
    assert report["machine"]["cores"] >= 1
    fanout = report["workloads"]["fanout"]
    for client in ("amplemarket", "amplemarket-async", "httpx", "httpx-orjson", "requests", "aiohttp"):
        assert client in fanout, f"{client} skipped: {p.stderr[-3000:]}"  # run.py says why on stderr
        assert fanout[client]["req_per_s"] > 0, client
    assert report["workloads"]["sequential"]["amplemarket"]["median_latency_ms"] > 0
    bulk = report["workloads"]["bulk"]
    assert bulk["amplemarket"]["wall_s"] > 0 and bulk["httpx-orjson"]["peak_rss_mb"] > 0
    assert set(report["import_ms"]) == {"amplemarket", "httpx"}
    assert {"fanout_vs_best_baseline", "sequential_vs_requests", "bulk_wall_vs_httpx_orjson", "import_vs_httpx"} <= set(
        report["verdicts"]
    )
    table = (tmp_path / "results.md").read_text()
    assert "| fanout | amplemarket |" in table and "| target | ratio | wanted | met |" in table


def test_tables_bench_runs_end_to_end(tmp_path: Path) -> None:
    p = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "tables.py"), "--quick", "--no-chart", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    report = json.loads((tmp_path / "tables.json").read_text())
    for figure in ("enrich_s", "rows_to_pandas_s", "to_arrow_s", "to_polars_s", "to_pandas_s"):
        assert report["convert"][figure] > 0, figure
    assert report["rss"]["results"] > 0 and report["rss"]["rows"] > 0
    assert report["requests"]["requests"] == report["sizes"]["frame"] // 10_000 and report["requests"]["cpu_s"] > 0
    assert "`results.to_pandas()`" in (tmp_path / "tables.md").read_text()


def test_cache_bench_runs_end_to_end(tmp_path: Path) -> None:
    p = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "cache.py"), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    report = json.loads((tmp_path / "cache.json").read_text())
    n = report["sizes"]["leads"]
    assert report["rerun"]["first"]["from_cache"] == 0 and report["rerun"]["again"]["from_cache"] == n
    assert report["overhead"]["uncached_s"] > 0 and report["overhead"]["cached_s"] > 0
    assert "answered from the cache" in (tmp_path / "cache.md").read_text()
