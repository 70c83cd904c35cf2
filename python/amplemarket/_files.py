"""Reading lead files and writing result files for the CLI: CSV, JSON Lines, JSON, Parquet and Arrow IPC, chosen by
extension.

Parquet and Arrow go through pyarrow, an optional dependency (``pip install 'amplemarket[parquet]'``): it is imported
only when such a path is given, and its absence is told before anything is sent. Their columns keep their types: the
input's on the way in (a mapped column that is not text makes its rows invalid, nulls and NaN are missing values), the
input's again on the way out, then result columns typed from their values.
"""

from __future__ import annotations

import base64
import csv
import datetime
import io
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from amplemarket._core import _map_columns, check_lead
from amplemarket.errors import InvalidInputError

FORMATS = (".csv", ".jsonl", ".json", ".parquet", ".arrow", ".feather", ".ipc")
# Read and written with pyarrow: Parquet, and the Arrow IPC file format (.feather and .ipc are other names for it).
ARROW_FORMATS = (".parquet", ".arrow", ".feather", ".ipc")
PYARROW_HINT = "pip install 'amplemarket[parquet]'"
LEAD_FIELDS = ("email", "linkedin_url", "linkedin_id", "name", "title", "company_name", "company_domain")


class InputError(Exception):
    """A lead file that cannot be used at all (not a problem of single rows)."""


