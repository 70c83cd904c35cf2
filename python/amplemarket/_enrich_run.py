"""``amplemarket enrich``: a lead file in, a result file out, safe against crashes and double charges.

Job ids (and the idempotency key of each job before it is created) go to a state file beside the output as soon as
they exist, so ``--resume`` after a crash, Ctrl-C or kill picks the same jobs up and submits nothing twice. The
output is written atomically: it is either the previous file or the complete new one. The state file also holds the
account's balance when the run started, so the credits in the summary of a resumed run are those of the whole run.
"""

from __future__ import annotations

import hashlib
import json
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amplemarket import APIStatusError, Client, EnrichmentJob, EnrichmentResult
from amplemarket._files import (
    InputError,
    check_format,
    column_map,
    lead_of,
    read_table,
    remove_stale_temporaries,
    write_json_atomic,
    write_table,
)

STATE_VERSION = 1
CHUNK = EnrichmentJob.MAX_LEADS
# Rows named one by one on stderr (invalid rows, file warnings); the rest are counted in one line.
SHOWN_ROWS = 20
CREDIT_POOLS = ("email_credits", "phone_credits")


def state_path(output: Path) -> Path:
    return output.with_name(output.name + ".amplemarket-state.json")


@dataclass
class Options:
    input: Path
    output: Path
    reveal_email: bool
    reveal_phone_numbers: bool
    mapping: dict[str, str]
    resume: bool
    chunk_size: int = CHUNK
    timeout: float | None = None
    progress: bool = False


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def flatten_person(person: Any) -> dict[str, Any]:
    """A person as flat columns: ``person_*`` for its fields, ``company_*`` for its company's."""
    data = person.to_dict()
    company = data.pop("company", None)
    out = {f"person_{k}": v for k, v in data.items() if k != "object"}
    if isinstance(company, dict):
        out.update({f"company_{k}": v for k, v in company.items() if k != "object"})
    return out


def _flatten(result: EnrichmentResult | None) -> dict[str, Any]:
    if result is None:
        return {"status": "missing", "error": "the job returned no result for this lead"}
    out: dict[str, Any] = {"status": result.status, "error": result.error}
    if result.person is not None:
        out.update(flatten_person(result.person))
    return out


def balance(client: Client) -> dict[str, float] | None:
    """The account's credit balances (``GET /account-info``), or ``None`` when they cannot be read."""
    try:
        info = client.account_info()
    except Exception:
        return None
    return _pools(info)


def _pools(value: Any) -> dict[str, float] | None:
    if isinstance(value, dict) and all(
        isinstance(value.get(k), (int, float)) and not isinstance(value.get(k), bool) for k in CREDIT_POOLS
    ):
        return {k: float(value[k]) for k in CREDIT_POOLS}
    return None


