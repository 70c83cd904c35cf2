"""`amplemarket enrich` and `search -o` with Parquet and Arrow IPC files: typed columns in and out (the input's own
columns first with their types, then the result columns typed from their values), nulls and NaN as missing values,
a mapped column that is not text making its row invalid, CSV on either side, crash-safe `--resume` with Parquet on
both sides, and a clear refusal, before anything is sent, when pyarrow cannot be imported."""

from __future__ import annotations

import datetime
import json
import math
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from support import (
    CREATE,
    ENV,
    against,
    cli,
    domain_of,
    read_arrow,
    read_rows,
    sent,
    state_file,
    write_arrow,
    write_rows,
)

from amplemarket.testing import Sandbox

from ._helpers import killed_at_the_output, killed_then_resumed, leads_sent, ledger, mixed_leads, signature, temporaries

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
ipc = pytest.importorskip("pyarrow.ipc")

pytestmark = pytest.mark.amplemarket_sandbox(job_progression="immediate")

UTC = datetime.timezone.utc
NAN = float("nan")
HINT = "pip install 'amplemarket[parquet]'"


def pick(live: list[dict[str, Any]], n: int, *, email: bool = False, company: bool = False) -> list[dict[str, Any]]:
    return [p for p in live if (p.get("email") or not email) and (p.get("company") or not company)][:n]


