"""The ``amplemarket`` command line: find, company, search, company-search, enrich, validate, and a local sandbox.

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
from collections.abc import Callable, Iterator, Sequence
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


def _number(text: str, read: Callable[[str], float], expected: str, valid: Callable[[float], bool]) -> float:
    """``text`` read as a number (argparse type), refused with what was ``expected`` unless it is ``valid``."""
    try:
        value = read(text)
    except (ValueError, KeyError):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not valid(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def _count(text: str) -> int:
    """A whole number, 0 or more (argparse type)."""
    return int(_number(text, int, "a whole number, 0 or more", lambda v: v >= 0))


def _positive(text: str) -> int:
    """A whole number, 1 or more (argparse type)."""
    return int(_number(text, int, "a whole number, 1 or more", lambda v: v >= 1))


def _port(text: str) -> int:
    return int(_number(text, int, "a port from 0 to 65535", lambda v: 0 <= v <= 65535))


def _credits(text: str) -> float:
    """A number of credits, 0 or more (argparse type)."""
    return _number(text, float, "a number of credits, 0 or more", lambda v: 0 <= v < math.inf)


def _in_seconds(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    return float(number) * units[unit]


def _age(text: str) -> float:
    """An age such as 30d, 12h, 90m or 3600 (seconds), in seconds (argparse type)."""
    return _number(text, _in_seconds, "an age like 30d, 12h, 90m or 3600, 0 or more", lambda v: v >= 0)


def _seconds(text: str) -> float:
    """A positive, finite number of seconds (argparse type), checked before anything is sent or paid for."""
    return _number(text, float, "a positive number of seconds", lambda v: 0 < v < math.inf)


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
    "company-search": {
        "company_names": "--name",
        "company_domains": "--domain",
        "company_industries": "--industry",
        "company_sizes": "--size",
        "company_types": "--type",
        "company_locations": "--location",
        "company_keywords": "--keyword",
        "max_results": "--max-results",
    },
    "validate": {"validations_per_hour": "--validations-per-hour"},
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
    if getattr(args, "max_credits", None) is not None:
        options["max_credits"] = args.max_credits
    if args.sandbox:
        from amplemarket.testing import Sandbox

        # The sandbox's synthetic answers are not worth keeping: cached only into a file named with --cache.
        if args.cache:
            options["cache"] = _cache(args)
        with Sandbox(seed=0, job_progression="polls:2", poll_retry_after=1) as sb, sb.client(**options) as client:
            yield client
        return
    _check_key(args)
    if args.base_url:
        options["base_url"] = args.base_url
    if not args.no_cache:
        options["cache"] = _cache(args)
    with amplemarket.Client(args.api_key, **options) as client:
        yield client


def _cache(args: argparse.Namespace) -> Any:
    """The result cache of a command: the file named with --cache (an error when it cannot be used), else the
    default file (a warning when it cannot be used, and the command goes on without one)."""
    import amplemarket

    try:
        return amplemarket.Cache(args.cache) if args.cache else amplemarket.Cache()
    except amplemarket.ConfigurationError as e:
        if args.cache:
            raise UsageError(f"--cache: {e}") from None
        print(f"warning: {e}; going on without a cache", file=sys.stderr)
        return None


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


def _found(args: argparse.Namespace, items: list[Any], noun: str, flatten: Any, line: Any) -> None:
    """What a search found: to ``--output`` (flat columns), as JSON lines, or one line each."""
    from amplemarket._files import write_table

    if args.output:
        rows = [flatten(x) for x in items]
        columns: list[str] = []
        for r in rows:
            columns.extend(k for k in r if k not in columns)
        write_table(args.output, columns, rows)
        print(f"{len(items)} {noun} written to {args.output}", file=sys.stderr)
    elif args.json:
        for x in items:
            print(x.to_json())
    else:
        for x in items:
            print(line(x))
        print(f"{len(items)} {noun}", file=sys.stderr)


def _searched(args: argparse.Namespace, search_iter: Any) -> list[Any]:
    """Every match of ``search_iter`` for the filters given (each SDK argument from its flag in ``_FLAGS``), up to
    ``--max-results``; an unusable ``--output`` is refused before searching."""
    from amplemarket._files import check_format

    if args.output:
        check_format(args.output, "output file", writing=True)
    filters = {arg: getattr(args, flag[2:].replace("-", "_")) for arg, flag in _FLAGS[args.command].items()}
    given = {k: v for k, v in filters.items() if v and k != "max_results"}
    with _client(args) as client:
        return list(search_iter(**given, max_results=args.max_results, client=client))


def _search(args: argparse.Namespace) -> int:
    import amplemarket
    from amplemarket._enrich_run import flatten_person

    people = _searched(args, amplemarket.Person.search_iter)

    def line(p: Any) -> str:
        company = p.company.name if p.company else "-"
        return f"{p.name}\t{p.title or ''}\t{company}\t{p.linkedin_url or ''}"

    _found(args, people, "people", flatten_person, line)
    return 0


def _company_search(args: argparse.Namespace) -> int:
    import amplemarket
    from amplemarket._enrich_run import flatten_company

    companies = _searched(args, amplemarket.Company.search_iter)

    def line(c: Any) -> str:
        return f"{c.name}\t{c.website or ''}\t{c.industry or ''}\t{c.size or ''}\t{c.linkedin_url or ''}"

    _found(args, companies, "companies", flatten_company, line)
    return 0


def _bulk(args: argparse.Namespace, kind: Any) -> int:
    """``enrich`` and ``validate``: a file in, a result file out, through jobs recorded in a state file."""
    from amplemarket._enrich_run import plan, run, state_path
    from amplemarket._files import check_format
    from amplemarket.errors import AmplemarketError

    say = _say(args)
    check_format(args.input, "input file")  # before a client or a sandbox is started
    check_format(args.output, "output file", writing=True)
    opts = kind.opts
    with _client(args) as client:
        if args.dry_run or args.max_credits is not None:
            estimate = plan(opts, kind, client, say)
            worst = estimate["credits"]
            if args.dry_run:
                print(json.dumps(estimate) if args.json else _estimate_line(estimate))
                return 0
            if max(worst.values()) > args.max_credits:
                raise UsageError(
                    f"the run could cost up to {worst['email']} email and {worst['phone']} phone credits, more than "
                    f"--max-credits {args.max_credits:g}; nothing was sent ({_estimate_line(estimate)})"
                )
        try:
            summary = run(opts, kind, client, say)
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


def _estimate_line(e: dict[str, Any]) -> str:
    c = e["credits"]
    return (
        f"{e['rows']} rows: {e['invalid']} invalid, {e['distinct']} distinct, {e['cached']} answered from the cache, "
        f"{e['to_send']} to send, costing at most {c['email']:g} email and {c['phone']:g} phone credits"
    )


def _options(args: argparse.Namespace, **more: Any) -> Any:
    from amplemarket._enrich_run import Options

    return Options(
        input=Path(args.input),
        output=Path(args.output),
        mapping=dict(args.map or []),
        resume=args.resume,
        timeout=args.timeout,
        progress=sys.stderr.isatty() and not args.quiet,
        **more,
    )


def _enrich(args: argparse.Namespace) -> int:
    from amplemarket._enrich_run import Companies, People

    if args.companies:
        reveals = (("--reveal-email", args.reveal_email), ("--reveal-phone-numbers", args.reveal_phone_numbers))
        given = [flag for flag, on in reveals if on]
        if given:
            raise UsageError(
                f"{' and '.join(given)}: company enrichment reveals nothing (reveals are for people); "
                f"leave {'it' if len(given) == 1 else 'them'} out with --companies"
            )
        return _bulk(args, Companies(_options(args)))
    opts = _options(args, reveal_email=args.reveal_email, reveal_phone_numbers=args.reveal_phone_numbers)
    return _bulk(args, People(opts))


def _validate(args: argparse.Namespace) -> int:
    from amplemarket._enrich_run import Emails

    return _bulk(args, Emails(_options(args, validations_per_hour=args.validations_per_hour)))


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


def _cache_command(args: argparse.Namespace) -> int:
    import amplemarket

    path = Path(args.cache) if args.cache else amplemarket.Cache.default_path()
    if args.action == "path":
        print(path)
        return 0
    if not path.exists():
        print(json.dumps({"path": str(path), "entries": 0}) if args.json else f"{path}: no cache yet")
        return 0
    try:
        cache = amplemarket.Cache(path)
    except amplemarket.ConfigurationError as e:
        raise UsageError(str(e)) from None
    if args.action == "clear":
        cleared = cache.clear(older_than=args.older_than)
        said = {"path": str(path), "cleared": cleared}
        print(json.dumps(said) if args.json else f"{path}: {cleared} answers cleared")
        return 0
    stats = cache.stats()
    if args.json:
        print(json.dumps({**stats, "path": str(path)}))
    else:
        print(f"{path}: {stats['entries']} answers, {stats['bytes'] / 1e6:.1f} MB")
    return 0


def _connection_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--api-key", default=None, help="API key (default: $AMPLEMARKET_API_KEY)")
    p.add_argument("--base-url", default=None, help="API base URL (default: $AMPLEMARKET_BASE_URL or the real API)")
    p.add_argument(
        "--sandbox",
        action="store_true",
        help="run against an in-process sandbox (no key needed; it spends synthetic credits only)",
    )
    _cache_options(p)
    p.add_argument("--json", action="store_true", help="print JSON")


def _cache_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--cache",
        metavar="PATH",
        default=None,
        help="keep the API's answers in this file (default: the user's cache directory; with --sandbox, none)",
    )
    p.add_argument("--no-cache", action="store_true", help="neither read nor keep answers in the result cache")


def _reveal_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reveal-email", action="store_true", help="reveal email addresses (charged once per person)")
    p.add_argument("--reveal-phone-numbers", action="store_true", help="reveal phone numbers (charged once per person)")


def _search_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-results", type=_count, default=100, help="stop after this many (default 100)")
    p.add_argument(
        "-o", "--output", help="write to a .csv, .jsonl, .json, .parquet or .arrow file (the last two need pyarrow)"
    )
    _connection_options(p)


def _file_options(p: argparse.ArgumentParser, rows: str, field: str) -> None:
    """The options of the commands that turn a file into a result file through jobs (enrich, validate)."""
    p.add_argument("input", help=f"{rows} file (.csv, .jsonl, .json, .parquet or .arrow)")
    p.add_argument("-o", "--output", required=True, help="result file (.csv, .jsonl, .json, .parquet or .arrow)")
    p.add_argument("--map", metavar="COLUMN=FIELD", type=_mapping, action="append", help=f"map a column to {field}")
    p.add_argument("--resume", action="store_true", help="pick up the jobs of an interrupted run")
    p.add_argument("--timeout", type=_seconds, default=None, help="give up waiting after this many seconds")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="say what would be sent and the most it could cost (answers in the cache are free), send nothing",
    )
    p.add_argument(
        "--max-credits",
        type=_credits,
        default=None,
        help="refuse to start when the run could cost more than N email credits or N phone credits",
    )
    p.add_argument(
        "--trust-idempotency-key",
        action="store_true",
        help="send a request cut short (5xx, dropped, cut answer) again with its Idempotency-Key, "
        "trusting the server to answer with the job it started (the sandbox does; the public API does not "
        "document it). Without it, such a run stops and --resume sends the request again with the same key",
    )


def _command(commands: Any, run: Callable[[argparse.Namespace], int], name: str, **texts: str) -> Any:
    """A subcommand (``help=``, ``description=``) that runs ``run`` with the parsed arguments."""
    parser = commands.add_parser(name, **texts)
    parser.set_defaults(run=run)
    return parser


def build_parser() -> argparse.ArgumentParser:
    from amplemarket._files import PYARROW_HINT

    parser = argparse.ArgumentParser(prog="amplemarket", description="Amplemarket People API from the command line.")
    parser.add_argument("--version", action="version", version=f"amplemarket {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    find = _command(commands, _find, "find", help="find one person", description="Find one person.")
    find.add_argument("--email")
    find.add_argument("--linkedin-url")
    find.add_argument("--name")
    find.add_argument("--title")
    find.add_argument("--company", help="company name (with --name)")
    find.add_argument("--domain", help="company domain (with --name)")
    _reveal_options(find)
    _connection_options(find)

    company = _command(commands, _company, "company", help="find one company", description="Find one company.")
    company.add_argument("--domain")
    company.add_argument("--linkedin-url")
    _connection_options(company)

    search = _command(commands, _search, "search", help="search people", description="Search people (no credits).")
    search.add_argument("--name", help="person name")
    for flag in (
        "--title",
        "--location",
        "--seniority",
        "--department",
        "--company",
        "--domain",
        "--industry",
        "--size",
    ):
        search.add_argument(flag, action="append", help="repeatable")
    _search_options(search)

    company_search = _command(
        commands,
        _company_search,
        "company-search",
        help="search companies",
        description="Search companies (no credits).",
    )
    for flag, what in (
        ("--name", "part of the company name"),
        ("--domain", "company domain"),
        ("--industry", "industry"),
        ("--size", "size, like '51-200 employees'"),
        ("--type", "company type"),
        ("--location", "part of the location"),
        ("--keyword", "keyword"),
    ):
        company_search.add_argument(flag, action="append", help=f"{what} (repeatable: any of them)")
    _search_options(company_search)

    enrich = _command(
        commands,
        _enrich,
        "enrich",
        help="enrich a file of leads (or of companies, with --companies)",
        description="Enrich a .csv/.jsonl/.json/.parquet/.arrow file of leads (or, with --companies, of companies) "
        "into a result file of any of these formats. Crash-safe: rerun with --resume. Parquet and Arrow IPC (.arrow, "
        f"also .feather or .ipc) keep their column types and need pyarrow: {PYARROW_HINT}.",
    )
    enrich.add_argument(
        "--companies",
        action="store_true",
        help="the rows are companies (columns like Domain, Website, Company LinkedIn URL, Company), not people",
    )
    _file_options(enrich, "leads (or companies)", "a lead field (with --companies, domain, linkedin_url or name)")
    _reveal_options(enrich)
    _connection_options(enrich)

    validate = _command(
        commands,
        _validate,
        "validate",
        help="validate a file of email addresses",
        description="Validate the email addresses of a .csv/.jsonl/.json/.parquet/.arrow file (an Email column, or "
        "--map) into a result file of any of these formats, one email credit each. Requests wait for the account's "
        "hourly limit. Crash-safe: rerun with --resume. Parquet and Arrow IPC need pyarrow: "
        f"{PYARROW_HINT}.",
    )
    _file_options(validate, "emails", "email")
    validate.add_argument(
        "--validations-per-hour",
        type=_positive,
        default=15_000,
        help="the account's hourly limit of email validations (default 15000): no request sends more",
    )
    _connection_options(validate)

    cache = _command(
        commands,
        _cache_command,
        "cache",
        help="the result cache: info, clear, path",
        description="The result cache the commands keep the API's answers in (default: the user's cache directory).",
    )
    cache.add_argument("action", choices=("info", "clear", "path"), help="info: what it holds; clear: delete answers")
    cache.add_argument("--older-than", type=_age, default=None, help="with clear: only answers older than this (30d)")
    cache.add_argument("--cache", metavar="PATH", default=None, help="the cache file (default: the user's)")
    cache.add_argument("--json", action="store_true", help="print JSON")

    sb = _command(
        commands,
        _sandbox,
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
