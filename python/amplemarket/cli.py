"""The ``amplemarket`` command line: find, company, search, enrich, and a local sandbox.

Every command but ``sandbox`` takes ``--sandbox`` to run against an in-process sandbox whose data set matches
``examples/leads.csv`` (seed 0), so it can be tried without a key or credits.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
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
    from amplemarket._files import write_table

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
    with _client(args) as client:
        people = list(
            amplemarket.Person.search_iter(
                **{k: v for k, v in filters.items() if v}, max_results=args.max_results, client=client
            )
        )
    if args.output:
        from amplemarket._enrich_run import _flatten_person

        rows = [_flatten_person(p) for p in people]
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
    from amplemarket.errors import AmplemarketError

    say = _say(args)
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
        before = _credits(client)
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
        after = _credits(client)
    if before and after:
        summary["credits_spent"] = {k: round(before[k] - after[k], 2) for k in before if k in after}
    if args.json:
        print(json.dumps(summary))
    else:
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(summary["statuses"].items()))
        spent = summary.get("credits_spent")
        credit_text = ""
        if spent:
            credit_text = f"; credits spent: {spent['email_credits']} email, {spent['phone_credits']} phone"
        print(f"{summary['rows']} rows -> {args.output}: {statuses}{credit_text}")
    return 0


def _credits(client: Any) -> dict[str, float] | None:
    try:
        info = client.account_info()
    except Exception:
        return None
    keys = ("email_credits", "phone_credits")
    if all(isinstance(info.get(k), (int, float)) for k in keys):
        return {k: float(info[k]) for k in keys}
    return None


def _sandbox(args: argparse.Namespace) -> int:
    from amplemarket.testing import Sandbox, _is_loopback

    settings: dict[str, Any] = dict(args.set or [])
    if args.api_key:
        settings["api_key"] = args.api_key
    if args.no_rate_limits:
        settings.update(rate_limit=None, search_rate_limit=None)
    if args.job_progression:
        settings["job_progression"] = args.job_progression
    if not _is_loopback(args.host):
        print(
            f"WARNING: binding {args.host} makes the sandbox reachable from other machines.",
            file=sys.stderr,
        )
    try:
        sb = Sandbox(
            host=args.host, port=args.port, seed=args.seed, people=args.people, companies=args.companies, **settings
        )
    except (ValueError, RuntimeError) as e:
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
        sb.stop()
    print("sandbox stopped", flush=True)
    return 0


def _connection_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--api-key", default=None, help="API key (default: $AMPLEMARKET_API_KEY)")
    p.add_argument("--base-url", default=None, help="API base URL (default: $AMPLEMARKET_BASE_URL or the real API)")
    p.add_argument("--sandbox", action="store_true", help="run against an in-process sandbox (no key, no credits)")
    p.add_argument("--json", action="store_true", help="print JSON")


def _reveal_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reveal-email", action="store_true", help="reveal email addresses (charged once per person)")
    p.add_argument("--reveal-phone-numbers", action="store_true", help="reveal phone numbers (charged once per person)")


def build_parser() -> argparse.ArgumentParser:
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
    search.add_argument("--max-results", type=int, default=100, help="stop after this many (default 100)")
    search.add_argument("-o", "--output", help="write to a .csv, .jsonl or .json file")
    _connection_options(search)
    search.set_defaults(run=_search)

    enrich = commands.add_parser(
        "enrich",
        help="enrich a file of leads",
        description="Enrich a .csv/.jsonl/.json file of leads into a result file. Crash-safe: rerun with --resume.",
    )
    enrich.add_argument("input", help="leads file (.csv, .jsonl or .json)")
    enrich.add_argument("-o", "--output", required=True, help="result file (.csv, .jsonl or .json)")
    enrich.add_argument(
        "--map", metavar="COLUMN=FIELD", type=_mapping, action="append", help="map a column to a lead field"
    )
    enrich.add_argument("--resume", action="store_true", help="pick up the jobs of an interrupted run")
    enrich.add_argument("--timeout", type=float, default=None, help="give up waiting after this many seconds")
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
    sb.add_argument("--port", type=int, default=8080, help="port to bind, 0 for any (default 8080)")
    sb.add_argument("--people", type=int, default=10_000, help="synthetic people (default 10000)")
    sb.add_argument("--companies", type=int, default=None, help="companies (default people/10)")
    sb.add_argument("--seed", type=int, default=0, help="data and fault seed (default 0)")
    sb.add_argument("--api-key", default=None, help="the key to accept (default amp_test_sandbox)")
    sb.add_argument("--no-rate-limits", action="store_true", help="turn both rate limits off")
    sb.add_argument("--job-progression", default=None, help="immediate | polls:N | seconds:S | never")
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
    except (AmplemarketError, InputError, OSError) as e:
        print(f"amplemarket {args.command}: {e}", file=sys.stderr)
        return 2 if isinstance(e, (InputError, ValueError)) else 1
    return code


if __name__ == "__main__":
    sys.exit(main())
