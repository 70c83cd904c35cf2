"""Crash: `amplemarket enrich` of 30,000 leads (three jobs) SIGKILLed at three points in one chain (while submitting,
while polling, while writing the output), each time picked up with `--resume`, ends with a complete output (one row
per input row, in input order, the right person for each), each row submitted in exactly one job (a creation cut off
by a kill is sent again with its Idempotency-Key, never as a second job) and each person charged once. A creation
the server made but whose answer never arrived resumes into that same job.

The kill points are detected from what the run leaves behind, never from time: the state file and the sandbox's
request log for the first two, the temporary output file for the third.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support import (
    CREATE,
    POLL,
    against,
    cli,
    domain_of,
    read_rows,
    read_state,
    start_cli,
    state_file,
    wait_for,
    write_rows,
)

import amplemarket
from amplemarket import EnrichmentJob
from amplemarket.testing import Sandbox

ROWS = 30_000
CHUNK = 10_000
# Polls a job answers "processing" to before it completes: the polling kill lands well inside them.
POLLS = 30
COLUMNS = ["Email", "LinkedIn URL", "Full Name", "Title", "Domain", "Notes"]
INVALID_ROWS: list[dict[str, str]] = [
    {"Email": "not-an-email", "Notes": "bad email"},
    {"Title": "CEO", "Notes": "no identifier"},
    {"Notes": "nothing to go on"},
]
HANG_GUARD = 120.0  # seconds a CLI run may take before the test calls it hung


@dataclass
class Row:
    """One input row and what it should become: the person it names (index into the truth), nobody, or invalid."""

    cells: dict[str, str]
    person: int | None = None
    invalid: bool = False
    first: int | None = None  # position of the first row with the same lead


@dataclass
class World:
    sb: Sandbox
    truth: list[dict[str, Any]]
    rows: list[Row]
    src: Path


def cells_for(i: int, p: dict[str, Any], emails: Counter[str]) -> dict[str, str]:
    """Cells naming person ``p``: by email, LinkedIn URL or name + title + domain in turn."""
    if i % 3 == 0 and p.get("email") and emails[p["email"].lower()] == 1:
        return {"Email": p["email"]}
    if i % 3 == 2 and p.get("company"):
        return {"Full Name": p["name"], "Title": p["title"], "Domain": domain_of(p["company"])}
    return {"LinkedIn URL": p["linkedin_url"]}


def build_rows(truth: Sequence[dict[str, Any]], seed: int) -> list[Row]:
    """``ROWS`` rows: one per person, 1% naming nobody, 1% copies of earlier rows and a few invalid rows, shuffled."""
    rng = random.Random(seed)
    emails = Counter(p["email"].lower() for p in truth if p.get("email"))
    names = Counter((p["name"], p["title"], domain_of(p["company"])) for p in truth if p.get("company"))
    copies, missing = ROWS // 100, ROWS // 100
    people = ROWS - copies - missing - len(INVALID_ROWS)
    rows = []
    for i in range(people):
        cells = cells_for(i, truth[i], emails)
        if "Full Name" in cells and names[(cells["Full Name"], cells["Title"], cells["Domain"])] > 1:
            cells = {"LinkedIn URL": truth[i]["linkedin_url"]}  # an ambiguous name would match somebody else
        rows.append(Row(cells, person=i))
    rows += [Row({"Email": f"nobody.{k}@nowhere.example"}) for k in range(missing)]
    rows += [Row(dict(cells), invalid=True) for cells in INVALID_ROWS]
    rng.shuffle(rows)
    for _ in range(copies):
        src = rng.choice([n for n in range(len(rows) // 2) if not rows[n].invalid])
        rows.insert(rng.randrange(src + 1, len(rows) + 1), Row(dict(rows[src].cells), person=rows[src].person))
    seen: dict[str, int] = {}
    for pos, row in enumerate(rows):
        if not row.invalid:
            first = seen.setdefault(signature(lead_of(row.cells)), pos)
            row.first = None if first == pos else first
    assert len(rows) == ROWS
    return rows


FIELDS = {"Email": "email", "LinkedIn URL": "linkedin_url", "Full Name": "name", "Title": "title",
          "Domain": "company_domain"}  # fmt: skip


def lead_of(cells: dict[str, str]) -> dict[str, str]:
    """The lead the CLI sends for a row (its header mapping of these columns)."""
    return {FIELDS[c]: v for c, v in cells.items() if c in FIELDS and v}


def signature(lead: dict[str, Any]) -> str:
    return json.dumps(lead, sort_keys=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings: dict[str, Any] = {
        "rate_limit": None,
        "search_rate_limit": None,
        "poll_retry_after": 0,
        "job_progression": f"polls:{POLLS}",
        "email_credits": 10_000_000.0,
        "phone_credits": 10_000_000.0,
        "capture_limit": 1_000_000,
    }
    with Sandbox(people=ROWS, seed=5, **settings) as sb:
        truth = list(sb.people[:])
        rows = build_rows(truth, seed=17)
        src = write_rows(tmp_path_factory.mktemp("crash") / "leads.csv", COLUMNS, [r.cells for r in rows])
        yield World(sb, truth, rows, src)


@pytest.fixture
def fresh(world: World) -> World:
    """The world with the sandbox's jobs, charges, scripts and log forgotten."""
    world.sb.reset()
    return world


