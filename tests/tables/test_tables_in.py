"""Tables in: `Person.enrich`, `Person.find_many` and `EnrichmentJob.create` read a pandas or polars frame, a pyarrow
table, batch or reader, a duckdb relation or any object with `__arrow_c_stream__`; columns map to lead fields by their
headers (or `columns=`), missing values are missing, a bad table is refused before anything is sent, a bad row comes
back `invalid`, and row i of the results is row i of the table, even at 100,000 rows."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from support import CREATE, FIND, call, same_person, sent

import amplemarket
from amplemarket import EnrichmentJob, EnrichmentResult, FindResult, InvalidInputError, Person, Results
from amplemarket.testing import Sandbox

from ._helpers import KINDS, all_leads_sent, arrow, leads_sent, make_table

pytestmark = pytest.mark.amplemarket_sandbox(job_progression="immediate")

JANE = "jane@techco.com"
JANE_URL = "https://www.linkedin.com/in/jane-doe"
SAM = "sam@techco.com"
SAM_URL = "https://www.linkedin.com/in/sam-rivera-techco"

# The calls that take a table, as `call` names them: (owner, name).
CALLS = {"enrich": (Person, "enrich"), "find_many": (Person, "find_many"), "create": (EnrichmentJob, "create")}


def jane_and_sam(people: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two documented people, last in every data set."""
    jane, sam = people[-2], people[-1]
    assert (jane["email"], sam["email"]) == (JANE, SAM)
    return jane, sam


def signature(lead: dict[str, Any]) -> str:
    return json.dumps(lead, sort_keys=True)


# -- every kind of table -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_table_gives_one_result_per_row_in_row_order(
    sb: Sandbox, client: amplemarket.Client, mode: str, live: list[dict[str, Any]], kind: str
) -> None:
    """Each kind of table is read through its headers: one result per row, in row order, each for its row's lead,
    the leads sent in one request."""
    chosen = [p for p in live if p.get("email")][:6]
    data = {
        "Email": [p["email"] if i % 2 == 0 else None for i, p in enumerate(chosen)],
        "LinkedIn URL": [None if i % 2 == 0 else p["linkedin_url"] for i, p in enumerate(chosen)],
        "Notes": [f"note {i}" for i in range(6)],
    }
    leads = [{"email": p["email"]} if i % 2 == 0 else {"linkedin_url": p["linkedin_url"]} for i, p in enumerate(chosen)]

    results = call(mode, Person, "enrich", make_table(kind, data), client=client)

    assert isinstance(results, Results) and len(results) == 6
    assert all(isinstance(r, EnrichmentResult) for r in results)
    assert [r.lead for r in results] == leads
    for r, p in zip(results, chosen, strict=True):
        assert r.status == "enriched" and r.error is None and same_person(r.person, p), (r, p["id"])
    bodies = leads_sent(sb)
    assert len(bodies) == 1 and sorted(map(signature, bodies[0])) == sorted(map(signature, leads))
    assert arrow(results.to_arrow()).column("Notes").to_pylist() == data["Notes"]


# -- headers -----------------------------------------------------------------------------------------------------------

