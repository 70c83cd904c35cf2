"""`amplemarket enrich` is crash-safe: job ids reach the state file as soon as they exist, a killed run resumes
with `--resume` without submitting (and paying for) any lead twice, the output file is never half written, and the
summary of a resumed run counts the credits of the whole run."""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import (
    CREATE,
    POLL,
    against,
    cli,
    read_rows,
    read_state,
    sent,
    start_cli,
    state_file,
    wait_for,
    write_rows,
)

from amplemarket.testing import Sandbox

from ._helpers import (
    kill,
    killed_at_the_output,
    killed_then_resumed,
    leads_sent,
    ledger,
    mixed_leads,
    recorded_jobs,
    signature,
    temporaries,
)

COLUMNS = ["Email", "LinkedIn URL"]


def lead_file(path: Path, people: Sequence[dict[str, Any]]) -> tuple[Path, list[dict[str, str]]]:
    """A CSV of leads (email or LinkedIn URL, alternating), and the leads the CLI should send for it."""
    leads = mixed_leads(people)
    rows = [{"Email": lead.get("email", ""), "LinkedIn URL": lead.get("linkedin_url", "")} for lead in leads]
    return write_rows(path, COLUMNS, rows), leads


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
    summary = killed_then_resumed(sb, procs, CREATE, out, "enrich", str(src))
    assert summary["rows"] == 3_000

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
    """The server creates the job but the run dies before it reads the answer: the job exists, its id is in no state
    file, and the resumed run must get that same job back (by its idempotency key), not start a second one."""
    src, _ = lead_file(tmp_path / "leads.csv", people[:40])
    out = tmp_path / "enriched.jsonl"
    sb.script(CREATE, [{"status": 200, "delay": 3}])  # the real creation, answered after 3 s
    proc = start_cli("enrich", str(src), "-o", str(out), *against(sb), cwd=tmp_path)
    procs.append(proc)
    assert wait_for(lambda: [r["outcome"] for r in sent(sb, CREATE)] == ["pending"], timeout=30), sent(sb, CREATE)
    # Frozen while it waits for the answer, the run never reads it; the server still creates the job and answers.
    proc.send_signal(signal.SIGSTOP)
    answered = wait_for(lambda: [(r["outcome"], r["status"]) for r in sent(sb, CREATE)] == [("completed", 202)], 30)
    assert answered, sent(sb, CREATE)
    code, _, _ = kill(proc)
    assert code == -signal.SIGKILL
    state = read_state(out)
    assert state is not None and "api_key" not in json.dumps(state)
    (chunk,) = state["chunks"]
    assert chunk.get("job_id") is None, "the killed run never recorded the job it created"
    key = chunk["idempotency_key"]
    assert key

    resumed = cli("enrich", str(src), "-o", str(out), "--resume", "--json", *against(sb), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    (job_id,) = json.loads(resumed.stdout)["jobs"]
    creates = sent(sb, CREATE)
    assert len(creates) == 2, "the resumed run sent the creation again"
    assert [r["headers"].get("idempotency-key") for r in creates] == [key, key], "a repeated create reuses its key"
    # Job ids count up one by one: the job the killed run created is the only one.
    assert api.get(f"/people/enrichment-requests/{job_id}").status_code == 200
    for other in (job_id - 1, job_id + 1):
        assert api.get(f"/people/enrichment-requests/{other}").status_code == 404, "no second job was started"
    assert len(read_rows(out)) == 40 and not state_file(out).exists()


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_an_interrupted_write_never_leaves_a_half_written_output(sb: Sandbox, tmp_path: Path) -> None:
    src, _ = lead_file(tmp_path / "leads.csv", sb.people[:3_000])
    out = tmp_path / "enriched.csv"

    def rows_in(tmp: Path) -> int:
        return len(list(csv.DictReader(io.StringIO(tmp.read_text(encoding="utf-8"), newline=""))))

    # Killed with every row written to its temporary file, none in place: no output at all, never a partial one.
    first = killed_at_the_output(out, "enrich", str(src), *against(sb))
    assert first.returncode == -signal.SIGKILL, first.stderr
    assert not out.exists()
    (tmp,) = temporaries(out)
    assert rows_in(tmp) == 3_000, "the kill landed after the rows were written"

    resumed = cli("enrich", str(src), "-o", str(out), "--resume", *against(sb))
    assert resumed.returncode == 0, resumed.stderr
    assert len(sent(sb, CREATE)) == 1, "the resumed run used the killed run's job"
    complete = out.read_bytes()
    assert len(read_rows(out)) == 3_000
    assert not temporaries(out), "the killed run's temporary file was cleaned up"

    # A second run over an existing output, killed at the same point, leaves the previous file intact.
    second = killed_at_the_output(out, "enrich", str(src), *against(sb))
    assert second.returncode == -signal.SIGKILL, second.stderr
    assert len(sent(sb, CREATE)) == 2, "the second run was a new one (its own job)"
    assert out.read_bytes() == complete
    (tmp,) = temporaries(out)
    assert rows_in(tmp) == 3_000


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
