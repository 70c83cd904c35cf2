"""pandas: `Results.to_pandas()`, `job.to_pandas()` and `amplemarket.to_pandas(results)` give one row per result in
the tables schema (input columns, `status`, `error`, `result_id`, `person.*`, `company.*`), in nullable dtypes
(missing is always pd.NA, integers stay integers, lists read as lists); `amplemarket.to_pandas` of other items
(people, dicts) keeps its flat `company_` layout; a clear ImportError when pandas is missing."""

from __future__ import annotations

import datetime
import sys
from typing import Any

import pytest

import amplemarket
from amplemarket import EnrichmentJob, EnrichmentResult, Person
from amplemarket.testing import Sandbox

pd = pytest.importorskip("pandas")

pytestmark = pytest.mark.amplemarket_sandbox(job_progression="immediate")


def linkedin_leads(people: list[dict[str, Any]], n: int) -> list[dict[str, str]]:
    return [{"linkedin_url": p["linkedin_url"]} for p in people[:n]]


def check_person_columns(
    df: Any, people: list[dict[str, Any]], prefix: str = "person.", company: str = "company."
) -> None:
    """The enriched rows carry the person's fields and its company's, prefixed, with lists read as lists."""
    truth = {p["linkedin_url"]: p for p in people}
    for field in ("name", "website", "industry", "technologies"):
        assert f"{company}{field}" in df.columns
    assert "company" not in df.columns and f"{prefix}company" not in df.columns
    assert len(df) > 0
    lists = 0
    for _, row in df.iterrows():
        p = truth[row[f"{prefix}linkedin_url"]]
        firm = p.get("company") or {}
        assert row[f"{prefix}name"] == p["name"]
        if firm:
            assert row[f"{company}name"] == firm["name"] and row[f"{company}id"] == firm["id"]
        else:
            assert pd.isna(row[f"{company}name"])
        for column, value in (
            (f"{prefix}languages", p.get("languages")),
            (f"{company}technologies", firm.get("technologies")),
            (f"{company}keywords", firm.get("keywords")),
        ):
            if isinstance(value, list):
                assert list(row[column]) == value, column
                lists += 1
        if isinstance(p.get("experiences"), list):
            assert [e["title"] for e in row[f"{prefix}experiences"]] == [e["title"] for e in p["experiences"]]
    assert lists > 0


def test_job_to_pandas_has_one_row_per_result(
    sb: Sandbox, client: amplemarket.Client, people: list[dict[str, Any]]
) -> None:
    leads = linkedin_leads(people, 30)
    job = EnrichmentJob.create(leads, client=client).wait()
    df = job.to_pandas()
    assert isinstance(df, pd.DataFrame)
    results = list(job.results())
    assert len(df) == len(results) == 30
    assert list(df["result_id"]) == [r.id for r in results]
    assert list(df["status"]) == [r.status for r in results]
    assert list(df["linkedin_url"]) == [r.linkedin_url for r in results]  # the echoed lead, as input columns
    check_person_columns(df[df["status"] == "enriched"], people[:30])


def test_to_pandas_of_enrich_results_keeps_invalid_rows(
    sb: Sandbox, client: amplemarket.Client, people: list[dict[str, Any]]
) -> None:
    leads: list[Any] = [*linkedin_leads(people, 10), {"name": "Nobody"}, {"email": "not a lead"}]
    results = Person.enrich(leads, client=client)
    df = amplemarket.to_pandas(results)
    assert df.equals(results.to_pandas())
    assert len(df) == 12
    assert list(df["status"])[-2:] == ["invalid", "invalid"]
    assert df["error"].iloc[-1] and "lead 11" in df["error"].iloc[-1]
    assert list(df["linkedin_url"])[:10] == [lead["linkedin_url"] for lead in leads[:10]]
    check_person_columns(df[df["status"] == "enriched"], people[:10])


def test_to_pandas_of_find_results(sb: Sandbox, client: amplemarket.Client, live: list[dict[str, Any]]) -> None:
    queries: list[Any] = [
        {"linkedin_url": live[0]["linkedin_url"]},
        {"email": "nobody.at.all@nowhere.example"},
        {"bogus": "x"},
        {"linkedin_url": live[1]["linkedin_url"]},
    ]
    df = amplemarket.to_pandas(Person.find_many(queries, client=client))
    assert len(df) == 4 and "result_id" not in df.columns
    assert list(df["status"]) == ["found", "not_found", "invalid", "found"]
    assert df["error"].isna().tolist() == [True, True, False, True]
    assert "bogus" in df["error"].iloc[2]
    assert df["linkedin_url"].iloc[0] == live[0]["linkedin_url"]
    check_person_columns(df[df["status"] == "found"], live[:2])


def test_to_pandas_of_people(sb: Sandbox, client: amplemarket.Client, live: list[dict[str, Any]]) -> None:
    found = [Person.find(linkedin_url=p["linkedin_url"], client=client) for p in live[:3]]
    df = amplemarket.to_pandas(found)
    assert len(df) == 3 and list(df["linkedin_url"]) == [p["linkedin_url"] for p in live[:3]]
    check_person_columns(df, live[:3], prefix="", company="company_")
    page = Person.search(page_size=7, client=client)
    df = amplemarket.to_pandas(page.results)
    assert len(df) == 7 and list(df["id"]) == [p.id for p in page.results]
    assert amplemarket.to_pandas([]).empty


