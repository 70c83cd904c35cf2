"""The ``amplemarket`` command line."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
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
            host=args.host,
            port=args.port,
            seed=args.seed,
            people=args.people,
            companies=args.companies,
            **settings,
        )
    except (ValueError, RuntimeError) as e:
        print(f"amplemarket sandbox: {e}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(
        f"Amplemarket sandbox serving {len(sb.people)} people at {sb.url}\n"
        f"  API key: {sb.api_key}   (export AMPLEMARKET_BASE_URL={sb.url})\n"
        "  Press Ctrl-C to stop.",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    sb.stop()
    print("sandbox stopped", flush=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="amplemarket", description="Amplemarket People API from the command line.")
    parser.add_argument("--version", action="version", version=f"amplemarket {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