def check_format(path: str | os.PathLike[str], what: str, *, writing: bool = False) -> str:
    """The file's format (its extension); for Parquet and Arrow, also that pyarrow can be imported."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(
            f"{what} {path} must end in .csv, .jsonl, .json, .parquet or .arrow "
            "(Arrow IPC, also named .feather or .ipc)"
        )
    if suffix in ARROW_FORMATS:
        _pyarrow(suffix, "writing" if writing else "reading")
    return suffix


def _pyarrow(suffix: str, doing: str) -> Any:
    try:
        import pyarrow
    except ImportError:
        raise InputError(f"{doing} {suffix} files needs pyarrow: {PYARROW_HINT}") from None
    return pyarrow


@dataclass
class Table:
    """Rows of a lead file as dicts, in file order, with their column names (and their Arrow types when the file
    has them: Parquet and Arrow)."""

    columns: list[str]
    rows: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    types: dict[str, Any] = field(default_factory=dict)


def _decode(data: bytes, path: Path, warnings: list[str]) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        # Spreadsheet exports on Windows are often cp1252; read them rather than refuse, and say so.
        warnings.append(
            f"{path} is not UTF-8 (byte {e.start}: {data[e.start : e.start + 1]!r}); read it as Windows-1252. "
            "Save the file as UTF-8 to be sure names come through intact."
        )
        return data.decode("cp1252", errors="replace")


def read_table(path: str | os.PathLike[str]) -> Table:
    p = Path(path)
    suffix = check_format(p, "input file")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read {p}: {e.strerror}") from None
    if suffix in ARROW_FORMATS:
        return _read_arrow(p, suffix, data)
    warnings: list[str] = []
    text = _decode(data, p, warnings)
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if not reader.fieldnames:
            raise InputError(f"{p} is empty: it needs a header row naming its columns")
        header = [c or "" for c in reader.fieldnames]
        rows = []
        for n, row in enumerate(reader, start=2):
            extra = row.pop(None, None)
            if extra:
                warnings.append(f"{p}:{n}: {len(extra)} more cells than columns; the extra cells are ignored")
            rows.append({k: (v if v is not None else "") for k, v in row.items()})
        return Table(header, rows, warnings)
    records: list[Any] = []
    if suffix == ".jsonl":
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as e:
                records.append(_BadLine(f"line {n} is not JSON: {e.msg}"))
    else:
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"{p} is not valid JSON: {e}") from None
        if not isinstance(loaded, list):
            raise InputError(f"{p} must hold a JSON list of lead objects")
        records = loaded
    columns: list[str] = []
    rows = []
    for r in records:
        if isinstance(r, dict):
            for k in r:
                if k not in columns:
                    columns.append(k)
            rows.append(r)
        else:
            rows.append({"__problem__": r.reason if isinstance(r, _BadLine) else "this record is not an object"})
    return Table(columns, rows, warnings)


@dataclass
class _BadLine:
    reason: str


def _read_arrow(p: Path, suffix: str, data: bytes) -> Table:
    pa = _pyarrow(suffix, "reading")
    import pyarrow.ipc
    import pyarrow.parquet

    kind = "Parquet" if suffix == ".parquet" else "Arrow IPC"
    buffer = pa.py_buffer(data)
    try:
        if suffix == ".parquet":
            # No Arrow thread pools: their threads, left running, can abort the process at exit
            # (apache/arrow#34314), and a file of leads decodes fast enough on this thread.
            table = pyarrow.parquet.ParquetFile(pa.BufferReader(buffer), pre_buffer=False).read(use_threads=False)
        else:
            try:
                table = pyarrow.ipc.open_file(buffer).read_all()
            except pa.ArrowInvalid:  # not the file format: perhaps the stream format
                table = pyarrow.ipc.open_stream(buffer).read_all()
        columns = [str(c) for c in table.column_names]
        twice = sorted({c for c in columns if columns.count(c) > 1})
        if twice:
            raise InputError(f"{p} has more than one column named {twice[0]!r}; give each column its own name")
        rows: list[dict[str, Any]] = table.to_pylist()
    except (pa.ArrowException, ValueError, OSError) as e:
        raise InputError(f"{p} is not a valid {kind} file: {e}") from None
    return Table(columns, rows, types={f.name: f.type for f in table.schema})


# The fields a column can map to (``--map "Column=field"``), by the kind of rows a file holds: the header rules of
# ``amplemarket._core._map_columns`` for that kind. ``first_name`` and ``last_name`` make a lead's ``name``.
Rows = Literal["lead", "company", "email"]
FIELDS: dict[Rows, tuple[str, ...]] = {
    "lead": (*LEAD_FIELDS, "first_name", "last_name"),
    "company": ("domain", "linkedin_url", "name"),
    "email": ("email",),
}


def column_map(columns: Sequence[str], overrides: Mapping[str, str], kind: Rows = "lead") -> dict[str, str]:
    """The field of each column that maps to one (``kind``: ``lead``, ``company`` or ``email``): the overrides
    (``Column=field``), then the header names of exports (``amplemarket._core._map_columns``)."""
    mapping: dict[str, str] = {}
    known = FIELDS[kind]
    for column, target in overrides.items():
        if column not in columns:
            raise InputError(f"--map names column {column!r}, which the input does not have; columns: {list(columns)}")
        if target not in known:
            raise InputError(f"--map {column}={target}: {target!r} is not {a(kind)} field; fields: {sorted(known)}")
        mapping[column] = target
    # The header rules are the core's, the same for tables given to Person.enrich, Company.enrich, validate_emails.
    return dict(_map_columns([str(c) for c in columns], list(mapping.items()), kind))


def a(noun: str) -> str:
    """``noun`` with its indefinite article: a lead, an email."""
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def fields_of(row: Mapping[str, Any], mapping: Mapping[str, str]) -> tuple[dict[str, str], str | None]:
    """The mapped fields of a row (trimmed text, blanks left out), and why the row cannot be used (``None`` when it
    can, so far: each kind checks its fields further)."""
    if "__problem__" in row:
        return {}, str(row["__problem__"])
    fields: dict[str, str] = {}
    for column, target in mapping.items():
        value = row.get(column)
        if _missing(value):
            continue
        if not isinstance(value, str):
            return {}, f"column {column!r} holds {type(value).__name__}, not text"
        if value.strip():
            fields[target] = value.strip()
    if all(_missing(v) or (isinstance(v, str) and not v.strip()) for v in row.values()):
        return {}, "empty row"
    return fields, None


def lead_of(row: Mapping[str, Any], mapping: Mapping[str, str]) -> tuple[dict[str, str], str | None]:
    """The lead a row describes, and why it cannot be enriched (``None`` when it can)."""
    lead, problem = fields_of(row, mapping)
    if problem:
        return lead, problem
    first, last = lead.pop("first_name", ""), lead.pop("last_name", "")
    if "name" not in lead and (first or last):
        lead["name"] = f"{first} {last}".strip()
    # The SDK's own check, the one every call that sends leads makes: a row it refuses is kept as invalid.
    try:
        return check_lead(lead), None
    except InvalidInputError as e:
        return lead, str(e)


def _missing(value: Any) -> bool:
    """No value: ``None`` (a JSON null, a Parquet or Arrow null) or NaN (a float column's missing value)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _plain(value: Any) -> Any:
    """``value`` with its non-finite floats (NaN: missing) as ``None``, which JSON can hold."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    """Values of Parquet and Arrow columns that JSON has no type for."""
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)  # a Decimal, and anything else, as its text


def _json(value: Any, **options: Any) -> str:
    return json.dumps(_plain(value), ensure_ascii=False, default=_json_default, **options)


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple, dict)):
        return _json(value)
    return "" if _missing(value) else value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (list, tuple)):
        return "list"
    return "other"


def _simple_type(pa: Any, values: Sequence[Any], inner: bool = False) -> Any:
    """The Arrow type of these values (missing ones left out) when it is a simple one, else ``None``: text, bool,
    int64, float64, or (outside a list) a list of one of them."""
    kinds = {_kind(v) for v in values}
    if kinds <= {"str"}:
        return pa.string()
    if kinds == {"bool"}:
        return pa.bool_()
    if kinds == {"int"}:
        return pa.int64()
    if kinds <= {"int", "float"}:
        return pa.float64()
    if kinds == {"list"} and not inner:
        item = _simple_type(pa, [x for v in values for x in v if not _missing(x)], inner=True)
        return None if item is None else pa.list_(item)
    return None


def _arrow_column(pa: Any, values: list[Any], known: Any) -> Any:
    """An Arrow array of a column's values: of the type the input had (``known``) if they still fit it, else typed
    from the values (see ``_simple_type``), else as text, non-text values as JSON."""
    errors = (pa.ArrowException, ValueError, TypeError, OverflowError)
    if known is not None:
        try:
            return pa.array(values, type=known)
        except errors:
            pass
    simple = _simple_type(pa, [v for v in values if not _missing(v)])
    if simple is not None:
        try:
            return pa.array([None if _missing(v) else v for v in values], type=simple)
        except errors:  # an int beyond int64, say
            pass
    return pa.array([None if _missing(v) else v if isinstance(v, str) else _json(v) for v in values], pa.string())


def _arrow_table(columns: Sequence[str], rows: Sequence[Mapping[str, Any]], types: Mapping[str, Any]) -> Any:
    pa = _pyarrow(".parquet", "writing")
    arrays = [_arrow_column(pa, [r.get(c) for r in rows], types.get(c)) for c in columns]
    return pa.Table.from_arrays(arrays, names=list(columns))


def write_table(
    path: str | os.PathLike[str],
    columns: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    types: Mapping[str, Any] | None = None,
) -> None:
    """Writes atomically: a temporary file beside the target, flushed to disk, then renamed over it.

    ``types``: the Arrow type of columns that come from a Parquet or Arrow input, kept in a Parquet or Arrow output.
    """
    p = Path(path)
    suffix = check_format(p, "output file", writing=True)
    if suffix in ARROW_FORMATS:
        table = _arrow_table(columns, list(rows), types or {})

        def write_arrow(f: Any) -> None:
            import pyarrow.ipc
            import pyarrow.parquet

            if suffix == ".parquet":
                pyarrow.parquet.write_table(table, f)
            else:
                with pyarrow.ipc.new_file(f, table.schema) as writer:
                    writer.write_table(table)

        _replace(p, write_arrow, binary=True)
        return

    def write_text(f: Any) -> None:
        if suffix == ".csv":
            writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
            writer.writeheader()
            for r in rows:
                writer.writerow({k: _cell(r.get(k)) for k in columns})
        elif suffix == ".jsonl":
            for r in rows:
                f.write(_json(dict(r)) + "\n")
        else:
            f.write(_json([dict(r) for r in rows], indent=1))
            f.write("\n")

    _replace(p, write_text, binary=False)


def _replace(p: Path, write: Callable[[Any], None], *, binary: bool) -> None:
    """Calls ``write`` with a temporary file beside ``p``, then puts that file in place of ``p`` once it is complete
    and on disk; on any failure the temporary file is removed and ``p`` is left as it was."""
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def remove_stale_temporaries(path: str | os.PathLike[str]) -> None:
    """Deletes temporary files a killed earlier write of ``path`` left behind."""
    p = Path(path)
    if p.parent.is_dir():
        for tmp in p.parent.glob(f".{p.name}.*.tmp"):
            tmp.unlink(missing_ok=True)


def write_json_atomic(path: Path, data: Any) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