HEADERS: list[tuple[dict[str, str], dict[str, str]]] = [
    ({"Email": JANE}, {"email": JANE}),
    ({"Email Address": JANE}, {"email": JANE}),
    ({"Work Email": JANE}, {"email": JANE}),
    ({"Business Email": JANE}, {"email": JANE}),
    ({"Mail": JANE}, {"email": JANE}),
    ({"work_email": JANE}, {"email": JANE}),
    ({"E-Mail": JANE}, {"email": JANE}),
    ({"LinkedIn URL": JANE_URL}, {"linkedin_url": JANE_URL}),
    ({"LinkedIn": JANE_URL}, {"linkedin_url": JANE_URL}),
    ({"Profile URL": JANE_URL}, {"linkedin_url": JANE_URL}),
    ({"linkedin_profile_url": JANE_URL}, {"linkedin_url": JANE_URL}),
    ({"LinkedIn ID": "jane-doe"}, {"linkedin_id": "jane-doe"}),
    ({"Name": "Jane Doe", "Domain": "techco.com"}, {"name": "Jane Doe", "company_domain": "techco.com"}),
    ({"Full Name": "Jane Doe", "Company Domain": "techco.com"}, {"name": "Jane Doe", "company_domain": "techco.com"}),
    ({"Contact Name": "Jane Doe", "Website": "techco.com"}, {"name": "Jane Doe", "company_domain": "techco.com"}),
    (
        {"First Name": "Jane", "Last Name": "Doe", "URL": "techco.com"},
        {"name": "Jane Doe", "company_domain": "techco.com"},
    ),
    ({"first_name": "Jane", "Surname": "Doe", "Company": "TechCo"}, {"name": "Jane Doe", "company_name": "TechCo"}),
    (
        {"Name": "Jane Doe", "Company Name": "TechCo", "Job Title": "VP of Engineering"},
        {"name": "Jane Doe", "company_name": "TechCo", "title": "VP of Engineering"},
    ),
    (
        {"Name": "Jane Doe", "Organization": "TechCo", "Position": "VP of Engineering"},
        {"name": "Jane Doe", "company_name": "TechCo", "title": "VP of Engineering"},
    ),
    (
        {"Name": "Jane Doe", "Account": "TechCo", "Role": "VP of Engineering"},
        {"name": "Jane Doe", "company_name": "TechCo", "title": "VP of Engineering"},
    ),
    (
        {"Name": "Jane Doe", "Employer": "TechCo", "Title": "VP of Engineering"},
        {"name": "Jane Doe", "company_name": "TechCo", "title": "VP of Engineering"},
    ),
]


@pytest.mark.parametrize(("row", "lead"), HEADERS, ids=["+".join(row) for row, _ in HEADERS])
def test_headers_map_to_lead_fields(
    sb: Sandbox, client: amplemarket.Client, people: list[dict[str, Any]], row: dict[str, str], lead: dict[str, str]
) -> None:
    """Export headers, compared lower case on letters and digits only, name lead fields; first and last names are
    joined into `name`."""
    jane, _ = jane_and_sam(people)
    results = Person.enrich(pa.table({k: [v] for k, v in row.items()}), client=client)
    assert all_leads_sent(sb) == [lead]
    (r,) = results
    assert r.lead == lead
    assert r.status == "enriched" and same_person(r.person, jane), r


def test_the_first_column_naming_a_field_takes_it(sb: Sandbox, client: amplemarket.Client) -> None:
    """Of two columns naming one field, the first is read; the second is carried to the output like any other."""
    table = pa.table({"Work Email": [JANE], "Email": [SAM], "Name": ["Jane Doe"], "Full Name": ["Sam Rivera"]})
    results = Person.enrich(table, client=client)
    assert all_leads_sent(sb) == [{"email": JANE, "name": "Jane Doe"}]
    out = arrow(results.to_arrow())
    assert out.column_names[:4] == ["Work Email", "Email", "Name", "Full Name"]
    assert out.slice(0, 1).select([0, 1, 2, 3]).to_pylist() == [
        {"Work Email": JANE, "Email": SAM, "Name": "Jane Doe", "Full Name": "Sam Rivera"}
    ]


