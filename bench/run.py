"""The benchmark suite: our SDK against well-written Python clients and the raw-HTTP ceiling, same run, same machine.

    python bench/run.py            # full sizes (a few minutes on 2 cores)
    python bench/run.py --quick    # tiny sizes, for the CI smoke test

Starts the sandbox as a separate process (``amplemarket sandbox``, limits off, seed 0), runs every workload for
every client in a fresh process, repeats, and writes ``results.json``, ``results.md`` and ``chart.png`` (with
matplotlib) into ``--out``. The clients of a workload take turns (ours, then each baseline, then ours again…), so
a slow spell of a shared machine hits every client alike instead of one; the table gives each figure's median and
its min / max over the repeats, which is how noisy the run was. Ratios compare medians with the best baseline of
the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BASELINES = ["httpx", "httpx-orjson", "requests", "aiohttp"]
OURS = ["amplemarket", "amplemarket-async"]


def start_sandbox(people: int) -> tuple[subprocess.Popen[str], str, str]:
    cmd = [
        sys.executable, "-m", "amplemarket.cli", "sandbox", "--port", "0", "--people", str(people),
        "--no-rate-limits", "--job-progression", "immediate",
        "--set", "max_leads=100000", "--set", "poll_retry_after=0", "--set", "capture_limit=100",
        "--set", "email_credits=100000000", "--set", "max_body_bytes=67108864",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    second = proc.stdout.readline()
    url = re.search(r"at (http://\S+)", first)
    key = re.search(r"API key: (\S+)", second)
    if not (url and key):
        proc.kill()
        raise SystemExit(f"the sandbox did not start: {first!r} {second!r}")
    return proc, url.group(1), key.group(1)


def emails_file(people: int) -> str:
    from amplemarket.testing import Sandbox

    with Sandbox(seed=0, people=people) as sb:
        emails = [p["email"] for p in sb.people if p.get("email") and not p.get("_gdpr_removed")]
    fd, path = tempfile.mkstemp(suffix=".txt", prefix="bench-emails-")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(emails))
    return path


def make_job(url: str, key: str, emails_path: str, n: int) -> int:
    import httpx

    emails = Path(emails_path).read_text().split()
    leads = [{"email": emails[i % len(emails)]} for i in range(n)]
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as c:
        r = c.post("/people/enrichment-requests", json={"leads": leads})
        r.raise_for_status()
        job = int(r.json()["id"])
        c.get(f"/people/enrichment-requests/{job}", params={"page[size]": "1"}).raise_for_status()
    return job


def run_one(workload: str, client: str, url: str, key: str, **kw: Any) -> dict[str, Any] | None:
    cmd = [sys.executable, str(HERE / "workloads.py"), workload, client, "--url", url, "--key", key]
    for k, v in kw.items():
        cmd += [f"--{k}", str(v)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        missing = re.search(r"No module named '([^']+)'", p.stderr)
        why = f"{missing.group(1)} not installed" if missing else p.stderr.strip().splitlines()[-1:]
        print(f"  {workload}/{client}: skipped ({why})", file=sys.stderr)
        return None
    result: dict[str, Any] = json.loads(p.stdout.strip().splitlines()[-1])
    return result


def median_of(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def figure_key(workload: str) -> str:
    """The figure a workload is judged by (req/s for fan-out, ms a call for sequential, wall seconds otherwise)."""
    return {"fanout": "req_per_s", "sequential": "median_latency_ms"}.get(workload, "wall_s")


def summarise(workload: str, runs: list[dict[str, Any]], n: int) -> dict[str, Any]:
    """Medians of one client's runs, with the min / max / every value of the figure it is judged by."""
    if workload == "fanout":
        for r in runs:
            r["req_per_s"] = n / r["wall_s"]
    f: dict[str, Any] = {k: median_of(runs, k) for k in ("wall_s", "cpu_s", "peak_rss_mb")}
    key = figure_key(workload)
    values = [r[key] for r in runs]
    f[key] = statistics.median(values)
    f["figure"], f["min"], f["max"], f["runs"] = key, min(values), max(values), values
    return f


def native_ceiling(url: str, key: str, email: str, concurrency: int, seconds: int) -> float | None:
    wrk = shutil.which("wrk")
    if not wrk:
        return None
    target = f"{url}/people/find?email={email}"
    p = subprocess.run(
        [wrk, "-t2", f"-c{concurrency}", f"-d{seconds}s", "-H", f"Authorization: Bearer {key}", target],
        capture_output=True,
        text=True,
    )
    m = re.search(r"Requests/sec:\s+([\d.]+)", p.stdout)
    return float(m.group(1)) if m else None