def test_to_pandas_refuses_what_it_cannot_tabulate() -> None:
    with pytest.raises(TypeError, match="int"):
        amplemarket.to_pandas([1, 2])


def test_missing_pandas_gives_a_clear_import_error(
    sb: Sandbox, client: amplemarket.Client, people: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    job = EnrichmentJob.create(linkedin_leads(people, 3), client=client).wait()
    results = list(job.results())
    monkeypatch.setitem(sys.modules, "pandas", None)
    enriched = Person.enrich(linkedin_leads(people, 2), client=client)
    for make in (job.to_pandas, lambda: amplemarket.to_pandas(results), enriched.to_pandas):
        with pytest.raises(ImportError) as caught:
            make()
        assert "pip install pandas" in str(caught.value) and "pip install '.[pandas]'" in str(caught.value)


def expected_dtype(value: Any) -> str:
    """The dtype a column holding ``value`` (and missing values) should have."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "Int64"
    if isinstance(value, float):
        return "Float64"
    if isinstance(value, str):
        return "string"
    return "object"  # lists and objects


def missing_values_are_na(df: Any) -> None:
    """Every missing cell of every column is pd.NA: never None, never NaN."""
    for column in df.columns:
        for value in df[column]:
            if value is None or (isinstance(value, float) and value != value):
                raise AssertionError(f"{column} holds {value!r} for a missing value")


def test_to_pandas_uses_nullable_dtypes_column_by_column(
    sb: Sandbox, client: amplemarket.Client, live: list[dict[str, Any]]
) -> None:
    person = next(p for p in live if p.get("email") and p.get("company"))
    leads: list[Any] = [
        {"email": person["email"]},
        {"email": "zz.nobody@nowhere.example"},
        {"name": "Nobody"},  # invalid: no result id, no person
    ]
    results = Person.enrich(leads, reveal_email=True, client=client)
    df = results.to_pandas()

    assert list(df["status"]) == ["enriched", "not_found", "invalid"]
    assert str(df["result_id"].dtype) == "Int64"
    assert df["result_id"].iloc[0] == results[0].id and df["result_id"].iloc[1] == results[1].id
    assert df["result_id"].iloc[2] is pd.NA
    for column in ("status", "error", "email", "name"):
        assert str(df[column].dtype) == "string", column
    assert df["error"].iloc[0] is pd.NA and "lead 2" in df["error"].iloc[2]
    assert list(df["name"].isna()) == [True, True, False]

    # Each person or company column holding a plain JSON value has its dtype, with pd.NA for the rows without one.
    enriched = results[0]
    assert isinstance(enriched, EnrichmentResult) and enriched.person is not None
    fields = enriched.person.to_dict()
    company = fields.pop("company")
    truth = {f"person.{k}": v for k, v in fields.items()} | {f"company.{k}": v for k, v in company.items()}
    checked = set()
    for column, value in truth.items():
        if column not in df.columns or value is None or isinstance(value, (dict, list)):
            continue
        cell = df[column].iloc[0]
        if isinstance(cell, datetime.date):  # documented dates are typed as dates
            assert cell.isoformat() == value, column
        else:
            assert str(df[column].dtype) == expected_dtype(value), (column, df[column].dtype, value)
            assert cell == value and type(cell.item() if hasattr(cell, "item") else cell) is type(value), column
        assert list(df[column].isna()) == [False, True, True], column
        assert df[column].iloc[1] is pd.NA and df[column].iloc[2] is pd.NA, column
        checked.add(expected_dtype(value))
    assert {"Int64", "boolean", "string"} <= checked, "the data set exercises every kind of column"
    assert df["company.founded_year"].iloc[0] == company["founded_year"]  # an integer, not 2022.0
    assert list(df["company.technologies"].iloc[0]) == company["technologies"]
    missing_values_are_na(df)


def test_to_pandas_dtypes_when_every_lead_is_invalid_and_of_plain_dicts(
    sb: Sandbox, client: amplemarket.Client
) -> None:
    results = Person.enrich([{"name": "Nobody"}, {"company_name": "TechCo"}], client=client)
    df = amplemarket.to_pandas(results)
    assert list(df["status"]) == ["invalid", "invalid"]
    assert str(df["result_id"].dtype) == "Int64" and df["result_id"].isna().all()  # known, though all missing
    assert str(df["person.name"].dtype) == "string" and df["person.name"].isna().all()
    assert str(df["company_name"].dtype) == "string" and str(df["error"].dtype) == "string"
    missing_values_are_na(df)

    df = amplemarket.to_pandas(
        [
            {"score": 1.5, "count": 2, "ok": True, "tags": ["a"], "name": "x"},
            {"score": None, "count": None, "ok": None, "tags": None, "name": None},
            {"score": 2, "count": 3, "ok": False, "tags": [], "name": "y", "extra": float("nan")},
        ]
    )
    assert {c: str(t) for c, t in df.dtypes.items()} == {
        "score": "Float64",
        "count": "Int64",
        "ok": "boolean",
        "tags": "object",
        "name": "string",
        "extra": "object",
    }
    assert list(df["count"]) == [2, pd.NA, 3] and list(df["score"])[2] == 2.0
    assert df["tags"].iloc[0] == ["a"] and df["tags"].iloc[1] is pd.NA
    missing_values_are_na(df)
