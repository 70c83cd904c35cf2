"""Results as pandas DataFrames: one row per result, company fields flattened with a ``company_`` prefix, list
fields kept as lists. pandas is optional: ``pip install amplemarket[pandas]``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_LEAD_KEYS = ("email", "linkedin_url", "linkedin_id", "name", "title", "company_name", "company_domain")


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise ImportError(
            "pandas is not installed; install it with `pip install amplemarket[pandas]` (or `pip install pandas`)"
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


def to_dataframe(items: Iterable[Any]) -> Any:
    """A DataFrame with one row per item (``EnrichmentResult``, ``FindResult``, ``Person`` or dict)."""
    pandas = _pandas()
    return pandas.DataFrame([row(i) for i in items])
