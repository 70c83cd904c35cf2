"""Cache benchmark: re-running an enrichment from the result cache, and what the cache costs a cold run.

    python bench/cache.py            # 10,000 leads (about a minute on 2 cores)
    python bench/cache.py --quick    # 500 leads, for the CI smoke test

Starts the sandbox as a separate process and runs each measurement in a fresh process; writes ``cache.json`` and
``cache.md`` into ``--out``. Figures:

- ``rerun``: against a sandbox with its default limits (500 requests/min, jobs done at the second poll, polls
  answered ``Retry-After: 1``) and a client with its default pacing, ``Person.enrich`` of N leads with a new cache
  file (the first run), then the same call again in another process (the re-run, answered from the file).
- ``overhead``: with limits off, the median of ``--repeat`` cold runs of the same enrichment without a cache and
  with a fresh cache file each time: what looking up and storing N results adds to the call, and when its answers
  are in the file (they are written behind the call; ``client.close()`` waits for them).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import emails_file, start_sandbox  # noqa: E402
from workloads import load_emails  # noqa: E402


def start_default_sandbox(people: int, *settings: str) -> tuple[subprocess.Popen[str], str, str]:
    """A sandbox server with its default limits and job progression (``settings``: more ``--set`` values)."""
    cmd = [sys.executable, "-m", "amplemarket.cli", "sandbox", "--port", "0", "--people", str(people)]
    cmd += ["--set", "email_credits=100000000"]
    for setting in settings:
        cmd += ["--set", setting]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    first, second = proc.stdout.readline(), proc.stdout.readline()
    url, key = re.search(r"at (http://\S+)", first), re.search(r"API key: (\S+)", second)
    if not (url and key):
        proc.kill()
        raise SystemExit(f"the sandbox did not start: {first!r} {second!r}")
    return proc, url.group(1), key.group(1)


def child(a: argparse.Namespace) -> dict[str, Any]:
    import amplemarket

    options: dict[str, Any] = {"api_key": a.key, "base_url": a.url}
    if a.cache:
        options["cache"] = a.cache
    if a.mode == "overhead":
        options["rate_limit"] = False
    client = amplemarket.Client(**options)
    leads = [{"email": e} for e in load_emails(a.emails, a.n)]
    t = time.perf_counter()
    results = amplemarket.Person.enrich(leads, client=client)
    wall = time.perf_counter() - t
    client.close()  # waits for the answers written behind the call
    stored = time.perf_counter() - t
    hits = sum(r.from_cache for r in results)
    return {"wall_s": wall, "stored_s": stored, "from_cache": hits, "results": len(results)}


def run_child(mode: str, url: str, key: str, emails: str, n: int, cache: str | None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", mode, "--url", url, "--key", key, "--emails", emails, "--n", str(n)]
    if cache:
        cmd += ["--cache", cache]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def documented(runs: dict[str, Any] | None) -> list[str]:
    """The rows of the re-run against polls answered ``Retry-After: 60`` (the spec's example), when measured."""
    if not runs:
        return []
    first, again = runs["first"], runs["again"]
    return [
        f"| first run, polls answered `Retry-After: 60` as in the spec's example | {first['wall_s']:.2f} | "
        f"{first['from_cache']:,} |",
        f"| the same call again, another process ({first['wall_s'] / again['wall_s']:.0f}x faster) | "
        f"{again['wall_s']:.3f} | {again['from_cache']:,} |",
    ]


def markdown(report: dict[str, Any]) -> str:
    r, o = report["rerun"], report["overhead"]
    n = report["sizes"]["leads"]
    speedup = r["first"]["wall_s"] / r["again"]["wall_s"]
    extra = o["cached_s"] / o["uncached_s"] - 1

    def span(name: str) -> str:
        low, high = o[f"{name}_range_s"]
        return f"{low:.2f} to {high:.2f}"

    return "\n".join(
        [
            f"`Person.enrich` of {n:,} leads with `Client(cache=...)` (sandbox in a separate process, "
            f"{report['machine']['cores']} cores):",
            "",
            "| run | seconds | answered from the cache |",
            "|---|---|---|",
            f"| first run (sandbox and client at their default limits) | {r['first']['wall_s']:.2f} | "
            f"{r['first']['from_cache']:,} |",
            f"| the same call again, another process | {r['again']['wall_s']:.3f} | {r['again']['from_cache']:,} |",
            *documented(report.get("rerun_documented_polling")),
            "",
            f"Re-run: **{speedup:.0f}x** faster than the first run. A cold run with limits off (median of "
            f"{report['repeat']}, runs in turns): {o['uncached_s']:.2f} s without a cache ({span('uncached')}), "
            f"{o['cached_s']:.2f} s with a fresh one ({span('cached')}; {extra * 100:+.1f}%); its answers are in the "
            f"file {o['stored_s']:.2f} s after the call began (they are written behind the call; `client.close()` "
            "waits for them).",
            "",
        ]
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="500 leads, one repeat (CI smoke test)")
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    for flag in ("--url", "--key", "--emails", "--cache"):
        ap.add_argument(flag, help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        a.mode = a.child
        print(json.dumps(child(a)))
        return 0
    n = 500 if a.quick else 10_000
    repeat = 1 if a.quick else 5
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    emails = emails_file(n * 2)
    report: dict[str, Any] = {"machine": {"cores": os.cpu_count()}, "sizes": {"leads": n}, "repeat": repeat}
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as d:
        # The sandbox's fast test defaults, then (full run only) polls answered as the spec's example is.
        reruns: list[tuple[str, tuple[str, ...]]] = [("rerun", ())]
        if not a.quick:
            reruns.append(("rerun_documented_polling", ("poll_retry_after=60",)))
        for name, settings in reruns:
            proc, url, key = start_default_sandbox(n * 2, *settings)
            try:
                path = os.path.join(d, f"{name}.sqlite3")
                first = run_child("rerun", url, key, emails, n, path)
                again = run_child("rerun", url, key, emails, n, path)
                report[name] = {"first": first, "again": again}
            finally:
                proc.terminate()
                proc.wait(10)
        proc, url, key = start_sandbox(n * 2)
        try:
            plain, cached, stored = [], [], []
            for i in range(repeat):
                plain.append(run_child("overhead", url, key, emails, n, None)["wall_s"])
                run = run_child("overhead", url, key, emails, n, os.path.join(d, f"cold{i}.sqlite3"))
                cached.append(run["wall_s"])
                stored.append(run["stored_s"])
            report["overhead"] = {
                "uncached_s": statistics.median(plain),
                "cached_s": statistics.median(cached),
                "stored_s": statistics.median(stored),
                "uncached_range_s": [min(plain), max(plain)],
                "cached_range_s": [min(cached), max(cached)],
            }
        finally:
            proc.terminate()
            proc.wait(10)
            os.unlink(emails)
    (out / "cache.json").write_text(json.dumps(report, indent=1))
    (out / "cache.md").write_text(markdown(report))
    print((out / "cache.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
