"""Results as pandas DataFrames: one row per result, company fields flattened with a ``company_`` prefix, list
fields kept as lists. pandas is optional: ``pip install pandas`` (or ``pip install '.[pandas]'`` in a checkout).

Columns use pandas' nullable dtypes, so a missing value is always ``pd.NA`` and integers stay integers when some
rows have none (an invalid lead has no ``result_id``): ``Int64``, ``Float64``, ``boolean`` and ``string``; columns
of lists, objects or mixed types stay ``object``, with ``pd.NA`` where a value is missing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

_LEAD_KEYS = ("email", "linkedin_url", "linkedin_id", "name", "title", "company_name", "company_domain")

# Columns whose type is known even when every value is missing (say, results that are all invalid).
_KNOWN = {"result_id": "Int64", "status": "string", "error": "string", "found": "boolean"}
_KNOWN_PREFIXES = {"lead_": "string"}

_INT64 = (-(2**63), 2**63 - 1)


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise ImportError(
            "pandas is not installed; install it with `pip install pandas` "
            "(or `pip install '.[pandas]'` from a checkout of amplemarket)"
        ) from None
    return pandas


def person_row(person: Any) -> dict[str, Any]:
    """A person's fields as a flat dict: its own fields, then its company's with a ``company_`` prefix."""
    if person is None:
        return {}
    data = person.to_dict()
    company = data.pop("company", None)
    row = {k: v for k, v in data.items()}
    if isinstance(company, dict):
        for k, v in company.items():
            row[f"company_{k}"] = v
    return row


def row(item: Any) -> dict[str, Any]:
    """One row for an ``EnrichmentResult``, a ``FindResult``, a ``Person`` or a plain dict."""
    from amplemarket import EnrichmentResult, FindResult, Person

    if isinstance(item, EnrichmentResult):
        out: dict[str, Any] = {f"lead_{k}": item.lead.get(k) for k in _LEAD_KEYS}
        out.update(result_id=item.id, status=item.status, error=item.error)
        out.update(person_row(item.person))
        return out
    if isinstance(item, FindResult):
        query = item.query if isinstance(item.query, dict) else {}
        out = {f"query_{k}": v for k, v in query.items()}
        out.update(found=item.person is not None, error=str(item.error) if item.error else None)
        out.update(person_row(item.person))
        return out
    if isinstance(item, Person):
        return person_row(item)
    if isinstance(item, dict):
        return dict(item)
    raise TypeError(f"cannot make a row from {type(item).__name__}; give results, find results, people or dicts")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _dtype(column: str, values: list[Any]) -> str:
    """The nullable dtype for a column's values (missing ones left out), or ``object``."""
    present = [v for v in values if not _missing(v)]
    if not present:
        known = _KNOWN.get(column)
        if known is None:
            known = next((t for p, t in _KNOWN_PREFIXES.items() if column.startswith(p)), "object")
        return known
    if all(isinstance(v, bool) for v in present):
        return "boolean"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "Int64" if all(_INT64[0] <= v <= _INT64[1] for v in present) else "object"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return "Float64"
    if all(isinstance(v, str) for v in present):
        return "string"
    return "object"


def to_dataframe(items: Iterable[Any]) -> Any:
    """A DataFrame with one row per item (``EnrichmentResult``, ``FindResult``, ``Person`` or dict), in nullable
    dtypes: missing values are ``pd.NA`` in every column."""
    pandas = _pandas()
    rows = [row(i) for i in items]
    columns: dict[str, None] = {}
    for r in rows:
        columns.update(dict.fromkeys(r))
    data = {}
    for column in columns:
        values = [r.get(column) for r in rows]
        dtype = _dtype(column, values)
        cells = [pandas.NA if _missing(v) else v for v in values]
        if dtype == "object":
            series = pandas.Series(cells, dtype=object)
        else:
            series = pandas.Series(pandas.array(cells, dtype=dtype))
        data[column] = series
    return pandas.DataFrame(data, index=pandas.RangeIndex(len(rows)))
