"""``amplemarket enrich`` (people, or companies with ``--companies``) and ``amplemarket validate`` (emails): a file
in, a result file out, safe against crashes and double charges.

Job ids (and the idempotency key of each job before it is created) go to a state file beside the output as soon as
they exist, so ``--resume`` after a crash, Ctrl-C or kill picks the same jobs up and submits nothing twice. The
output is written atomically: it is either the previous file or the complete new one. The state file also holds the
account's balance when the run started, so the credits in the summary of a resumed run are those of the whole run.

The three kinds of run differ only in what a ``Kind`` says: how a row becomes an input, which SDK calls create and
resume a job, and how a result becomes columns.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from amplemarket import (
    AmplemarketError,
    APIStatusError,
    Client,
    EmailValidation,
    EnrichmentJob,
    EnrichmentResult,
    InvalidInputError,
    JobFailedError,
    RateLimitError,
    ValidationResult,
    check_company,
    check_email,
    estimate,
)
from amplemarket._core import _recall, _remember
from amplemarket._files import (
    InputError,
    Rows,
    a,
    check_format,
    column_map,
    fields_of,
    lead_of,
    read_table,
    remove_stale_temporaries,
    write_json_atomic,
    write_table,
)

STATE_VERSION = 1
# Rows named one by one on stderr (invalid rows, file warnings); the rest are counted in one line.
SHOWN_ROWS = 20
CREDIT_POOLS = ("email_credits", "phone_credits")
VALIDATIONS_PER_HOUR = 15_000  # the account's documented hourly limit of email validations


def state_path(output: Path) -> Path:
    return output.with_name(output.name + ".amplemarket-state.json")


@dataclass
class Options:
    input: Path
    output: Path
    mapping: dict[str, str] = field(default_factory=dict)
    resume: bool = False
    reveal_email: bool = False
    reveal_phone_numbers: bool = False
    # Inputs per job; None: the most one request takes (for emails, no more than the hourly limit).
    chunk_size: int | None = None
    timeout: float | None = None
    progress: bool = False
    validations_per_hour: int = VALIDATIONS_PER_HOUR


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def flatten_person(person: Any) -> dict[str, Any]:
    """A person as flat columns: ``person_*`` for its fields, ``company_*`` for its company's."""
    data = person.to_dict()
    company = data.pop("company", None)
    out = {f"person_{k}": v for k, v in data.items() if k != "object"}
    if isinstance(company, dict):
        out.update(flatten_company(company))
    return out


def flatten_company(company: Any) -> dict[str, Any]:
    """A company (a ``Company`` or its dict) as flat ``company_*`` columns."""
    data = company if isinstance(company, dict) else company.to_dict()
    return {f"company_{k}": v for k, v in data.items() if k != "object"}


FLATTEN: dict[str, Callable[[Any], dict[str, Any]]] = {"person": flatten_person, "company": flatten_company}


def refusal(check: Callable[[Any], Any], item: Any) -> str | None:
    """Why the SDK would refuse to send ``item`` (``None`` if it would send it): ``check_company`` or
    ``check_email``, the rule and words of every call that sends them."""
    try:
        check(item)
    except InvalidInputError as e:
        return str(e)
    return None


class Kind:
    """What differs between enriching people, enriching companies and validating emails."""

    name: ClassVar[str]  # in the state file
    rows: ClassVar[Rows]  # the header rules (and --map fields) of its files
    noun: ClassVar[str]  # one input, in messages
    plural: ClassVar[str]
    job: ClassVar[str] = "job"
    command: ClassVar[str]  # the command line that runs it
    hint: ClassVar[str]  # how to name columns, when none maps
    largest: ClassVar[int]  # the most inputs one request takes
    cache_kind: ClassVar[Literal["person", "company", "email"]]  # its answers in the result cache

    def __init__(self, opts: Options) -> None:
        self.opts = opts

    def chunk_size(self) -> int:
        return self.opts.chunk_size or self.largest

    def settings(self) -> dict[str, Any]:
        """Options recorded in the state file that a resumed run must repeat."""
        return {}

    def input_of(self, row: Mapping[str, Any], mapping: Mapping[str, str]) -> tuple[Any, str | None]:
        """The input a row describes, and why it cannot be sent (``None`` when it can)."""
        raise NotImplementedError

    def identity(self, item: Any) -> Hashable:
        """Identical inputs are sent once."""
        return tuple(sorted(item.items()))

    def create(self, items: list[Any], key: str, client: Client, say: Callable[[str], None]) -> Any:
        raise NotImplementedError

    def get(self, job_id: Any, client: Client) -> Any:
        raise NotImplementedError

    def results(self, job: Any, items: list[Any]) -> list[Any]:
        """The finished job's result for each of its inputs, in their order (``None`` where it has none)."""
        return list(job.results_for(items))

    def recall(self, client: Client, items: list[Any]) -> list[Any]:
        """The result the client's cache holds for each input (``None`` where it has none)."""
        return _recall(client, self.cache_kind, items, **self.settings())

    def remember(self, client: Client, items: list[Any], results: list[Any]) -> None:
        _remember(client, self.cache_kind, items, results, **self.settings())

    def columns(self, result: Any) -> dict[str, Any]:
        """A result as the columns added to its row: its status and error, then what it found."""
        return {"status": result.status, "error": result.error, **self.found(result)}

    def found(self, result: Any) -> dict[str, Any]:
        raise NotImplementedError


