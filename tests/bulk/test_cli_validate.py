"""`amplemarket validate`, run as a subprocess against a sandbox this test started (so the requests it sent can be
inspected), and with `--sandbox`: one output row per input row in order with the outcome the API gives each email,
every format in and out, header rules and `--map`, the summary with credits, bad input refused before anything is
sent, requests of at most `--validations-per-hour` that wait out the hourly limit, and runs killed after their
validations were created (or while waiting for the limit) resumed without creating any twice."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import against, cli, read_rows, read_state, sent, start_cli, state_file, wait_for, write_rows

import amplemarket
from amplemarket.testing import Sandbox

from ._helpers import accepted, kill, killed_then_resumed, ledger, recorded_jobs, refused_before_sending

CREATE = "POST /email-validations"
FORMATS = (".csv", ".jsonl", ".json", ".parquet", ".arrow")
COLUMNS = ["Name", "Work Email", "Owner"]
OUTCOMES = {"deliverable", "risky", "unknown", "undeliverable"}

pytestmark = pytest.mark.amplemarket_sandbox(job_progression="immediate")


class Sample:
    """Rows of a contact export, with the email each should be validated as (``None``: an invalid row)."""

    def __init__(self, people: list[dict[str, Any]]) -> None:
        a, b = [p["email"] for p in people if p.get("email")][:2]
        self.rows: list[dict[str, str]] = [
            {"Name": "A", "Work Email": a, "Owner": "ana"},
            {"Name": "B", "Work Email": f"  {b} "},
            {"Name": "C", "Work Email": "not an email"},
            {"Name": "D", "Owner": "no email"},
            {"Name": "E", "Work Email": "someone@example.org"},
            {"Name": "F", "Work Email": a, "Owner": "again"},
            {},
        ]
        self.emails: list[str | None] = [a, b, None, None, "someone@example.org", a, None]
        self.errors = {2: "is not an email address", 3: "the email is empty", 6: "empty row"}

    def write(self, path: Path) -> Path:
        return write_rows(path, COLUMNS, self.rows)

    def check(self, out: Path, client: amplemarket.Client) -> list[dict[str, Any]]:
        """The output: a row per input row, in order, with the outcome the SDK gets for the same email."""
        rows = read_rows(out)
        assert [r.get("Name") or None for r in rows] == [r.get("Name") for r in self.rows]
        truth = amplemarket.validate_emails([e for e in self.emails if e], client=client)
        outcome = {r.email: (r.result, r.catch_all) for r in truth}
        for i, (row, email) in enumerate(zip(rows, self.emails, strict=True)):
            if email is None:
                assert row["status"] == "invalid" and self.errors[i] in row["error"], (i, row)
                assert not row.get("result"), i
            else:
                assert row["status"] == "validated" and not row["error"], (i, row)
                assert row["result"] in OUTCOMES
                catch_all = row["catch_all"] if isinstance(row["catch_all"], bool) else row["catch_all"] == "True"
                assert (row["result"], catch_all) == outcome[email], i
        return rows


@pytest.fixture
def sample(people: list[dict[str, Any]]) -> Sample:
    return Sample(people)


def bodies(sb: Sandbox) -> list[list[str]]:
    return [[e["email"] for e in json.loads(r["body"])["emails"]] for r in accepted(sb, CREATE)]


def summary_line(stdout: str) -> str:
    lines = stdout.strip().splitlines()
    assert lines, "the summary goes to stdout"
    return lines[-1]


# -- formats, mapping, summary ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("in_ext", "out_ext"), [(f, FORMATS[(i + 2) % len(FORMATS)]) for i, f in enumerate(FORMATS)])
def test_validate_one_row_per_input_row_in_every_format(
    sb: Sandbox, tmp_path: Path, client: amplemarket.Client, sample: Sample, in_ext: str, out_ext: str
) -> None:
    src = sample.write(tmp_path / f"contacts{in_ext}")
    out = tmp_path / f"validated{out_ext}"

    proc = cli("validate", str(src), "-o", str(out), *against(sb))

    assert proc.returncode == 0, proc.stderr
    assert "columns: Work Email -> email" in proc.stderr
    assert 'row 3: `email` "not an email" is not an email address' in proc.stderr
    # Each email once, trimmed; invalid rows never sent (nor charged).
    assert bodies(sb) == [[e for e in sample.emails[:5] if e]]
    sample.check(out, client)
    assert not state_file(out).exists()


def test_validate_summary_counts_statuses_and_credits(
    sb: Sandbox, tmp_path: Path, api: httpx.Client, sample: Sample
) -> None:
    src = sample.write(tmp_path / "contacts.csv")
    out = tmp_path / "validated.csv"
    proc = cli("validate", str(src), "-o", str(out), *against(sb))
    assert proc.returncode == 0, proc.stderr
    assert ledger(sb) == {"email_credits": 3.0, "phone_credits": 0}, "one credit per email sent"
    assert summary_line(proc.stdout) == f"7 rows -> {out}: 3 invalid, 4 validated; credits spent: 3.0 email, 0.0 phone"

    # Again: every email is answered by the result cache; nothing is sent or paid.
    proc = cli("validate", str(src), "-o", str(out), "--json", "-q", *against(sb))
    assert proc.returncode == 0 and proc.stderr == ""
    summary = json.loads(proc.stdout)
    assert summary["rows"] == 7 and summary["statuses"] == {"validated": 4, "invalid": 3}
    assert summary["credits_spent"] == {"email_credits": 0.0, "phone_credits": 0.0} and summary["jobs"] == []

    proc = cli("validate", str(src), "-o", str(out), "--json", "-q", "--no-cache", *against(sb))
    assert proc.returncode == 0 and proc.stderr == ""
    summary = json.loads(proc.stdout)
    assert summary["credits_spent"] == {"email_credits": 3.0, "phone_credits": 0.0}, "without the cache, paid again"
    (job,) = summary["jobs"]
    assert isinstance(job, str) and api.get(f"/email-validations/{job}").json()["status"] == "completed"


def test_validate_with_sandbox(tmp_path: Path, client: amplemarket.Client, sample: Sample) -> None:
    """``--sandbox`` serves the data set of the sandbox of the tests (seed 0): the same outcomes."""
    src = sample.write(tmp_path / "contacts.jsonl")
    out = tmp_path / "validated.csv"
    proc = cli("validate", str(src), "-o", str(out), "--sandbox")
    assert proc.returncode == 0, proc.stderr
    sample.check(out, client)
    assert summary_line(proc.stdout).endswith("3 invalid, 4 validated; credits spent: 3.0 email, 0.0 phone")


def test_validate_map_picks_the_column(sb: Sandbox, tmp_path: Path, people: list[dict[str, Any]]) -> None:
    a, b = [p["email"] for p in people if p.get("email")][:2]
    rows = [{"Email": "old@example.org", "Contact": a}, {"Email": "old@example.org", "Contact": b}]
    src = write_rows(tmp_path / "crm.csv", ["Email", "Contact"], rows)
    out = tmp_path / "out.jsonl"
    proc = cli("validate", str(src), "-o", str(out), "--map", "Contact=email", *against(sb))
    assert proc.returncode == 0, proc.stderr
    assert "columns: Contact -> email" in proc.stderr
    assert bodies(sb) == [[a, b]]
    assert [r["status"] for r in read_rows(out)] == ["validated", "validated"]


ONE = [{"Email": "a@b.co"}]


@pytest.mark.parametrize(
    ("rows", "extra", "words"),
    [
        (None, [], "cannot read"),  # no such file
        ([{"Name": "x", "Domain": "b.co"}], [], "no column of"),
        (ONE, ["--map", "Mail=email"], "column 'Mail'"),
        (ONE, ["--map", "Email=domain"], "'domain' is not an email field; fields: ['email']"),
        (ONE, ["--validations-per-hour", "0"], "--validations-per-hour: expected a whole number, 1 or more"),
        (ONE, ["--timeout", "soon"], "--timeout"),
    ],
)
def test_validate_bad_input_exits_2_without_sending(
    sb: Sandbox, tmp_path: Path, rows: list[dict[str, str]] | None, extra: list[str], words: str
) -> None:
    src, out = tmp_path / "contacts.csv", tmp_path / "out.csv"
    line = refused_before_sending(sb, src, rows, "validate", str(src), "-o", str(out), *extra, words=words)
    if "no column" in words:
        assert "name it Email (or Work Email…), or use --map 'Column=email'" in line


def test_validate_help_works() -> None:
    proc = cli("validate", "--help")
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "--validations-per-hour" in text and "hourly limit" in text and "--resume" in text and "--sandbox" in text


# -- the hourly limit ------------------------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(job_progression="immediate", validations_per_hour=5, validation_window_seconds=1)
def test_validate_waits_out_the_hourly_limit_and_finishes(sb: Sandbox, tmp_path: Path) -> None:
    emails = [f"user{i}@domain{i % 3}.example.com" for i in range(12)]
    src = write_rows(tmp_path / "emails.csv", ["Email"], [{"Email": e} for e in emails])
    out = tmp_path / "validated.csv"

    proc = cli("validate", str(src), "-o", str(out), "--validations-per-hour", "5", *against(sb))

    assert proc.returncode == 0, proc.stderr
    assert bodies(sb) == [emails[:5], emails[5:10], emails[10:]], "requests of at most the hourly limit, in order"
    assert [r["status"] for r in sent(sb, CREATE)].count(429) >= 1, "the limit was met"
    assert "hourly validation limit" in proc.stderr, "the wait is shown"
    rows = read_rows(out)
    assert [r["Email"] for r in rows] == emails and {r["status"] for r in rows} == {"validated"}
    assert summary_line(proc.stdout).endswith("12 validated; credits spent: 12.0 email, 0.0 phone")


# -- crash and resume ------------------------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(job_progression="seconds:3")
def test_sigkill_after_the_validations_are_recorded_then_resume_creates_none_twice(
    sb: Sandbox, tmp_path: Path, procs: list[subprocess.Popen[str]]
) -> None:
    emails = [f"person{i}@company{i % 17}.example.com" for i in range(100)]
    src = write_rows(tmp_path / "emails.json", ["Email", "Row"], [{"Email": e, "Row": i} for i, e in enumerate(emails)])
    out = tmp_path / "validated.parquet"

    summary = killed_then_resumed(sb, procs, CREATE, out, "validate", str(src), "--validations-per-hour", "40")

    assert summary["rows"] == 100 and summary["statuses"] == {"validated": 100}
    assert bodies(sb) == [emails[:40], emails[40:80], emails[80:]], "three requests, each sent once"
    rows = read_rows(out)
    assert [r["Row"] for r in rows] == list(range(100)) and [r["Email"] for r in rows] == emails
    assert {r["result"] for r in rows} <= OUTCOMES
    assert summary["credits_spent"] == ledger(sb) == {"email_credits": 100.0, "phone_credits": 0}


@pytest.mark.amplemarket_sandbox(job_progression="immediate", validations_per_hour=5, validation_window_seconds=4)
def test_sigkill_while_waiting_for_the_hourly_limit_then_resume_sends_only_the_rest(
    sb: Sandbox, tmp_path: Path, procs: list[subprocess.Popen[str]]
) -> None:
    emails = [f"user{i}@domain{i % 3}.example.com" for i in range(8)]
    src = write_rows(tmp_path / "emails.csv", ["Email"], [{"Email": e} for e in emails])
    out = tmp_path / "validated.csv"
    proc = start_cli("validate", str(src), "-o", str(out), "--validations-per-hour", "5", *against(sb))
    procs.append(proc)
    assert wait_for(lambda: 429 in [r["status"] for r in sent(sb, CREATE)], timeout=30), "the limit was met"
    code, _, err = kill(proc)
    assert code < 0, err
    state = read_state(out)
    assert state is not None and recorded_jobs(out) is None
    first, rest = state["chunks"]
    assert first["job_id"] and rest["job_id"] is None, "killed with the second request not yet accepted"

    resumed = cli("validate", str(src), "-o", str(out), "--resume", "--json", *against(sb))

    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["jobs"][0] == first["job_id"]
    assert bodies(sb) == [emails[:5], emails[5:]], "the first request was not sent again"
    assert [r["headers"].get("idempotency-key") for r in accepted(sb, CREATE)] == [
        first["idempotency_key"],
        rest["idempotency_key"],
    ]
    assert [r["Email"] for r in read_rows(out)] == emails


@pytest.mark.amplemarket_sandbox(job_progression="never")
def test_a_state_file_of_a_validation_is_not_resumed_by_enrich(sb: Sandbox, tmp_path: Path) -> None:
    src = write_rows(tmp_path / "emails.csv", ["Email"], [{"Email": "a@b.example.com"}])
    out = tmp_path / "out.csv"
    first = cli("validate", str(src), "-o", str(out), "--timeout", "0.2", *against(sb))
    assert first.returncode == 1 and "--resume" in first.stderr and state_file(out).exists()
    proc = cli("enrich", str(src), "-o", str(out), "--resume", *against(sb))
    assert proc.returncode == 2
    assert "holds a run of `amplemarket validate`, not of `amplemarket enrich`" in proc.stderr
    assert sent(sb, "POST /people/enrichment-requests") == []
