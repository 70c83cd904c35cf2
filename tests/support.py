"""What the test suites share: sandbox settings, routes and documented fields, running a call in its blocking or
awaitable form, reading the sandbox's request log, checking error envelopes, ground truth from the data set, the
command line, and hypothesis settings.

Fixtures live in ``tests/conftest.py``; a suite's own ``conftest.py`` and ``_helpers.py`` hold only what is its own.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

import amplemarket
from amplemarket.testing import Sandbox

# -- the sandbox -------------------------------------------------------------------------------------------------------

# Settings most tests want: no server-side rate limits (pacing has its own tests), no Retry-After pause between polls.
# The ``fast_settings`` fixture hands these to ``sb``; a suite that wants other defaults overrides that fixture.
FAST: dict[str, Any] = {"rate_limit": None, "search_rate_limit": None, "poll_retry_after": 0}

# Routes as the request log names them.
FIND = "GET /people/find"
SEARCH = "POST /people/search"
COMPANY = "GET /companies/find"
CREATE = "POST /people/enrichment-requests"
POLL = "GET /people/enrichment-requests/{id}"
PATCH = "PATCH /people/enrichment-requests/{id}"

# The records every data set holds after its synthetic ones: Jane Doe and Sam Rivera at TechCo, used by the README.
DOCUMENTED_PEOPLE = 2
DOCUMENTED_COMPANIES = 1

# The documented fields of each object, from the models' one field table (a person's ``phone_numbers`` and
# ``company`` are objects of their own, so they are left out of PERSON_FIELDS).
PERSON_FIELDS = tuple(f for f in amplemarket.Person.FIELDS if f not in ("phone_numbers", "company"))
COMPANY_FIELDS = amplemarket.Company.FIELDS
PHONE_FIELDS = amplemarket.PhoneNumber.FIELDS

# The client's first retry without a usable Retry-After waits its backoff: 0.5 s shortened by up to a quarter by
# jitter (``backoff`` in src/core/retry.rs). A lower bound of the behaviour, not a speed target.
MIN_FIRST_BACKOFF = 0.5 * 0.75


def client_for(sandbox: Sandbox, **kwargs: Any) -> httpx.Client:
    """A plain ``httpx.Client`` for ``sandbox`` sending its API key (to see exactly what the server sends)."""
    kwargs.setdefault("timeout", 30.0)
    return httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {sandbox.api_key}"}, **kwargs)


def free_port() -> int:
    """A local port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- calls and the request log -----------------------------------------------------------------------------------------


def call(mode: str, owner: Any, name: str, /, *args: Any, **kwargs: Any) -> Any:
    """``owner.name(...)`` when ``mode`` is ``"sync"``, else ``await owner.name_async(...)`` in a fresh event loop
    (``mode`` comes from the ``mode`` fixture)."""
    if mode == "sync":
        return getattr(owner, name)(*args, **kwargs)

    async def run() -> Any:
        return await getattr(owner, f"{name}_async")(*args, **kwargs)

    return asyncio.run(run())


def sent(sb: Sandbox, route: str | None = None, since: int = 0) -> list[dict[str, Any]]:
    """The requests the sandbox received (for one route, such as ``FIND``), those after ``seq`` ``since`` only."""
    return [r for r in sb.requests_since(since) if route is None or r["route"] == route]


def last_seq(sb: Sandbox) -> int:
    """The ``seq`` of the last request received (0 before any): pass it as ``since`` to see only what follows."""
    log = sb.requests
    return int(log[-1]["seq"]) if log else 0


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, every: float = 0.01) -> Any:
    """Polls ``predicate`` until it gives something truthy, and returns that; after ``timeout`` seconds, returns its
    last (falsy) answer. For state recorded later than the call that causes it (the server's log, a state file)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    return predicate()


# -- error envelopes ---------------------------------------------------------------------------------------------------


def is_json_content_type(value: str | None) -> bool:
    return value is not None and value.split(";")[0].strip() in ("application/json", "application/vnd.amp+json")


def error_of(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """Asserts that ``r`` is the documented error envelope with this status (and code); returns its first error."""
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text[:500]}"
    assert is_json_content_type(r.headers.get("content-type")), r.headers.get("content-type")
    body = r.json()
    assert list(body) == ["object", "_errors"], body
    assert body["object"] == "error"
    assert isinstance(body["_errors"], list) and body["_errors"], body
    for e in body["_errors"]:
        assert isinstance(e["status"], str), e
        assert e["status"] == str(status), e
        for k in ("code", "title", "detail"):
            assert isinstance(e[k], str) and e[k], (k, e)
        if "source" in e:
            assert len(e["source"]) == 1 and next(iter(e["source"])) in ("parameter", "pointer", "header"), e
    first: dict[str, Any] = body["_errors"][0]
    if code is not None:
        assert first["code"] == code, body
    return first


def retry_after(r: httpx.Response) -> int:
    value = r.headers.get("retry-after")
    assert value is not None, f"no Retry-After on {r.status_code}"
    assert value.isdigit(), value
    return int(value)


# -- ground truth ------------------------------------------------------------------------------------------------------


def domain_of(company: dict[str, Any]) -> str:
    website: str = company["website"]
    return website.split("://", 1)[-1].strip("/")


def public(person: dict[str, Any], email: bool = False, phones: bool = False) -> dict[str, Any]:
    """What the API shows of a full record for the given reveals."""
    out = {k: v for k, v in person.items() if k != "_gdpr_removed"}
    if not email:
        out.pop("email", None)
    if not phones:
        out.pop("phone_numbers", None)
    return out


def same_person(person: Any, truth: dict[str, Any]) -> bool:
    """Whether an SDK ``Person`` is the data set's record ``truth``."""
    return bool(person is not None and person.id == truth["id"] and person.linkedin_url == truth["linkedin_url"])