# -- watching a run -------------------------------------------------------------------------------------------------


def recorded(out: Path) -> list[int | None]:
    """The job id of each chunk in the state file (``None`` before it is created); empty when there is no state."""
    state = read_state(out)
    return [c.get("job_id") for c in state["chunks"]] if state else []


def submitting(out: Path) -> bool:
    """The first job is recorded, the second not yet."""
    jobs = recorded(out)
    return len(jobs) == 3 and jobs[0] is not None and jobs[1] is None


def keys(out: Path) -> list[str]:
    state = read_state(out)
    assert state is not None
    return [c["idempotency_key"] for c in state["chunks"]]


def temp_outputs(out: Path) -> list[Path]:
    """Temporary files of an output being written (``write_table``'s ``.<name>.*.tmp``), state files aside."""
    return [p for p in out.parent.glob(f".{out.name}.*.tmp") if "amplemarket-state" not in p.name]


def last_seq(sb: Sandbox) -> int:
    log = sb.requests
    return int(log[-1]["seq"]) if log else 0


def routed(sb: Sandbox, route: str, since: int = 0) -> list[dict[str, Any]]:
    return [r for r in sb.requests_since(since) if r["route"] == route]


def job_of(entry: dict[str, Any]) -> int:
    return int(entry["path"].rsplit("/", 1)[1])


def run_until(
    args: Sequence[str], condition: Callable[[], Any], procs: list[subprocess.Popen[str]], every: float = 0.002
) -> None:
    """Starts ``amplemarket ARGS`` and SIGKILLs it the moment ``condition`` holds; fails if it ends first."""
    proc = start_cli(*args)
    procs.append(proc)
    caught = wait_for(lambda: condition() or proc.poll() is not None, timeout=HANG_GUARD, every=every)
    alive = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=30)
    assert caught and alive, f"the run ended (code {proc.returncode}) before the kill point: {err[-2000:]}"
    assert proc.returncode == -signal.SIGKILL


# -- checking the outcome -------------------------------------------------------------------------------------------


def check_output(world: World, out: Path) -> Counter[str]:
    """One output row per input row, in input order, each with the outcome its lead should have."""
    got = read_rows(out)
    assert len(got) == len(world.rows) == ROWS
    statuses: Counter[str] = Counter()
    for pos, (g, row) in enumerate(zip(got, world.rows, strict=True)):
        assert {c: g[c] for c in COLUMNS} == {c: row.cells.get(c, "") for c in COLUMNS}, f"row {pos} out of order"
        statuses[g["status"]] += 1
        if row.invalid:
            assert g["status"] == "invalid" and g["error"], (pos, g["status"])
        elif row.first is not None:
            first = got[row.first]
            assert (g["status"], g.get("person_id")) == (first["status"], first.get("person_id")), pos
        elif row.person is None:
            assert g["status"] == "not_found", (pos, g["status"])
        elif world.truth[row.person].get("_gdpr_removed"):
            assert g["status"] == "gdpr_removed" and not g.get("person_id"), (pos, g["status"])
        else:
            truth = world.truth[row.person]
            assert g["status"] == "enriched", (pos, g["status"], g["error"])
            assert (g["person_id"], g["person_email"]) == (truth["id"], truth.get("email") or ""), pos
    return statuses


