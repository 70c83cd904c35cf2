"""The `amplemarket` command line, run as a subprocess against a sandbox this test started (so the requests it
sent can be inspected), and once with `--sandbox`: enrich in every file format, header mapping, `--map`, the summary,
exit codes, odd input files; find, company and search; errors that name the command's flags, not Python."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support import CREATE, FIND, against, cli, domain_of, read_rows, read_state, sent, state_file, write_rows

import amplemarket
from amplemarket.testing import Sandbox

from ._helpers import leads_sent

# What the SDK's messages say in Python, which a CLI error must not: each has a flag the user types instead.
PYTHONISMS = ("Client(", "api_key=", "Sandbox", "EnrichmentJob", "wait()", "`", "company_name", "company_domain",
              "linkedin_url", "person_", "max_results", "max_retry_wait", "reveal_timeout", "trust_idempotency_key",
              "base_url", "Traceback")  # fmt: skip


def python_in(text: str) -> list[str]:
    return [words for words in PYTHONISMS if words in text]


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "leads.csv"
FORMATS = (".csv", ".jsonl", ".json")
COLUMNS = ["First Name", "Last Name", "Email", "LinkedIn URL", "Company", "Domain", "Job Title", "Notes"]

pytestmark = pytest.mark.amplemarket_sandbox(job_progression="immediate")


def summary_line(stdout: str) -> str:
    lines = stdout.strip().splitlines()
    assert lines, "the summary goes to stdout"
    return lines[-1]


def pick(live: list[dict[str, Any]], n: int, *, email: bool = False, company: bool = False) -> list[dict[str, Any]]:
    chosen = [p for p in live if (p.get("email") or not email) and (p.get("company") or not company)]
    return chosen[:n]


class Sample:
    """Lead rows in a spreadsheet layout, with what each row should become."""

    def __init__(self, people: list[dict[str, Any]], live: list[dict[str, Any]]) -> None:
        a, b = pick(live, 2, email=True)
        c, d = pick(live[50:], 2, company=True)
        removed = next(p for p in people if p.get("_gdpr_removed"))
        self.rows: list[dict[str, str]] = [
            {"Email": a["email"], "Notes": "vip"},
            {"LinkedIn URL": b["linkedin_url"]},
            {"First Name": c["first_name"], "Last Name": c["last_name"], "Company": c["company"]["name"],
             "Job Title": c["title"]},
            {"First Name": d["first_name"], "Last Name": d["last_name"], "Domain": domain_of(d["company"]),
             "Job Title": d["title"]},
            {"Job Title": "CEO", "Notes": "no identifier"},
            {"Email": "not-an-email"},
            {"Email": "zz.nobody@nowhere.example"},
            {"LinkedIn URL": removed["linkedin_url"]},
            {"Email": a["email"], "Notes": "again"},
        ]  # fmt: skip
        self.statuses = ["enriched", "enriched", "enriched", "enriched", "invalid", "invalid", "not_found",
                         "gdpr_removed", "enriched"]  # fmt: skip
        self.people: list[dict[str, Any] | None] = [a, b, c, d, None, None, None, None, a]
        self.errors = {4: "no usable identifier", 5: "not an email"}
        self.leads = [
            {"email": a["email"]},
            {"linkedin_url": b["linkedin_url"]},
            {"name": c["name"], "company_name": c["company"]["name"], "title": c["title"]},
            {"name": d["name"], "company_domain": domain_of(d["company"]), "title": d["title"]},
            {"email": "zz.nobody@nowhere.example"},
            {"linkedin_url": removed["linkedin_url"]},
        ]  # the last row repeats the first lead: it is sent once and both rows get its result

    def write(self, path: Path) -> Path:
        """A CSV file with every column (blank cells), or JSON records holding only the keys each row has."""
        return write_rows(path, COLUMNS, self.rows)


@pytest.fixture
def sample(people: list[dict[str, Any]], live: list[dict[str, Any]]) -> Sample:
    return Sample(people, live)


# -- enrich: formats, mapping, output ----------------------------------------------------------------------------------


@pytest.mark.parametrize("out_ext", FORMATS)
@pytest.mark.parametrize("in_ext", FORMATS)
def test_enrich_every_format_one_row_per_input_row(
    sb: Sandbox, tmp_path: Path, sample: Sample, in_ext: str, out_ext: str
) -> None:
    src = sample.write(tmp_path / f"leads{in_ext}")
    out = tmp_path / f"enriched{out_ext}"

    proc = cli("enrich", str(src), "-o", str(out), *against(sb), cwd=tmp_path)

    assert proc.returncode == 0, proc.stderr
    rows = read_rows(out)
    assert len(rows) == len(sample.rows)
    assert [r["status"] for r in rows] == sample.statuses
    for i, (row, given) in enumerate(zip(rows, sample.rows, strict=True)):
        for column, value in given.items():
            assert row[column] == value, (i, column)  # the input's own cells come through untouched
        truth = sample.people[i]
        if truth is not None:
            assert row["person_id"] == truth["id"] and row["person_linkedin_url"] == truth["linkedin_url"]
            experiences = row["person_experiences"]
            if truth["experiences"] is not None:
                parsed = json.loads(experiences) if out_ext == ".csv" else experiences
                assert parsed == truth["experiences"]
            if truth.get("company"):
                assert row["company_name"] == truth["company"]["name"]
        if i in sample.errors:
            assert sample.errors[i] in row["error"]
        elif out_ext == ".csv":
            assert row["error"] == ""
        else:
            assert row["error"] is None
    assert state_file(out).exists() is False
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]

    assert leads_sent(sb) == [sample.leads]
    line = summary_line(proc.stdout)
    assert line.startswith(f"9 rows -> {out}: 5 enriched, 1 gdpr_removed, 2 invalid, 1 not_found")
    assert "credits spent: 2.0 email, 0.0 phone" in line  # four people found, 0.5 each, the repeat free
    assert "row 5" in proc.stderr and "row 6" in proc.stderr  # invalid rows are named on stderr


def test_enrich_header_aliases(sb: Sandbox, tmp_path: Path, live: list[dict[str, Any]]) -> None:
    a, b, c = pick(live, 3, email=True, company=True)
    columns = ["Full Name", "Company", "Domain", "Title", "E-mail", "LinkedIn"]
    rows = [
        {"Full Name": a["name"], "Company": a["company"]["name"], "Title": a["title"]},
        {"Full Name": b["name"], "Domain": domain_of(b["company"])},
        {"E-mail": f"  {c['email']}  "},
        {"LinkedIn": a["linkedin_url"]},
    ]
    src = write_rows(tmp_path / "aliases.csv", columns, rows)
    out = tmp_path / "out.csv"
    proc = cli("enrich", str(src), "-o", str(out), *against(sb))
    assert proc.returncode == 0, proc.stderr
    for column, field in (("Full Name", "name"), ("Company", "company_name"), ("Domain", "company_domain"),
                          ("Title", "title"), ("E-mail", "email"), ("LinkedIn", "linkedin_url")):  # fmt: skip
        assert f"{column} -> {field}" in proc.stderr
    assert leads_sent(sb) == [
        [
            {"name": a["name"], "company_name": a["company"]["name"], "title": a["title"]},
            {"name": b["name"], "company_domain": domain_of(b["company"])},
            {"email": c["email"]},
            {"linkedin_url": a["linkedin_url"]},
        ]
    ]
    assert [r["person_id"] for r in read_rows(out)] == [a["id"], b["id"], c["id"], a["id"]]


def test_enrich_map_overrides_the_aliases(sb: Sandbox, tmp_path: Path, live: list[dict[str, Any]]) -> None:
    a, b = pick(live, 2, email=True, company=True)
    columns = ["Email", "Work Contact", "Person", "Org"]
    rows = [
        {"Email": "n/a", "Work Contact": a["email"]},
        {"Email": "n/a", "Person": b["name"], "Org": b["company"]["name"]},
    ]
    src = write_rows(tmp_path / "custom.jsonl", columns, rows)
    out = tmp_path / "out.json"
    proc = cli(
        "enrich", str(src), "-o", str(out), "--map", "Work Contact=email", "--map", "Person=name",
        "--map", "Org=company_name", *against(sb),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert leads_sent(sb) == [[{"email": a["email"]}, {"name": b["name"], "company_name": b["company"]["name"]}]]
    assert [r["person_id"] for r in read_rows(out)] == [a["id"], b["id"]]
    assert "Email ->" not in proc.stderr  # the alias gave way to the explicit mapping


def test_enrich_json_summary_and_reveal(sb: Sandbox, tmp_path: Path, live: list[dict[str, Any]]) -> None:
    chosen = pick(live, 4, email=True)
    src = write_rows(tmp_path / "in.csv", ["LinkedIn URL"], [{"LinkedIn URL": p["linkedin_url"]} for p in chosen])
    out = tmp_path / "out.jsonl"
    proc = cli("enrich", str(src), "-o", str(out), "--reveal-email", "--json", "-q", *against(sb))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # -q: nothing but the summary
    summary = json.loads(proc.stdout)
    assert summary["rows"] == 4 and summary["statuses"] == {"enriched": 4}
    assert len(summary["jobs"]) == 1 and isinstance(summary["jobs"][0], int)
    assert summary["credits_spent"] == {"email_credits": 6.0, "phone_credits": 0.0}  # 4 x (0.5 found + 1 email)
    body = json.loads(sent(sb, CREATE)[0]["body"])
    assert body["reveal_email"] is True and body["reveal_phone_numbers"] is False
    assert [r["person_email"] for r in read_rows(out)] == [p["email"] for p in chosen]


def test_enrich_reads_a_cp1252_file_with_a_warning(sb: Sandbox, tmp_path: Path, live: list[dict[str, Any]]) -> None:
    (a,) = pick(live, 1, email=True)
    src = tmp_path / "windows.csv"
    src.write_bytes(f"Email,Notes\r\n{a['email']},Café Müller — größer\r\n".encode("cp1252"))
    out = tmp_path / "out.csv"
    proc = cli("enrich", str(src), "-o", str(out), *against(sb))
    assert proc.returncode == 0, proc.stderr
    assert "warning" in proc.stderr and "UTF-8" in proc.stderr and "1252" in proc.stderr
    rows = read_rows(out)  # written as UTF-8
    assert rows[0]["Notes"] == "Café Müller — größer" and rows[0]["status"] == "enriched"


def test_enrich_reads_a_csv_with_a_byte_order_mark(sb: Sandbox, tmp_path: Path, live: list[dict[str, Any]]) -> None:
    (a,) = pick(live, 1, email=True)
    src = tmp_path / "excel.csv"
    src.write_bytes(f"Email,Notes\r\n{a['email']},x\r\n".encode("utf-8-sig"))
    out = tmp_path / "out.csv"
    proc = cli("enrich", str(src), "-o", str(out), *against(sb))
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr
    rows = read_rows(out)
    assert list(rows[0])[:2] == ["Email", "Notes"] and rows[0]["status"] == "enriched"


def test_enrich_invalid_json_records_are_kept_with_their_reason(sb: Sandbox, tmp_path: Path) -> None:
    src = tmp_path / "odd.jsonl"
    src.write_text('{"email": "zz.nobody@nowhere.example"}\nnot json\n[1, 2]\n{"email": 5}\n\n{"Notes": "x"}\n')
    out = tmp_path / "out.jsonl"
    proc = cli("enrich", str(src), "-o", str(out), *against(sb))
    assert proc.returncode == 0, proc.stderr
    rows = read_rows(out)
    assert [r["status"] for r in rows] == ["not_found", "invalid", "invalid", "invalid", "invalid"]
    assert "not JSON" in rows[1]["error"] and "not an object" in rows[2]["error"]
    assert "int" in rows[3]["error"] and rows[3]["email"] == 5
    assert "no usable identifier" in rows[4]["error"] and rows[4]["Notes"] == "x"
    assert leads_sent(sb) == [[{"email": "zz.nobody@nowhere.example"}]]


def test_enrich_keeps_rows_the_sdk_would_refuse_as_invalid_rows(
    sb: Sandbox, tmp_path: Path, live: list[dict[str, Any]]
) -> None:
    (a,) = pick(live, 1, email=True)
    rows = [
        {"Email": "jane@localhost"},  # has an @, but no domain the SDK accepts
        {"Email": a["email"]},
        {"LinkedIn URL": "https://example.com/in/jane-doe"},
        {"Email": "jane@@techco.com"},
    ]
    src = write_rows(tmp_path / "in.csv", ["Email", "LinkedIn URL"], rows)
    out = tmp_path / "out.csv"
    proc = cli("enrich", str(src), "-o", str(out), *against(sb))
    assert proc.returncode == 0, proc.stderr  # one bad row never stops the run
    written = read_rows(out)
    assert [r["status"] for r in written] == ["invalid", "enriched", "invalid", "invalid"]
    assert '`email` "jane@localhost" is not an email address' in written[0]["error"]
    assert "not a LinkedIn profile URL" in written[2]["error"]
    assert leads_sent(sb) == [[{"email": a["email"]}]]
    assert "row 1:" in proc.stderr and "row 3:" in proc.stderr and "row 4:" in proc.stderr


def test_enrich_with_no_valid_rows_writes_them_all_as_invalid(sb: Sandbox, tmp_path: Path) -> None:
    src = write_rows(tmp_path / "in.csv", ["Email", "Title"], [{"Title": "CEO"}, {"Email": "nope"}])
    out = tmp_path / "out.csv"
    proc = cli("enrich", str(src), "-o", str(out), *against(sb))
    assert proc.returncode == 0, proc.stderr
    assert [r["status"] for r in read_rows(out)] == ["invalid", "invalid"]
    assert sent(sb, CREATE) == []
    assert summary_line(proc.stdout).startswith("2 rows")


def test_enrich_summary_counts_enrichment_statuses_even_with_a_status_column(
    sb: Sandbox, tmp_path: Path, live: list[dict[str, Any]]
) -> None:
    chosen = pick(live, 2, email=True)
    rows = [{"email": p["email"], "status": "customer"} for p in chosen] + [{"status": "prospect"}]
    src = write_rows(tmp_path / "crm.json", ["email", "status"], rows)
    out = tmp_path / "out.json"
    proc = cli("enrich", str(src), "-o", str(out), "--json", *against(sb))
    assert proc.returncode == 0, proc.stderr
    written = read_rows(out)
    assert [r["status"] for r in written] == ["customer", "customer", "prospect"]  # the input's column, kept
    assert [r["amplemarket_status"] for r in written] == ["enriched", "enriched", "invalid"]
    assert json.loads(proc.stdout)["statuses"] == {"enriched": 2, "invalid": 1}


# -- enrich: failures and exit codes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "extra", "words"),
    [
        ("leads.csv", None, [], "cannot read"),  # missing file
        ("leads.txt", "Email\na@b.co\n", [], ".csv, .jsonl, .json, .parquet or .arrow"),
        ("leads.json", "{not json", [], "not valid JSON"),
        ("leads.json", '{"email": "a@b.co"}', [], "JSON list"),
        ("leads.csv", "", [], "header"),
        ("leads.csv", "Email\na@b.co\n", ["--map", "Mail=email"], "'Mail'"),
        ("leads.csv", "Email\na@b.co\n", ["--map", "Email=phone"], "'phone'"),
        ("leads.csv", "Foo,Bar\n1,2\n", [], "no column"),
    ],
)
def test_enrich_unusable_input_exits_2_without_submitting(
    sb: Sandbox, tmp_path: Path, name: str, content: str | None, extra: list[str], words: str
) -> None:
    src = tmp_path / name
    if content is not None:
        src.write_text(content, encoding="utf-8")
    out = tmp_path / "out.csv"
    proc = cli("enrich", str(src), "-o", str(out), *extra, *against(sb))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "amplemarket enrich:" in proc.stderr and words in proc.stderr
    assert "Traceback" not in proc.stderr
    assert sent(sb, CREATE) == []
    assert not out.exists()


def test_enrich_input_without_an_identifying_column_says_how_to_map(sb: Sandbox, tmp_path: Path) -> None:
    src = write_rows(tmp_path / "in.csv", ["Favourite Colour", "Shoe Size"], [{"Favourite Colour": "blue"}])
    proc = cli("enrich", str(src), "-o", str(tmp_path / "out.csv"), *against(sb))
    assert proc.returncode == 2
    assert "no column" in proc.stderr and "--map" in proc.stderr and "Favourite Colour" in proc.stderr


def test_enrich_unknown_output_extension_exits_2(sb: Sandbox, tmp_path: Path) -> None:
    src = write_rows(tmp_path / "in.csv", ["Email"], [{"Email": "zz.nobody@nowhere.example"}])
    out = tmp_path / "out.xlsx"
    proc = cli("enrich", str(src), "-o", str(out), *against(sb))
    assert proc.returncode == 2
    assert ".csv, .jsonl, .json, .parquet or .arrow" in proc.stderr
    assert not out.exists()


def test_enrich_unknown_output_extension_is_refused_before_submitting(sb: Sandbox, tmp_path: Path) -> None:
    src = write_rows(tmp_path / "in.csv", ["Email"], [{"Email": "zz.nobody@nowhere.example"}])
    out = tmp_path / "out.xlsx"
    proc = cli("enrich", str(src), "-o", str(out), *against(sb))
    assert proc.returncode == 2
    assert sent(sb, CREATE) == []
    assert not state_file(out).exists()


def test_enrich_wrong_key_exits_1_and_a_resume_with_the_right_key_finishes(
    sb: Sandbox, tmp_path: Path, live: list[dict[str, Any]]
) -> None:
    chosen = pick(live, 3)
    src = write_rows(tmp_path / "in.csv", ["LinkedIn URL"], [{"LinkedIn URL": p["linkedin_url"]} for p in chosen])
    out = tmp_path / "out.csv"
    wrong = "amp_wrong_key_0123456789"
    proc = cli("enrich", str(src), "-o", str(out), *against(sb, api_key=wrong))
    assert proc.returncode == 1
    assert "401" in proc.stderr or "unauthorized" in proc.stderr.lower()
    assert wrong not in proc.stderr + proc.stdout
    assert not out.exists()
    assert [r["status"] for r in sent(sb, CREATE)] == [401]

    proc = cli("enrich", str(src), "-o", str(out), "--resume", *against(sb))
    assert proc.returncode == 0, proc.stderr
    assert [r["status"] for r in read_rows(out)] == ["enriched"] * 3
    assert not state_file(out).exists()


@pytest.mark.amplemarket_sandbox(job_progression="never", api_key="amp_test_Secret_7f3a9c21d4")
def test_state_file_never_holds_the_api_key(sb: Sandbox, tmp_path: Path, live: list[dict[str, Any]]) -> None:
    src = write_rows(tmp_path / "in.csv", ["LinkedIn URL"], [{"LinkedIn URL": p["linkedin_url"]} for p in live[:5]])
    out = tmp_path / "out.csv"
    proc = cli("enrich", str(src), "-o", str(out), "--timeout", "0.3", *against(sb))
    assert proc.returncode == 1, proc.stderr
    state = read_state(out)
    assert state is not None and state["chunks"][0]["job_id"] is not None
    job_id = state["chunks"][0]["job_id"]
    assert f"enrichment job {job_id} was still" in proc.stderr and "--resume" in proc.stderr
    error = proc.stderr.splitlines()[-1]
    assert error.startswith(f"amplemarket enrich: enrichment job {job_id} was still") and "--resume" in error
    assert python_in(error) == [], error  # the CLI's words: --resume, not EnrichmentJob.get(...).wait()
    text = state_file(out).read_text(encoding="utf-8")
    assert sb.api_key not in text and "Secret_7f3a9c21d4" not in text and "7f3a9c21d4" not in text
    assert "Secret" not in proc.stdout + proc.stderr
    assert not out.exists()


def test_enrich_with_sandbox_on_the_example_file(tmp_path: Path) -> None:
    out = tmp_path / "enriched.csv"
    proc = cli("enrich", str(EXAMPLES), "-o", str(out), "--sandbox", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    source = read_rows(EXAMPLES)
    rows = read_rows(out)
    assert len(rows) == len(source) > 100
    for given, row in zip(source, rows, strict=True):
        assert all(row[k] == v for k, v in given.items())
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    assert counts.get("enriched", 0) > len(rows) // 2 and counts.get("invalid", 0) > 0
    assert all(r["error"] for r in rows if r["status"] == "invalid")
    expected = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    assert summary_line(proc.stdout).startswith(f"{len(rows)} rows -> {out}: {expected}; credits spent:")


def test_enrich_lists_the_first_20_row_problems_and_counts_the_rest(
    sb: Sandbox, tmp_path: Path, live: list[dict[str, Any]]
) -> None:
    good = pick(live, 5, email=True)
    lines = ["Email,Notes"]
    for i in range(100):  # even rows: a person, with a cell too many; odd rows: not an email
        lines.append(f"{good[i // 2 % 5]['email']},note {i},extra" if i % 2 == 0 else f"nobody-{i},note {i}")
    src = tmp_path / "many.csv"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"

    proc = cli("enrich", str(src), "-o", str(out), *against(sb))

    assert proc.returncode == 0, proc.stderr
    err = proc.stderr.splitlines()
    named = [line for line in err if line.startswith("row ")]
    assert [line.split(":")[0] for line in named] == [f"row {n}" for n in range(2, 41, 2)]  # the first 20
    assert all("not an email address" in line and "kept in the output as invalid" in line for line in named)
    (rest,) = [line for line in err if "more invalid rows" in line]
    assert rest.startswith("... and 30 more invalid rows") and "error column" in rest
    warnings = [line for line in err if line.startswith("warning:")]
    assert len(warnings) == 21 and "more cells than columns" in warnings[0]  # the first 20, then a count
    assert warnings[-1] == "warning: ... and 30 more warnings like these"
    assert len(err) < 50

    rows = read_rows(out)
    assert len(rows) == 100
    for i, row in enumerate(rows):  # every reason stays in the output
        if i % 2:
            assert row["status"] == "invalid" and f'`email` "nobody-{i}" is not an email address' in row["error"], i
        else:
            assert row["status"] == "enriched" and row["error"] == "", i
    assert summary_line(proc.stdout).startswith("100 rows") and "50 invalid" in proc.stdout
    assert leads_sent(sb) == [[{"email": p["email"]} for p in good]]  # identical rows sent once


@pytest.mark.parametrize("timeout", ["0", "-1", "nan", "inf", "soon"])
def test_enrich_bad_timeout_is_refused_before_anything_is_sent(sb: Sandbox, tmp_path: Path, timeout: str) -> None:
    src = write_rows(tmp_path / "in.csv", ["Email"], [{"Email": "zz.nobody@nowhere.example"}])
    out = tmp_path / "out.csv"
    proc = cli("enrich", str(src), "-o", str(out), f"--timeout={timeout}", *against(sb))
    assert proc.returncode == 2
    assert "argument --timeout" in proc.stderr and "seconds" in proc.stderr
    assert sent(sb) == [], "nothing sent, nothing paid for"
    assert not out.exists() and not state_file(out).exists()


# -- errors name the command's flags ---------------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["no key", "empty --api-key", "empty variable"])
@pytest.mark.parametrize("command", ["find", "company", "search", "company-search", "enrich", "validate"])
def test_a_missing_key_names_the_flags_and_sends_nothing(sb: Sandbox, tmp_path: Path, command: str, given: str) -> None:
    src = write_rows(tmp_path / "in.csv", ["Email"], [{"Email": "zz.nobody@nowhere.example"}])
    out = tmp_path / "out.csv"
    args = {
        "find": ["find", "--email", "zz.nobody@nowhere.example"],
        "company": ["company", "--domain", "example.com"],
        "search": ["search", "--title", "CEO"],
        "company-search": ["company-search", "--industry", "Software Development"],
        "enrich": ["enrich", str(src), "-o", str(out)],
        "validate": ["validate", str(src), "-o", str(out)],
    }[command]
    key = ["--api-key", " "] if given == "empty --api-key" else []
    env = {"AMPLEMARKET_API_KEY": ""} if given == "empty variable" else {}

    proc = cli(*args, "--base-url", sb.url, *key, env=env)

    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"amplemarket {command}: ") and proc.stdout == ""
    for words in ("--api-key", "AMPLEMARKET_API_KEY", "--sandbox"):
        assert words in proc.stderr
    assert {"no key": "no API key", "empty --api-key": "--api-key is empty",
            "empty variable": "AMPLEMARKET_API_KEY is set but empty"}[given] in proc.stderr  # fmt: skip
    assert python_in(proc.stderr) == [], proc.stderr
    assert sent(sb) == []
    assert not out.exists() and not state_file(out).exists()


@pytest.mark.parametrize(
    ("args", "flags"),
    [
        (["find", "--name", "Linda Lee"], ["--name alone", "add --company or --domain"]),
        (["find"], ["--linkedin-url", "--email", "--name with --company or --domain"]),
        (["find", "--title", "CEO", "--company", "TechCo"], ["add --name"]),
        (["find", "--name", " ", "--domain", "techco.com"], ["--name is empty"]),
        (["find", "--email", "jane-at-techco.com"], ['--email "jane-at-techco.com"']),
        (["find", "--linkedin-url", "jane-doe"], ['--linkedin-url "jane-doe"']),
        (["company"], ["--domain", "--linkedin-url"]),
        (["company", "--linkedin-url", " "], ["--linkedin-url"]),
        (["search", "--title", "CEO", "--title", " "], ["--title number 2 is empty"]),
        (["search", "--company", ""], ["--company number 1 is empty"]),
        (["search", "--max-results", "-1"], ["--max-results"]),
        (["company-search", "--name", ""], ["--name number 1 is empty"]),
        (["company-search", "--industry", "Software Development", "--industry", " "], ["--industry number 2 is empty"]),
        (["validate", "in.csv", "-o", "out.csv", "--validations-per-hour", "none"], ["--validations-per-hour"]),
    ],
)
def test_bad_arguments_are_named_by_their_flags(sb: Sandbox, args: list[str], flags: list[str]) -> None:
    proc = cli(*args, *against(sb))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert f"amplemarket {args[0]}" in proc.stderr
    for words in flags:
        assert words in proc.stderr, proc.stderr
    assert python_in(proc.stderr) == [], proc.stderr
    assert sent(sb) == [], "refused before anything is sent"


@pytest.mark.amplemarket_sandbox(reveal_timeout_rate=1.0, reveal_retry_after=1000)
def test_server_answers_and_settings_are_told_in_cli_words(sb: Sandbox, live: list[dict[str, Any]]) -> None:
    (a,) = pick(live, 1, email=True)
    sb.script(FIND, [{"status": 429, "retry_after": 1000}])
    proc = cli("find", "--email", a["email"], *against(sb))
    assert proc.returncode == 1
    assert "1000 s" in proc.stderr and "try again later" in proc.stderr
    assert python_in(proc.stderr) == [], proc.stderr  # not "raise max_retry_wait"

    proc = cli("find", "--email", a["email"], "--reveal-email", *against(sb))  # the reveal stays "processing"
    assert proc.returncode == 1
    assert "still processing" in proc.stderr and "call again later" in proc.stderr
    assert python_in(proc.stderr) == [], proc.stderr  # not "(reveal_timeout)"

    proc = cli("company", "--domain", "techco.com", "--base-url", "http://example.com", "--api-key", "amp_x")
    assert proc.returncode == 1
    assert '--base-url "http://example.com" uses plain http://' in proc.stderr
    assert python_in(proc.stderr) == [], proc.stderr

    env = {"AMPLEMARKET_BASE_URL": "https://user:pw@example.com", "AMPLEMARKET_API_KEY": "amp_x"}
    proc = cli("search", "--title", "CEO", env=env)
    assert proc.returncode == 1
    assert 'AMPLEMARKET_BASE_URL "https://user:pw@example.com" carries credentials' in proc.stderr
    assert "--api-key" in proc.stderr and python_in(proc.stderr) == [], proc.stderr


@pytest.mark.parametrize("command", ["find", "company", "search", "company-search", "enrich", "validate"])
def test_sandbox_flag_help_says_synthetic_credits(command: str) -> None:
    proc = cli(command, "--help")
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())  # argparse wraps help lines
    assert "--sandbox run against an in-process sandbox (no key needed; it spends synthetic credits only)" in text
    assert "no key, no credits" not in text


# -- find, company, search ---------------------------------------------------------------------------------------------


def test_find_with_sandbox(people: list[dict[str, Any]], live: list[dict[str, Any]]) -> None:
    (a,) = pick(live, 1, email=True, company=True)
    proc = cli("find", "--email", a["email"], "--sandbox")
    assert proc.returncode == 0, proc.stderr
    assert a["name"] in proc.stdout and a["company"]["name"] in proc.stdout and a["linkedin_url"] in proc.stdout

    proc = cli("find", "--linkedin-url", a["linkedin_url"], "--reveal-email", "--json", "--sandbox")
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert (found["id"], found["email"], found["company"]["name"]) == (a["id"], a["email"], a["company"]["name"])

    proc = cli("find", "--email", "zz.nobody@nowhere.example", "--sandbox")
    assert proc.returncode == 1 and "no match" in proc.stderr

    proc = cli("find", "--name", a["name"], "--sandbox")  # name alone is not a lookup
    assert proc.returncode == 2 and "company" in proc.stderr


def test_find_and_company_against_a_sandbox(sb: Sandbox, live: list[dict[str, Any]]) -> None:
    (a,) = pick(live, 1, email=True, company=True)
    proc = cli("find", "--name", a["name"], "--company", a["company"]["name"], "--title", a["title"], "--json",
               *against(sb))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["id"] == a["id"]
    assert [r["route"] for r in sent(sb)] == [FIND]

    domain = domain_of(a["company"])
    proc = cli("company", "--domain", domain, "--json", *against(sb))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["id"] == a["company"]["id"]

    proc = cli("find", "--email", a["email"], *against(sb, api_key="amp_wrong_key_0123456789"))
    assert proc.returncode == 1 and "0123456789" not in proc.stderr


def test_company_with_sandbox(live: list[dict[str, Any]]) -> None:
    (a,) = pick(live, 1, company=True)
    company = a["company"]
    proc = cli("company", "--domain", domain_of(company), "--sandbox")
    assert proc.returncode == 0, proc.stderr
    assert company["name"] in proc.stdout

    proc = cli("company", "--linkedin-url", company["linkedin_url"], "--json", "--sandbox")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == company

    proc = cli("company", "--domain", "no-such-company.example", "--sandbox")
    assert proc.returncode == 1 and "no match" in proc.stderr


@pytest.mark.parametrize("ext", FORMATS)
def test_search_to_a_file_with_sandbox(tmp_path: Path, ext: str) -> None:
    out = tmp_path / f"people{ext}"
    proc = cli("search", "--title", "CEO", "--max-results", "15", "-o", str(out), "--sandbox")
    assert proc.returncode == 0, proc.stderr
    assert f"15 people written to {out}" in proc.stderr
    rows = read_rows(out)
    assert len(rows) == 15
    assert all("ceo" in r["person_title"].lower() for r in rows)
    assert len({r["person_id"] for r in rows}) == 15
    assert all("company_name" in r for r in rows)


def test_search_json_and_text(sb: Sandbox) -> None:
    proc = cli("search", "--title", "CEO", "--max-results", "3", "--json", "--sandbox")
    assert proc.returncode == 0, proc.stderr
    found = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(found) == 3 and all("ceo" in p["title"].lower() for p in found)

    proc = cli("search", "--title", "CEO", "--max-results", "3", *against(sb))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == [p["name"] for p in found]
    assert "3 people" in proc.stderr
    bodies = [json.loads(r["body"]) for r in sent(sb, "POST /people/search")]
    assert bodies and all(b["person_titles"] == ["CEO"] for b in bodies)


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_the_cli_and_person_enrich_judge_the_same_rows_the_same_way(
    sb: Sandbox, client: amplemarket.Client, tmp_path: Path, people: list[dict[str, Any]]
) -> None:
    """One validation everywhere: the same file gives the same statuses and reasons through the CLI and the API."""
    with_email = [p for p in people if p.get("email") and not p.get("_gdpr_removed")][:3]
    leads = [
        {"email": with_email[0]["email"]},
        {"email": "jane at example dot com"},
        {"linkedin_url": "https://example.com/in/jane"},
        {"name": with_email[1]["name"]},
        {"email": with_email[2]["email"], "title": "  "},
        {"email": "jane@localhost"},
    ]
    src = tmp_path / "leads.jsonl"
    src.write_text("".join(json.dumps(lead) + "\n" for lead in leads), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    proc = cli("enrich", str(src), "-o", str(out), *against(sb), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    by_cli = [(r["status"], r["error"]) for r in read_rows(out)]
    by_api = [(r.status, r.error) for r in amplemarket.Person.enrich(leads, client=client)]
    assert (
        [s for s, _ in by_cli]
        == [s for s, _ in by_api]
        == [
            "enriched",
            "invalid",
            "invalid",
            "invalid",
            "enriched",
            "invalid",
        ]
    )
    for (_, cli_error), (_, api_error), lead in zip(by_cli, by_api, leads, strict=True):
        if api_error is not None:
            # the API names the lead by its index; past that, the same words
            assert cli_error and api_error.endswith(cli_error), (lead, cli_error, api_error)
            assert cli_error == amplemarket_check_error(lead)


def amplemarket_check_error(lead: dict[str, str]) -> str:
    with pytest.raises(amplemarket.InvalidInputError) as e:
        amplemarket.check_lead(lead)
    return str(e.value)