def strings_in(value: Any) -> list[str]:
    """Every string inside a value (lists and dicts walked)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in strings_in(v)]
    return []


def is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


class Typed:
    """A lead table with typed columns as a pandas or polars export has them: text columns with nulls, a float
    title column that is all NaN (an empty column), a numeric LinkedIn ID column, and unmapped int, timestamp,
    bool, float and list columns to carry through."""

    def __init__(self, live: list[dict[str, Any]]) -> None:
        self.statuses = ["enriched", "enriched", "enriched", "invalid", "invalid", "invalid", "not_found", "enriched",
                         "invalid"]  # fmt: skip
        self.reasons = {3: ["not an email"], 4: ["'LinkedIn ID'", "int", "not text"], 5: ["no usable identifier"],
                        8: ["empty row"]}  # fmt: skip
        a, b, other = pick(live, 3, email=True)
        (c,) = pick(live[50:], 1, company=True)
        self.people: list[dict[str, Any] | None] = [a, b, c, None, None, None, None, a, None]
        n = len(self.people)
        day = datetime.datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
        emails = [a["email"], None, None, "not-an-email", other["email"], None, "zz.nobody@nowhere.example",
                  a["email"], None]  # fmt: skip
        signed_up = [day + datetime.timedelta(days=i) for i in range(n - 1)] + [None]
        self.table = pa.table(
            {
                "Email": pa.array(emails, pa.string()),
                "LinkedIn URL": pa.array([None, b["linkedin_url"], *[None] * 7], pa.string()),
                "First Name": pa.array([None, None, c["first_name"], *[None] * 6], pa.string()),
                "Last Name": pa.array([None, None, c["last_name"], *[None] * 6], pa.string()),
                "Company": pa.array([None, None, c["company"]["name"], *[None] * 6], pa.string()),
                "Title": pa.array([NAN] * n, pa.float64()),  # maps to title: NaN is no title, never "nan"
                "LinkedIn ID": pa.array([None, None, None, None, 12345, None, None, None, None], pa.int64()),
                "Rank": pa.array([10, 20, 30, 40, 50, 60, 70, 80, None], pa.int64()),
                "Signed Up": pa.array(signed_up, pa.timestamp("us", tz="UTC")),
                "VIP": pa.array([True, False, None, True, False, True, False, True, None], pa.bool_()),
                "Score": pa.array([1.5, NAN, None, 0.25, 2.0, 3.0, 4.0, 5.0, None], pa.float64()),
                "Tags": pa.array([["x", "y"], [], None, ["z"], None, None, None, ["x"], None], pa.list_(pa.string())),
            }
        )

    def check(self, out: Path) -> Any:
        """The output of enriching this table: its rows in order, its columns first with their types, result
        columns typed, nulls where nothing is known. Returns the output table."""
        got = read_arrow(out)
        assert got.num_rows == self.table.num_rows
        given = self.table.schema
        assert got.schema.names[: len(given)] == given.names, "the input's columns first, in their order"
        for name in given.names:
            assert got.schema.field(name).type == given.field(name).type, name
            assert got[name].to_pylist() == self.table[name].to_pylist() or name in ("Title", "Score"), name
        assert all(is_nan(v) for v in got["Title"].to_pylist())  # carried through as NaN, not "nan"
        score = got["Score"].to_pylist()
        assert score[0] == 1.5 and is_nan(score[1]) and score[2] is None and score[3:8] == [0.25, 2, 3, 4, 5]

        assert got.schema.field("status").type == pa.string() and got.schema.field("error").type == pa.string()
        assert got["status"].to_pylist() == self.statuses
        errors = got["error"].to_pylist()
        for i, error in enumerate(errors):
            if i in self.reasons:
                assert error and all(words in error for words in self.reasons[i]), (i, error)
            else:
                assert error is None, (i, error)  # missing is null, not ""
        types = {f.name: f.type for f in got.schema}
        assert types["person_id"] == pa.string()
        assert types["company_keywords"] == pa.list_(pa.string())
        assert types["company_technologies"] == pa.list_(pa.string())
        assert types["company_sic_codes"] == pa.list_(pa.int64())
        assert types["company_founded_year"] == pa.int64() and types["company_is_b2b"] == pa.bool_()
        assert types["person_experiences"] == pa.string()  # nested objects: JSON text
        rows = got.to_pylist()
        for i, (row, truth) in enumerate(zip(rows, self.people, strict=True)):
            if truth is None:
                assert row["person_id"] is None and row["company_keywords"] is None, i
                continue
            assert (row["person_id"], row["person_linkedin_url"]) == (truth["id"], truth["linkedin_url"]), i
            assert row["company_keywords"] == truth["company"]["keywords"], i
            experiences = row["person_experiences"]
            assert (None if experiences is None else json.loads(experiences)) == truth["experiences"], i
        assert "nan" not in {s.lower() for row in rows for s in strings_in(row)}
        return got


# -- Parquet and Arrow end to end ----------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", [".parquet", ".arrow"])
def test_enrich_typed_file_to_the_same_format_with_sandbox(
    tmp_path: Path, live: list[dict[str, Any]], ext: str
) -> None:
    typed = Typed(live)
    src = write_arrow(tmp_path / f"leads{ext}", typed.table)
    out = tmp_path / f"enriched{ext}"

    proc = cli("enrich", str(src), "-o", str(out), "--sandbox", cwd=tmp_path)

    assert proc.returncode == 0, proc.stderr
    typed.check(out)
    assert "Title -> title" in proc.stderr and "LinkedIn ID -> linkedin_id" in proc.stderr
    assert "row 5: column 'LinkedIn ID' holds int, not text" in proc.stderr
    assert proc.stdout.strip().splitlines()[-1].startswith(f"9 rows -> {out}: 4 enriched, 4 invalid, 1 not_found")
    assert not state_file(out).exists() and not temporaries(out)


def test_enrich_parquet_sends_the_leads_once_without_nan(
    sb: Sandbox, tmp_path: Path, live: list[dict[str, Any]]
) -> None:
    typed = Typed(live)
    src = write_arrow(tmp_path / "leads.parquet", typed.table)
    out = tmp_path / "enriched.parquet"
    proc = cli("enrich", str(src), "-o", str(out), *against(sb))
    assert proc.returncode == 0, proc.stderr
    a, b, c = typed.people[:3]
    assert a is not None and b is not None and c is not None
    assert leads_sent(sb) == [
        [
            {"email": a["email"]},
            {"linkedin_url": b["linkedin_url"]},
            {"name": c["name"], "company_name": c["company"]["name"]},
            {"email": "zz.nobody@nowhere.example"},
        ]
    ]  # NaN titles are no titles; the repeated lead once; invalid rows never
    typed.check(out)


def test_arrow_stream_in_and_feather_out(sb: Sandbox, tmp_path: Path, live: list[dict[str, Any]]) -> None:
    """An Arrow IPC stream (not the file format) is read too; ``.feather`` and ``.ipc`` name Arrow IPC files."""
    typed = Typed(live)
    src = tmp_path / "leads.ipc"
    with pa.OSFile(str(src), "wb") as sink, ipc.new_stream(sink, typed.table.schema) as writer:
        writer.write_table(typed.table)
    out = tmp_path / "enriched.feather"
    proc = cli("enrich", str(src), "-o", str(out), *against(sb))
    assert proc.returncode == 0, proc.stderr
    typed.check(out)  # read with pyarrow.ipc.open_file: the file format


# -- mixed formats ---------------------------------------------------------------------------------------------------


def test_enrich_csv_to_parquet(sb: Sandbox, tmp_path: Path, live: list[dict[str, Any]]) -> None:
    a, b = pick(live, 2, email=True, company=True)
    columns = ["Email", "Full Name", "Domain", "Notes"]
    rows = [
        {"Email": a["email"], "Notes": "1"},
        {"Full Name": b["name"], "Domain": domain_of(b["company"])},
        {"Email": "nope", "Notes": "bad"},
    ]
    src = write_rows(tmp_path / "leads.csv", columns, rows)
    out = tmp_path / "enriched.parquet"

    proc = cli("enrich", str(src), "-o", str(out), *against(sb))

    assert proc.returncode == 0, proc.stderr
    got = read_arrow(out)
    assert got.schema.names[:4] == columns
    assert all(got.schema.field(c).type == pa.string() for c in columns)  # CSV cells are text
    assert got.to_pylist()[0]["Notes"] == "1" and got.to_pylist()[1]["Notes"] == ""  # the cells as they were
    assert got["status"].to_pylist() == ["enriched", "enriched", "invalid"]
    errors = got["error"].to_pylist()
    assert errors[:2] == [None, None] and "not an email" in errors[2]
    assert got["person_id"].to_pylist() == [a["id"], b["id"], None]
    assert got.schema.field("company_keywords").type == pa.list_(pa.string())
    assert got["company_keywords"].to_pylist()[:2] == [a["company"]["keywords"], b["company"]["keywords"]]
    assert leads_sent(sb) == [[{"email": a["email"]}, {"name": b["name"], "company_domain": domain_of(b["company"])}]]


@pytest.mark.parametrize("ext", [".csv", ".jsonl"])
def test_enrich_parquet_to_text_formats(sb: Sandbox, tmp_path: Path, live: list[dict[str, Any]], ext: str) -> None:
    typed = Typed(live)
    src = write_arrow(tmp_path / "leads.parquet", typed.table)
    out = tmp_path / f"enriched{ext}"

    proc = cli("enrich", str(src), "-o", str(out), *against(sb))

    assert proc.returncode == 0, proc.stderr
    rows = read_rows(out)
    assert [r["status"] for r in rows] == typed.statuses
    assert list(rows[0])[: len(typed.table.column_names)] == typed.table.column_names
    first, second, last = rows[0], rows[1], rows[-1]
    if ext == ".csv":  # text: missing (null or NaN) as an empty cell, lists as JSON
        assert [r["Rank"] for r in rows] == ["10", "20", "30", "40", "50", "60", "70", "80", ""]
        assert (first["Score"], second["Score"], first["Title"], second["Email"]) == ("1.5", "", "", "")
        assert (first["VIP"], second["VIP"], last["VIP"]) == ("True", "False", "")
        assert first["Signed Up"].startswith("2024-03-01 09:30:00") and last["Signed Up"] == ""
        assert json.loads(first["Tags"]) == ["x", "y"] and second["Tags"] == "[]" and last["Tags"] == ""
        assert rows[4]["LinkedIn ID"] == "12345" and first["error"] == ""
    else:  # JSON: missing (null or NaN) as null, timestamps as ISO 8601
        assert [r["Rank"] for r in rows] == [10, 20, 30, 40, 50, 60, 70, 80, None]
        assert (first["Score"], second["Score"], first["Title"], second["Email"]) == (1.5, None, None, None)
        assert (first["VIP"], last["VIP"], first["Tags"], second["Tags"]) == (True, None, ["x", "y"], [])
        assert first["Signed Up"] == "2024-03-01T09:30:00+00:00" and last["Signed Up"] is None
        assert rows[4]["LinkedIn ID"] == 12345 and first["error"] is None
    assert "'LinkedIn ID'" in rows[4]["error"] and "empty row" in last["error"]
    assert "nan" not in {s.lower() for row in rows for s in strings_in(row)}
    assert len(leads_sent(sb)) == 1 and len(leads_sent(sb)[0]) == 4


def test_search_to_parquet_with_sandbox(tmp_path: Path) -> None:
    out = tmp_path / "people.parquet"
    proc = cli("search", "--title", "CEO", "--max-results", "12", "-o", str(out), "--sandbox")
    assert proc.returncode == 0, proc.stderr
    got = read_arrow(out)
    assert got.num_rows == 12 and len(set(got["person_id"].to_pylist())) == 12
    assert all("ceo" in t.lower() for t in got["person_title"].to_pylist())
    types = {f.name: f.type for f in got.schema}
    assert types["person_id"] == pa.string() and types["company_technologies"] == pa.list_(pa.string())
    assert types["company_followers"] == pa.int64() and types["company_is_b2c"] == pa.bool_()


# -- files that cannot be used -------------------------------------------------------------------------------------


def duplicate_columns(path: Path) -> None:
    table = pa.Table.from_arrays([pa.array(["a@b.co"]), pa.array(["c@d.co"])], names=["Email", "Email"])
    write_arrow(path, table)


def no_lead_column(path: Path) -> None:
    write_arrow(path, pa.table({"Shoe Size": pa.array([42], pa.int64())}))


@pytest.mark.parametrize(
    ("name", "make", "words"),
    [
        ("leads.parquet", lambda p: p.write_bytes(b"PAR1 not really"), "not a valid Parquet file"),
        ("leads.arrow", lambda p: p.write_text("Email\na@b.co\n"), "not a valid Arrow IPC file"),
        ("leads.arrow", duplicate_columns, "more than one column named 'Email'"),
        ("leads.parquet", no_lead_column, "no column"),
        ("leads.parquet", None, "cannot read"),
    ],
)
def test_unusable_parquet_or_arrow_input_exits_2_without_sending(
    sb: Sandbox, tmp_path: Path, name: str, make: Any, words: str
) -> None:
    src = tmp_path / name
    if make is not None:
        make(src)
    out = tmp_path / "out.parquet"
    proc = cli("enrich", str(src), "-o", str(out), *against(sb))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.startswith("amplemarket enrich:") and words in proc.stderr and "Traceback" not in proc.stderr
    assert sent(sb, CREATE) == []
    assert not out.exists() and not state_file(out).exists()


def test_unknown_extensions_list_the_new_formats(sb: Sandbox, tmp_path: Path) -> None:
    src = write_rows(tmp_path / "in.csv", ["Email"], [{"Email": "zz.nobody@nowhere.example"}])
    proc = cli("enrich", str(src), "-o", str(tmp_path / "out.xlsx"), *against(sb))
    assert proc.returncode == 2
    assert ".csv, .jsonl, .json, .parquet or .arrow" in proc.stderr and ".feather" in proc.stderr
    proc = cli("search", "--title", "CEO", "-o", str(tmp_path / "people.xlsx"), *against(sb))
    assert proc.returncode == 2 and ".parquet or .arrow" in proc.stderr
    assert sent(sb) == [], "refused before searching"


@pytest.mark.parametrize("command", ["enrich", "search"])
def test_help_names_the_formats(command: str) -> None:
    proc = cli(command, "--help")
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert ".parquet or .arrow" in text and "pyarrow" in text


# -- without pyarrow -------------------------------------------------------------------------------------------------

# Runs the CLI (the arguments after ``-c``) where ``import pyarrow`` fails, as in a base install; prints whether any
# module of pyarrow was loaded to stderr last.
WITHOUT_PYARROW = r"""
import sys
sys.modules["pyarrow"] = None  # import pyarrow raises ImportError
from amplemarket.cli import main