def test_columns_maps_a_column_and_leaves_one_out(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    """`columns=` maps a column to a field ahead of any header (the `Email` column then stays unread), and `None`
    leaves a column out; the columns not read still come out untouched."""
    table = pl.DataFrame(
        {
            "Contact": [JANE, SAM],
            "Email": ["not an email", "nor this"],
            "Website": ["not a domain at all", "neither"],
            "Who": ["Jane Doe", "Sam Rivera"],
        }
    )
    results = call(
        mode, Person, "enrich", table, columns={"Contact": "email", "Website": None, "Who": "name"}, client=client
    )
    leads = [{"email": JANE, "name": "Jane Doe"}, {"email": SAM, "name": "Sam Rivera"}]
    assert sorted(map(signature, all_leads_sent(sb))) == sorted(map(signature, leads))
    assert [r.status for r in results] == ["enriched", "enriched"]
    out = arrow(results.to_arrow())
    for name in table.columns:
        assert out.column(name).to_pylist() == table[name].to_list(), name


def test_columns_can_map_first_and_last_names(sb: Sandbox, client: amplemarket.Client) -> None:
    """`columns=` maps to `first_name` / `last_name` too, joined into the lead's `name`."""
    table = pa.table({"Given": ["Jane"], "Family": ["Doe"], "Firm": ["TechCo"]})
    Person.enrich(table, columns={"Given": "first_name", "Family": "last_name", "Firm": "company_name"}, client=client)
    assert all_leads_sent(sb) == [{"name": "Jane Doe", "company_name": "TechCo"}]


# -- missing values ----------------------------------------------------------------------------------------------------


def _pandas_csv() -> Any:
    # pandas reads the empty Title column as float64 NaN, the empty cells of text columns as NaN.
    text = "Email,LinkedIn URL,Title,Notes\n jane@techco.com ,,,a\n," + SAM_URL + ",,\n   ,,,c\n,,,\n"
    df = pd.read_csv(io.StringIO(text))
    assert df["Title"].dtype == np.float64 and df["Title"].isna().all()
    return df


def _pandas_objects() -> Any:
    return pd.DataFrame(
        {
            "Email": pd.Series([" jane@techco.com ", np.nan, "   ", None], dtype=object),
            "LinkedIn URL": pd.Series([None, SAM_URL, "", np.nan], dtype=object),
            "Title": [np.nan] * 4,
        }
    )


def _polars() -> Any:
    return pl.DataFrame(
        {
            "Email": [" jane@techco.com ", None, "   ", None],
            "LinkedIn URL": [None, SAM_URL, "", None],
            "Title": pl.Series([float("nan"), None, float("nan"), None], dtype=pl.Float64),
        }
    )


def _pyarrow() -> Any:
    return pa.table(
        {
            "Email": [" jane@techco.com ", None, "   ", None],
            "LinkedIn URL": [None, SAM_URL, "", None],
            "Title": pa.array([float("nan")] * 4, pa.float64()),
        }
    )


MISSING: dict[str, Callable[[], Any]] = {
    "pandas-read-csv": _pandas_csv,
    "pandas-object-nan": _pandas_objects,
    "polars": _polars,
    "pyarrow": _pyarrow,
}


@pytest.mark.parametrize("source", list(MISSING))
def test_nulls_nan_and_blank_strings_are_missing_values(
    sb: Sandbox, client: amplemarket.Client, mode: str, source: str
) -> None:
    """Null, NaN and blank text are missing (never sent, never "nan"); an all-NaN float column mapped to a field is
    a column without values, not an error; a row left with nothing is an `invalid` empty row."""
    results = call(mode, Person, "enrich", MISSING[source](), client=client)
    assert [r.status for r in results] == ["enriched", "enriched", "invalid", "invalid"]
    assert results[0].lead == {"email": JANE} and results[1].lead == {"linkedin_url": SAM_URL}
    for i in (2, 3):
        assert results[i].error is not None and results[i].error.startswith(f"row {i}: "), results[i].error
        assert "empty row" in results[i].error
    assert sorted(map(signature, all_leads_sent(sb))) == sorted(
        map(signature, [{"email": JANE}, {"linkedin_url": SAM_URL}])
    )
    bodies = [r["body"].lower() for r in sent(sb, CREATE)]
    assert len(bodies) == 1 and "nan" not in bodies[0] and "title" not in bodies[0], bodies


# -- a bad table is refused before anything is sent --------------------------------------------------------------------

# (id, table, columns=, what the InvalidInputError says)
TABLE_ERRORS: list[tuple[str, Callable[[], Any], dict[str, Any] | None, str]] = [
    (
        "int64-emails-pandas",
        lambda: pd.DataFrame({"Email": [1, 2]}),
        None,
        r'column "Email" holds Int64 values, not text.*astype\("string"\).*cast\(pl\.String\)',
    ),
    (
        "int64-emails-polars",
        lambda: pl.DataFrame({"Email": [1, 2]}),
        None,
        r'column "Email" holds Int64 values, not text.*astype\("string"\).*cast\(pl\.String\)',
    ),
    (
        "float-titles-with-values",
        lambda: pd.DataFrame({"Email": [JANE, SAM], "Title": [1.5, np.nan]}),
        None,
        r'column "Title" holds Float64 values, not text',
    ),
    (
        "two-columns-named-Email-pyarrow",
        lambda: pa.table([pa.array([JANE]), pa.array([SAM])], names=["Email", "Email"]),
        None,
        r'two columns named "Email"',
    ),
    (
        "two-columns-named-Email-pandas",
        lambda: pd.DataFrame([[JANE, SAM]], columns=["Email", "Email"]),
        None,
        r'two columns named "Email"',
    ),
    (
        "no-lead-column",
        lambda: pl.DataFrame({"Notes": ["x"], "Score": ["1"]}),
        None,
        r'no column of the table holds a lead field.*columns=\{"Work Email": "email"\}',
    ),
    ("no-rows-polars", lambda: pl.DataFrame({"Email": []}, schema={"Email": pl.String}), None, "no rows"),
    ("no-rows-pandas", lambda: pd.DataFrame({"Email": pd.Series([], dtype="string")}), None, "no rows"),
    (
        "columns-names-a-missing-column",
        lambda: pl.DataFrame({"Email": [JANE]}),
        {"Work Email": "email"},
        r'columns= names "Work Email", which the table does not have',
    ),
    (
        "columns-maps-to-a-non-field",
        lambda: pl.DataFrame({"Email": [JANE]}),
        {"Email": "fullname"},
        r'"fullname", which is not a lead field',
    ),
    (
        "columns-maps-two-columns-to-one-field",
        lambda: pl.DataFrame({"A": [JANE], "B": [SAM]}),
        {"A": "email", "B": "email"},
        r'columns= maps both "A" and "B" to "email"',
    ),
    (
        "columns-maps-to-a-number",
        lambda: pl.DataFrame({"Email": [JANE]}),
        {"Email": 5},
        r"columns= maps \"Email\" to 5, not to a lead field's name",
    ),
    (
        "lazyframe-fails-when-collected",
        lambda: pl.LazyFrame({"Email": ["x"]}).with_columns(pl.col("Email").cast(pl.Int64)),
        None,
        r"LazyFrame given as \w+ failed when collected",
    ),
]


@pytest.mark.parametrize("what", list(CALLS))
@pytest.mark.parametrize(
    ("table", "columns", "message"), [e[1:] for e in TABLE_ERRORS], ids=[e[0] for e in TABLE_ERRORS]
)
def test_a_bad_table_raises_invalid_input_before_sending(
    sb: Sandbox,
    client: amplemarket.Client,
    mode: str,
    what: str,
    table: Callable[[], Any],
    columns: dict[str, Any] | None,
    message: str,
) -> None:
    """Problems of the whole table (a mapped column that is not text, duplicated names, no lead column, no rows, a
    bad `columns=`, a LazyFrame that fails) raise `InvalidInputError` saying what to do, before any request."""
    owner, name = CALLS[what]
    with pytest.raises(InvalidInputError, match=message):
        call(mode, owner, name, table(), columns=columns, client=client)
    assert sent(sb) == []


@pytest.mark.parametrize("what", list(CALLS))
def test_columns_with_a_list_of_dicts_is_a_type_error(
    sb: Sandbox, client: amplemarket.Client, mode: str, what: str
) -> None:
    """`columns=` maps a table's columns; with dicts there are none, so it is a programming error."""
    owner, name = CALLS[what]
    with pytest.raises(TypeError, match="columns="):
        call(mode, owner, name, [{"email": JANE}], columns={"email": "email"}, client=client)
    assert sent(sb) == []


@pytest.mark.parametrize("what", list(CALLS))
@pytest.mark.parametrize(
    "column", [lambda: pd.Series([JANE], name="Email"), lambda: pl.Series("Email", [JANE])], ids=["pandas", "polars"]
)
def test_a_series_is_not_a_table(
    sb: Sandbox, client: amplemarket.Client, mode: str, what: str, column: Callable[[], Any]
) -> None:
    """A column alone is refused with a TypeError saying it is not a table, before anything is sent."""
    owner, name = CALLS[what]
    with pytest.raises(TypeError, match="not a table"):
        call(mode, owner, name, column(), client=client)
    assert sent(sb) == []


# -- bad rows, duplicated rows -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["pandas", "polars", "pyarrow-table"])
def test_bad_rows_come_back_invalid_and_are_not_sent(
    sb: Sandbox, client: amplemarket.Client, mode: str, kind: str
) -> None:
    """A row that is not an email, has no usable identifier or is empty is that row's `invalid` result with an error
    starting `row <i>:`; the other rows are enriched and only they are sent."""
    data = {
        "Email": [JANE, "jane at techco dot com", None, None, SAM],
        "Full Name": [None, None, "Nobody Atall", None, None],
        "LinkedIn URL": [None, None, None, None, None],
    }
    results = call(mode, Person, "enrich", make_table(kind, data), client=client)
    assert [r.status for r in results] == ["enriched", "invalid", "invalid", "invalid", "enriched"]
    for i, word in ((1, "not an email address"), (2, "identifier"), (3, "empty row")):
        r = results[i]
        assert r.error is not None and r.error.startswith(f"row {i}: ") and word in r.error, r.error
        assert r.person is None and r.id is None
    assert results[0].error is None and results[4].error is None
    assert sorted(map(signature, all_leads_sent(sb))) == sorted(map(signature, [{"email": JANE}, {"email": SAM}]))


def test_identical_rows_are_sent_once_and_share_their_result(
    sb: Sandbox, client: amplemarket.Client, mode: str, people: list[dict[str, Any]]
) -> None:
    """Rows with the same lead are sent once; each row still gets its result, in row order."""
    jane, sam = jane_and_sam(people)
    table = pl.DataFrame({"Email": [JANE, SAM, JANE, SAM, JANE], "Notes": ["a", "b", "c", "d", "e"]})
    results = call(mode, Person, "enrich", table, client=client)
    bodies = leads_sent(sb)
    assert len(bodies) == 1 and sorted(map(signature, bodies[0])) == sorted(
        map(signature, [{"email": JANE}, {"email": SAM}])
    )
    assert len(results) == 5
    for i in (0, 2, 4):
        assert same_person(results[i].person, jane) and results[i].id == results[0].id and results[i] == results[0]
    for i in (1, 3):
        assert same_person(results[i].person, sam) and results[i].id == results[1].id
    assert results[0].id != results[1].id
    out = arrow(results.to_arrow())
    assert out.column("Notes").to_pylist() == ["a", "b", "c", "d", "e"]
    assert out.column("result_id").to_pylist() == [r.id for r in results]


def test_a_table_of_the_same_lead_many_times_sends_it_once(sb: Sandbox, client: amplemarket.Client) -> None:
    """300 rows of one lead: one lead in one request, 300 results."""
    results = Person.enrich(pa.table({"Email": [JANE] * 300}), client=client)
    assert leads_sent(sb) == [[{"email": JANE}]]
    assert len(results) == 300 and {r.id for r in results} == {results[0].id}


def _chunks(kind: str) -> Any:
    parts = [{"Email": [JANE, SAM], "k": [0, 1]}, {"Email": [SAM, "bad"], "k": [2, 3]}, {"Email": [JANE], "k": [4]}]
    if kind == "polars":
        frame = pl.concat([pl.DataFrame(p) for p in parts], rechunk=False)
        assert frame.n_chunks() == 3
        return frame
    tables = [pa.table(p) for p in parts]
    if kind == "pyarrow-table":
        table = pa.concat_tables(tables)
        assert table.column(0).num_chunks == 3
        return table
    return pa.RecordBatchReader.from_batches(tables[0].schema, [t.to_batches()[0] for t in tables])


@pytest.mark.parametrize("kind", ["pyarrow-table", "pyarrow-reader", "polars"])
def test_a_table_in_several_chunks_is_one_table(sb: Sandbox, client: amplemarket.Client, mode: str, kind: str) -> None:
    """A table in several batches or chunks counts its rows across them: row numbers in errors and the output's
    order are the whole table's."""
    results = call(mode, Person, "enrich", _chunks(kind), client=client)
    assert [r.status for r in results] == ["enriched", "enriched", "enriched", "invalid", "enriched"]
    assert results[3].error is not None and results[3].error.startswith("row 3: ")
    out = arrow(results.to_arrow())
    assert out.column("k").to_pylist() == [0, 1, 2, 3, 4]
    assert out.column("person.name").to_pylist() == ["Jane Doe", "Sam Rivera", "Sam Rivera", None, "Jane Doe"]
    assert len(leads_sent(sb)) == 1 and len(leads_sent(sb)[0]) == 2


def test_progress_counts_the_distinct_leads_of_a_table(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    """Progress is reported in the leads actually sent: copies and bad rows are not counted."""
    calls: list[tuple[str, int, int]] = []
    table = pl.DataFrame({"Email": [JANE, SAM, JANE, "bad", SAM]})
    results = call(mode, Person, "enrich", table, progress=lambda *a: calls.append(a), client=client)
    assert len(results) == 5
    assert calls and calls[0][0] == "submitting" and calls[-1] == ("done", 2, 2)
    assert {total for _, _, total in calls} == {2}


# -- find_many and EnrichmentJob.create --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["pandas", "polars", "pyarrow-table", "capsule"])
def test_find_many_reads_a_table_one_result_per_row(
    sb: Sandbox, client: amplemarket.Client, mode: str, people: list[dict[str, Any]], kind: str
) -> None:
    """`find_many` reads a table as `enrich` does: one `FindResult` per row, in order; a bad row is an invalid result
    that is not sent."""
    jane, sam = jane_and_sam(people)
    data = {
        "Email": [JANE, "nobody.at.all@nowhere.example", "bad", None],
        "LinkedIn URL": [None, None, None, SAM_URL],
    }
    results = call(mode, Person, "find_many", make_table(kind, data), client=client)
    assert isinstance(results, Results) and len(results) == 4
    assert all(isinstance(r, FindResult) for r in results)
    assert same_person(results[0].person, jane) and same_person(results[3].person, sam)
    assert results[1].ok and results[1].person is None
    assert isinstance(results[2].error, InvalidInputError) and str(results[2].error).startswith("row 2: ")
    assert len(sent(sb, FIND)) == 3
    assert sent(sb, CREATE) == []


def test_find_many_columns_maps_a_column(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    """`columns=` works for `find_many` as for `enrich`."""
    table = pl.DataFrame({"Contact": [JANE], "Website": ["nonsense"]})
    results = call(mode, Person, "find_many", table, columns={"Contact": "email", "Website": None}, client=client)
    assert results[0].ok and results[0].person is not None and results[0].person.name == "Jane Doe"
    (request,) = sent(sb, FIND)
    assert "email=jane%40techco.com" in (request["query"] or "") and "domain" not in (request["query"] or "")


@pytest.mark.parametrize("kind", ["pandas", "polars-lazy", "pyarrow-reader", "duckdb"])
def test_enrichment_job_create_takes_a_table(
    sb: Sandbox, client: amplemarket.Client, mode: str, people: list[dict[str, Any]], kind: str
) -> None:
    """`EnrichmentJob.create(table)` sends the rows' leads in one job; the finished job's results come back as
    `Results` and as tables, one row per result, the echoed lead fields as the input columns."""
    jane, sam = jane_and_sam(people)
    table = make_table(kind, {"Work Email": [JANE, SAM], "Notes": ["a", "b"]})
    job = call(mode, EnrichmentJob, "create", table, client=client)
    assert leads_sent(sb) == [[{"email": JANE}, {"email": SAM}]]
    job.wait()
    collected = job.collect()
    assert isinstance(collected, Results) and len(collected) == 2
    by_email = {r.email: r for r in collected}
    assert same_person(by_email[JANE].person, jane) and same_person(by_email[SAM].person, sam)

    emails = [r.email for r in collected]
    out = arrow(job.to_arrow())
    assert out.num_rows == 2 and out.column_names[:4] == ["email", "status", "error", "result_id"]
    assert out.column("email").to_pylist() == emails
    assert out.column("result_id").to_pylist() == [r.id for r in collected]
    assert out.column("person.name").to_pylist() == [r.person.name for r in collected]
    polars_out = job.to_polars()
    assert isinstance(polars_out, pl.DataFrame) and polars_out["email"].to_list() == emails
    pandas_out = job.to_pandas()
    assert isinstance(pandas_out, pd.DataFrame) and list(pandas_out["email"]) == emails
    assert list(pandas_out["status"]) == ["enriched", "enriched"]


def test_enrichment_job_create_with_columns_and_a_bad_row(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    """`create` maps with `columns=`; a bad row refuses the whole job (a job is all or nothing) before sending."""
    table = pl.DataFrame({"Contact": [JANE, "bad"]})
    with pytest.raises(InvalidInputError, match=r"row 1: "):
        call(mode, EnrichmentJob, "create", table, columns={"Contact": "email"}, client=client)
    assert sent(sb) == []
    call(mode, EnrichmentJob, "create", table.head(1), columns={"Contact": "email"}, client=client)
    assert leads_sent(sb) == [[{"email": JANE}]]


# -- pandas without pyarrow --------------------------------------------------------------------------------------------

WITHOUT_PYARROW = textwrap.dedent(
    """
    import json, sys
    sys.modules["pyarrow"] = None
    import amplemarket
    import pandas as pd
    from amplemarket.testing import Sandbox

    with Sandbox(job_progression="immediate", rate_limit=None, poll_retry_after=0) as sb, sb.client() as client:
        df = pd.DataFrame(
            {"Email": ["jane@techco.com", "bad", None, "sam@techco.com"], "Score": [1, 2, 3, 4]},
            index=[10, 20, 30, 40],
        )
        results = amplemarket.Person.enrich(df, client=client)
        out = results.to_pandas()
        print(json.dumps({
            "rows": len(out),
            "index": [int(i) for i in out.index],
            "columns": [str(c) for c in out.columns[:5]],
            "statuses": [r.status for r in results],
            "status_column": [None if pd.isna(v) else v for v in out["status"]],
            "names": [None if pd.isna(v) else v for v in out["person.name"]],
            "ids": [None if pd.isna(v) else int(v) for v in out["result_id"]],
            "dtypes": {c: str(out[c].dtype) for c in ("Score", "status", "error", "person.name", "result_id")},
            "no_pyarrow": "pyarrow" not in sys.modules or sys.modules["pyarrow"] is None,
        }))
    """
)


def test_pandas_without_pyarrow_is_read_and_written() -> None:
    """Where pyarrow is missing, a pandas frame is still enriched and `to_pandas()` still gives the input's columns
    and index then nullable text and integer columns; pyarrow is never imported."""
    done = subprocess.run([sys.executable, "-c", WITHOUT_PYARROW], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["rows"] == 4 and got["index"] == [10, 20, 30, 40]
    assert got["columns"] == ["Email", "Score", "status", "error", "result_id"]
    assert got["statuses"] == ["enriched", "invalid", "invalid", "enriched"] == got["status_column"]
    assert got["names"] == ["Jane Doe", None, None, "Sam Rivera"]
    assert got["ids"][1:3] == [None, None] and all(isinstance(i, int) for i in (got["ids"][0], got["ids"][3]))
    assert got["dtypes"]["Score"] == "int64" and got["dtypes"]["result_id"] == "Int64"
    assert all(got["dtypes"][c] == "string" for c in ("status", "error", "person.name")), got["dtypes"]
    assert got["no_pyarrow"] is True


POLARS_WITHOUT_PYARROW = textwrap.dedent(
    """
    import json, sys
    sys.modules["pyarrow"] = None
    import amplemarket
    import polars as pl
    from amplemarket.testing import Sandbox

    with Sandbox(job_progression="immediate", rate_limit=None, poll_retry_after=0) as sb, sb.client() as client:
        df = pl.DataFrame({"Email": ["jane@techco.com", "bad", None], "Score": [1, 2, 3]})
        out = amplemarket.enrich_table(df.lazy(), client=client).collect()
        print(json.dumps({
            "columns": out.columns[:4],
            "statuses": out["status"].to_list(),
            "names": out["person.name"].to_list(),
            "score": str(out.schema["Score"]),
            "no_pyarrow": "pyarrow" not in sys.modules or sys.modules["pyarrow"] is None,
        }))
    """
)


def test_polars_needs_no_pyarrow_either_way() -> None:
    """A polars frame goes in and comes out through the Arrow C stream alone: pyarrow is never imported."""
    done = subprocess.run([sys.executable, "-c", POLARS_WITHOUT_PYARROW], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["columns"] == ["Email", "Score", "status", "error"]
    assert got["statuses"] == ["enriched", "invalid", "invalid"]
    assert got["names"] == ["Jane Doe", None, None] and got["score"] == "Int64"
    assert got["no_pyarrow"] is True


# -- 100,000 rows ------------------------------------------------------------------------------------------------------

BIG = 100_000
DISTINCT = 70_000


def test_a_100000_row_table_is_enriched_end_to_end_in_order(
    sb: Sandbox, client: amplemarket.Client, people: list[dict[str, Any]]
) -> None:
    """100,000 rows, 70,000 distinct leads (every sandbox person with an email, then made-up addresses the sandbox
    does not know): the distinct leads go in requests of at most 10,000, each once, and row i of the output is row
    i of the input with its person."""
    truth = {p["email"]: p for p in people if p.get("email")}
    known = list(truth)
    distinct = known + [f"lead.{i}@company{i % 997}.example" for i in range(DISTINCT - len(known))]
    emails = distinct + [distinct[(i * 7919) % DISTINCT] for i in range(BIG - DISTINCT)]
    table = pl.DataFrame({"i": range(BIG), "Email": emails})

    results = Person.enrich(table, client=client)

    bodies = leads_sent(sb)
    assert len(bodies) == DISTINCT // 10_000 and all(len(b) <= 10_000 for b in bodies)
    every = [lead["email"] for body in bodies for lead in body]
    assert len(every) == DISTINCT and set(every) == set(distinct)

    out = results.to_polars()
    assert out.height == BIG == len(results)
    assert out["i"].to_list() == list(range(BIG))
    assert out["Email"].to_list() == emails
    statuses = out["status"].to_list()
    counts = Counter(statuses)
    assert set(counts) <= {"enriched", "gdpr_removed", "not_found"}, counts
    assert sum(counts.values()) == BIG
    assert counts["enriched"] + counts["gdpr_removed"] == sum(1 for e in emails if e in truth)
    linkedin = out["person.linkedin_url"].to_list()
    for email, status, url in zip(emails, statuses, linkedin, strict=True):
        p = truth.get(email)
        if p is None:
            assert (status, url) == ("not_found", None), email
        elif p.get("_gdpr_removed"):
            assert (status, url) == ("gdpr_removed", None), email
        else:
            assert (status, url) == ("enriched", p["linkedin_url"]), email
    assert repr(results) == "Results({} results: {})".format(
        BIG, ", ".join(f"{n} {s}" for s, n in Counter(r.status for r in results).items())
    )