class _Enrichment(Kind):
    """People and companies: enrichment jobs of one ``kind`` each, whose results carry a person or a company."""

    largest = EnrichmentJob.MAX_LEADS
    job_kind: ClassVar[Literal["person", "company"]]

    def get(self, job_id: Any, client: Client) -> Any:
        return EnrichmentJob.get(job_id, kind=self.job_kind, client=client)

    def found(self, result: EnrichmentResult) -> dict[str, Any]:
        found = getattr(result, self.job_kind)  # result.person, result.company
        return {} if found is None else FLATTEN[self.job_kind](found)


class People(_Enrichment):
    name, rows, job_kind, noun, plural = "people", "lead", "person", "lead", "leads"
    cache_kind = "person"
    command = "amplemarket enrich"
    hint = "name them like Email, LinkedIn URL, Full Name, Company, Domain, Title, or use --map 'Column=email'"

    def settings(self) -> dict[str, Any]:
        return {"reveal_email": self.opts.reveal_email, "reveal_phone_numbers": self.opts.reveal_phone_numbers}

    def input_of(self, row: Mapping[str, Any], mapping: Mapping[str, str]) -> tuple[Any, str | None]:
        return lead_of(row, mapping)

    def create(self, items: list[Any], key: str, client: Client, say: Callable[[str], None]) -> Any:
        return EnrichmentJob.create(
            items,
            reveal_email=self.opts.reveal_email,
            reveal_phone_numbers=self.opts.reveal_phone_numbers,
            idempotency_key=key,
            client=client,
        )


class Companies(_Enrichment):
    name, rows, job_kind, noun, plural = "companies", "company", "company", "company", "companies"
    cache_kind = "company"
    command = "amplemarket enrich --companies"
    hint = "name them like Domain, Website, Company LinkedIn URL or Company, or use --map 'Column=domain'"

    def input_of(self, row: Mapping[str, Any], mapping: Mapping[str, str]) -> tuple[Any, str | None]:
        company, problem = fields_of(row, mapping)
        return company, problem or refusal(check_company, company)

    def create(self, items: list[Any], key: str, client: Client, say: Callable[[str], None]) -> Any:
        return EnrichmentJob.create_companies(items, idempotency_key=key, client=client)


class Emails(Kind):
    name, rows, job, noun, plural = "emails", "email", "validation", "email", "emails"
    cache_kind = "email"
    command = "amplemarket validate"
    hint = "name it Email (or Work Email…), or use --map 'Column=email'"
    largest = EmailValidation.MAX_EMAILS

    def chunk_size(self) -> int:
        # A request over the hourly limit is refused whole: no request carries more than the limit.
        return min(super().chunk_size(), self.opts.validations_per_hour)

    def input_of(self, row: Mapping[str, Any], mapping: Mapping[str, str]) -> tuple[Any, str | None]:
        fields, problem = fields_of(row, mapping)
        email = fields.get("email", "")
        return email, problem or refusal(check_email, email)

    def identity(self, item: Any) -> Hashable:
        return str(item)

    def create(self, items: list[Any], key: str, client: Client, say: Callable[[str], None]) -> Any:
        # A Retry-After is not slept through inside the call: the hourly limit can mean most of an hour, and the run
        # says so while it waits (then sends the same request, with the same key, again).
        eager = client.with_options(max_retry_wait=0.001)
        while True:
            try:
                return EmailValidation.create(items, idempotency_key=key, client=eager)
            except RateLimitError as e:
                wait = max(1.0, 60.0 if e.retry_after is None else e.retry_after)
                say(
                    f"waiting {math.ceil(wait)} s: the account's hourly validation limit is reached "
                    f"({len(items)} emails to send next; Ctrl-C and --resume later is safe)"
                )
                time.sleep(wait)

    def get(self, job_id: Any, client: Client) -> Any:
        return EmailValidation.get(job_id, client=client)

    def results(self, job: Any, items: list[Any]) -> list[Any]:
        by_email: dict[str, ValidationResult] = {}
        for r in job.results():
            if r.email is not None:
                by_email.setdefault(r.email, r)
                by_email.setdefault(r.email.lower(), r)
        return [by_email.get(e, by_email.get(e.lower())) for e in items]

    def found(self, result: ValidationResult) -> dict[str, Any]:
        return {"result": result.result, "catch_all": result.catch_all}


