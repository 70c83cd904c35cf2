"""Tables out: `Results` is a sequence of result objects that also turns into an Arrow table (typed result columns
after the input's own), a polars or a pandas frame joined to the input frame; `enrich_table` gives back the kind of
table it was given."""

from __future__ import annotations

import datetime
import inspect
import json
import pickle
from collections.abc import Callable, Sequence
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from support import CREATE, call, same_person, sent

import amplemarket
from amplemarket import ArrowTable, EnrichmentResult, FindResult, Person, Results
from amplemarket.testing import Sandbox

from ._helpers import (
    ENRICH_COLUMNS,
    FIND_COLUMNS,
    PERSON_COLUMNS,
    TEXT_TYPES,
    arrow,
    check_result_columns,
    make_table,
)

pytestmark = pytest.mark.amplemarket_sandbox(job_progression="immediate")

JANE = "jane@techco.com"
SAM = "sam@techco.com"
SAM_URL = "https://www.linkedin.com/in/sam-rivera-techco"
ENRICH_NAMES = [name for name, _ in ENRICH_COLUMNS]
FIND_NAMES = [name for name, _ in FIND_COLUMNS]


def mixed_table(people: list[dict[str, Any]], n: int) -> tuple[dict[str, list[Any]], list[dict[str, Any]]]:
    """Columns naming ``n`` people (email or LinkedIn URL by turns), one unknown address, one bad row and one GDPR-
    removed person, with a `Row` column; and the people named, ``None`` where no one is."""
    live = [p for p in people if not p.get("_gdpr_removed") and p.get("email")][:n]
    removed = next(p for p in people if p.get("_gdpr_removed"))
    emails: list[Any] = [p["email"] if i % 2 == 0 else None for i, p in enumerate(live)]
    urls: list[Any] = [None if i % 2 == 0 else p["linkedin_url"] for i, p in enumerate(live)]
    emails += ["nobody.at.all@nowhere.example", "not an email", None]
    urls += [None, None, removed["linkedin_url"]]
    data = {"Row": [str(i) for i in range(len(emails))], "Email": emails, "LinkedIn URL": urls}
    return data, [*live, None, None, removed]


# -- Results -----------------------------------------------------------------------------------------------------------


