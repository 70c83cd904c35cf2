"""Companies and emails as tables: pandas, polars and Arrow in (header rules and ``columns=``), typed tables out,
row ``i`` for input row ``i``, ``enrich_table(kind=...)`` giving back the same kind of table."""

from __future__ import annotations

from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from support import domain_of, last_seq, sent

import amplemarket
from amplemarket import Company, InvalidInputError
from amplemarket.testing import Sandbox


def test_company_frames_map_by_header(sb: Sandbox, client: amplemarket.Client) -> None:
    truth = list(sb.companies[:3])
    df = pd.DataFrame(
        {
            "Account": [truth[0]["name"], None, "Nobody Incorporated Here"],
            "Website": [None, f"https://{domain_of(truth[1])}/", None],
            "Owner": ["ana", "bo", "cy"],
        }
    )
    results = Company.enrich(df, client=client)
    assert [r.status for r in results] == ["enriched", "enriched", "not_found"]
    out = results.to_pandas()
    assert list(out.columns[:3]) == ["Account", "Website", "Owner"]
    assert list(out["Owner"]) == ["ana", "bo", "cy"]
    assert list(out["company.name"][:2]) == [truth[0]["name"], truth[1]["name"]]
    assert "company_json" in out.columns and "person_json" not in out.columns
    assert str(out["company.estimated_number_of_employees"].dtype) == "Int64"


def test_company_columns_override(sb: Sandbox, client: amplemarket.Client) -> None:
    d = domain_of(sb.companies[0])
    frame = pl.DataFrame({"Acct Domain": [d], "Name": ["ignored by the override"]})
    since = last_seq(sb)
    results = Company.enrich(frame, columns={"Acct Domain": "domain", "Name": None}, client=client)
    assert results[0].status == "enriched"
    assert sent(sb, "POST /companies/enrichment-requests", since)
    with pytest.raises(InvalidInputError, match="not a company field"):
        Company.enrich(frame, columns={"Acct Domain": "company_domain"}, client=client)
    with pytest.raises(InvalidInputError, match="no column of the table holds a company field"):
        Company.enrich(pl.DataFrame({"Owner": ["x"]}), client=client)
    with pytest.raises(TypeError, match="columns= maps a table's columns"):
        Company.enrich([d], columns={"x": "domain"}, client=client)


def test_enrich_table_of_companies_gives_the_same_kind(sb: Sandbox, client: amplemarket.Client) -> None:
    d = domain_of(sb.companies[0])
    out = amplemarket.enrich_table(pl.DataFrame({"Domain": [d, "nope.example"]}), kind="company", client=client)
    assert isinstance(out, pl.DataFrame)
    assert out["status"].to_list() == ["enriched", "not_found"]
    arrow = amplemarket.enrich_table(pa.table({"Domain": [d]}), kind="company", client=client)
    assert isinstance(arrow, pa.Table) and arrow.column("company.name").to_pylist() == [sb.companies[0]["name"]]
    with pytest.raises(TypeError, match="apply to people"):
        amplemarket.enrich_table(pl.DataFrame({"Domain": [d]}), kind="company", reveal_email=True, client=client)
    with pytest.raises(ValueError, match='kind is "person", "company" or "email"'):
        amplemarket.enrich_table(pl.DataFrame({"Domain": [d]}), kind="companies", client=client)


@pytest.mark.parametrize("make", ["pandas", "polars", "arrow", "series", "pl_series"])
def test_emails_from_any_table_or_column(sb: Sandbox, client: amplemarket.Client, make: str) -> None:
    emails: list[Any] = [sb.people[0]["email"], None, "not an email", "x@y.example.com"]
    given: Any = {
        "pandas": lambda: pd.DataFrame({"Work Email": emails, "Note": [1, 2, 3, 4]}),
        "polars": lambda: pl.DataFrame({"Email": emails}),
        "arrow": lambda: pa.table({"email": emails}),
        "series": lambda: pd.Series(emails),
        "pl_series": lambda: pl.Series(emails),
    }[make]()
    results = amplemarket.validate_emails(given, client=client)
    assert [r.status for r in results] == ["validated", "invalid", "invalid", "validated"]
    table = pa.table(results.to_arrow())
    assert table.column("status").to_pylist() == ["validated", "invalid", "invalid", "validated"]
    assert table.column("catch_all").type == pa.bool_()
    assert table.column("result").to_pylist()[1:3] == [None, None]
    if make == "pandas":
        out = results.to_pandas()
        assert list(out["Note"]) == [1, 2, 3, 4]


def test_enrich_table_of_emails(sb: Sandbox, client: amplemarket.Client) -> None:
    df = pd.DataFrame({"Email": [sb.people[1]["email"], "bad"]}, index=[10, 20])
    out = amplemarket.enrich_table(df, kind="email", client=client)
    assert isinstance(out, pd.DataFrame) and list(out.index) == [10, 20]
    assert list(out["status"]) == ["validated", "invalid"]
