"""The table suites' own helpers: the same columns as every kind of table the SDK reads, an object with nothing but
the Arrow PyCapsule interface, what the enrichment requests carried, and the value a result column should hold for a
result object's attribute. Shared helpers are in ``support.py``."""

from __future__ import annotations

import datetime
import json
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
from support import CREATE, sent

from amplemarket.testing import Sandbox

# Every kind of table a call takes besides a list of dicts.
KINDS = [
    "pandas",
    "polars",
    "polars-lazy",
    "pyarrow-table",
    "pyarrow-batch",
    "pyarrow-reader",
    "duckdb",
    "capsule",
]

# pyarrow's types for text: an input's text column may come back in any of them (pandas gives large_string).
TEXT_TYPES = (pa.string(), pa.large_string(), pa.string_view())


class CapsuleOnly:
    """A table known only by ``__arrow_c_stream__`` (as arro3 or nanoarrow tables are): nothing of pandas, polars or
    pyarrow shows on it."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        return self._table.__arrow_c_stream__(requested_schema)


def make_table(kind: str, data: dict[str, list[Any]]) -> Any:
    """The columns ``data`` (text, with ``None`` for missing) as a table of ``kind`` (one of ``KINDS``)."""
    arrow = pa.table({name: pa.array(values, pa.string()) for name, values in data.items()})
    if kind == "pandas":
        return pd.DataFrame({name: pd.Series(values, dtype="string") for name, values in data.items()})
    if kind == "polars":
        return pl.DataFrame(data, schema=dict.fromkeys(data, pl.String))
    if kind == "polars-lazy":
        return pl.LazyFrame(data, schema=dict.fromkeys(data, pl.String))
    if kind == "pyarrow-table":
        return arrow
    if kind == "pyarrow-batch":
        return arrow.combine_chunks().to_batches()[0]
    if kind == "pyarrow-reader":
        return arrow.to_reader()
    if kind == "duckdb":
        return duckdb.from_arrow(arrow)
    if kind == "capsule":
        return CapsuleOnly(arrow)
    raise AssertionError(kind)


def arrow(table: Any) -> pa.Table:
    """Any Arrow-capable table (an ``ArrowTable`` included) read by pyarrow."""
    return pa.table(table)


def leads_sent(sb: Sandbox, since: int = 0) -> list[list[dict[str, Any]]]:
    """The leads of every enrichment request received, one list per request."""
    return [json.loads(r["body"])["leads"] for r in sent(sb, CREATE, since)]


def all_leads_sent(sb: Sandbox) -> list[dict[str, Any]]:
    return [lead for body in leads_sent(sb) for lead in body]


def expected_cell(value: Any, arrow_type: pa.DataType) -> Any:
    """What a result column of ``arrow_type`` holds for a result object's attribute ``value``: dates read from their
    ``YYYY-MM-DD`` text, structs with just their members (read from dicts or from objects such as ``PhoneNumber``),
    lists item by item."""
    if value is None:
        return None
    if pa.types.is_date32(arrow_type):
        return datetime.date.fromisoformat(value)
    if pa.types.is_struct(arrow_type):
        get = value.get if isinstance(value, dict) else lambda name: getattr(value, name, None)
        return {f.name: expected_cell(get(f.name), f.type) for f in arrow_type}
    if pa.types.is_list(arrow_type):
        return [expected_cell(v, arrow_type.value_type) for v in value]
    return value


def _struct(*members: tuple[str, pa.DataType]) -> pa.DataType:
    return pa.struct([pa.field(name, t) for name, t in members])


_S, _D, _I, _B = pa.string(), pa.date32(), pa.int64(), pa.bool_()
LOCATION = _struct(("city", _S), ("state", _S), ("country", _S))

# The person's columns, in order, with their Arrow types.
PERSON_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("person.id", _S),
    ("person.name", _S),
    ("person.first_name", _S),
    ("person.last_name", _S),
    ("person.linkedin_url", _S),
    ("person.email", _S),
    ("person.phone_numbers", pa.list_(_struct(("number", _S), ("type", _S), ("source", _S)))),
    ("person.gender", _S),
    ("person.title", _S),
    ("person.headline", _S),
    ("person.about", _S),
    ("person.current_position_start_date", _D),
    ("person.current_position_description", _S),
    ("person.location", _S),
    ("person.location_details", LOCATION),
    ("person.image_url", _S),
    (
        "person.experiences",
        pa.list_(
            _struct(
                ("company_name", _S),
                ("company_linkedin_url", _S),
                ("title", _S),
                ("start_date", _D),
                ("end_date", _D),
                ("is_current", _B),
                ("description", _S),
            )
        ),
    ),
    (
        "person.educations",
        pa.list_(
            _struct(("school_name", _S), ("degree", _S), ("field_of_study", _S), ("start_date", _D), ("end_date", _D))
        ),
    ),
    ("person.languages", pa.list_(_struct(("name", _S), ("proficiency", _S)))),
]

# The company's columns, in order, with their Arrow types.
COMPANY_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("company.id", _S),
    ("company.name", _S),
    ("company.website", _S),
    ("company.linkedin_url", _S),
    ("company.industry", _S),
    ("company.size", _S),
    ("company.estimated_number_of_employees", _I),
    ("company.type", _S),
    ("company.founded_year", _I),
    ("company.location", _S),
    ("company.location_details", LOCATION),
    ("company.locations", pa.list_(_struct(("address", _S), ("is_primary", _B), ("country", _S)))),
    ("company.overview", _S),
    ("company.logo_url", _S),
    ("company.keywords", pa.list_(_S)),
    ("company.technologies", pa.list_(_S)),
    ("company.sic_codes", pa.list_(_I)),
    ("company.naics_codes", pa.list_(_I)),
    ("company.is_b2b", _B),
    ("company.is_b2c", _B),
    ("company.followers", _I),
    ("company.traffic_rank", _I),
    ("company.total_funding", _I),
    ("company.latest_funding_stage", _S),
    ("company.latest_funding_date", _D),
    ("company.estimated_revenue", _S),
    ("company.revenue", _I),
]

# Every result column of `Person.enrich`'s table, in order, after the input's own columns.
ENRICH_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("status", _S),
    ("error", _S),
    ("result_id", _I),
    *PERSON_COLUMNS,
    *COMPANY_COLUMNS,
    ("person_json", _S),
]
# `Person.find_many`'s: the same without `result_id`.
FIND_COLUMNS = [c for c in ENRICH_COLUMNS if c[0] != "result_id"]


def check_result_columns(table: pa.Table, results: Any) -> int:
    """Every ``person.*``, ``company.*`` and ``person_json`` cell of ``table`` is the attribute of the result in its
    row; returns how many rows had a person (so the caller can see the check was not vacuous)."""
    assert table.num_rows == len(results)
    types = dict(PERSON_COLUMNS + COMPANY_COLUMNS)
    columns = {name: table.column(name).to_pylist() for name in [*types, "person_json"]}
    with_person = 0
    for i, r in enumerate(results):
        person = r.person
        company = person.company if person is not None else None
        with_person += person is not None
        for name, arrow_type in types.items():
            owner, field = name.split(".", 1)
            source = person if owner == "person" else company
            want = None if source is None else expected_cell(getattr(source, field), arrow_type)
            assert columns[name][i] == want, (i, name, columns[name][i], want)
        cell = columns["person_json"][i]
        if person is None:
            assert cell is None, (i, cell)
        else:
            assert json.loads(cell) == person.to_dict(), i
    return with_person