def test_results_is_a_sequence(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    """`Results` is a `Sequence`: len, int and negative indexing, slices as lists, iteration, `==` with the list of
    its results, pickled as that list, and a repr that counts statuses."""
    table = pl.DataFrame({"Email": [JANE, SAM, "bad", JANE]})
    results = call(mode, Person, "enrich", table, client=client)
    assert isinstance(results, Results) and isinstance(results, Sequence)
    assert len(results) == 4
    items = list(results)
    assert len(items) == 4 and all(isinstance(r, EnrichmentResult) for r in items)
    assert [r.status for r in items] == ["enriched", "enriched", "invalid", "enriched"]
    assert results[0] == items[0] and results[-1] == items[3] and results[-4] == items[0]
    assert results[0] == results[3] and results[0] != results[1]
    assert results[1:3] == items[1:3] and isinstance(results[1:3], list)
    assert results[::-1] == items[::-1]
    assert results == items and results == tuple(items) and results == results[:]
    assert results != items[:3] and results != [*items[:3], items[1]]
    assert items[1] in results and list(reversed(results)) == items[::-1]
    for bad in (4, -5):
        with pytest.raises(IndexError):
            results[bad]
    again = pickle.loads(pickle.dumps(results))
    assert type(again) is list and again == items
    assert repr(results) == "Results(4 results: 3 enriched, 1 invalid)"


def test_results_has_the_sequence_methods_it_is_registered_for(sb: Sandbox, client: amplemarket.Client) -> None:
    """Registered as a `Sequence`, `Results` has what every Sequence has: `index` and `count`."""
    results = Person.enrich(pl.DataFrame({"Email": [JANE, SAM, JANE]}), client=client)
    assert isinstance(results, Sequence)
    assert results.index(results[1]) == 1 and results.count(results[0]) == 2


def test_find_many_results_is_a_sequence_of_find_results(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    """`find_many` of a table gives `Results` of `FindResult`, compared and pickled as a list."""
    results = call(mode, Person, "find_many", pa.table({"Email": [JANE, "bad"]}), client=client)
    assert isinstance(results, Results) and isinstance(results, Sequence) and len(results) == 2
    assert all(isinstance(r, FindResult) for r in results)
    assert results[0].person is not None and results[0].person.name == "Jane Doe" and not results[-1].ok
    assert results == list(results)
    assert [r.person.name if r.person else None for r in pickle.loads(pickle.dumps(results))] == ["Jane Doe", None]


# -- to_arrow: schema and values ---------------------------------------------------------------------------------------

WHEN = [datetime.datetime(2024, 1, 2, 3, 4, 5), None, datetime.datetime(2023, 12, 31)]


def _typed_pyarrow() -> Any:
    return pa.table(
        {
            "n": pa.array([1, 2, 3], pa.int64()),
            "when": pa.array(WHEN, pa.timestamp("us")),
            "flag": pa.array([True, None, False], pa.bool_()),
            "Email": pa.array([JANE, SAM, "bad"], pa.string()),
            "score": pa.array([1.5, None, 2.5], pa.float64()),
        }
    )


def _typed_polars() -> Any:
    return pl.DataFrame(
        {
            "n": pl.Series([1, 2, 3], dtype=pl.Int64),
            "when": pl.Series(WHEN, dtype=pl.Datetime("us")),
            "flag": pl.Series([True, None, False], dtype=pl.Boolean),
            "Email": [JANE, SAM, "bad"],
            "score": pl.Series([1.5, None, 2.5], dtype=pl.Float64),
        }
    )


def _typed_pandas() -> Any:
    return pd.DataFrame(
        {
            "n": pd.Series([1, 2, 3], dtype="int64"),
            "when": pd.Series(WHEN, dtype="datetime64[us]"),
            "flag": pd.Series([True, False, False], dtype="bool"),
            "Email": [JANE, SAM, "bad"],
            "score": [1.5, None, 2.5],
        }
    )


TYPED: dict[str, Callable[[], Any]] = {"pyarrow": _typed_pyarrow, "polars": _typed_polars, "pandas": _typed_pandas}


@pytest.mark.parametrize("source", list(TYPED))
def test_to_arrow_schema_is_the_input_columns_then_typed_result_columns(
    sb: Sandbox, client: amplemarket.Client, mode: str, source: str
) -> None:
    """The table's columns: the input's own, in order, with their own types and values, then `status`, `error`,
    `result_id`, `person.*`, `company.*` and `person_json`, each of its documented Arrow type."""
    table = TYPED[source]()
    results = call(mode, Person, "enrich", table, client=client)
    t = results.to_arrow()
    assert isinstance(t, ArrowTable)
    out = arrow(t)
    schema = out.schema
    assert out.column_names == ["n", "when", "flag", "Email", "score", *ENRICH_NAMES]
    assert schema.field("n").type == pa.int64()
    assert pa.types.is_timestamp(schema.field("when").type)
    assert schema.field("flag").type == pa.bool_()
    assert schema.field("Email").type in TEXT_TYPES
    assert schema.field("score").type == pa.float64()
    for name, arrow_type in ENRICH_COLUMNS:
        assert schema.field(name).type == arrow_type, (name, schema.field(name).type, arrow_type)
    given = arrow(TYPED[source]())
    for name in ("n", "when", "flag", "Email", "score"):
        assert out.column(name).to_pylist() == given.column(name).to_pylist(), name
    assert out.column("status").to_pylist() == ["enriched", "enriched", "invalid"]
    assert out.column("result_id").to_pylist() == [r.id for r in results]
    assert out.column("error").to_pylist()[:2] == [None, None]
    assert out.column("error").to_pylist()[2].startswith("row 2: ")


@pytest.mark.parametrize("reveal", [False, True], ids=["no-reveal", "reveal"])
def test_result_columns_hold_the_result_objects_values(
    sb: Sandbox, client: amplemarket.Client, mode: str, people: list[dict[str, Any]], reveal: bool
) -> None:
    """Every `person.*` and `company.*` cell equals the result's attribute (dates as dates, lists and structs member
    by member), `person_json` is the person's JSON; emails and phone numbers are null unless revealed."""
    data, named = mixed_table(people, 40)
    results = call(
        mode,
        Person,
        "enrich",
        pl.DataFrame(data),
        reveal_email=reveal,
        reveal_phone_numbers=reveal,
        client=client,
    )
    out = arrow(results.to_arrow())
    assert out.column("Row").to_pylist() == data["Row"]
    assert out.column("status").to_pylist() == [r.status for r in results]
    assert out.column("error").to_pylist() == [r.error for r in results]
    assert out.column("result_id").to_pylist() == [r.id for r in results]
    assert check_result_columns(out, results) == 40
    for r, p in zip(results, named, strict=True):
        if p is None or p.get("_gdpr_removed"):
            assert r.person is None
        else:
            assert same_person(r.person, p)
    assert [r.status for r in results][-3:] == ["not_found", "invalid", "gdpr_removed"]
    emails = out.column("person.email").to_pylist()
    phones = out.column("person.phone_numbers").to_pylist()
    if reveal:
        assert emails[:40] == [p["email"] for p in named[:40]]
        with_phones = [(cell, p) for cell, p in zip(phones[:40], named, strict=False) if p.get("phone_numbers")]
        assert with_phones
        for cell, p in with_phones:
            assert cell == [{k: n.get(k) for k in ("number", "type", "source")} for n in p["phone_numbers"]]
    else:
        assert emails == [None] * len(emails) and phones == [None] * len(phones)
    some = [i for i, r in enumerate(results) if r.person is not None and r.person.company is not None]
    assert some
    i = some[0]
    company = results[i].person.company
    assert out.column("company.keywords")[i].as_py() == company.keywords
    if company.latest_funding_date is not None:
        assert out.column("company.latest_funding_date")[i].as_py() == datetime.date.fromisoformat(
            company.latest_funding_date
        )


def test_documented_people_columns_spot_checked(sb: Sandbox, client: amplemarket.Client) -> None:
    """Jane Doe's row, against the values the README shows: text, a date, a struct, lists of structs, integers."""
    out = arrow(Person.enrich(pa.table({"Email": [JANE]}), client=client).to_arrow())
    row = out.to_pylist()[0]
    assert row["person.name"] == "Jane Doe" and row["person.first_name"] == "Jane"
    assert row["person.current_position_start_date"] == datetime.date(2020, 3, 1)
    assert row["person.location_details"] == {
        "city": "San Francisco",
        "state": "California",
        "country": "United States",
    }
    assert row["person.experiences"][0]["company_name"] == "TechCo"
    assert row["person.experiences"][0]["start_date"] == datetime.date(2020, 3, 1)
    assert row["company.name"] == "TechCo" and row["company.founded_year"] == 2012
    assert row["company.keywords"] == ["developer tools", "data infrastructure", "saas"]
    assert row["company.sic_codes"] == [7372] and row["company.naics_codes"] == [511210]
    assert row["company.is_b2b"] is True and row["company.is_b2c"] is False
    assert row["company.latest_funding_date"] == datetime.date(2023, 4, 1)
    assert row["company.locations"][0] == {
        "address": "500 Howard Street, San Francisco, California",
        "is_primary": True,
        "country": "United States",
    }
    assert json.loads(row["person_json"])["name"] == "Jane Doe"


def test_no_results_and_only_invalid_results_still_make_tables(sb: Sandbox, client: amplemarket.Client) -> None:
    """No leads: an empty table of the result columns. Only bad rows: nothing sent, a table of `invalid` rows."""
    empty = Person.enrich([], client=client)
    assert repr(empty) == "Results(0 results)" and empty == []
    assert empty.to_arrow().column_names == ENRICH_NAMES and empty.to_arrow().num_rows == 0
    assert empty.to_polars().shape == (0, len(ENRICH_NAMES)) and empty.to_pandas().shape == (0, len(ENRICH_NAMES))

    bad = Person.enrich(pl.DataFrame({"Email": ["bad", None]}), client=client)
    assert sent(sb) == []
    out = arrow(bad.to_arrow())
    assert out.column("Email").to_pylist() == ["bad", None]
    assert out.column("status").to_pylist() == ["invalid", "invalid"]
    assert out.column("result_id").to_pylist() == [None, None] and out.column("person_json").to_pylist() == [None, None]
    assert repr(bad) == "Results(2 results: 2 invalid)"


@pytest.mark.amplemarket_sandbox(job_progression="polls:2", email_credits=5.0)
def test_failed_rows_are_in_the_table_with_their_error(
    sb: Sandbox, client: amplemarket.Client, people: list[dict[str, Any]]
) -> None:
    """Rows a job never reached (it ran out of credits) are `failed` in the table, with the error their result
    carries."""
    data, _ = mixed_table(people, 30)
    results = Person.enrich(pa.table(data), client=client)
    out = arrow(results.to_arrow())
    assert out.column("status").to_pylist() == [r.status for r in results]
    assert out.column("error").to_pylist() == [r.error for r in results]
    failed = [i for i, r in enumerate(results) if r.status == "failed"]
    assert len(failed) >= 20 and results[-2].status == "invalid", [r.status for r in results]
    for i in failed:
        assert out.column("error")[i].as_py() and out.column("person.id")[i].as_py() is None
    check_result_columns(out, results)


# -- the ArrowTable and its readers ------------------------------------------------------------------------------------


def test_arrow_table_is_read_by_pyarrow_polars_and_duckdb_more_than_once(
    sb: Sandbox, client: amplemarket.Client
) -> None:
    """An `ArrowTable` has the PyCapsule interface and its own shape; pyarrow, polars and duckdb read it, each more
    than once, and `to_pydict()` gives what pyarrow does."""
    results = Person.enrich([{"email": JANE}, {"linkedin_url": SAM_URL}, {"email": "bad"}], client=client)
    t = results.to_arrow()
    assert isinstance(t, ArrowTable)
    assert hasattr(t, "__arrow_c_stream__") and hasattr(t, "__arrow_c_schema__")
    assert t.column_names == ["email", "linkedin_url", *ENRICH_NAMES]
    assert (t.num_rows, t.num_columns, len(t)) == (3, 2 + len(ENRICH_NAMES), 3)

    first, second = pa.table(t), pa.table(t)
    assert first.equals(second) and first.num_rows == 3 and first.column_names == t.column_names
    assert pa.schema(t) == first.schema
    names = ["Jane Doe", "Sam Rivera", None]
    assert first.column("person.name").to_pylist() == names

    for _ in range(2):
        df = pl.DataFrame(t)
        assert df.shape == (3, t.num_columns) and df["person.name"].to_list() == names
        assert df["status"].to_list() == ["enriched", "enriched", "invalid"]

    for _ in range(2):
        rows = duckdb.sql('select "person.name", status, result_id from t').fetchall()
        assert rows == [
            (n, s, r.id) for n, s, r in zip(names, ["enriched", "enriched", "invalid"], results, strict=True)
        ]

    assert t.to_pydict() == first.to_pydict()
    assert t.to_pydict()["person.current_position_start_date"][0] == datetime.date(2020, 3, 1)


def test_a_result_column_named_like_an_input_column_gets_result_appended(
    sb: Sandbox, client: amplemarket.Client, mode: str
) -> None:
    """An input column called `status`, `error`, `result_id`, `person.name` or `person_json` is kept as given; the
    result column of that name becomes `<name>_result`."""
    clashing = ["status", "error", "result_id", "person.name", "person_json"]
    data = {"Email": [JANE, SAM], **{name: [f"{name} a", f"{name} b"] for name in clashing}}
    results = call(mode, Person, "enrich", pl.DataFrame(data), client=client)
    out = arrow(results.to_arrow())
    renamed = [f"{name}_result" if name in clashing else name for name in ENRICH_NAMES]
    assert out.column_names == ["Email", *clashing, *renamed]
    for name in clashing:
        assert out.column(name).to_pylist() == data[name], name
    assert out.column("status_result").to_pylist() == ["enriched", "enriched"]
    assert out.column("result_id_result").to_pylist() == [r.id for r in results]
    assert out.column("person.name_result").to_pylist() == ["Jane Doe", "Sam Rivera"]
    assert [json.loads(c) for c in out.column("person_json_result").to_pylist()] == [
        r.person.to_dict() for r in results
    ]


def test_input_columns_false_leaves_the_input_out(sb: Sandbox, client: amplemarket.Client) -> None:
    """`input_columns=False` gives the result columns alone, under their own names, in all three forms."""
    df = pd.DataFrame({"Email": [JANE, "bad"], "status": ["x", "y"]}, index=[5, 6])
    results = Person.enrich(df, client=client)
    assert results.to_arrow(input_columns=False).column_names == ENRICH_NAMES
    assert results.to_polars(input_columns=False).columns == ENRICH_NAMES
    out = results.to_pandas(input_columns=False)
    assert list(out.columns) == ENRICH_NAMES and list(out["status"]) == ["enriched", "invalid"]


def test_a_list_of_dicts_gives_its_keys_as_text_input_columns(sb: Sandbox, client: amplemarket.Client) -> None:
    """For dicts, the input columns are the keys in first-seen order, as text, null where a dict lacks the key."""
    leads = [
        {"email": JANE},
        {"linkedin_url": SAM_URL, "title": "CEO"},
        {"name": "Nobody Atall", "email": None},
    ]
    out = arrow(Person.enrich(leads, client=client).to_arrow())
    assert out.column_names == ["email", "linkedin_url", "title", "name", *ENRICH_NAMES]
    for name in ("email", "linkedin_url", "title", "name"):
        assert out.schema.field(name).type == pa.string()
    assert out.slice(0, 3).select([0, 1, 2, 3]).to_pylist() == [
        {"email": JANE, "linkedin_url": None, "title": None, "name": None},
        {"email": None, "linkedin_url": SAM_URL, "title": "CEO", "name": None},
        {"email": None, "linkedin_url": None, "title": None, "name": "Nobody Atall"},
    ]
    assert out.column("status").to_pylist() == ["enriched", "enriched", "invalid"]


def test_dict_keys_whose_values_are_not_text_are_input_columns_too(sb: Sandbox, client: amplemarket.Client) -> None:
    """A key given with a number or a boolean is still one of the dict keys, so still an input column (as text)."""
    leads = [{"email": JANE, "score": 7}, {"email": SAM, "vip": True}]
    results = Person.enrich(leads, client=client)
    assert [r.status for r in results] == ["invalid", "invalid"]  # unknown fields
    out = arrow(results.to_arrow())
    assert out.column_names[:3] == ["email", "score", "vip"]
    assert out.column("score").to_pylist() == ["7", None]
    assert out.column("vip").to_pylist() == [None, "true"]


def test_pandas_index_is_not_an_input_column_of_the_arrow_table(sb: Sandbox, client: amplemarket.Client) -> None:
    """A pandas frame's index is not one of its columns: `to_arrow()` starts with the frame's columns only."""
    df = pd.DataFrame({"Email": [JANE, SAM, "bad"], "Score": [1, 2, 3]}, index=[10, 20, 30])
    out = Person.enrich(df, client=client).to_arrow()
    assert out.column_names == ["Email", "Score", *ENRICH_NAMES]


# -- to_polars ---------------------------------------------------------------------------------------------------------


def _rich_polars() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "Email": [JANE, "bad", SAM],
            "n": pl.Series([1, 2, 3], dtype=pl.Int32),
            "tier": pl.Series(["a", "b", "a"], dtype=pl.Categorical),
            "when": pl.Series([datetime.datetime(2024, 1, 1), None, datetime.datetime(2024, 2, 1)]),
            "tags": [["x"], [], None],
            "meta": [{"k": 1}, {"k": None}, {"k": 3}],
            "ok": [True, None, False],
        }
    )


