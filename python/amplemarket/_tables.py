"""Tables out of results: ``Results.to_polars()`` / ``to_pandas()`` from the Arrow table built in Rust, joined to the
input's own frame when it was one; ``enrich_table``, table in, the same kind of table out; and the pandas reader
for machines without pyarrow."""

from __future__ import annotations

import inspect
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    from amplemarket._core import Client, Results


P = ParamSpec("P")
R = TypeVar("R")


def awaitable_form_of(
    blocking: Callable[P, R],
) -> Callable[[Callable[..., Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Declares an async function as the awaitable form of ``blocking``: it takes the same arguments (for
    ``help()``, IDEs and type checkers), which the function binds to ``blocking``'s signature itself."""

    def declare(awaitable: Callable[..., Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        awaitable.__signature__ = inspect.signature(blocking)  # type: ignore[attr-defined]
        return awaitable

    return declare


def _library(obj: Any) -> str:
    return type(obj).__module__.split(".")[0]


def _need(module: str, extra: str) -> Any:
    try:
        return __import__(module)
    except ImportError:
        raise ImportError(
            f"{module} is not installed; install it with `pip install {module}` "
            f"(or `pip install 'amplemarket[{extra}]'`; `pip install '.[{extra}]'` from a checkout of amplemarket)"
        ) from None


def pandas_names(df: Any) -> list[str]:
    return [str(c) for c in df.columns]


def pandas_arrow(df: Any) -> Any:
    """A pandas DataFrame as a pyarrow Table without its index, or ``None`` without pyarrow."""
    try:
        import pyarrow as pa
    except ImportError:
        return None
    return pa.Table.from_pandas(df, preserve_index=False)


def pandas_columns(df: Any) -> list[list[Any]]:
    """A pandas DataFrame's column values, for reading it without pyarrow."""
    return [df.iloc[:, i].tolist() for i in range(df.shape[1])]


def to_polars(results: Results[Any], input_columns: bool = True) -> Any:
    pl = _need("polars", "polars")
    source = results._source if input_columns else None
    if source is not None and _library(source) == "polars":
        out = pl.DataFrame(results._result_columns())
        return pl.concat([source, out], how="horizontal")
    return pl.DataFrame(results.to_arrow(input_columns=input_columns))


def _arrow_to_pandas(pd: Any, table: Any) -> Any:
    try:
        import pyarrow as pa
    except ImportError:
        return _pydict_to_pandas(pd, table)
    # Text stays in Arrow memory (no Python string per cell until one is read): about half the memory of a
    # DataFrame of results, and faster to make.
    text = pd.StringDtype("pyarrow")
    dtypes = {
        pa.string(): text,
        pa.large_string(): text,
        pa.string_view(): text,
        pa.int64(): pd.Int64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
        pa.float64(): pd.Float64Dtype(),
    }

    def dtype(t: Any) -> Any:
        # Lists, structs and dates stay Arrow-backed: a cell reads as a Python list, dict or date, missing as pd.NA.
        if pa.types.is_nested(t) or pa.types.is_date(t):
            return pd.ArrowDtype(t)
        return dtypes.get(t)

    return pa.table(table).to_pandas(types_mapper=dtype)


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _pydict_to_pandas(pd: Any, table: Any) -> Any:
    """Without pyarrow: each column from Python values, in the same nullable dtypes."""
    data = {}
    for name, values in table.to_pydict().items():
        present = [v for v in values if not _missing(v)]
        if present and all(isinstance(v, bool) for v in present):
            dtype: Any = "boolean"
        elif present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
            dtype = "Int64"
        elif (present and all(isinstance(v, str) for v in present)) or (not present and name in ("status", "error")):
            dtype = "string"
        else:
            dtype = None
        cells = [pd.NA if _missing(v) else v for v in values]
        data[name] = pd.Series(cells, dtype=object) if dtype is None else pd.Series(pd.array(cells, dtype=dtype))
    return pd.DataFrame(data, index=pd.RangeIndex(table.num_rows))


def to_pandas(results: Results[Any], input_columns: bool = True) -> Any:
    pd = _need("pandas", "pandas")
    source = results._source if input_columns else None
    if source is not None and _library(source) == "pandas":
        out = _arrow_to_pandas(pd, results._result_columns())
        out.index = source.index
        return pd.concat([source, out], axis=1)
    return _arrow_to_pandas(pd, results.to_arrow(input_columns=input_columns))


def same_kind(results: Results[Any], table: Any) -> Any:
    """The results as the kind of table ``table`` is."""
    library = _library(table)
    if library == "pandas":
        return results.to_pandas()
    if library == "polars":
        df = results.to_polars()
        return df.lazy() if type(table).__name__ == "LazyFrame" else df
    if library == "pyarrow":
        import pyarrow as pa

        out = pa.table(results.to_arrow())
        if type(table).__name__ == "RecordBatch":
            return out.combine_chunks().to_batches()[0] if out.num_rows else pa.RecordBatch.from_pylist([], out.schema)
        return out
    return results.to_arrow()


def _check_table(table: Any) -> None:
    if isinstance(table, (list, tuple, Mapping)) or _library(table) == "builtins":
        raise TypeError(
            "enrich_table takes a table (a pandas or polars DataFrame, a pyarrow Table, or any object with "
            "__arrow_c_stream__); for a list, use Person.enrich(leads), Company.enrich(companies) or "
            "amplemarket.validate_emails(emails)"
        )


def _operation(
    table: Any, kind: str, reveal_email: bool, reveal_phone_numbers: bool, asynchronous: bool
) -> tuple[Any, dict[str, Any]]:
    """The call ``enrich_table`` makes for ``kind``, and the options only that call takes."""
    from amplemarket._core import Company, EmailValidation, Person

    _check_table(table)
    suffix = "_async" if asynchronous else ""
    if kind == "person":
        return getattr(Person, "enrich" + suffix), {
            "reveal_email": reveal_email,
            "reveal_phone_numbers": reveal_phone_numbers,
        }
    if kind not in ("company", "email"):
        raise ValueError(f'kind is "person", "company" or "email", got {kind!r}')
    if reveal_email or reveal_phone_numbers:
        raise TypeError(f"reveal_email / reveal_phone_numbers apply to people, not to kind={kind!r}")
    if kind == "company":
        return getattr(Company, "enrich" + suffix), {}
    return getattr(EmailValidation, "validate_many" + suffix), {}


def enrich_table(
    table: Any,
    *,
    kind: str = "person",
    columns: dict[str, str | None] | None = None,
    reveal_email: bool = False,
    reveal_phone_numbers: bool = False,
    timeout: float | None = None,
    progress: Any = None,
    client: Client | None = None,
) -> Any:
    """Table in, the same kind of table out (pandas -> pandas, polars -> polars, a LazyFrame -> a LazyFrame, Arrow
    -> a pyarrow Table): the input's columns, then the result columns, row ``i`` for input row ``i``.

    ``kind`` says what the rows are: ``"person"`` (leads, ``Person.enrich``; ``reveal_email`` /
    ``reveal_phone_numbers`` apply), ``"company"`` (``Company.enrich``) or ``"email"``
    (``amplemarket.validate_emails``). ``columns`` maps the table's columns to fields (``None`` leaves one out)
    beside the header rules; ``timeout``, ``progress`` and ``client`` are passed on.
    """
    run, only = _operation(table, kind, reveal_email, reveal_phone_numbers, asynchronous=False)
    results = run(table, columns=columns, timeout=timeout, progress=progress, client=client, **only)
    return same_kind(results, table)


@awaitable_form_of(enrich_table)
async def enrich_table_async(table: Any, **options: Any) -> Any:
    """Awaitable ``enrich_table``: the same arguments."""
    given = inspect.signature(enrich_table).bind(table, **options)  # refused as enrich_table refuses them
    given.apply_defaults()
    o = given.arguments
    run, only = _operation(table, o.pop("kind"), o.pop("reveal_email"), o.pop("reveal_phone_numbers"), True)
    del o["table"]
    return same_kind(await run(table, **o, **only), table)