# -- the command line --------------------------------------------------------------------------------------------------

CLI = [sys.executable, "-m", "amplemarket.cli"]
# The CLI never sees the developer's AMPLEMARKET_* variables.
ENV = {k: v for k, v in os.environ.items() if not k.startswith("AMPLEMARKET_")}


def cli(
    *args: str, cwd: Path | None = None, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs ``amplemarket ARGS`` to completion (``env``: variables set on top of ``ENV``)."""
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        env=ENV | (env or {}),
        cwd=cwd,
        timeout=timeout,
        encoding="utf-8",
    )


def start_cli(*args: str, cwd: Path | None = None) -> subprocess.Popen[str]:
    """Starts ``amplemarket ARGS`` (hand it to the ``procs`` fixture, which kills it if the test ends first)."""
    return subprocess.Popen(
        [*CLI, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        cwd=cwd,
        encoding="utf-8",
    )


def against(sb: Sandbox, api_key: str | None = None) -> list[str]:
    """Options pointing the CLI at ``sb``."""
    return ["--base-url", sb.url, "--api-key", api_key or sb.api_key]


ARROW_SUFFIXES = (".parquet", ".arrow", ".feather", ".ipc")


def write_rows(path: Path, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> Path:
    """Writes a lead file by extension: ``.csv`` (with a header), ``.jsonl``, ``.json``, or ``.parquet`` and Arrow IPC
    (every column text, a missing cell null)."""
    suffix = path.suffix
    if suffix in ARROW_SUFFIXES:
        import pyarrow as pa

        schema = pa.schema([(c, pa.string()) for c in columns])
        write_arrow(path, pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows], schema=schema))
    elif suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(columns))
            w.writeheader()
            for r in rows:
                w.writerow({c: r.get(c, "") for c in columns})
    elif suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    else:
        path.write_text(json.dumps(list(rows)), encoding="utf-8")
    return path


def write_arrow(path: Path, table: Any) -> Path:
    """Writes a pyarrow table as Parquet (``.parquet``) or an Arrow IPC file (``.arrow``, ``.feather``, ``.ipc``)."""
    import pyarrow.ipc
    import pyarrow.parquet

    if path.suffix == ".parquet":
        pyarrow.parquet.write_table(table, path)
    else:
        with pyarrow.ipc.new_file(path, table.schema) as writer:
            writer.write_table(table)
    return path


def read_arrow(path: Path) -> Any:
    """A Parquet or Arrow IPC file as a pyarrow table."""
    import pyarrow.ipc
    import pyarrow.parquet

    if path.suffix == ".parquet":
        return pyarrow.parquet.read_table(path)
    with pyarrow.ipc.open_file(path) as reader:
        return reader.read_all()


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a result file; CSV cells as strings, JSON values as they are, Parquet and Arrow values as pyarrow
    gives them (``to_pylist``)."""
    if path.suffix in ARROW_SUFFIXES:
        rows: list[dict[str, Any]] = read_arrow(path).to_pylist()
        return rows
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".csv":
        return list(csv.DictReader(io.StringIO(text, newline="")))
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data: list[dict[str, Any]] = json.loads(text)
    return data


def state_file(output: Path) -> Path:
    return output.with_name(output.name + ".amplemarket-state.json")


def read_state(output: Path) -> dict[str, Any] | None:
    """The CLI's state file for ``output`` if it exists and is complete JSON (it is replaced atomically)."""
    try:
        data: dict[str, Any] = json.loads(state_file(output).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data


# -- hypothesis --------------------------------------------------------------------------------------------------------

# Derandomized unless HYPOTHESIS_EXPLORE is set: CI sees the same examples on every run (a red build always means a
# change), while `HYPOTHESIS_EXPLORE=1 pytest tests/...` searches new ones.
EXPLORE = bool(os.environ.get("HYPOTHESIS_EXPLORE"))
_hypothesis_home: list[str] = []


def examples(n: int, *, fixtures: bool = True) -> Any:
    """Hypothesis settings for ``n`` examples: no deadline (every example is real HTTP), derandomized unless
    ``EXPLORE``, no example database. ``fixtures``: the test also takes function-scoped fixtures (a sandbox reset
    once per test, not per example, which these tests allow for).

    Hypothesis keeps caches in ``.hypothesis`` under the working directory; the suites keep theirs in a temporary
    directory instead, so a run leaves nothing behind in the project.
    """
    import atexit
    import shutil
    import tempfile

    from hypothesis import HealthCheck, settings
    from hypothesis.configuration import set_hypothesis_home_dir

    if not _hypothesis_home:
        _hypothesis_home.append(tempfile.mkdtemp(prefix="amplemarket-tests-hypothesis-"))
        set_hypothesis_home_dir(_hypothesis_home[0])
        atexit.register(shutil.rmtree, _hypothesis_home[0], True)
    checks = [HealthCheck.too_slow, *([HealthCheck.function_scoped_fixture] if fixtures else [])]
    return settings(max_examples=n, deadline=None, derandomize=not EXPLORE, database=None, suppress_health_check=checks)