def import_time(module: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny sizes, one repeat (CI smoke test)")
    ap.add_argument("--repeat", type=int, default=None)
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--no-chart", action="store_true")
    a = ap.parse_args()
    q = a.quick
    repeat = a.repeat or (1 if q else 3)
    sizes = {
        "people": 2_000 if q else 20_000,
        "fanout": 300 if q else 20_000,
        "sequential": 50 if q else 2_000,
        "bulk": 500 if q else 100_000,
        "search": 5 if q else 300,
        "concurrency": 32,
    }
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    emails = emails_file(sizes["people"])
    proc, url, key = start_sandbox(sizes["people"])
    report: dict[str, Any] = {
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "sizes": sizes,
        "repeat": repeat,
        "workloads": {},
    }
    try:
        job = make_job(url, key, emails, sizes["bulk"])
        plan: list[tuple[str, list[str], dict[str, Any], str]] = [
            ("fanout", OURS + BASELINES, {"emails": emails, "n": sizes["fanout"], "concurrency": 32}, "req_per_s"),
            ("sequential", ["amplemarket", "requests", "httpx"], {"emails": emails, "n": sizes["sequential"]}, "ms"),
            ("bulk", ["amplemarket", "httpx", "httpx-orjson"], {"job": job}, "wall_s"),
            ("search", ["amplemarket", "httpx", "httpx-orjson"], {"n": sizes["search"]}, "wall_s"),
        ]
        for workload, clients, kw, _ in plan:
            print(f"{workload}:", file=sys.stderr)
            runs: dict[str, list[dict[str, Any]]] = {c: [] for c in clients}
            # Interleaved: every client runs once per round, so noise is shared instead of landing on one client.
            for _ in range(repeat):
                for client in clients:
                    r = run_one(workload, client, url, key, **kw)
                    if r:
                        runs[client].append(r)
            figures: dict[str, Any] = {}
            for client in clients:
                if not runs[client]:
                    continue
                figures[client] = summarise(workload, runs[client], sizes["fanout"])
                shown = {k: round(v, 3) for k, v in figures[client].items() if k not in ("runs", "figure")}
                print(f"  {client}: {json.dumps(shown)}", file=sys.stderr)
            report["workloads"][workload] = figures
        email = Path(emails).read_text().split()[0]
        ceilings = [c for c in (native_ceiling(url, key, email, 32, 2 if q else 5) for _ in range(repeat)) if c]
        if ceilings:
            report["workloads"]["fanout"]["native (wrk)"] = {
                "req_per_s": statistics.median(ceilings),
                "figure": "req_per_s",
                "min": min(ceilings),
                "max": max(ceilings),
                "runs": ceilings,
            }
        else:
            print("  native ceiling: skipped (wrk not installed: apt-get install wrk)", file=sys.stderr)
            report["workloads"]["fanout"]["native (wrk)"] = None
        report["import_ms"] = {m: import_time(m, 3 if q else 10) for m in ("amplemarket", "httpx")}
    finally:
        proc.terminate()
        proc.wait(10)
        os.unlink(emails)
    report["verdicts"] = verdicts(report)
    (out / "results.json").write_text(json.dumps(report, indent=1))
    (out / "results.md").write_text(markdown(report))
    if not a.no_chart:
        chart(report, out / "chart.png")
    print((out / "results.md").read_text())
    return 0


def best(figures: dict[str, Any], key: str, higher: bool) -> tuple[str, float] | None:
    options = [(c, f[key]) for c, f in figures.items() if f and c in BASELINES and key in f]
    if not options:
        return None
    return max(options, key=lambda x: x[1]) if higher else min(options, key=lambda x: x[1])


def verdicts(report: dict[str, Any]) -> dict[str, Any]:
    w = report["workloads"]
    v: dict[str, Any] = {}
    ours = w["fanout"].get("amplemarket")
    b = best(w["fanout"], "req_per_s", True)
    if ours and b:
        v["fanout_vs_best_baseline"] = {"ratio": ours["req_per_s"] / b[1], "baseline": b[0], "target": ">= 3"}
    aio = w["fanout"].get("amplemarket-async")
    if ours and aio:
        v["fanout_async_vs_blocking"] = {"ratio": aio["req_per_s"] / ours["req_per_s"], "target": ">= 0.8"}
    native = w["fanout"].get("native (wrk)")
    if ours and native:
        v["fanout_vs_native"] = {"ratio": ours["req_per_s"] / native["req_per_s"], "target": ">= 0.6"}
    seq = w["sequential"]
    if seq.get("amplemarket") and seq.get("requests"):
        r = seq["amplemarket"]["median_latency_ms"] / seq["requests"]["median_latency_ms"]
        v["sequential_vs_requests"] = {"ratio": r, "target": "<= 0.5"}
    bulk = w["bulk"]
    if bulk.get("amplemarket") and bulk.get("httpx-orjson"):
        v["bulk_wall_vs_httpx_orjson"] = {
            "ratio": bulk["amplemarket"]["wall_s"] / bulk["httpx-orjson"]["wall_s"],
            "target": "<= 0.5",
        }
        v["bulk_rss_vs_httpx_orjson"] = {
            "ratio": bulk["amplemarket"]["peak_rss_mb"] / bulk["httpx-orjson"]["peak_rss_mb"],
            "target": "<= 0.5",
        }
    imp = report.get("import_ms", {})
    if imp:
        v["import_vs_httpx"] = {"ratio": imp["amplemarket"] / imp["httpx"], "target": "<= 1"}
    for item in v.values():
        t = item["target"]
        limit = float(t.split()[-1])
        item["met"] = item["ratio"] >= limit if t.startswith(">=") else item["ratio"] <= limit
    return v


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"Machine: {m['cores']} cores, Python {m['python']}; {report['repeat']} interleaved runs of each client "
        f"(median, and min / max of the figure); sizes {report['sizes']}",
        "",
        "| workload | client | figure (median) | min | max | spread | wall s | CPU s | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for workload, figures in report["workloads"].items():
        for client, f in figures.items():
            if not f:
                continue
            if "req_per_s" in f:
                key, fmt, unit = "req_per_s", "{:.0f}", " req/s"
            elif "median_latency_ms" in f:
                key, fmt, unit = "median_latency_ms", "{:.3f}", " ms/call"
            else:
                key, fmt, unit = "wall_s", "{:.2f}", " s"
            figure = fmt.format(f[key]) + unit
            low, high = (fmt.format(f[k]) if k in f else "" for k in ("min", "max"))
            # (max - min) / median: how far apart the repeats landed.
            spread = f"{(f['max'] - f['min']) / f[key] * 100:.0f}%" if "min" in f and f[key] else ""
            cells = [f"{f[k]:.2f}" if k in f else "" for k in ("wall_s", "cpu_s", "peak_rss_mb")]
            row = [workload, client, figure, low, high, spread, *cells]
            lines.append("| " + " | ".join(row) + " |")
    imp = report.get("import_ms", {})
    lines += ["", "| import | ms |", "|---|---|"] + [f"| `import {k}` | {v:.0f} |" for k, v in imp.items()]
    lines += ["", "| target | ratio | wanted | met |", "|---|---|---|---|"]
    for name, v in report["verdicts"].items():
        lines.append(f"| {name} | {v['ratio']:.2f} | {v['target']} | {'yes' if v['met'] else 'no'} |")
    return "\n".join(lines) + "\n"


def pyplot() -> Any:
    """matplotlib's pyplot drawing to files, or ``None`` (said on stderr) when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("chart: skipped (matplotlib not installed)", file=sys.stderr)
        return None
    return plt


def chart(report: dict[str, Any], path: Path) -> None:
    plt = pyplot()
    if plt is None:
        return
    w = report["workloads"]
    panels = [
        ("fan-out finds (req/s, higher is better)", w["fanout"], "req_per_s"),
        ("sequential finds (ms/call, lower is better)", w["sequential"], "median_latency_ms"),
        ("bulk results (s, lower is better)", w["bulk"], "wall_s"),
        ("bulk results (peak RSS MB, lower is better)", w["bulk"], "peak_rss_mb"),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6))
    for ax, (title, figures, key) in zip(axes, panels, strict=True):
        items = [(c, f) for c, f in figures.items() if f and key in f]
        colors = ["#d9480f" if c.startswith("amplemarket") else "#868e96" for c, _ in items]
        values = [f[key] for _, f in items]
        # Whiskers from min to max over the repeats, where the panel's figure is the one they were taken of.
        spans = [(f[key] - f.get("min", f[key]), f.get("max", f[key]) - f[key]) for _, f in items]
        judged = all(f.get("figure") == key for _, f in items)
        xerr = [[lo for lo, _ in spans], [hi for _, hi in spans]] if judged else None
        ax.barh([c for c, _ in items], values, color=colors, xerr=xerr, ecolor="#212529", capsize=2)
        ax.set_title(title, fontsize=9)
        ax.invert_yaxis()
        ax.tick_params(labelsize=8)
    fig.suptitle(f"amplemarket vs Python HTTP clients — {report['machine']['cores']} cores, same run", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