KINDS: dict[str, type[Kind]] = {k.name: k for k in (People, Companies, Emails)}


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


@dataclass
class Plan:
    """A file read as inputs: the table, each row's input, the rows that cannot be sent, and the distinct rows."""

    table: Any
    inputs: list[Any]
    problems: dict[int, str]
    # Each valid row's first identical row: its input is sent once, and every copy gets that row's result.
    first_row: dict[int, int]
    unique: list[int]


def plan(opts: Options, kind: Kind, client: Client, say: Callable[[str], None]) -> dict[str, Any]:
    """What ``run`` would send and the most it could cost (``--dry-run``, ``--max-credits``); sends nothing."""
    p = _read(opts, kind, say)
    # The SDK's own estimate of the distinct inputs: its prices and its cache, not a copy of them here.
    e = estimate([p.inputs[i] for i in p.unique], kind=kind.cache_kind, client=client, **kind.settings())
    return {
        "rows": len(p.inputs),
        "invalid": len(p.problems),
        "distinct": len(p.unique),
        "cached": e.cached,
        "to_send": e.to_send,
        "credits": e.credits,
    }


def run(opts: Options, kind: Kind, client: Client, say: Callable[[str], None]) -> dict[str, Any]:
    """Runs (or resumes) an enrichment or validation; returns the summary.

    The summary's ``credits_spent`` is the balance at the start of the run (recorded in the state file, so a resumed
    run counts what its interrupted processes spent) minus the balance at the end. When no starting balance was
    recorded (``GET /account-info`` failed then), it is ``credits_spent_this_process`` instead. Inputs the client's
    result cache answers are not sent (``from_cache`` in the summary); the results the jobs give are kept in it.
    """
    p = _read(opts, kind, say)
    table, inputs, problems, first_row, unique = p.table, p.inputs, p.problems, p.first_row, p.unique
    recalled = dict(zip(unique, kind.recall(client, [inputs[i] for i in unique]), strict=True))
    results: dict[int, dict[str, Any]] = {i: kind.columns(r) for i, r in recalled.items() if r is not None}
    to_send = [i for i in unique if i not in results]
    if results:
        say(f"{len(results)} {kind.plural} answered from the result cache; {len(to_send)} to send")

    state_file = state_path(opts.output)
    remove_stale_temporaries(opts.output)
    state = _load_or_start(opts, kind, state_file, to_send, lambda: balance(client))
    start = _pools(state.get("credits_at_start"))
    whole_run = start is not None
    if start is None:  # not recorded when the run started: count from now, and say so
        start = balance(client)
    for chunk in state["chunks"]:
        if chunk.get("job_id") is None:
            rows = chunk["rows"]
            try:
                job = kind.create([inputs[i] for i in rows], chunk["idempotency_key"], client, say)
            except APIStatusError as e:
                # Refused outright (a bad key, no credits…): no job exists, so no run is left to resume.
                if e.refused and all(c.get("job_id") is None for c in state["chunks"]):
                    state_file.unlink(missing_ok=True)
                raise
            chunk["job_id"] = job.id
            write_json_atomic(state_file, state)
            say(f"submitted {kind.job} {job.id} ({len(rows)} {kind.plural})")

    for chunk in state["chunks"]:
        job = kind.get(chunk["job_id"], client)
        say(f"waiting for {kind.job} {job.id} ({job.status})")
        failure = None
        try:
            job.wait(timeout=opts.timeout, progress=opts.progress)
        except JobFailedError as e:
            failure = f"{kind.job} {job.id} failed: {e}"
            say(failure)
        rows = chunk["rows"]
        try:
            got = kind.results(job, [inputs[i] for i in rows])
        except AmplemarketError:
            if failure is None:
                raise
            got = [None] * len(rows)
        kind.remember(client, [inputs[i] for i in rows], got)
        for i, r in zip(rows, got, strict=True):
            if r is not None:
                results[i] = kind.columns(r)
            elif failure is not None:
                results[i] = {"status": "failed", "error": failure}
            else:
                results[i] = {"status": "missing", "error": f"the {kind.job} returned no result for this {kind.noun}"}
    for i in unique:
        # A resumed run whose first process found this row in the cache, which no longer holds it.
        results.setdefault(
            i,
            {
                "status": "missing",
                "error": f"answered from the result cache when the run started, and no longer in it; run again "
                f"without --resume to send this {kind.noun}",
            },
        )
    return _finish(opts, kind, client, table, problems, first_row, results, state, state_file, start, whole_run)


