"""Reading lead files and writing result files for the CLI: CSV, JSON Lines and JSON, chosen by extension."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amplemarket._core import check_lead
from amplemarket.errors import InvalidInputError

FORMATS = (".csv", ".jsonl", ".json")
LEAD_FIELDS = ("email", "linkedin_url", "linkedin_id", "name", "title", "company_name", "company_domain")

# Header names seen in CRM and spreadsheet exports, normalised (lower case, letters and digits only).
ALIASES: dict[str, tuple[str, ...]] = {
    "email": ("email", "emailaddress", "workemail", "businessemail", "mail", "emailid"),
    "linkedin_url": (
        "linkedinurl",
        "linkedin",
        "linkedinprofile",
        "linkedinprofileurl",
        "profileurl",
        "personlinkedinurl",
    ),
    "linkedin_id": ("linkedinid", "linkedinhandle"),
    "name": ("name", "fullname", "contactname", "personname", "leadname"),
    "first_name": ("firstname", "first", "givenname"),
    "last_name": ("lastname", "last", "surname", "familyname"),
    "title": ("title", "jobtitle", "position", "role", "designation"),
    "company_name": ("company", "companyname", "organization", "organisation", "account", "accountname", "employer"),
    "company_domain": ("domain", "companydomain", "website", "companywebsite", "companyurl", "url"),
}


class InputError(Exception):
    """A lead file that cannot be used at all (not a problem of single rows)."""


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def check_format(path: str | os.PathLike[str], what: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"{what} {path} must end in .csv, .jsonl or .json")
    return suffix


@dataclass
class Table:
    """Rows of a lead file as string dicts, in file order, with their column names."""

    columns: list[str]
    rows: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)


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


def column_map(columns: Sequence[str], overrides: Mapping[str, str]) -> dict[str, str]:
    """Lead field for each column that maps to one: the overrides (``Column=field``), then the aliases."""
    mapping: dict[str, str] = {}
    known = set(LEAD_FIELDS) | {"first_name", "last_name"}
    for column, target in overrides.items():
        if column not in columns:
            raise InputError(f"--map names column {column!r}, which the input does not have; columns: {list(columns)}")
        if target not in known:
            raise InputError(f"--map {column}={target}: {target!r} is not a lead field; fields: {sorted(known)}")
        mapping[column] = target
    taken = set(mapping.values())
    for column in columns:
        if column in mapping:
            continue
        for target, names in ALIASES.items():
            if _key(column) in names and target not in taken:
                mapping[column] = target
                taken.add(target)
                break
    return mapping


def lead_of(row: Mapping[str, Any], mapping: Mapping[str, str]) -> tuple[dict[str, str], str | None]:
    """The lead a row describes, and why it cannot be enriched (``None`` when it can)."""
    if "__problem__" in row:
        return {}, str(row["__problem__"])
    lead: dict[str, str] = {}
    for column, target in mapping.items():
        value = row.get(column)
        if value is None:
            continue
        if not isinstance(value, str):
            return {}, f"column {column!r} holds {type(value).__name__}, not text"
        if value.strip():
            lead[target] = value.strip()
    first, last = lead.pop("first_name", ""), lead.pop("last_name", "")
    if "name" not in lead and (first or last):
        lead["name"] = f"{first} {last}".strip()
    if not any(str(v).strip() for v in row.values()):
        return {}, "empty row"
    # The SDK's own check, the one every call that sends leads makes: a row it refuses is kept as invalid.
    try:
        return check_lead(lead), None
    except InvalidInputError as e:
        return lead, str(e)


def _cell(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value


def write_table(path: str | os.PathLike[str], columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """Writes atomically: a temporary file beside the target, renamed over it when complete."""
    p = Path(path)
    suffix = check_format(p, "output file")
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            if suffix == ".csv":
                writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
                writer.writeheader()
                for r in rows:
                    writer.writerow({k: _cell(r.get(k)) for k in columns})
            elif suffix == ".jsonl":
                for r in rows:
                    f.write(json.dumps(dict(r), ensure_ascii=False) + "\n")
            else:
                json.dump([dict(r) for r in rows], f, ensure_ascii=False, indent=1)
                f.write("\n")
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