try:
    code = main(sys.argv[1:])
finally:
    loaded = sorted(m for m, v in sys.modules.items() if m.startswith("pyarrow") and v is not None)
    print(f"pyarrow modules loaded: {loaded}", file=sys.stderr)
sys.exit(code)
"""


def without_pyarrow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_PYARROW, *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
        encoding="utf-8",
    )


@pytest.mark.parametrize(
    ("source", "target", "words"),
    [
        ("leads.parquet", "out.csv", "reading .parquet files needs pyarrow: pip install 'amplemarket[parquet]'"),
        ("leads.arrow", "out.parquet", "reading .arrow files needs pyarrow: pip install 'amplemarket[parquet]'"),
        ("leads.csv", "out.parquet", "writing .parquet files needs pyarrow: pip install 'amplemarket[parquet]'"),
        ("leads.jsonl", "out.feather", "writing .feather files needs pyarrow: pip install 'amplemarket[parquet]'"),
    ],
)
def test_without_pyarrow_parquet_and_arrow_are_refused_before_anything_is_sent(
    sb: Sandbox, tmp_path: Path, live: list[dict[str, Any]], source: str, target: str, words: str
) -> None:
    (a,) = pick(live, 1, email=True)
    src = write_rows(tmp_path / source, ["Email"], [{"Email": a["email"]}])
    out = tmp_path / target

    proc = without_pyarrow("enrich", str(src), "-o", str(out), *against(sb))

    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines()[0] == f"amplemarket enrich: {words}"
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert sent(sb) == [], "nothing sent, not even the balance"
    assert not out.exists() and not state_file(out).exists() and not temporaries(out)


def test_without_pyarrow_search_to_parquet_is_refused_before_searching(sb: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "people.parquet"
    proc = without_pyarrow("search", "--title", "CEO", "-o", str(out), *against(sb))
    assert proc.returncode == 2, proc.stderr
    assert f"amplemarket search: writing .parquet files needs pyarrow: {HINT}" in proc.stderr
    assert sent(sb) == [] and not out.exists()


def test_without_pyarrow_csv_and_json_work_and_pyarrow_is_never_imported(
    sb: Sandbox, tmp_path: Path, live: list[dict[str, Any]]
) -> None:
    (a,) = pick(live, 1, email=True)
    src = write_rows(tmp_path / "leads.csv", ["Email"], [{"Email": a["email"]}, {"Email": "nope"}])
    out = tmp_path / "out.jsonl"
    proc = without_pyarrow("enrich", str(src), "-o", str(out), *against(sb))
    assert proc.returncode == 0, proc.stderr
    assert [r["status"] for r in read_rows(out)] == ["enriched", "invalid"]
    assert proc.stderr.splitlines()[-1] == "pyarrow modules loaded: []"
    assert leads_sent(sb) == [[{"email": a["email"]}]]


# -- crash and resume with Parquet on both sides -------------------------------------------------------------------


def parquet_leads(path: Path, people: list[dict[str, Any]]) -> tuple[Path, list[dict[str, str]]]:
    """A Parquet file of leads (email or LinkedIn URL, alternating; the other column null) with a typed row number,
    and the leads the CLI should send for it."""
    leads = mixed_leads(people)
    table = pa.table(
        {
            "Email": pa.array([lead.get("email") for lead in leads], pa.string()),
            "LinkedIn URL": pa.array([lead.get("linkedin_url") for lead in leads], pa.string()),
            "Row": pa.array(range(len(leads)), pa.int64()),
        }
    )
    return write_arrow(path, table), leads


def check_parquet_output(out: Path, leads: list[dict[str, str]]) -> Any:
    """One row per input row, in input order, typed; each person found charged once."""
    got = read_arrow(out)
    assert got.num_rows == len(leads)
    assert got["Row"].to_pylist() == list(range(len(leads))) and got.schema.field("Row").type == pa.int64()
    assert got["Email"].to_pylist() == [lead.get("email") for lead in leads]
    assert got["LinkedIn URL"].to_pylist() == [lead.get("linkedin_url") for lead in leads]
    assert set(got["status"].to_pylist()) <= {"enriched", "gdpr_removed", "not_found"}
    return got


def check_charged_once(sb: Sandbox, got: Any) -> None:
    counts = Counter((c["person_id"], c["kind"]) for c in sb.credits["charges"])
    assert counts and max(counts.values()) == 1, counts.most_common(3)
    enriched = {pid for pid, status in zip(got["person_id"].to_pylist(), got["status"].to_pylist(), strict=True)
                if status == "enriched"}  # fmt: skip
    assert {pid for pid, kind in counts if kind == "found"} == enriched


@pytest.mark.amplemarket_sandbox(job_progression="seconds:3")
def test_sigkill_after_the_job_id_is_recorded_then_resume_with_parquet_submits_nothing_twice(
    sb: Sandbox, tmp_path: Path, procs: list[subprocess.Popen[str]]
) -> None:
    src, leads = parquet_leads(tmp_path / "leads.parquet", sb.people[:600])
    out = tmp_path / "enriched.parquet"
    summary = killed_then_resumed(sb, procs, CREATE, out, "enrich", str(src))
    assert summary["rows"] == 600

    bodies = leads_sent(sb)
    assert len(bodies) == 1, "the resumed run submitted nothing"
    assert sorted(map(signature, bodies[0])) == sorted(map(signature, leads))
    got = check_parquet_output(out, leads)
    assert sum(s == "enriched" for s in got["status"].to_pylist()) > 550
    check_charged_once(sb, got)
    assert summary["credits_spent"] == ledger(sb)
    assert not state_file(out).exists() and not temporaries(out)


def test_an_interrupted_parquet_write_never_leaves_a_half_written_output(sb: Sandbox, tmp_path: Path) -> None:
    src, leads = parquet_leads(tmp_path / "leads.parquet", sb.people[:600])
    out = tmp_path / "enriched.parquet"

    # Killed with every row written to its temporary file, none in place: no output at all, never a partial one.
    first = killed_at_the_output(out, "enrich", str(src), *against(sb))
    assert first.returncode == -signal.SIGKILL, first.stderr
    assert not out.exists()
    (tmp,) = temporaries(out)
    assert pq.read_table(tmp).num_rows == 600, "the kill landed after a complete file was written"

    resumed = cli("enrich", str(src), "-o", str(out), "--resume", *against(sb))
    assert resumed.returncode == 0, resumed.stderr
    assert len(sent(sb, CREATE)) == 1, "the resumed run used the killed run's job"
    assert not temporaries(out), "the killed run's temporary file was cleaned up"
    check_charged_once(sb, check_parquet_output(out, leads))
    complete = out.read_bytes()

    # A second run over an existing output, killed at the same point, leaves the previous file intact.
    second = killed_at_the_output(out, "enrich", str(src), *against(sb))
    assert second.returncode == -signal.SIGKILL, second.stderr
    assert len(sent(sb, CREATE)) == 2, "the second run was a new one (its own job)"
    assert out.read_bytes() == complete
    (tmp,) = temporaries(out)
    assert pq.read_table(tmp).num_rows == 600
