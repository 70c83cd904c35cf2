"""`amplemarket enrich` is crash-safe: job ids reach the state file as soon as they exist, a killed run resumes
with `--resume` without submitting (and paying for) any lead twice, the output file is never half written, and the
summary of a resumed run counts the credits of the whole run."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from amplemarket.testing import Sandbox

from ._helpers import (
    CREATE,
    POLL,
    against,
    cli,
    leads_sent,
    mixed_leads,
    read_rows,
    read_state,
    sent,
    start_cli,
    state_file,
    wait_for,
    write_rows,
)

COLUMNS = ["Email", "LinkedIn URL"]


def lead_file(path: Path, people: Sequence[dict[str, Any]]) -> tuple[Path, list[dict[str, str]]]:
    """A CSV of leads (email or LinkedIn URL, alternating), and the leads the CLI should send for it."""
    leads = mixed_leads(people)
    rows = [{"Email": lead.get("email", ""), "LinkedIn URL": lead.get("linkedin_url", "")} for lead in leads]
    return write_rows(path, COLUMNS, rows), leads


def recorded_jobs(out: Path) -> list[int] | None:
    state = read_state(out)
    if state is None or not state["chunks"] or any(c.get("job_id") is None for c in state["chunks"]):
        return None
    return [int(c["job_id"]) for c in state["chunks"]]


def kill(proc: subprocess.Popen[str], sig: int = signal.SIGKILL) -> tuple[int, str, str]:
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err


def signature(lead: dict[str, Any]) -> str:
    return json.dumps(lead, sort_keys=True)


def ledger(sb: Sandbox) -> dict[str, float]:
    """What the sandbox charged so far, per pool, from its ledger."""
    charges = sb.credits["charges"]
    return {f"{pool}_credits": sum(c["amount"] for c in charges if c["pool"] == pool) for pool in ("email", "phone")}


def killed_after_being_charged(sb: Sandbox, src: Path, out: Path, procs: list[subprocess.Popen[str]]) -> None:
    """Runs enrich until its job is complete and charged, then SIGKILLs it before it could read all the results
    (the second read of the job is held back 20 s), so the charges belong to a process that never reports them."""
    sb.script(POLL, [200, {"status": 200, "delay": 20}])
    proc = start_cli("enrich", str(src), "-o", str(out), "--reveal-email", "--reveal-phone-numbers", *against(sb))
    procs.append(proc)
    assert wait_for(lambda: [r for r in sent(sb, POLL) if r["status"] == 200], timeout=30), "the job was read"
    code, _, err = kill(proc)
    assert code == -signal.SIGKILL, err
    assert not out.exists() and recorded_jobs(out)


@pytest.mark.amplemarket_sandbox(job_progression="seconds:3")
def test_sigkill_after_the_job_id_is_recorded_then_resume_submits_nothing_twice(
    sb: Sandbox, tmp_path: Path, procs: list[subprocess.Popen[str]]
) -> None:
    src, leads = lead_file(tmp_path / "leads.csv", sb.people[:3_000])
    out = tmp_path / "enriched.csv"
    proc = start_cli("enrich", str(src), "-o", str(out), *against(sb), cwd=tmp_path)
    procs.append(proc)

    jobs = wait_for(lambda: recorded_jobs(out), timeout=30)
    assert jobs, "the state file names the job as soon as it exists"
    code, _, _ = kill(proc)
    assert code == -signal.SIGKILL
    assert not out.exists()  # the job takes 3 s: the killed run cannot have written anything
    assert len(sent(sb, CREATE)) == 1

    again = cli("enrich", str(src), "-o", str(out), *against(sb), cwd=tmp_path)
    assert again.returncode == 2
    assert "--resume" in again.stderr and str(state_file(out).name) in again.stderr
    assert len(sent(sb, CREATE)) == 1 and not out.exists()

    resumed = cli("enrich", str(src), "-o", str(out), "--resume", "--json", *against(sb), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["jobs"] == jobs and summary["rows"] == 3_000

    bodies = leads_sent(sb)
    assert len(bodies) == 1, "the resumed run submitted nothing"
    assert sorted(map(signature, bodies[0])) == sorted(map(signature, leads))
    rows = read_rows(out)
    assert len(rows) == 3_000
    assert [(r["Email"], r["LinkedIn URL"]) for r in rows] == [
        (lead.get("email", ""), lead.get("linkedin_url", "")) for lead in leads
    ]
    assert {r["status"] for r in rows} <= {"enriched", "gdpr_removed", "not_found"}
    assert sum(r["status"] == "enriched" for r in rows) > 2_900
    assert not state_file(out).exists()


@pytest.mark.amplemarket_sandbox(job_progression="seconds:1")
def test_sigkill_before_the_job_id_is_recorded_creates_no_second_job(
    sb: Sandbox, tmp_path: Path, api: httpx.Client, people: list[dict[str, Any]], procs: list[subprocess.Popen[str]]
) -> None:
    src, _ = lead_file(tmp_path / "leads.csv", people[:40])
    out = tmp_path / "enriched.jsonl"
    proc = start_cli("enrich", str(src), "-o", str(out), *against(sb), cwd=tmp_path)
    procs.append(proc)
    assert wait_for(lambda: read_state(out), timeout=30, every=0.001), "the state file comes before the job"
    kill(proc)
    state = read_state(out)
    assert state is not None and "api_key" not in json.dumps(state)
    key = state["chunks"][0]["idempotency_key"]
    assert key

    resumed = cli("enrich", str(src), "-o", str(out), "--resume", "--json", *against(sb), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    (job_id,) = json.loads(resumed.stdout)["jobs"]
    creates = sent(sb, CREATE)
    assert 1 <= len(creates) <= 2
    assert {r["headers"].get("idempotency-key") for r in creates} == {key}, "a repeated create reuses its key"
    assert api.get(f"/people/enrichment-requests/{job_id + 1}").status_code == 404, "no second job was started"
    assert len(read_rows(out)) == 40 and not state_file(out).exists()


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_an_interrupted_write_never_leaves_a_half_written_output(
    sb: Sandbox, tmp_path: Path, procs: list[subprocess.Popen[str]]
) -> None:
    src, _ = lead_file(tmp_path / "leads.csv", sb.people[:3_000])
    out = tmp_path / "enriched.csv"

    def temp_file() -> bool:
        names = [p.name for p in tmp_path.iterdir()]
        return any(n.startswith(f".{out.name}.") and n.endswith(".tmp") and "amplemarket-state" not in n for n in names)

    def interrupted_run(resume: bool) -> bool:
        """Runs enrich and SIGKILLs it the moment its temporary output appears; whether it was caught writing."""
        proc = start_cli("enrich", str(src), "-o", str(out), *(["--resume"] if resume else []), *against(sb))
        procs.append(proc)
        caught = wait_for(lambda: temp_file() or proc.poll() is not None, timeout=60, every=0.0005)
        writing = bool(caught) and proc.poll() is None
        kill(proc)
        return writing

    # Killed while writing -> no output at all, never a partial one. (A run that finishes before it is caught
    # writing must have written a complete file; a few tries make sure the kill does land mid-write.)
    caught = False
    for _ in range(3):
        caught = interrupted_run(resume=state_file(out).exists())
        if caught:
            assert not out.exists()
            break
        assert len(read_rows(out)) == 3_000
        out.unlink()
    assert caught, "the run was never caught while writing its output"

    proc = cli("enrich", str(src), "-o", str(out), "--resume", *against(sb))
    assert proc.returncode == 0, proc.stderr
    complete = out.read_bytes()
    assert len(read_rows(out)) == 3_000

    # A second run over an existing output, killed while writing, leaves the previous file intact.
    interrupted_run(resume=False)
    assert out.read_bytes() == complete or len(read_rows(out)) == 3_000


@pytest.mark.amplemarket_sandbox(job_progression="seconds:2")
def test_ctrl_c_exits_130_and_says_how_to_resume(
    sb: Sandbox, tmp_path: Path, people: list[dict[str, Any]], procs: list[subprocess.Popen[str]]
) -> None:
    src, _ = lead_file(tmp_path / "leads.csv", people[:20])
    out = tmp_path / "enriched.json"
    proc = start_cli("enrich", str(src), "-o", str(out), *against(sb), cwd=tmp_path)
    procs.append(proc)
    assert wait_for(lambda: recorded_jobs(out), timeout=30)
    code, _, err = kill(proc, signal.SIGINT)
    assert code == 130, err
    assert "--resume" in err and "Traceback" not in err
    assert not out.exists() and state_file(out).exists()

    resumed = cli("enrich", str(src), "-o", str(out), "--resume", *against(sb), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert len(read_rows(out)) == 20 and len(sent(sb, CREATE)) == 1


@pytest.mark.amplemarket_sandbox(job_progression="seconds:2")
def test_a_job_canceled_elsewhere_still_gives_one_row_per_input(
    sb: Sandbox, tmp_path: Path, api: httpx.Client, people: list[dict[str, Any]], procs: list[subprocess.Popen[str]]
) -> None:
    src, leads = lead_file(tmp_path / "leads.csv", people[:200])
    out = tmp_path / "enriched.jsonl"
    proc = start_cli("enrich", str(src), "-o", str(out), "--json", *against(sb), cwd=tmp_path)
    procs.append(proc)
    jobs = wait_for(lambda: recorded_jobs(out), timeout=30)
    assert jobs
    time.sleep(0.5)
    assert api.patch(f"/people/enrichment-requests/{jobs[0]}", json={"status": "canceled"}).status_code == 200
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    rows = read_rows(out)
    assert len(rows) == 200
    assert [(r.get("Email", ""), r.get("LinkedIn URL", "")) for r in rows] == [
        (lead.get("email", ""), lead.get("linkedin_url", "")) for lead in leads
    ]
    done = [r for r in rows if r["status"] in ("enriched", "gdpr_removed", "not_found")]
    rest = [r for r in rows if r not in done]
    assert 0 < len(done) < 200 and rest
    assert all(r["error"] for r in rest), "a lead the canceled job never reached says so"
    assert sum(json.loads(stdout)["statuses"].values()) == 200


@pytest.mark.amplemarket_sandbox(job_progression="never")
def test_resume_refuses_a_changed_input_or_other_reveal_flags(
    sb: Sandbox, tmp_path: Path, api: httpx.Client, people: list[dict[str, Any]]
) -> None:
    src, _ = lead_file(tmp_path / "leads.csv", people[:5])
    out = tmp_path / "enriched.csv"
    first = cli("enrich", str(src), "-o", str(out), "--timeout", "0.2", *against(sb))
    assert first.returncode == 1 and "still processing" in first.stderr
    jobs = recorded_jobs(out)
    assert jobs

    original = src.read_bytes()
    src.write_bytes(original + b"someone.else@example.com,\n")
    changed = cli("enrich", str(src), "-o", str(out), "--resume", *against(sb))
    assert changed.returncode == 2 and "changed" in changed.stderr

    src.write_bytes(original)
    flags = cli("enrich", str(src), "-o", str(out), "--resume", "--reveal-email", *against(sb))
    assert flags.returncode == 2 and "--reveal" in flags.stderr

    state_file(out).write_text("{half a state", encoding="utf-8")
    broken = cli("enrich", str(src), "-o", str(out), "--resume", *against(sb))
    assert broken.returncode == 2 and "state file" in broken.stderr

    assert len(sent(sb, CREATE)) == 1, "none of the refused runs submitted anything"
    api.patch(f"/people/enrichment-requests/{jobs[0]}", json={"status": "canceled"})


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_resume_without_a_state_file_starts_a_new_run(
    sb: Sandbox, tmp_path: Path, people: list[dict[str, Any]]
) -> None:
    src, _ = lead_file(tmp_path / "leads.csv", people[:5])
    out = tmp_path / "enriched.csv"
    proc = cli("enrich", str(src), "-o", str(out), "--resume", *against(sb))
    assert proc.returncode == 0, proc.stderr
    assert "no state file" in proc.stderr
    assert len(read_rows(out)) == 5 and len(sent(sb, CREATE)) == 1


@pytest.mark.parametrize("trusted", [False, True])
def test_a_creation_cut_short_stops_the_run_unless_the_key_is_trusted(
    sb: Sandbox, tmp_path: Path, people: list[dict[str, Any]], trusted: bool
) -> None:
    src, _ = lead_file(tmp_path / "leads.csv", people[:5])
    out = tmp_path / "enriched.csv"
    sb.script(CREATE, [502])
    flags = ["--trust-idempotency-key"] if trusted else []
    proc = cli("enrich", str(src), "-o", str(out), *flags, *against(sb))
    keys = [r["headers"]["idempotency-key"] for r in sent(sb, CREATE)]
    if trusted:
        assert proc.returncode == 0, proc.stderr
        assert len(keys) == 2 and len(set(keys)) == 1, "sent again with the same key"
    else:
        assert proc.returncode == 1 and "--resume" in proc.stderr and len(keys) == 1
        again = cli("enrich", str(src), "-o", str(out), "--resume", *against(sb))
        assert again.returncode == 0, again.stderr
        assert [r["headers"]["idempotency-key"] for r in sent(sb, CREATE)] == keys * 2, "resumed with the same key"
    assert len(read_rows(out)) == 5


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_the_summary_after_resume_reports_the_credits_of_the_whole_run(
    sb: Sandbox, tmp_path: Path, people: list[dict[str, Any]], procs: list[subprocess.Popen[str]]
) -> None:
    src, _ = lead_file(tmp_path / "leads.csv", people[:250])  # more than one page of results
    out = tmp_path / "enriched.csv"
    killed_after_being_charged(sb, src, out, procs)
    charged = ledger(sb)
    assert charged["email_credits"] > 250 * 0.5 and charged["phone_credits"] > 0

    resumed = cli("enrich", str(src), "-o", str(out), "--resume", "--reveal-email", "--reveal-phone-numbers",
                  "--json", *against(sb))  # fmt: skip

    assert resumed.returncode == 0, resumed.stderr
    assert ledger(sb) == charged, "the resumed run itself was charged nothing: every charge was the killed run's"
    summary = json.loads(resumed.stdout)
    assert summary["credits_spent"] == charged
    assert "credits_spent_this_process" not in summary
    balances = sb.credits
    assert summary["credits_spent"] == {"email_credits": 100_000 - balances["email_credits"],
                                        "phone_credits": 10_000 - balances["phone_credits"]}  # fmt: skip
    assert len(read_rows(out)) == 250


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_a_state_file_without_the_starting_balance_says_the_credits_are_this_process_only(
    sb: Sandbox, tmp_path: Path, people: list[dict[str, Any]], procs: list[subprocess.Popen[str]]
) -> None:
    src, _ = lead_file(tmp_path / "leads.csv", people[:250])
    out = tmp_path / "enriched.csv"
    killed_after_being_charged(sb, src, out, procs)
    state = read_state(out)
    assert state is not None and state["credits_at_start"] == {"email_credits": 100_000.0, "phone_credits": 10_000.0}
    del state["credits_at_start"]  # as written by an earlier version, or when /account-info failed at the start
    state_file(out).write_text(json.dumps(state), encoding="utf-8")

    resumed = cli("enrich", str(src), "-o", str(out), "--resume", "--reveal-email", "--reveal-phone-numbers",
                  *against(sb))  # fmt: skip

    assert resumed.returncode == 0, resumed.stderr
    line = resumed.stdout.strip().splitlines()[-1]
    assert "credits spent by this process only" in line and "was not recorded" in line
    assert line.endswith("0.0 email, 0.0 phone"), line  # the killed process paid for everything
