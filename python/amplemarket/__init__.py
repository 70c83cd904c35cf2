"""Python SDK for the Amplemarket People API: a fast Rust core, blocking and async, typed results.

::

    import amplemarket

    client = amplemarket.Client()  # AMPLEMARKET_API_KEY from the environment
    person = amplemarket.Person.find(email="jane@techco.com", reveal_email=True, client=client)
    company = amplemarket.Company.find(domain="techco.com", client=client)
    for p in amplemarket.Person.search_iter(person_titles=["CEO"], max_results=200, client=client):
        ...
    companies = amplemarket.Company.enrich(["techco.com"], client=client)
    checked = amplemarket.validate_emails(["jane@techco.com"], client=client)

Every call has an awaitable twin (``find_async`` ...). ``amplemarket.testing.Sandbox`` runs a faithful local
emulator of the API for tests and demos.
"""

import atexit
from collections.abc import Iterable, Sequence
from typing import Any

from amplemarket import _core, errors
from amplemarket._core import *  # noqa: F403 (the extension's public API, listed once in its __all__)
from amplemarket._core import EmailValidation, Results, _flush_caches
from amplemarket._tables import enrich_table, enrich_table_async
from amplemarket.errors import *  # noqa: F403 (every error class, listed once in errors.__all__)

Sequence.register(Results)
# An enrichment's answers are written to the cache behind the call; the interpreter's end waits for them.
atexit.register(_flush_caches)

#: Validates any number of emails: see ``EmailValidation.validate_many``.
validate_emails = EmailValidation.validate_many
#: Awaitable ``validate_emails``.
validate_emails_async = EmailValidation.validate_many_async

__all__ = [
    "enrich_table",
    "enrich_table_async",
    "to_pandas",
    "validate_emails",
    "validate_emails_async",
]
__all__ += _core.__all__
__all__ += errors.__all__


def to_pandas(items: Iterable[Any]) -> Any:
    """A pandas DataFrame with one row per item. ``Results`` (what ``Person.enrich`` and ``find_many`` return)
    give ``items.to_pandas()``: the input's columns, then the typed result columns. Other items (a list of
    results, find results, people or dicts) give one row each, company fields prefixed ``company_``, list fields
    kept as lists, in nullable dtypes (``Int64``, ``Float64``, ``boolean``, ``string``; ``pd.NA`` for every
    missing value). Needs pandas: ``pip install pandas`` (or ``pip install '.[pandas]'`` from a checkout)."""
    if isinstance(items, Results):
        return items.to_pandas()
    from amplemarket._pandas import to_dataframe

    return to_dataframe(items)
