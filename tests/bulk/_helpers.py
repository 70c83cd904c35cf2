"""The bulk suites' own helpers: collecting a job's results in either form, what the enrichment requests carried,
overlap of requests in time, leads built from the data set, and the command line killed and resumed. Shared helpers
are in ``support.py``."""

from __future__ import annotations

import asyncio
import json
import math
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from support import CREATE, ENV, against, cli, domain_of, read_state, sent, start_cli, state_file, wait_for, write_rows

from amplemarket.testing import Sandbox


def collect(mode: str, job: Any, **kwargs: Any) -> list[Any]:
    """Every result of ``job``: ``list(job.results())`` or the ``results_async()`` stream."""
    if mode == "sync":
        return list(job.results(**kwargs))

    async def run() -> list[Any]:
        return [r async for r in job.results_async(**kwargs)]

    return asyncio.run(run())


def leads_sent(sb: Sandbox, since: int = 0) -> list[list[dict[str, Any]]]:
    """The leads of every enrichment request received, one list per request."""
    return [json.loads(r["body"])["leads"] for r in sent(sb, CREATE, since)]


def max_overlap(entries: Sequence[dict[str, Any]]) -> int:
    """The most requests of the log that were in progress at the same moment (from ``time`` and ``duration``)."""
    events: list[tuple[float, int]] = []
    for e in entries:
        events.append((e["time"], 1))
        events.append((e["time"] + e["duration"], -1))
    events.sort(key=lambda ev: (ev[0], ev[1]))  # an end at the same instant as a start comes first
    current = most = 0
    for _, delta in events:
        current += delta
        most = max(most, current)
    return most


def pages(n: int, size: int) -> int:
    return math.ceil(n / size)


def lead_for(person: dict[str, Any], how: str) -> dict[str, str]:
    """A lead that identifies ``person`` by ``email``, ``linkedin_url`` or ``name`` (with the company domain)."""
    if how == "email":
        return {"email": person["email"]}
    if how == "linkedin_url":
        return {"linkedin_url": person["linkedin_url"]}
    return {"name": person["name"], "title": person["title"], "company_domain": domain_of(person["company"])}


def mixed_leads(people: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """One lead per person, alternating email and LinkedIn URL (LinkedIn when the person has no email)."""
    return [lead_for(p, "email" if i % 2 == 0 and p.get("email") else "linkedin_url") for i, p in enumerate(people)]


# -- the command line: crash, kill and resume ----------------------------------------------------------------------


def signature(item: dict[str, Any]) -> str:
    """An input as comparable text (dict order aside)."""
    return json.dumps(item, sort_keys=True)


def recorded_jobs(out: Path) -> list[Any] | None:
    """The job ids the state file of ``out`` names, once every job of the run is recorded."""
    state = read_state(out)
    if state is None or not state["chunks"] or any(c.get("job_id") is None for c in state["chunks"]):
        return None
    return [c["job_id"] for c in state["chunks"]]


def kill(proc: subprocess.Popen[str], sig: int = signal.SIGKILL) -> tuple[int, str, str]:
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err


def ledger(sb: Sandbox) -> dict[str, float]:
    """What the sandbox charged so far, per pool, from its ledger."""
    charges = sb.credits["charges"]
    return {f"{pool}_credits": sum(c["amount"] for c in charges if c["pool"] == pool) for pool in ("email", "phone")}


def temporaries(out: Path) -> list[Path]:
    """Temporary output files (``.<name>.*.tmp``) beside ``out``, state files aside."""
    return [p for p in out.parent.glob(f".{out.name}.*.tmp") if "amplemarket-state" not in p.name]


def accepted(sb: Sandbox, route: str) -> list[dict[str, Any]]:
    """The requests to ``route`` the sandbox accepted (202: a job created), not those it refused (a 429)."""
    return [r for r in sent(sb, route) if r["status"] == 202]


def killed_then_resumed(
    sb: Sandbox, procs: list[subprocess.Popen[str]], create: str, out: Path, *args: str
) -> dict[str, Any]:
    """Runs ``amplemarket ARGS -o OUT`` against ``sb`` (its jobs slow enough to be killed in), SIGKILLs it as soon
    as the state file names every job, checks that a plain rerun is refused and that ``--resume`` finishes with the
    jobs the killed run created and no other (``create``: the route that creates them). Returns the resumed run's
    JSON summary."""
    command = [*args, "-o", str(out), *against(sb)]
    proc = start_cli(*command, cwd=out.parent)
    procs.append(proc)
    jobs = wait_for(lambda: recorded_jobs(out), timeout=60)
    assert jobs, "the state file names the jobs as soon as they exist"
    code, _, _ = kill(proc)
    assert code == -signal.SIGKILL
    assert not out.exists()  # the jobs are slow: the killed run cannot have written anything
    assert len(accepted(sb, create)) == len(jobs)

    again = cli(*command, cwd=out.parent)
    assert again.returncode == 2
    assert "--resume" in again.stderr and str(state_file(out).name) in again.stderr
    assert len(accepted(sb, create)) == len(jobs) and not out.exists()

    resumed = cli(*command, "--resume", "--json", cwd=out.parent)
    assert resumed.returncode == 0, resumed.stderr
    summary: dict[str, Any] = json.loads(resumed.stdout)
    assert summary["jobs"] == jobs
    assert len(accepted(sb, create)) == len(jobs), "the resumed run created no job"
    assert not state_file(out).exists() and not temporaries(out)
    return summary


# Runs the CLI (the arguments after the output path) and SIGKILLs it the moment a finished temporary file is about
# to replace the output (``os.replace`` and ``os.rename`` raise the "os.rename" audit event). So every run dies at the
# same point, with all its rows written and none of them in place; a CLI that wrote its output in place would never
# get there, and would exit normally instead.
KILLED_AT_THE_OUTPUT = r"""
import os, signal, sys
out = os.path.abspath(sys.argv[1])


def at_the_output(event, args):
    if event == "os.rename" and os.path.abspath(os.fsdecode(args[1])) == out:
        os.kill(os.getpid(), signal.SIGKILL)


sys.addaudithook(at_the_output)
from amplemarket.cli import main

sys.exit(main(sys.argv[2:]))
"""


def killed_at_the_output(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``amplemarket ARGS -o OUT``, killed as it puts its output in place (see ``KILLED_AT_THE_OUTPUT``)."""
    return subprocess.run(
        [sys.executable, "-c", KILLED_AT_THE_OUTPUT, str(out), *args, "-o", str(out)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
        encoding="utf-8",
    )


def refused_before_sending(sb: Sandbox, src: Path, rows: list[dict[str, str]] | None, *args: str, words: str) -> str:
    """Runs ``amplemarket ARGS`` (``SRC`` and ``-o`` among them) with ``rows`` in ``src`` (no file for ``None``):
    it must exit 2 with its error, naming ``words``, as its last line, having sent nothing and written no output or
    state file. Returns that line."""
    if rows is not None:
        write_rows(src, list(rows[0]), rows)
    out = Path(args[args.index("-o") + 1])
    proc = cli(*args, *against(sb))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith(f"amplemarket {args[0]}: ") and words in line, line
    assert sent(sb) == [] and not out.exists() and not state_file(out).exists()
    return line