def check_submissions(world: World, job_ids: Sequence[int]) -> dict[str, int]:
    """Each valid row was submitted in exactly one job: creations repeated after a kill carry their key and the
    same leads, the leads of the distinct keys add up to the valid rows, and no job exists beyond ``job_ids``."""
    sb = world.sb
    bodies: dict[str, set[str]] = {}
    for r in routed(sb, CREATE):
        bodies.setdefault(r["headers"]["idempotency-key"], set()).add(r["body"])
    assert all(len(b) == 1 for b in bodies.values()), "a key is only ever sent again with its own leads"
    sent = Counter(signature(lead) for (body,) in bodies.values() for lead in json.loads(body)["leads"])
    valid = Counter({signature(lead_of(row.cells)) for row in world.rows if not row.invalid})
    assert sent == valid, "every distinct valid lead submitted exactly once (copies ride on it), invalid rows never"
    assert len(bodies) == len(job_ids) == -(-sum(valid.values()) // CHUNK)
    assert {job_of(r) for r in routed(sb, POLL)} == set(job_ids)
    with sb.client(rate_limit=False) as client:
        for job_id in job_ids:
            assert EnrichmentJob.get(job_id, client=client).status == "completed"
        with pytest.raises(amplemarket.NotFoundError):
            EnrichmentJob.get(max(job_ids) + 1, client=client)
    return {key: len(json.loads(body)["leads"]) for key, (body,) in bodies.items()}


def check_charges(world: World, out: Path) -> None:
    """Each enriched person charged once for being found and once for the revealed email; nobody else."""
    charges = world.sb.credits["charges"]
    counts = Counter((c["person_id"], c["kind"]) for c in charges)
    assert max(counts.values()) == 1, counts.most_common(3)
    enriched = {r["person_id"] for r in read_rows(out) if r["status"] == "enriched"}
    by_id = {p["id"]: p for p in world.truth}
    assert {pid for pid, kind in counts if kind == "found"} == enriched
    assert {pid for pid, kind in counts if kind == "email"} == {pid for pid in enriched if by_id[pid].get("email")}
    assert not {kind for _, kind in counts} - {"found", "email"}


# -- the chain ------------------------------------------------------------------------------------------------------


@pytest.mark.timeout(600)
def test_sigkill_while_submitting_polling_and_writing_then_resume_completes_once(
    fresh: World, tmp_path: Path, procs: list[subprocess.Popen[str]]
) -> None:
    sb, src = fresh.sb, fresh.src
    out = tmp_path / "enriched.csv"
    args = ["enrich", str(src), "-o", str(out), "--reveal-email", *against(sb)]
    resume = [*args, "--resume"]
    started = time.monotonic()
    # The second creation hangs at the server until the kill lands in it.
    sb.script(CREATE, [200, {"status": 200, "delay": 300}])

    # 1. While submitting: job 1 recorded, the creation of job 2 in flight.
    run_until(args, lambda: submitting(out) and len(routed(sb, CREATE)) == 2, procs)
    assert wait_for(lambda: routed(sb, CREATE)[1]["outcome"] != "pending", timeout=30)
    first, cut = routed(sb, CREATE)
    assert cut["outcome"] == "aborted", "the creation died with the run, so no job 2 exists yet"
    assert [first["headers"]["idempotency-key"], cut["headers"]["idempotency-key"]] == keys(out)[:2]
    assert recorded(out) == [recorded(out)[0], None, None] and not out.exists()

    # 2. While polling: every job recorded, the first polled but still processing.
    since = last_seq(sb)
    run_until(resume, lambda: None not in recorded(out) and routed(sb, POLL, since), procs)
    again = routed(sb, CREATE, since)
    assert [r["headers"]["idempotency-key"] for r in again] == keys(out)[1:], "job 1 is not created again"
    jobs = [j for j in recorded(out) if j is not None]
    assert len(jobs) == 3
    polls = Counter(job_of(r) for r in routed(sb, POLL))
    assert 0 < polls[jobs[0]] < POLLS, "killed while the first job was still processing"
    assert not out.exists()

    # 3. While writing: the temporary output exists; the output itself must not.
    since = last_seq(sb)
    run_until(resume, lambda: temp_outputs(out), procs, every=0.0005)
    assert not out.exists(), "a killed write leaves no output, never a partial one"
    assert recorded(out) == jobs and not routed(sb, CREATE, since)

    # 4. Resume to the end.
    done = cli(*resume, "--json", timeout=HANG_GUARD)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert (summary["rows"], summary["jobs"]) == (ROWS, jobs)
    assert not state_file(out).exists() and not temp_outputs(out), "the finished run leaves nothing behind"
    statuses = check_output(fresh, out)
    assert summary["statuses"] == dict(statuses)
    sizes = check_submissions(fresh, jobs)
    check_charges(fresh, out)
    print(
        f"\ncrash chain: rows={ROWS} jobs={jobs} leads_per_job={sorted(sizes.values())} statuses={dict(statuses)} "
        f"creations={len(routed(sb, CREATE))} requests={last_seq(sb)} wall_s={time.monotonic() - started:.1f}"
    )


# -- a creation the server made, whose answer was lost --------------------------------------------------------------


def cut_creation(sb: Sandbox, src: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """Runs enrich where the server creates the job and the connection then breaks mid-answer, so the CLI cannot
    know the job's id (only the idempotency key it saved before sending)."""
    sb.script(CREATE, [{"status": 200, "fault": "truncate"}])
    return cli("enrich", str(src), "-o", str(out), *against(sb), timeout=HANG_GUARD)


def small_input(world: World, path: Path) -> tuple[list[Row], Path]:
    rows = [r for r in world.rows[:400] if not r.invalid]
    return rows, write_rows(path, COLUMNS, [r.cells for r in rows])


def test_a_creation_whose_answer_was_cut_resumes_into_the_same_job(fresh: World, tmp_path: Path) -> None:
    sb = fresh.sb
    rows, src = small_input(fresh, tmp_path / "leads.csv")
    out = tmp_path / "enriched.jsonl"
    sb.configure(job_progression="immediate")
    try:
        cut = cut_creation(sb, src, out)
        assert cut.returncode == 1 and "Traceback" not in cut.stderr, cut.stderr[-2000:]
        assert recorded(out) == [None] and routed(sb, CREATE)[0]["outcome"] == "truncated"

        resumed = cli("enrich", str(src), "-o", str(out), "--resume", "--json", *against(sb), timeout=HANG_GUARD)
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        creates = routed(sb, CREATE)
        assert len(creates) == 2 and len({r["headers"]["idempotency-key"] for r in creates}) == 1
        (job_id,) = json.loads(resumed.stdout)["jobs"]
        assert {job_of(r) for r in routed(sb, POLL)} == {job_id}, "the resumed run got the job the server made"
        with sb.client(rate_limit=False) as client, pytest.raises(amplemarket.NotFoundError):
            EnrichmentJob.get(job_id + 1, client=client)
        got = read_rows(out)
        assert len(got) == len(rows)
        assert [g.get("person_id") for g in got if g["status"] == "enriched"] == [
            fresh.truth[r.person]["id"]
            for r in rows
            if r.person is not None and not fresh.truth[r.person].get("_gdpr_removed")
        ]
    finally:
        sb.configure(job_progression=f"polls:{POLLS}")


def test_a_cut_creation_says_to_resume(fresh: World, tmp_path: Path) -> None:
    _, src = small_input(fresh, tmp_path / "leads.csv")
    out = tmp_path / "enriched.csv"
    cut = cut_creation(fresh.sb, src, out)
    assert cut.returncode == 1 and state_file(out).exists()
    assert "--resume" in cut.stderr, cut.stderr[-2000:]