def run(opts: Options, client: Client, say: Callable[[str], None]) -> dict[str, Any]:
    """Runs (or resumes) an enrichment; returns the summary.

    The summary's ``credits_spent`` is the balance at the start of the run (recorded in the state file, so a resumed
    run counts what its interrupted processes spent) minus the balance at the end. When no starting balance was
    recorded (``GET /account-info`` failed then), it is ``credits_spent_this_process`` instead.
    """
    # Before anything is sent or paid for: both formats known, and pyarrow importable if one is Parquet or Arrow.
    check_format(opts.input, "input file")
    check_format(opts.output, "output file", writing=True)
    table = read_table(opts.input)
    for w in table.warnings[:SHOWN_ROWS]:
        say(f"warning: {w}")
    if len(table.warnings) > SHOWN_ROWS:
        say(f"warning: ... and {len(table.warnings) - SHOWN_ROWS} more warnings like these")
    mapping = column_map(table.columns, opts.mapping)
    if not mapping:
        raise InputError(
            f"no column of {opts.input} maps to a lead field (columns: {table.columns}); "
            "name them like Email, LinkedIn URL, Full Name, Company, Domain, Title, or use --map 'Column=email'"
        )
    say("columns: " + ", ".join(f"{c} -> {f}" for c, f in mapping.items()))
    leads: list[dict[str, str]] = []
    problems: dict[int, str] = {}
    for i, row in enumerate(table.rows):
        lead, problem = lead_of(row, mapping)
        leads.append(lead)
        if problem:
            problems[i] = problem
            if len(problems) <= SHOWN_ROWS:
                say(f"row {i + 1}: {problem} (kept in the output as invalid)")
    if len(problems) > SHOWN_ROWS:
        say(
            f"... and {len(problems) - SHOWN_ROWS} more invalid rows, not listed here; each is kept in the output "
            "as invalid, with its reason in the error column"
        )
    # Identical leads are submitted once (their first row); every copy gets that row's result.
    first_row: dict[int, int] = {}
    row_of: dict[tuple[tuple[str, str], ...], int] = {}
    for i in range(len(leads)):
        if i not in problems:
            first_row[i] = row_of.setdefault(tuple(sorted(leads[i].items())), i)
    unique = [i for i, first in first_row.items() if first == i]

    state_file = state_path(opts.output)
    remove_stale_temporaries(opts.output)
    state = _load_or_start(opts, state_file, unique, lambda: balance(client))
    start = _pools(state.get("credits_at_start"))
    whole_run = start is not None
    if start is None:  # not recorded when the run started: count from now, and say so
        start = balance(client)
    for chunk in state["chunks"]:
        if chunk.get("job_id") is None:
            rows = chunk["rows"]
            try:
                job = EnrichmentJob.create(
                    [leads[i] for i in rows],
                    reveal_email=opts.reveal_email,
                    reveal_phone_numbers=opts.reveal_phone_numbers,
                    idempotency_key=chunk["idempotency_key"],
                    client=client,
                )
            except APIStatusError as e:
                # Refused outright (a bad key, no credits…): no job exists, so no run is left to resume.
                if e.refused and all(c.get("job_id") is None for c in state["chunks"]):
                    state_file.unlink(missing_ok=True)
                raise
            chunk["job_id"] = job.id
            write_json_atomic(state_file, state)
            say(f"submitted job {job.id} ({len(rows)} leads)")

    results: dict[int, EnrichmentResult | None] = {}
    for chunk in state["chunks"]:
        job = EnrichmentJob.get(chunk["job_id"], client=client)
        say(f"waiting for job {job.id} ({job.status})")
        try:
            job.wait(timeout=opts.timeout, progress=opts.progress)
        except Exception as e:
            from amplemarket import JobFailedError

            if not isinstance(e, JobFailedError):
                raise
            say(f"job {job.id} failed: {e}")
        rows = chunk["rows"]
        for i, r in zip(rows, job.results_for([leads[i] for i in rows]), strict=True):
            results[i] = r

    out_rows: list[dict[str, Any]] = []
    statuses: Counter[str] = Counter()
    columns = list(table.columns)
    seen = set(columns)
    for i, row in enumerate(table.rows):
        extra = {"status": "invalid", "error": problems[i]} if i in problems else _flatten(results.get(first_row[i]))
        statuses[str(extra["status"])] += 1
        merged = {k: v for k, v in row.items() if k != "__problem__"}
        for k, v in extra.items():
            key = k if k not in merged else f"amplemarket_{k}"
            merged[key] = v
            if key not in seen:
                seen.add(key)
                columns.append(key)
        out_rows.append(merged)
    write_table(opts.output, columns, out_rows, table.types)
    state_file.unlink(missing_ok=True)
    summary: dict[str, Any] = {
        "rows": len(out_rows),
        "statuses": dict(statuses),
        "jobs": [c["job_id"] for c in state["chunks"]],
    }
    end = balance(client)
    if start is not None and end is not None:
        spent = {k: round(start[k] - end[k], 2) for k in CREDIT_POOLS}
        summary["credits_spent" if whole_run else "credits_spent_this_process"] = spent
    return summary


def _load_or_start(
    opts: Options, state_file: Path, valid: Sequence[int], read_balance: Callable[[], dict[str, float] | None]
) -> dict[str, Any]:
    digest = _digest(opts.input)
    if state_file.exists():
        if not opts.resume:
            raise InputError(
                f"{state_file} holds jobs of an earlier run that did not finish; pass --resume to pick them up "
                "(nothing is submitted twice), or delete it to start over (and pay again)"
            )
        try:
            state: dict[str, Any] = json.loads(state_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise InputError(f"cannot read the state file {state_file}: {e}") from None
        if state.get("input_sha256") != digest:
            raise InputError(
                f"{opts.input} changed since the run recorded in {state_file}; resume with the same file, "
                "or delete the state file to start over"
            )
        if (state.get("reveal_email"), state.get("reveal_phone_numbers")) != (
            opts.reveal_email,
            opts.reveal_phone_numbers,
        ):
            raise InputError(f"--reveal-* flags differ from the run recorded in {state_file}; use the same flags")
        return state
    if opts.resume:
        print(f"note: no state file {state_file}; starting a new run", file=sys.stderr)
    chunks = [
        {"rows": list(valid[n : n + opts.chunk_size]), "idempotency_key": str(uuid.uuid4()), "job_id": None}
        for n in range(0, len(valid), opts.chunk_size)
    ]
    state = {
        "version": STATE_VERSION,
        "input": str(opts.input),
        "input_sha256": digest,
        "reveal_email": opts.reveal_email,
        "reveal_phone_numbers": opts.reveal_phone_numbers,
        # Before any job exists: what the whole run spends is this minus the balance when it ends.
        "credits_at_start": read_balance(),
        "chunks": chunks,
    }
    state_file.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(state_file, state)
    return state