def _read(opts: Options, kind: Kind, say: Callable[[str], None]) -> Plan:
    """The input file as inputs, checked; problems said (the first few) as they are found."""
    # Before anything is sent or paid for: both formats known, and pyarrow importable if one is Parquet or Arrow.
    check_format(opts.input, "input file")
    check_format(opts.output, "output file", writing=True)
    table = read_table(opts.input)
    for w in table.warnings[:SHOWN_ROWS]:
        say(f"warning: {w}")
    if len(table.warnings) > SHOWN_ROWS:
        say(f"warning: ... and {len(table.warnings) - SHOWN_ROWS} more warnings like these")
    mapping = column_map(table.columns, opts.mapping, kind.rows)
    if not mapping:
        raise InputError(
            f"no column of {opts.input} maps to {a(kind.rows)} field (columns: {table.columns}); {kind.hint}"
        )
    say("columns: " + ", ".join(f"{c} -> {f}" for c, f in mapping.items()))
    inputs: list[Any] = []
    problems: dict[int, str] = {}
    for i, row in enumerate(table.rows):
        item, problem = kind.input_of(row, mapping)
        inputs.append(item)
        if problem:
            problems[i] = problem
            if len(problems) <= SHOWN_ROWS:
                say(f"row {i + 1}: {problem} (kept in the output as invalid)")
    if len(problems) > SHOWN_ROWS:
        say(
            f"... and {len(problems) - SHOWN_ROWS} more invalid rows, not listed here; each is kept in the output "
            "as invalid, with its reason in the error column"
        )
    # Identical inputs are submitted once (their first row); every copy gets that row's result.
    first_row: dict[int, int] = {}
    row_of: dict[Hashable, int] = {}
    for i in range(len(inputs)):
        if i not in problems:
            first_row[i] = row_of.setdefault(kind.identity(inputs[i]), i)
    unique = [i for i, first in first_row.items() if first == i]
    return Plan(table, inputs, problems, first_row, unique)


def _finish(
    opts: Options,
    kind: Kind,
    client: Client,
    table: Any,
    problems: dict[int, str],
    first_row: dict[int, int],
    results: dict[int, dict[str, Any]],
    state: dict[str, Any],
    state_file: Path,
    start: dict[str, float] | None,
    whole_run: bool,
) -> dict[str, Any]:
    """Writes the output (row ``i`` for input row ``i``), removes the state file, and sums the run up."""
    out_rows: list[dict[str, Any]] = []
    statuses: Counter[str] = Counter()
    columns = list(table.columns)
    seen = set(columns)
    for i, row in enumerate(table.rows):
        extra = {"status": "invalid", "error": problems[i]} if i in problems else results[first_row[i]]
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
    opts: Options,
    kind: Kind,
    state_file: Path,
    valid: Sequence[int],
    read_balance: Callable[[], dict[str, float] | None],
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
        recorded = KINDS.get(state.get("kind", People.name))  # written without a kind: a run of people
        if recorded is not kind.__class__:
            what = f"`{recorded.command}`" if recorded else "another command"
            raise InputError(
                f"{state_file} holds a run of {what}, not of `{kind.command}`; resume it with that command, "
                "or delete the state file to start over"
            )
        if state.get("input_sha256") != digest:
            raise InputError(
                f"{opts.input} changed since the run recorded in {state_file}; resume with the same file, "
                "or delete the state file to start over"
            )
        if any(state.get(k) != v for k, v in kind.settings().items()):
            raise InputError(f"--reveal-* flags differ from the run recorded in {state_file}; use the same flags")
        return state
    if opts.resume:
        print(f"note: no state file {state_file}; starting a new run", file=sys.stderr)
    size = kind.chunk_size()
    chunks = [
        {"rows": list(valid[n : n + size]), "idempotency_key": str(uuid.uuid4()), "job_id": None}
        for n in range(0, len(valid), size)
    ]
    state = {
        "version": STATE_VERSION,
        "kind": kind.name,
        "input": str(opts.input),
        "input_sha256": digest,
        **kind.settings(),
        # Before any job exists: what the whole run spends is this minus the balance when it ends.
        "credits_at_start": read_balance(),
        "chunks": chunks,
    }
    state_file.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(state_file, state)
    return state
