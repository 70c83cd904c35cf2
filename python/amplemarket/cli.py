"""The ``amplemarket`` command line: find, company, search, enrich, and a local sandbox.

Every command but ``sandbox`` takes ``--sandbox`` to run against an in-process sandbox whose data set matches
``examples/leads.csv`` (seed 0), so it can be tried without a key, spending only the sandbox's synthetic credits.

Errors name the command's flags, not the SDK's Python arguments: the SDK's messages are translated at this edge
(``_for_cli``), and a missing key is caught before a client is built.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import signal
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from amplemarket import __version__


def _setting(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw  # a bare word such as polls:3 or immediate
    return name.strip(), value


def _count(text: str) -> int:
    """A whole number, 0 or more (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def _port(text: str) -> int:
    value = _count(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"a port is from 0 to 65535, got {value}")
    return value


def _seconds(text: str) -> float:
    """A positive, finite number of seconds (argparse type), checked before anything is sent or paid for."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _mapping(text: str) -> tuple[str, str]:
    column, sep, target = text.rpartition("=")
    if not sep or not column or not target:
        raise argparse.ArgumentTypeError(f"expected 'Column=field', got {text!r}")
    return column, target.strip()


def _say(args: argparse.Namespace) -> Any:
    def say(message: str) -> None:
        if not getattr(args, "quiet", False):
            print(message, file=sys.stderr, flush=True)

    return say


class UsageError(Exception):
    """A command that cannot run as given (exit code 2); the message names the flags to fix it."""


# The SDK arguments each command sets, by the flag that sets them: SDK messages name the argument (`company_name`),
# the CLI's must name the flag (--company).
_FLAGS: dict[str, dict[str, str]] = {
    "find": {
        "email": "--email",
        "linkedin_url": "--linkedin-url",
        "name": "--name",
        "title": "--title",
        "company_name": "--company",
        "company_domain": "--domain",
    },
    "company": {"domain": "--domain", "linkedin_url": "--linkedin-url"},
    "search": {
        "person_name": "--name",
        "person_titles": "--title",
        "person_locations": "--location",
        "person_seniorities": "--seniority",
        "person_departments": "--department",
        "company_names": "--company",
        "company_domains": "--domain",
        "company_industries": "--industry",
        "company_sizes": "--size",
        "max_results": "--max-results",
    },
}

# Python in SDK messages, and what a CLI user types instead.
_PHRASES: tuple[tuple[str, str], ...] = (
    (r"passed as Client\(api_key=\.\.\.\)", "given with --api-key"),
    (r"pass the API key as api_key=\.\.\.", "give the key with --api-key"),
    (r"Client\(api_key=\.\.\.\)|\bapi_key=\.\.\.", "--api-key"),
    (r"Client\(trust_idempotency_key=True\)", "--trust-idempotency-key"),
    (r"amplemarket\.testing\.Sandbox", "--sandbox"),
    (
        r"resume it later with EnrichmentJob\.get\(\d+\) and wait\(\) again, or cancel\(\) it",
        "--resume picks it up",
    ),
    (
        r"more than max_retry_wait \(([^)]*)\); try again later or raise max_retry_wait\.",
        r"more than the \1 this command waits at most; try again later.",
    ),
    (r" \(reveal_timeout\)", ""),
)


def _for_cli(args: argparse.Namespace, message: str) -> str:
    """An SDK error message in the words of the command line: flags instead of Python arguments and calls."""
    flags = _FLAGS.get(args.command, {})

    def flag(m: re.Match[str]) -> str:
        name, index = m.group(1), m.group(2)
        if name not in flags:
            return m.group(0)
        return flags[name] if index is None else f"{flags[name]} number {int(index) + 1}"

    message = re.sub(r"`(\w+)`(?:\[(\d+)\])?", flag, message)
    for pattern, replacement in _PHRASES:
        message = re.sub(pattern, replacement, message)
    # A base URL comes from --base-url, else from the environment.
    where = "--base-url" if getattr(args, "base_url", None) is not None else "AMPLEMARKET_BASE_URL"
    return re.sub(r"\bbase_url (?=\")", f"{where} ", message)


def _check_key(args: argparse.Namespace) -> None:
    """Refuses a missing or empty key before a client is built, naming the ways to give one."""
    ways = (
        "give it with --api-key KEY or set AMPLEMARKET_API_KEY; or add --sandbox to try the command on a local "
        "sandbox (no key needed, synthetic credits)"
    )
    if args.api_key is not None:
        problem = "--api-key is empty" if not args.api_key.strip() else None
    else:
        key = os.environ.get("AMPLEMARKET_API_KEY")
        problem = "no API key" if key is None else "AMPLEMARKET_API_KEY is set but empty" if not key.strip() else None
    if problem:
        raise UsageError(f"{problem}: {ways}")


@contextmanager
def _client(args: argparse.Namespace) -> Iterator[Any]:
    """The client for a command: an in-process sandbox's with ``--sandbox``, else from options and environment."""
    import amplemarket

    options: dict[str, Any] = {}
    if getattr(args, "trust_idempotency_key", False):
        options["trust_idempotency_key"] = True
    if args.sandbox:
        from amplemarket.testing import Sandbox

        with Sandbox(seed=0, job_progression="polls:2", poll_retry_after=1) as sb, sb.client(**options) as client:
            yield client
        return
    _check_key(args)
    if args.base_url:
        options["base_url"] = args.base_url
    with amplemarket.Client(args.api_key, **options) as client:
        yield client


def _print_person(person: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(person.to_dict(), ensure_ascii=False, indent=1))
        return
    company = person.company
    where = f" at {company.name}" if company and company.name else ""
    print(f"{person.name} — {person.title or 'no title'}{where}")
    for label, value in (
        ("email", person.email),
        ("phones", ", ".join(p.number or "" for p in person.phone_numbers or [])),
        ("linkedin", person.linkedin_url),
        ("location", person.location),
    ):
        if value:
            print(f"  {label}: {value}")


def _find(args: argparse.Namespace) -> int:
    import amplemarket

    with _client(args) as client:
        person = amplemarket.Person.find(
            linkedin_url=args.linkedin_url,
            email=args.email,
            name=args.name,
            title=args.title,
            company_name=args.company,
            company_domain=args.domain,
            reveal_email=args.reveal_email,
            reveal_phone_numbers=args.reveal_phone_numbers,
            client=client,
        )
    if person is None:
        print("no match", file=sys.stderr)
        return 1
    _print_person(person, args.json)
    return 0


def _company(args: argparse.Namespace) -> int:
    import amplemarket

    with _client(args) as client:
        company = amplemarket.Company.find(domain=args.domain, linkedin_url=args.linkedin_url, client=client)
    if company is None:
        print("no match", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(company.to_dict(), ensure_ascii=False, indent=1))
    else:
        print(f"{company.name} — {company.industry or 'no industry'}, {company.size or 'size unknown'}")
        for label, value in (("website", company.website), ("location", company.location)):
            if value:
                print(f"  {label}: {value}")
    return 0


def _search(args: argparse.Namespace) -> int:
    import amplemarket
    from amplemarket._files import check_format, write_table

    filters = {
        "person_name": args.name,
        "person_titles": args.title,
        "person_locations": args.location,
        "person_seniorities": args.seniority,
        "person_departments": args.department,
        "company_names": args.company,
        "company_domains": args.domain,
        "company_industries": args.industry,
        "company_sizes": args.size,
    }
    if args.output:
        check_format(args.output, "output file", writing=True)  # before searching
    with _client(args) as client:
        people = list(
            amplemarket.Person.search_iter(
                **{k: v for k, v in filters.items() if v}, max_results=args.max_results, client=client
            )
        )
    if args.output:
        from amplemarket._enrich_run import flatten_person

        rows = [flatten_person(p) for p in people]
        columns: list[str] = []
        for r in rows:
            columns.extend(k for k in r if k not in columns)
        write_table(args.output, columns, rows)
        print(f"{len(people)} people written to {args.output}", file=sys.stderr)
    elif args.json:
        for p in people:
            print(p.to_json())
    else:
        for p in people:
            company = p.company.name if p.company else "-"
            print(f"{p.name}\t{p.title or ''}\t{company}\t{p.linkedin_url or ''}")
        print(f"{len(people)} people", file=sys.stderr)
    return 0


def _enrich(args: argparse.Namespace) -> int:
    from amplemarket._enrich_run import Options, run, state_path
    from amplemarket._files import check_format
    from amplemarket.errors import AmplemarketError

    say = _say(args)
    check_format(args.input, "input file")  # before a client or a sandbox is started
    check_format(args.output, "output file", writing=True)
    opts = Options(
        input=Path(args.input),
        output=Path(args.output),
        reveal_email=args.reveal_email,
        reveal_phone_numbers=args.reveal_phone_numbers,
        mapping=dict(args.map or []),
        resume=args.resume,
        timeout=args.timeout,
        progress=sys.stderr.isatty() and not args.quiet,
    )
    with _client(args) as client:
        try:
            summary = run(opts, client, say)
        except (KeyboardInterrupt, AmplemarketError) as e:
            # Interrupted or failed midway: the jobs (or the keys of jobs being created) are in the state file.
            if state_path(opts.output).exists():
                what = "interrupted" if isinstance(e, KeyboardInterrupt) else "stopped"
                print(
                    f"{what}; run the same command with --resume to continue: the jobs started so far are recorded "
                    f"in {state_path(opts.output)} and are not submitted again",
                    file=sys.stderr,
                )
            raise
    if args.json:
        print(json.dumps(summary))
    else:
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(summary["statuses"].items()))
        credit_text = ""
        if spent := summary.get("credits_spent"):
            credit_text = f"; credits spent: {spent['email_credits']} email, {spent['phone_credits']} phone"
        elif spent := summary.get("credits_spent_this_process"):
            credit_text = (
                f"; credits spent by this process only (the balance at the start of the run was not recorded): "
                f"{spent['email_credits']} email, {spent['phone_credits']} phone"
            )
        print(f"{summary['rows']} rows -> {args.output}: {statuses}{credit_text}")
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    from amplemarket.testing import Sandbox, is_loopback

    settings: dict[str, Any] = dict(args.set or [])
    if args.api_key:
        settings["api_key"] = args.api_key
    if args.no_rate_limits:
        settings.update(rate_limit=None, search_rate_limit=None)
    if args.job_progression:
        settings["job_progression"] = args.job_progression
    if not is_loopback(args.host):
        print(
            f"WARNING: binding {args.host} makes the sandbox reachable from other machines.",
            file=sys.stderr,
        )
    try:
        with warnings.catch_warnings():
            # The WARNING line above says it in the command's words; the SDK's Python warning would repeat it.
            warnings.simplefilter("ignore", UserWarning)
            sb = Sandbox(
                host=args.host, port=args.port, seed=args.seed, people=args.people, companies=args.companies, **settings
            )
    except (ValueError, RuntimeError, OverflowError) as e:
        print(f"amplemarket sandbox: {e}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        print(
            f"Amplemarket sandbox serving {len(sb.people)} people at {sb.url}\n"
            f"  API key: {sb.api_key}   (export AMPLEMARKET_BASE_URL={sb.url} AMPLEMARKET_API_KEY={sb.api_key})\n"
            "  Press Ctrl-C to stop.",
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if args.record:
            # What the server saw, for a test or a demo that ran against this process: the request log and the
            # ledger (balances and every charge), read before the server stops.
            from amplemarket._files import write_json_atomic

            write_json_atomic(Path(args.record), {"requests": sb.requests, "credits": sb.credits})
        sb.stop()
    print("sandbox stopped", flush=True)
    return 0


def _connection_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--api-key", default=None, help="API key (default: $AMPLEMARKET_API_KEY)")
    p.add_argument("--base-url", default=None, help="API base URL (default: $AMPLEMARKET_BASE_URL or the real API)")
    p.add_argument(
        "--sandbox",
        action="store_true",
        help="run against an in-process sandbox (no key needed; it spends synthetic credits only)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")


def _reveal_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reveal-email", action="store_true", help="reveal email addresses (charged once per person)")
    p.add_argument("--reveal-phone-numbers", action="store_true", help="reveal phone numbers (charged once per person)")


def build_parser() -> argparse.ArgumentParser:
    from amplemarket._files import PYARROW_HINT

    parser = argparse.ArgumentParser(prog="amplemarket", description="Amplemarket People API from the command line.")
    parser.add_argument("--version", action="version", version=f"amplemarket {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    find = commands.add_parser("find", help="find one person", description="Find one person.")
    find.add_argument("--email")
    find.add_argument("--linkedin-url")
    find.add_argument("--name")
    find.add_argument("--title")
    find.add_argument("--company", help="company name (with --name)")
    find.add_argument("--domain", help="company domain (with --name)")
    _reveal_options(find)
    _connection_options(find)
    find.set_defaults(run=_find)

    company = commands.add_parser("company", help="find one company", description="Find one company.")
    company.add_argument("--domain")
    company.add_argument("--linkedin-url")
    _connection_options(company)
    company.set_defaults(run=_company)

    search = commands.add_parser("search", help="search people", description="Search people (no credits).")
    search.add_argument("--name", help="person name")
    for flag, dest in (
        ("--title", "title"),
        ("--location", "location"),
        ("--seniority", "seniority"),
        ("--department", "department"),
        ("--company", "company"),
        ("--domain", "domain"),
        ("--industry", "industry"),
        ("--size", "size"),
    ):
        search.add_argument(flag, dest=dest, action="append", help="repeatable")
    search.add_argument("--max-results", type=_count, default=100, help="stop after this many (default 100)")
    search.add_argument(
        "-o", "--output", help="write to a .csv, .jsonl, .json, .parquet or .arrow file (the last two need pyarrow)"
    )
    _connection_options(search)
    search.set_defaults(run=_search)

    enrich = commands.add_parser(
        "enrich",
        help="enrich a file of leads",
        description="Enrich a .csv/.jsonl/.json/.parquet/.arrow file of leads into a result file of any of these "
        "formats. Crash-safe: rerun with --resume. Parquet and Arrow IPC (.arrow, also .feather or .ipc) keep their "
        f"column types and need pyarrow: {PYARROW_HINT}.",
    )
    enrich.add_argument("input", help="leads file (.csv, .jsonl, .json, .parquet or .arrow)")
    enrich.add_argument("-o", "--output", required=True, help="result file (.csv, .jsonl, .json, .parquet or .arrow)")
    enrich.add_argument(
        "--map", metavar="COLUMN=FIELD", type=_mapping, action="append", help="map a column to a lead field"
    )
    enrich.add_argument("--resume", action="store_true", help="pick up the jobs of an interrupted run")
    enrich.add_argument("--timeout", type=_seconds, default=None, help="give up waiting after this many seconds")
    enrich.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    enrich.add_argument(
        "--trust-idempotency-key",
        action="store_true",
        help="send an enrichment request cut short (5xx, dropped, cut answer) again with its Idempotency-Key, "
        "trusting the server to answer with the job it started (the sandbox does; the public API does not "
        "document it). Without it, such a run stops and --resume sends the request again with the same key",
    )
    _reveal_options(enrich)
    _connection_options(enrich)
    enrich.set_defaults(run=_enrich)

    sb = commands.add_parser(
        "sandbox",
        help="serve a local emulator of the Amplemarket API until interrupted",
        description="Serve a local emulator of the Amplemarket API until interrupted.",
    )
    sb.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    sb.add_argument("--port", type=_port, default=8080, help="port to bind, 0 for any (default 8080)")
    sb.add_argument("--people", type=_count, default=10_000, help="synthetic people (default 10000)")
    sb.add_argument("--companies", type=_count, default=None, help="companies (default people/10)")
    sb.add_argument("--seed", type=_count, default=0, help="data and fault seed (default 0)")
    sb.add_argument("--api-key", default=None, help="the key to accept (default amp_test_sandbox)")
    sb.add_argument("--no-rate-limits", action="store_true", help="turn both rate limits off")
    sb.add_argument("--job-progression", default=None, help="immediate | polls:N | seconds:S | never")
    sb.add_argument(
        "--record",
        metavar="FILE",
        default=None,
        help="when stopped (Ctrl-C or SIGTERM), write the request log and the ledger to FILE as JSON",
    )
    sb.add_argument(
        "--set",
        metavar="NAME=VALUE",
        type=_setting,
        action="append",
        help="any sandbox setting, VALUE as JSON (repeatable), e.g. --set fault_rate=0.1",
    )
    sb.set_defaults(run=_sandbox)
    return parser


def _log_to_stderr() -> None:
    """With ``AMPLEMARKET_LOG=info|debug``, the SDK's log lines (requests, retries, waits) go to stderr."""
    import logging
    import os

    level = {"info": logging.INFO, "debug": logging.DEBUG}.get(os.environ.get("AMPLEMARKET_LOG", "").strip().lower())
    if level is not None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger = logging.getLogger("amplemarket")
        logger.addHandler(handler)
        logger.setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    from amplemarket._files import InputError
    from amplemarket.errors import AmplemarketError

    args = build_parser().parse_args(argv)
    _log_to_stderr()
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        return 130
    except UsageError as e:
        print(f"amplemarket {args.command}: {e}", file=sys.stderr)
        return 2
    except (AmplemarketError, InputError, OSError) as e:
        message = _for_cli(args, str(e)) if isinstance(e, AmplemarketError) else str(e)
        print(f"amplemarket {args.command}: {message}", file=sys.stderr)
        return 2 if isinstance(e, (InputError, ValueError)) else 1
    return code


if __name__ == "__main__":
    sys.exit(main())