@pytest.mark.parametrize("lazy", [False, True], ids=["DataFrame", "LazyFrame"])
def test_to_polars_keeps_a_polars_input_unchanged(
    sb: Sandbox, client: amplemarket.Client, mode: str, lazy: bool
) -> None:
    """For a polars input, `to_polars()` is the input frame's own columns, dtypes and values unchanged, then the
    result columns typed."""
    df = _rich_polars()
    results = call(mode, Person, "enrich", df.lazy() if lazy else df, client=client)
    out = results.to_polars()
    assert isinstance(out, pl.DataFrame) and out.height == 3
    assert out.columns == [*df.columns, *ENRICH_NAMES]
    assert out.select(df.columns).schema == df.schema
    assert out.select(df.columns).equals(df)
    assert out["status"].to_list() == ["enriched", "invalid", "enriched"]
    assert out["person.name"].to_list() == ["Jane Doe", None, "Sam Rivera"]
    assert out.schema["result_id"] == pl.Int64 and out.schema["status"] == pl.String
    assert out.schema["person.current_position_start_date"] == pl.Date
    assert out.schema["company.keywords"] == pl.List(pl.String)
    assert out["result_id"].to_list() == [r.id for r in results]


@pytest.mark.parametrize("kind", ["pandas", "pyarrow-table", "duckdb"])
def test_to_polars_of_other_inputs(sb: Sandbox, client: amplemarket.Client, kind: str) -> None:
    """`to_polars()` works whatever the input was: its columns, then the result columns."""
    results = Person.enrich(make_table(kind, {"Email": [JANE, None], "Notes": ["a", "b"]}), client=client)
    out = results.to_polars()
    assert out.columns == ["Email", "Notes", *ENRICH_NAMES]
    assert out["Notes"].to_list() == ["a", "b"] and out["Email"].to_list() == [JANE, None]
    assert out["status"].to_list() == ["enriched", "invalid"]


