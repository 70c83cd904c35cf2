"""`amplemarket company-search` and `amplemarket enrich --companies`, run as subprocesses against a sandbox this test
started (so the requests they sent can be inspected), and with `--sandbox`: every filter flag, every output format,
one output row per input row in order with the right company, header rules and `--map`, the summary with credits,
bad input refused before anything is sent, and a run killed after its job was created resumed without a second
job."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support import against, cli, domain_of, read_arrow, read_rows, sent, state_file, write_rows

from amplemarket.testing import Sandbox

from ._helpers import killed_then_resumed, ledger, refused_before_sending, signature

CREATE = "POST /companies/enrichment-requests"
SEARCH = "POST /companies/search"
TEXT_FORMATS = (".csv", ".jsonl", ".json")
FORMATS = (*TEXT_FORMATS, ".parquet", ".arrow")
COLUMNS = ["Account", "Website", "Company LinkedIn URL", "Owner"]

pytestmark = pytest.mark.amplemarket_sandbox(job_progression="immediate", company_enrichment_cost=1.0)


class Sample:
    """Company rows as a CRM exports them, with what each row should become."""

    def __init__(self, companies: list[dict[str, Any]]) -> None:
        a, b, c, d = companies[:4]
        self.rows: list[dict[str, str]] = [
            {"Website": domain_of(a), "Owner": "ana"},
            {"Website": f"{a['website']}/about", "Owner": "repeat, as a URL"},
            {"Company LinkedIn URL": b["linkedin_url"]},
            {"Account": c["name"]},
            {"Website": "no-such-company-anywhere.example"},
            {"Website": "not a domain"},
            {"Owner": "no identifier"},
            {"Website": domain_of(d), "Account": d["name"]},
            {"Website": domain_of(a), "Owner": "again"},
        ]
        self.statuses = ["enriched", "enriched", "enriched", "enriched", "not_found", "invalid", "invalid",
                         "enriched", "enriched"]  # fmt: skip
        self.companies: list[dict[str, Any] | None] = [a, a, b, c, None, None, None, d, a]
        self.errors = {5: "not a domain", 6: "no usable identifier"}

    def write(self, path: Path) -> Path:
        return write_rows(path, COLUMNS, self.rows)

    def check(self, out: Path) -> list[dict[str, Any]]:
        """The output: the input's rows in order, its columns first, then each row's status and company."""
        rows = read_rows(out)
        assert len(rows) == len(self.rows)
        for row in rows:  # the input's columns (those the row has, in JSON), then the result's
            keys = list(row)
            given, added = keys[: keys.index("status")], keys[keys.index("status") :]
            assert set(given) <= set(COLUMNS) and not set(added) & set(COLUMNS)
        assert [r.get("Owner") or "" for r in rows] == [r.get("Owner", "") for r in self.rows]
        assert [r["status"] for r in rows] == self.statuses
        for i, (row, truth) in enumerate(zip(rows, self.companies, strict=True)):
            if truth is None:
                assert not row.get("company_id"), i
                assert (self.errors[i] in row["error"]) if i in self.errors else not row["error"], (i, row["error"])
            else:
                assert (row["company_id"], row["company_name"]) == (truth["id"], truth["name"]), i
                assert not row["error"], i
        return rows


@pytest.fixture
def sample(sb: Sandbox) -> Sample:
    return Sample(list(sb.companies[:4]))


def bodies(sb: Sandbox) -> list[list[dict[str, Any]]]:
    return [json.loads(r["body"])["companies"] for r in sent(sb, CREATE)]


def summary_line(stdout: str) -> str:
    lines = stdout.strip().splitlines()
    assert lines, "the summary goes to stdout"
    return lines[-1]


# -- company-search --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", FORMATS)
def test_company_search_to_every_format_with_sandbox(tmp_path: Path, ext: str) -> None:
    out = tmp_path / f"companies{ext}"
    proc = cli("company-search", "--industry", "Software Development", "--max-results", "12", "-o", str(out),
               "--sandbox")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"12 companies written to {out}" in proc.stderr
    rows = read_rows(out)
    assert len(rows) == 12 and len({r["company_id"] for r in rows}) == 12
    assert {r["company_industry"] for r in rows} == {"Software Development"}
    if ext in (".parquet", ".arrow"):
        pa = pytest.importorskip("pyarrow")
        types = {f.name: f.type for f in read_arrow(out).schema}
        assert types["company_keywords"].value_type == pa.string() and types["company_founded_year"] == pa.int64()


def test_company_search_every_filter_flag_reaches_the_request(sb: Sandbox) -> None:
    a, b = sb.companies[:2]
    flags = ["--location", a["location"], "--keyword", a["keywords"][0]]
    for c in (a, b):
        flags += ["--name", c["name"], "--domain", domain_of(c), "--industry", c["industry"], "--size", c["size"],
                  "--type", c["type"]]  # fmt: skip
    proc = cli("company-search", *flags, "--json", *against(sb))
    assert proc.returncode == 0, proc.stderr
    (body,) = [json.loads(r["body"]) for r in sent(sb, SEARCH)]
    assert body["company_names"] == [a["name"], b["name"]]  # repeated flags: any of their values
    assert body["company_domains"] == [domain_of(a), domain_of(b)]
    assert body["company_industries"] == [a["industry"], b["industry"]]
    assert body["company_sizes"] == [a["size"], b["size"]]
    assert body["company_types"] == [a["type"], b["type"]]
    assert body["company_locations"] == [a["location"]] and body["company_keywords"] == [a["keywords"][0]]
    assert [json.loads(line)["id"] for line in proc.stdout.splitlines()] == [a["id"]]


def test_company_search_text_json_and_max_results(sb: Sandbox) -> None:
    industry = sb.companies[0]["industry"]
    expected = [c for c in sb.companies if c["industry"] == industry][:5]
    proc = cli("company-search", "--industry", industry, "--max-results", "5", *against(sb))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == [c["name"] for c in expected]
    assert [line.split("\t")[1] for line in lines] == [c["website"] for c in expected]
    assert "5 companies" in proc.stderr

    proc = cli("company-search", "--industry", industry, "--max-results", "5", "--json", *against(sb))
    assert [json.loads(line)["id"] for line in proc.stdout.splitlines()] == [c["id"] for c in expected]


def test_company_search_output_is_an_input_of_enrich_companies(sb: Sandbox, tmp_path: Path) -> None:
    found = tmp_path / "found.csv"
    proc = cli("company-search", "--type", "Privately Held", "--max-results", "30", "-o", str(found), *against(sb))
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "enriched.jsonl"
    proc = cli("enrich", "--companies", str(found), "-o", str(out), *against(sb))
    assert proc.returncode == 0, proc.stderr
    assert "company_website -> domain" in proc.stderr
    rows = read_rows(out)
    assert len(rows) == 30 and {r["status"] for r in rows} == {"enriched"}
    # The result's columns have the input's names: they come after them, prefixed.
    assert [r["amplemarket_company_id"] for r in rows] == [r["company_id"] for r in rows]


def test_company_search_bad_flags_exit_2_before_searching(sb: Sandbox, tmp_path: Path) -> None:
    proc = cli("company-search", "--max-results", "-1", *against(sb))
    assert proc.returncode == 2 and "--max-results" in proc.stderr
    proc = cli("company-search", "--name", "x", "-o", str(tmp_path / "out.xlsx"), *against(sb))
    assert proc.returncode == 2 and proc.stderr.startswith("amplemarket company-search:")
    assert ".csv, .jsonl, .json, .parquet or .arrow" in proc.stderr
    assert sent(sb) == []


# -- enrich --companies ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("in_ext", "out_ext"), [(f, FORMATS[(i + 1) % len(FORMATS)]) for i, f in enumerate(FORMATS)])
def test_enrich_companies_one_row_per_input_row_in_every_format(
    sb: Sandbox, tmp_path: Path, sample: Sample, in_ext: str, out_ext: str
) -> None:
    src = sample.write(tmp_path / f"companies{in_ext}")
    out = tmp_path / f"enriched{out_ext}"

    proc = cli("enrich", "--companies", str(src), "-o", str(out), *against(sb))

    assert proc.returncode == 0, proc.stderr
    sample.check(out)
    assert "Account -> name" in proc.stderr and "Website -> domain" in proc.stderr
    assert "Company LinkedIn URL -> linkedin_url" in proc.stderr
    assert 'row 6: `domain` "not a domain" is not a domain' in proc.stderr
    a, b, c, d = sb.companies[:4]
    # Each company once; the website URL is the SDK's to cut down; invalid rows never sent.
    (sent_once,) = bodies(sb)
    assert sorted(map(signature, sent_once)) == sorted(map(signature, [
        {"domain": domain_of(a)}, {"domain": domain_of(a)}, {"linkedin_url": b["linkedin_url"]}, {"name": c["name"]},
        {"domain": "no-such-company-anywhere.example"}, {"domain": domain_of(d), "name": d["name"]},
    ]))  # fmt: skip
    assert not state_file(out).exists()


def test_enrich_companies_summary_counts_statuses_and_credits(sb: Sandbox, tmp_path: Path, sample: Sample) -> None:
    src = sample.write(tmp_path / "companies.csv")
    out = tmp_path / "enriched.csv"
    proc = cli("enrich", "--companies", str(src), "-o", str(out), *against(sb))
    assert proc.returncode == 0, proc.stderr
    charged = ledger(sb)
    assert charged == {"email_credits": 4.0, "phone_credits": 0}, "each of the 4 companies found once, at 1 credit"
    assert summary_line(proc.stdout) == (
        f"9 rows -> {out}: 6 enriched, 2 invalid, 1 not_found; credits spent: 4.0 email, 0.0 phone"
    )
    proc = cli("enrich", "--companies", str(src), "-o", str(out), "--json", "-q", *against(sb))
    assert proc.returncode == 0 and proc.stderr == ""
    summary = json.loads(proc.stdout)
    assert summary["statuses"] == {"enriched": 6, "invalid": 2, "not_found": 1} and summary["rows"] == 9
    assert summary["jobs"] == [], "every company answered by the result cache"
    proc = cli("enrich", "--companies", str(src), "-o", str(out), "--json", "-q", "--no-cache", *against(sb))
    summary = json.loads(proc.stdout)
    assert summary["credits_spent"] == {"email_credits": 0.0, "phone_credits": 0.0}, "a company is charged once"
    assert len(summary["jobs"]) == 1 and isinstance(summary["jobs"][0], int)


def test_enrich_companies_with_sandbox(tmp_path: Path, sb: Sandbox, sample: Sample) -> None:
    """``--sandbox`` serves the data set of the sandbox of the tests (seed 0)."""
    src = sample.write(tmp_path / "companies.jsonl")
    out = tmp_path / "enriched.csv"
    proc = cli("enrich", "--companies", str(src), "-o", str(out), "--sandbox")
    assert proc.returncode == 0, proc.stderr
    sample.check(out)
    assert "6 enriched, 2 invalid, 1 not_found; credits spent:" in summary_line(proc.stdout)


def test_enrich_companies_map_overrides_the_header_rules(sb: Sandbox, tmp_path: Path) -> None:
    a, b = sb.companies[:2]
    columns = ["Site", "Org", "Website"]
    rows = [{"Site": domain_of(a), "Website": "ignored.example"}, {"Org": b["name"], "Website": "ignored.example"}]
    src = write_rows(tmp_path / "crm.csv", columns, rows)
    out = tmp_path / "out.json"
    proc = cli("enrich", "--companies", str(src), "-o", str(out), "--map", "Site=domain", "--map", "Org=name",
               *against(sb))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "columns: Site -> domain, Org -> name" in proc.stderr
    assert bodies(sb) == [[{"domain": domain_of(a)}, {"name": b["name"]}]]
    assert [r["company_id"] for r in read_rows(out)] == [a["id"], b["id"]]


ONE = [{"Domain": "techco.com"}]


@pytest.mark.parametrize(
    ("rows", "extra", "words"),
    [
        (None, [], "cannot read"),  # no such file
        ([{"Email": "a@b.co", "Owner": "ana"}], [], "no column of"),
        (ONE, ["--map", "Nope=domain"], "column 'Nope'"),
        (ONE, ["--map", "Domain=email"], "'email' is not a company field; fields: ['domain', 'linkedin_url', 'name']"),
        (ONE, ["--reveal-email"], "--reveal-email: company enrichment reveals nothing"),
    ],
)
def test_enrich_companies_bad_input_exits_2_without_sending(
    sb: Sandbox, tmp_path: Path, rows: list[dict[str, str]] | None, extra: list[str], words: str
) -> None:
    src, out = tmp_path / "companies.csv", tmp_path / "out.csv"
    line = refused_before_sending(sb, src, rows, "enrich", "--companies", str(src), "-o", str(out), *extra, words=words)
    if "no column" in words:
        assert "Domain, Website, Company LinkedIn URL or Company" in line and "--map 'Column=domain'" in line


def test_enrich_companies_help_names_the_columns() -> None:
    proc = cli("enrich", "--help")
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "--companies" in text and "Domain, Website, Company LinkedIn URL, Company" in text


# -- crash and resume ------------------------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(job_progression="seconds:3", company_enrichment_cost=1.0)
def test_sigkill_after_the_jobs_are_recorded_then_resume_creates_no_second_job(
    sb: Sandbox, tmp_path: Path, procs: list[subprocess.Popen[str]]
) -> None:
    companies = list(sb.companies[:250])
    rows = [{"Domain": domain_of(c), "Row": str(i)} for i, c in enumerate(companies)]
    src = write_rows(tmp_path / "companies.parquet", ["Domain", "Row"], rows)
    out = tmp_path / "enriched.csv"

    summary = killed_then_resumed(sb, procs, CREATE, out, "enrich", "--companies", str(src))

    assert summary["rows"] == 250 and summary["statuses"] == {"enriched": 250}
    assert len(bodies(sb)) == 1, "the resumed run sent nothing"
    got = read_rows(out)
    assert [r["Row"] for r in got] == [str(i) for i in range(250)]
    assert [r["company_id"] for r in got] == [c["id"] for c in companies]
    assert summary["credits_spent"] == ledger(sb) == {"email_credits": 250.0, "phone_credits": 0}


@pytest.mark.amplemarket_sandbox(job_progression="never")
def test_a_state_file_of_people_is_not_resumed_as_companies(sb: Sandbox, tmp_path: Path) -> None:
    src = write_rows(tmp_path / "rows.csv", ["Email", "Domain"], [{"Email": "a@b.co", "Domain": "b.co"}])
    out = tmp_path / "out.csv"
    first = cli("enrich", str(src), "-o", str(out), "--timeout", "0.2", *against(sb))
    assert first.returncode == 1 and state_file(out).exists()
    proc = cli("enrich", "--companies", str(src), "-o", str(out), "--resume", *against(sb))
    assert proc.returncode == 2
    assert "holds a run of `amplemarket enrich`, not of `amplemarket enrich --companies`" in proc.stderr
    assert sent(sb, CREATE) == []
