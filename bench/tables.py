"""Tables benchmark: results into Arrow / polars / pandas, and a large polars frame of leads into enrichment requests.

    python bench/tables.py            # 100,000 results; a 1,000,000-row polars frame (a few minutes on 2 cores)
    python bench/tables.py --quick    # tiny sizes, for the CI smoke test

Starts the sandbox as a separate process (as ``bench/run.py`` does), runs each measurement in a fresh process, and
writes ``tables.json``, ``tables.md`` and ``tables.png`` (with matplotlib) into ``--out``. Figures:

- ``convert``: ``Person.enrich`` of N leads, then the results into a table: ``amplemarket.to_pandas(list)`` (the
  row-by-row path that was the only one before ``Results``), ``to_arrow()`` (read by ``pyarrow.table``),
  ``to_polars()`` and ``to_pandas()``; each the median of its repeats, in seconds.
- ``rss``: the peak RSS of a process that enriches N leads and makes a pandas DataFrame, each way.
- ``requests``: a polars DataFrame of M leads sent as M / 10,000 ``EnrichmentJob.create`` requests: the client's
  CPU seconds (table reading, checks, request bodies, HTTP) and the wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import emails_file, pyplot, start_sandbox  # noqa: E402
from workloads import cpu_seconds, load_emails, peak_rss_mb  # noqa: E402


def timed(f: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    out = f()
    return time.perf_counter() - t, out


def child(a: argparse.Namespace) -> dict[str, Any]:
    import amplemarket

    client = amplemarket.Client(api_key=a.key, base_url=a.url, rate_limit=False, max_retries=0)
    leads = [{"email": e} for e in load_emails(a.emails, a.n)]
    if a.mode == "requests":
        import polars as pl

        df = pl.DataFrame({"Email": [lead["email"] for lead in leads], "row": range(a.n)})
        cpu, t = cpu_seconds(), time.perf_counter()
        jobs = [amplemarket.EnrichmentJob.create(df.slice(i, 10_000), client=client) for i in range(0, a.n, 10_000)]
        out = {"requests": len(jobs), "cpu_s": cpu_seconds() - cpu, "wall_s": time.perf_counter() - t}
        for job in jobs:
            job.cancel()
        return out
    enrich_s, results = timed(lambda: amplemarket.Person.enrich(leads, client=client))
    if a.mode == "rss-results":
        results.to_pandas()
        return {"peak_rss_mb": peak_rss_mb()}
    if a.mode == "rss-rows":
        from amplemarket._pandas import to_dataframe

        to_dataframe(list(results))
        return {"peak_rss_mb": peak_rss_mb()}
    import pandas  # noqa: F401  (imported before the clock starts, as in a notebook)
    import polars  # noqa: F401
    import pyarrow as pa

    from amplemarket._pandas import to_dataframe

    figures: dict[str, Any] = {"enrich_s": enrich_s}
    for name, make in (
        ("rows_to_pandas_s", lambda: to_dataframe(list(results))),
        ("to_arrow_s", lambda: pa.table(results.to_arrow())),
        ("to_polars_s", results.to_polars),
        ("to_pandas_s", results.to_pandas),
    ):
        runs = [timed(make)[0] for _ in range(1 if name == "rows_to_pandas_s" else a.repeat)]
        figures[name] = statistics.median(runs)
    return figures


def run_child(mode: str, url: str, key: str, emails: str, n: int, repeat: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", mode, "--url", url, "--key", key, "--emails", emails]
    cmd += ["--n", str(n), "--repeat", str(repeat)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def markdown(report: dict[str, Any]) -> str:
    c, r, q = report["convert"], report["rss"], report["requests"]
    n, m = report["sizes"]["results"], report["sizes"]["frame"]
    rows = c["rows_to_pandas_s"]
    lines = [
        f"Results of enriching {n:,} leads into a table (sandbox in a separate process, "
        f"{report['machine']['cores']} cores; `Person.enrich` itself took {c['enrich_s']:.2f} s):",
        "",
        "| conversion | seconds | vs. row by row |",
        "|---|---|---|",
        f"| `amplemarket.to_pandas(list(results))` (row by row, as before) | {rows:.3f} | 1x |",
    ]
    for key, label in (
        ("to_arrow_s", "`pyarrow.table(results.to_arrow())`"),
        ("to_polars_s", "`results.to_polars()`"),
        ("to_pandas_s", "`results.to_pandas()`"),
    ):
        lines.append(f"| {label} | {c[key]:.3f} | {rows / c[key]:.1f}x faster |")
    lines += [
        "",
        f"Peak RSS of a process that enriches {n:,} leads and makes a pandas DataFrame: "
        f"{r['results']:.0f} MB with `results.to_pandas()`, {r['rows']:.0f} MB row by row.",
        "",
        f"A polars DataFrame of {m:,} leads sent as {q['requests']} `EnrichmentJob.create` requests of 10,000: "
        f"{q['cpu_s']:.2f} CPU s in the client (reading the table, checking each lead, the request bodies, HTTP), "
        f"{q['wall_s']:.2f} s wall.",
        "",
    ]
    return "\n".join(lines)


def chart(report: dict[str, Any], path: Path) -> None:
    plt = pyplot()
    if plt is None:
        return
    c = report["convert"]
    labels = ["row by row\n(before)", "to_arrow()", "to_polars()", "to_pandas()"]
    values = [c["rows_to_pandas_s"], c["to_arrow_s"], c["to_polars_s"], c["to_pandas_s"]]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    bars = ax.barh(labels[::-1], values[::-1], color=["#4c72b0", "#4c72b0", "#4c72b0", "#c44e52"])
    ax.bar_label(bars, labels=[f"{v:.2f} s" for v in values[::-1]], padding=3)
    ax.set_xscale("log")
    ax.set_xlabel(f"seconds to tabulate {report['sizes']['results']:,} enrichment results (log scale)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny sizes, one repeat (CI smoke test)")
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--no-chart", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    for flag in ("--url", "--key", "--emails"):
        ap.add_argument(flag, help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--repeat", type=int, default=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        a.mode = a.child
        print(json.dumps(child(a)))
        return 0
    sizes = {"people": 2_000 if a.quick else 100_000, "results": 1_000 if a.quick else 100_000}
    sizes["frame"] = 20_000 if a.quick else 1_000_000
    repeat = 1 if a.quick else 3
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    emails = emails_file(sizes["people"])
    proc, url, key = start_sandbox(sizes["people"])
    report: dict[str, Any] = {"machine": {"cores": os.cpu_count()}, "sizes": sizes}
    try:
        n = sizes["results"]
        report["convert"] = run_child("convert", url, key, emails, n, repeat)
        report["rss"] = {
            "results": run_child("rss-results", url, key, emails, n, 1)["peak_rss_mb"],
            "rows": run_child("rss-rows", url, key, emails, n, 1)["peak_rss_mb"],
        }
        report["requests"] = run_child("requests", url, key, emails, sizes["frame"], 1)
    finally:
        proc.terminate()
        proc.wait(10)
        os.unlink(emails)
    (out / "tables.json").write_text(json.dumps(report, indent=1))
    (out / "tables.md").write_text(markdown(report))
    if not a.no_chart:
        chart(report, out / "tables.png")
    print((out / "tables.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