# -- to_pandas ---------------------------------------------------------------------------------------------------------


def _rich_pandas() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "Email": pd.Series([JANE, "bad", None, SAM], dtype="string"),
            "Score": [1.5, float("nan"), 3.0, 4.0],
            "Count": pd.Series([1, None, 3, 4], dtype="Int64"),
            "Flag": [True, False, True, False],
            "When": pd.to_datetime(["2024-01-01", "2024-01-02", None, "2024-01-04"]),
            "Label": ["a", "b", "c", "d"],
        }
    )
    df.index = pd.Index([10, 20, 30, 40])
    return df


def test_to_pandas_keeps_a_pandas_input_and_its_index(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    """For a pandas input, `to_pandas()` is the frame's own columns (dtypes and values) and index, then the result
    columns in nullable dtypes: text as `string`, integers as `Int64`, booleans as `boolean`, missing as pd.NA."""
    df = _rich_pandas()
    results = call(mode, Person, "enrich", df, client=client)
    out = results.to_pandas()
    assert isinstance(out, pd.DataFrame)
    assert list(out.index) == [10, 20, 30, 40]
    assert list(out.columns) == [*df.columns, *ENRICH_NAMES]
    pd.testing.assert_frame_equal(out[list(df.columns)], df)
    assert list(out["status"]) == ["enriched", "invalid", "invalid", "enriched"]
    assert list(out["person.name"].iloc[[0, 3]]) == ["Jane Doe", "Sam Rivera"]

    text = ["status", "error", *(name for name, t in PERSON_COLUMNS if t == pa.string())]
    for name in text:
        assert out[name].dtype == pd.StringDtype(), (name, out[name].dtype)
        assert not (out[name] == "nan").any(), name
    for name in ("result_id", "company.founded_year", "company.estimated_number_of_employees", "company.revenue"):
        assert out[name].dtype == pd.Int64Dtype(), (name, out[name].dtype)
    for name in ("company.is_b2b", "company.is_b2c"):
        assert out[name].dtype == pd.BooleanDtype(), (name, out[name].dtype)
    for i in (1, 2):  # invalid rows: every result column but status and error is missing
        row = out.iloc[i]
        assert row["person.name"] is pd.NA and row["result_id"] is pd.NA and row["company.is_b2b"] is pd.NA
        assert row["error"].startswith(f"row {i}: ")
    assert out["error"].iloc[0] is pd.NA
    assert list(out["result_id"].iloc[[0, 3]]) == [results[0].id, results[3].id]
    assert amplemarket.to_pandas(results).equals(out)


@pytest.mark.parametrize("kind", ["polars", "pyarrow-table", "capsule"])
def test_to_pandas_of_other_inputs(sb: Sandbox, client: amplemarket.Client, kind: str) -> None:
    """`to_pandas()` of a non-pandas input: its columns then the result columns, a fresh index, nullable dtypes."""
    results = Person.enrich(make_table(kind, {"Email": [JANE, None], "Notes": ["a", None]}), client=client)
    out = results.to_pandas()
    assert list(out.columns) == ["Email", "Notes", *ENRICH_NAMES]
    assert list(out.index) == [0, 1]
    assert out["Notes"].iloc[0] == "a" and out["Notes"].iloc[1] is pd.NA
    assert out["status"].dtype == pd.StringDtype() and out["result_id"].dtype == pd.Int64Dtype()
    assert list(out["status"]) == ["enriched", "invalid"] and out["result_id"].iloc[1] is pd.NA


def test_find_many_tables_have_found_statuses_and_no_result_id(
    sb: Sandbox, client: amplemarket.Client, mode: str
) -> None:
    """A `find_many` table: status `found`, `not_found` or `invalid` per row, no `result_id`, the person columns."""
    table = pd.DataFrame({"Email": [JANE, "nobody.at.all@nowhere.example", "bad", None], "Notes": list("abcd")})
    table["LinkedIn URL"] = [None, None, None, SAM_URL]
    results = call(mode, Person, "find_many", table, client=client)
    out = arrow(results.to_arrow())
    assert out.column_names == ["Email", "Notes", "LinkedIn URL", *FIND_NAMES]
    assert "result_id" not in out.column_names
    assert out.column("status").to_pylist() == ["found", "not_found", "invalid", "found"]
    errors = out.column("error").to_pylist()
    assert errors[0] is None and errors[1] is None and errors[3] is None and errors[2].startswith("row 2: ")
    assert check_result_columns(out, results) == 2
    assert out.column("person.name").to_pylist() == ["Jane Doe", None, None, "Sam Rivera"]
    pandas_out = results.to_pandas()
    assert list(pandas_out["Notes"]) == list("abcd") and "result_id" not in pandas_out.columns
    assert results.to_polars()["status"].to_list() == ["found", "not_found", "invalid", "found"]


# -- enrich_table ------------------------------------------------------------------------------------------------------

# What `enrich_table` gives for each kind of table.
SAME_KIND: dict[str, type] = {
    "pandas": pd.DataFrame,
    "polars": pl.DataFrame,
    "polars-lazy": pl.LazyFrame,
    "pyarrow-table": pa.Table,
    "pyarrow-batch": pa.RecordBatch,
    "duckdb": ArrowTable,
    "capsule": ArrowTable,
}


@pytest.mark.parametrize("kind", list(SAME_KIND))
def test_enrich_table_gives_back_the_same_kind_of_table(
    sb: Sandbox, client: amplemarket.Client, mode: str, kind: str
) -> None:
    """`enrich_table`: pandas in, pandas out; polars DataFrame or LazyFrame, pyarrow Table or RecordBatch likewise;
    anything else an `ArrowTable`. The input's columns then the result columns, one row per input row."""
    table = make_table(kind, {"Email": [JANE, "bad", SAM], "Notes": ["a", "b", "c"]})
    out = call(mode, amplemarket, "enrich_table", table, client=client)
    assert type(out) is SAME_KIND[kind], type(out)
    if kind == "polars-lazy":
        out = out.collect()
    got = arrow(out) if kind != "pandas" else pa.Table.from_pandas(out, preserve_index=False)
    assert got.column_names == ["Email", "Notes", *ENRICH_NAMES]
    assert got.column("Notes").to_pylist() == ["a", "b", "c"]
    assert got.column("status").to_pylist() == ["enriched", "invalid", "enriched"]
    assert got.column("person.name").to_pylist() == ["Jane Doe", None, "Sam Rivera"]
    assert len(sent(sb, CREATE)) == 1


def test_enrich_table_keeps_a_pandas_index_and_passes_options(
    sb: Sandbox, client: amplemarket.Client, mode: str
) -> None:
    """`enrich_table` of pandas keeps the index; `columns=` and `reveal_email=` reach the call."""
    df = pd.DataFrame({"Contact": [JANE, SAM]}, index=["x", "y"])
    out = call(mode, amplemarket, "enrich_table", df, columns={"Contact": "email"}, reveal_email=True, client=client)
    assert list(out.index) == ["x", "y"]
    assert list(out["person.email"]) == [JANE, SAM]
    assert json.loads(sent(sb, CREATE)[0]["body"])["reveal_email"] is True


def test_enrich_table_refuses_a_list_of_dicts(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    """A list of dicts is not a table: `enrich_table` says to use `Person.enrich`, before sending anything."""
    with pytest.raises(TypeError, match=r"Person\.enrich"):
        call(mode, amplemarket, "enrich_table", [{"email": JANE}], client=client)
    assert sent(sb) == []


def test_enrich_table_refuses_an_unknown_option_in_both_forms(
    sb: Sandbox, client: amplemarket.Client, mode: str
) -> None:
    """The awaitable form takes exactly the blocking form's arguments: a misspelt one is refused by name, and
    `help()` shows the same signature."""
    assert inspect.signature(amplemarket.enrich_table_async) == inspect.signature(amplemarket.enrich_table)
    table = pa.table({"Email": [JANE]})
    with pytest.raises(TypeError, match="unexpected keyword argument 'colums'"):
        call(mode, amplemarket, "enrich_table", table, colums={"Email": "email"}, client=client)
    with pytest.raises(TypeError, match="kind='company'"):
        call(mode, amplemarket, "enrich_table", table, kind="company", reveal_email=True, client=client)
    assert sent(sb) == []
