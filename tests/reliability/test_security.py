"""The API key never leaks, TLS is verified, and the sandbox is safe by default.

* Key scan: with a distinctive key (and a distinctive wrong one), every rendering is searched for the full key and
  for every 8-character piece of its secret part (the redacted form ``amp_…`` + 4 characters is allowed):
  ``repr``/``str`` of clients, models, jobs and iterators; every exception a call can raise (401, 402, 429, 5xx,
  refused, dropped, timeout, closed, job failed, job timeout, bad input, bad configuration, unreadable response)
  with its message, ``args``, attributes, ``__cause__``/``__context__`` chain, formatted traceback and pickle;
  Python ``logging`` records of every logger at DEBUG with ``AMPLEMARKET_LOG=debug``; everything a child
  process writes to stdout/stderr (Rust included); pickles of results; the CLI's stdout, stderr, output and state
  files, in successful and failing runs (wrong key, refused connection, SIGKILL, SIGINT) and ``--help``; and the
  sandbox's request log.
* TLS: a real HTTPS server with a ``trustme`` certificate fails verification by default with a typed
  ``APIConnectionError`` (and receives no request, so no key), succeeds once its CA is trusted through
  ``SSL_CERT_FILE`` in a fresh process, and still fails on a certificate for another host name. No option turns
  verification off; ``http://`` is accepted for loopback only.
* Sandbox: binds 127.0.0.1 (unreachable from another interface), warns when bound elsewhere, and answers 401
  to every near-miss key.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import logging
import os
import pickle
import signal
import socket
import ssl
import subprocess
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
from support import CLI, ENV, FIND, POLL, call, domain_of, read_state, sent, wait_for, write_rows

import amplemarket
from amplemarket import Company, EnrichmentJob, Person
from amplemarket._core import SandboxServer
from amplemarket.testing import Sandbox

# Mixed case and letters outside hex: no 8-character piece of these can turn up by chance in ids, UUIDs or hashes.
SECRET = "Kx9QwZpLm3RtVbNcYhJ2FdGs7Uq4"
KEY = "amp_live_" + SECRET
WRONG_SECRET = "Wr0ngQuXeLvDz8TaMnBk5PcRyHo"
WRONG_KEY = "amp_live_" + WRONG_SECRET
NEEDLES = [KEY, WRONG_KEY, *(s[i : i + 8] for s in (SECRET, WRONG_SECRET) for i in range(len(s) - 7))]


def keyed(**settings: Any) -> pytest.MarkDecorator:
    """The sandbox of a test accepts ``KEY`` (a test's own marker replaces the module's, so it repeats this)."""
    return pytest.mark.amplemarket_sandbox(api_key=KEY, **settings)


pytestmark = keyed()


def leaks(text: str) -> list[str]:
    return [n for n in NEEDLES if n in text]


def assert_clean(texts: dict[str, str]) -> None:
    """No text holds the key or a piece of it; names the texts that do."""
    found = {where: leaks(text) for where, text in texts.items() if leaks(text)}
    assert not found, f"the API key leaked into: {found}"


def renderings(obj: Any, name: str) -> dict[str, str]:
    """Every way an object is shown or stored: repr, str, format, its attributes, notebook card, JSON, pickle."""
    out = {f"{name} repr": repr(obj), f"{name} str": str(obj), f"{name} format": f"{obj!r:>1}"}
    if hasattr(obj, "__dict__"):
        out[f"{name} vars"] = repr(vars(obj))
    for method in ("_repr_html_", "to_json", "to_dict"):
        if callable(getattr(obj, method, None)):
            out[f"{name} {method}"] = repr(getattr(obj, method)())
    try:
        out[f"{name} pickle"] = pickle.dumps(obj).decode("latin-1")
    except TypeError as e:  # not picklable: the refusal must be clean too
        out[f"{name} pickle refusal"] = str(e)
    return out


def exception_texts(e: BaseException, name: str = "error") -> dict[str, str]:
    """Message, repr, args, every attribute, notes, the whole cause/context chain, traceback and pickle."""
    out = {
        f"{name} str": str(e),
        f"{name} repr": repr(e),
        f"{name} args": repr(e.args),
        f"{name} attrs": repr({a: getattr(e, a, None) for a in dir(e) if not a.startswith("__")}),
        f"{name} notes": repr(getattr(e, "__notes__", None)),
        f"{name} traceback": "".join(traceback.format_exception(e)),
        f"{name} pickle": pickle.dumps(e).decode("latin-1"),
    }
    out[f"{name} unpickled"] = repr(vars(pickle.loads(pickle.dumps(e))))
    for link in ("__cause__", "__context__"):
        nested = getattr(e, link)
        if nested is not None:
            out.update(exception_texts(nested, f"{name}.{link}"))
    return out


@pytest.fixture
def debug_log(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """``AMPLEMARKET_LOG=debug`` for clients made from now on, and every logger captured at DEBUG."""
    monkeypatch.setenv("AMPLEMARKET_LOG", "debug")
    caplog.set_level(logging.DEBUG)  # the root logger: records of every logger, ours or not
    return caplog


def log_texts(caplog: pytest.LogCaptureFixture) -> dict[str, str]:
    out = {"caplog text": caplog.text}
    for i, r in enumerate(caplog.records):
        out[f"record {i} ({r.name})"] = f"{r.getMessage()} {r.args!r} {r.exc_text or ''} {r.__dict__!r}"
    return out


@pytest.fixture
def targets(live: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Live people with an email and a company."""
    return [p for p in live if p.get("email") and p.get("company")]


# -- exceptions: every way a call can fail -----------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wrong_key(sb: Sandbox, mode: str, t: list[dict[str, Any]]) -> None:
    bad = amplemarket.Client(api_key=WRONG_KEY, base_url=sb.url, rate_limit=False)
    call(mode, Person, "find", email=t[0]["email"], client=bad)


def _wrong_key_from_env(sb: Sandbox, mode: str, t: list[dict[str, Any]]) -> None:
    os.environ["AMPLEMARKET_API_KEY"] = WRONG_KEY  # restored by the test's monkeypatch
    call(mode, Company, "find", domain=domain_of(t[0]["company"]), client=amplemarket.Client(base_url=sb.url))


def _wrong_key_enrich(sb: Sandbox, mode: str, t: list[dict[str, Any]]) -> None:
    bad = amplemarket.Client(api_key=WRONG_KEY, base_url=sb.url, rate_limit=False)
    call(mode, Person, "enrich", [{"email": t[0]["email"]}], client=bad)


def _wrong_key_find_many(sb: Sandbox, mode: str, t: list[dict[str, Any]]) -> None:
    bad = amplemarket.Client(api_key=WRONG_KEY, base_url=sb.url, rate_limit=False)
    (found,) = call(mode, Person, "find_many", [{"email": t[0]["email"]}], client=bad)
    assert_clean(renderings(found, "FindResult"))
    found.unwrap()


def _scripted(status: int | dict[str, Any], times: int = 1, **options: Any) -> Callable[..., None]:
    def run(sb: Sandbox, mode: str, t: list[dict[str, Any]]) -> None:
        sb.script(FIND, [status] * times)
        client = sb.client(rate_limit=False, **options)
        call(mode, Person, "find", email=t[0]["email"], reveal_email=True, client=client)

    return run


def _refused(sb: Sandbox, mode: str, t: list[dict[str, Any]]) -> None:
    c = amplemarket.Client(api_key=KEY, base_url=f"http://127.0.0.1:{closed_port()}", max_retries=0)
    call(mode, Person, "find", email=t[0]["email"], client=c)


def _closed(sb: Sandbox, mode: str, t: list[dict[str, Any]]) -> None:
    c = sb.client()
    c.close()
    call(mode, Person, "find", email=t[0]["email"], client=c)


def _job_failed(sb: Sandbox, mode: str, t: list[dict[str, Any]]) -> None:
    sb.configure(job_progression="immediate", job_error_rate=1.0)
    job = EnrichmentJob.create([{"email": p["email"]} for p in t[:3]], client=sb.client(rate_limit=False))
    assert_clean(renderings(job, "job"))
    call(mode, job, "wait")


def _job_timeout(sb: Sandbox, mode: str, t: list[dict[str, Any]]) -> None:
    sb.configure(job_progression="never")
    job = EnrichmentJob.create([{"email": t[0]["email"]}], client=sb.client(rate_limit=False))
    call(mode, job, "wait", timeout=0.2)


def _unknown_job(sb: Sandbox, mode: str, t: list[dict[str, Any]]) -> None:
    call(mode, EnrichmentJob, "get", 987_654_321, client=sb.client(rate_limit=False))


def _invalid_email(sb: Sandbox, mode: str, t: list[dict[str, Any]]) -> None:
    call(mode, Person, "find", email="not an email", client=sb.client())


def _invalid_lead(sb: Sandbox, mode: str, t: list[dict[str, Any]]) -> None:
    call(mode, EnrichmentJob, "create", [{"email": t[0]["email"]}, {"nickname": "x"}], client=sb.client())


def _plain_http_elsewhere(sb: Sandbox, mode: str, t: list[dict[str, Any]]) -> None:
    amplemarket.Client(api_key=KEY, base_url="http://api.amplemarket.com")


def _key_with_a_space(sb: Sandbox, mode: str, t: list[dict[str, Any]]) -> None:
    amplemarket.Client(api_key=KEY[:14] + " " + KEY[14:], base_url=sb.url)


def _key_with_a_newline(sb: Sandbox, mode: str, t: list[dict[str, Any]]) -> None:
    amplemarket.Client(api_key=KEY + "\n" + WRONG_KEY, base_url=sb.url)


FAILURES: dict[str, tuple[Callable[[Sandbox, str, list[dict[str, Any]]], None], type[BaseException]]] = {
    "401 wrong key": (_wrong_key, amplemarket.AuthenticationError),
    "401 wrong key from the environment": (_wrong_key_from_env, amplemarket.AuthenticationError),
    "401 enrich": (_wrong_key_enrich, amplemarket.AuthenticationError),
    "401 find_many": (_wrong_key_find_many, amplemarket.AuthenticationError),
    "402": (_scripted(402), amplemarket.InsufficientCreditsError),
    "403": (_scripted(403), amplemarket.PermissionDeniedError),
    "429 after a retry": (_scripted({"status": 429, "retry_after": 0}, 2, max_retries=1), amplemarket.RateLimitError),
    "500 after a retry": (
        _scripted({"status": 500, "retry_after": 0}, 2, max_retries=1),
        amplemarket.InternalServerError,
    ),
    "502": (_scripted(502, max_retries=0), amplemarket.InternalServerError),
    "503": (_scripted(503, max_retries=0), amplemarket.InternalServerError),
    "504": (_scripted(504, max_retries=0), amplemarket.InternalServerError),
    "html error page": (
        _scripted({"status": 500, "fault": "html"}, max_retries=0),
        amplemarket.InternalServerError,
    ),
    "connection refused": (_refused, amplemarket.APIConnectionError),
    "connection dropped": (_scripted({"status": 200, "fault": "drop"}, max_retries=0), amplemarket.APIConnectionError),
    "timeout": (
        _scripted({"status": 200, "delay": 2}, timeout=0.1, max_retries=0),
        amplemarket.APITimeoutError,
    ),
    "malformed 200": (
        _scripted({"status": 200, "fault": "malformed"}, max_retries=0),
        amplemarket.APIResponseValidationError,
    ),
    "closed client": (_closed, amplemarket.ClientClosedError),
    "job failed": (_job_failed, amplemarket.JobFailedError),
    "job timeout": (_job_timeout, amplemarket.JobTimeoutError),
    "unknown job": (_unknown_job, amplemarket.NotFoundError),
    "invalid email": (_invalid_email, amplemarket.InvalidInputError),
    "invalid lead": (_invalid_lead, amplemarket.InvalidInputError),
    "http:// to another host": (_plain_http_elsewhere, amplemarket.ConfigurationError),
    "key with a space": (_key_with_a_space, amplemarket.ConfigurationError),
    "key with a newline": (_key_with_a_newline, amplemarket.ConfigurationError),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_no_exception_carries_the_key(
    failure: str,
    mode: str,
    sb: Sandbox,
    targets: list[dict[str, Any]],
    debug_log: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AMPLEMARKET_API_KEY", KEY)  # for the "from the environment" case to replace
    run, expected = FAILURES[failure]
    try:
        run(sb, mode, targets)
    except BaseException as e:
        caught: BaseException = e
        formatted = traceback.format_exc()
    else:
        pytest.fail(f"{failure}: nothing was raised")
    assert type(caught) is expected, repr(caught)
    texts = exception_texts(caught) | log_texts(debug_log) | {"format_exc": formatted}
    assert_clean(texts)


# -- objects: clients, models, jobs, iterators, pickles ------------------------------------------------------------


@keyed(job_progression="immediate")
def test_no_object_shows_the_key(
    sb: Sandbox, targets: list[dict[str, Any]], debug_log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMPLEMARKET_API_KEY", KEY)
    monkeypatch.setenv("AMPLEMARKET_BASE_URL", sb.url)
    client = sb.client(rate_limit=False)
    objects: dict[str, Any] = {
        "client": client,
        "with_options": client.with_options(timeout=5, max_retries=0, rate_limit=amplemarket.RateLimits(10, 2)),
        "default client": amplemarket.get_default_client(),
        "bad client": amplemarket.Client(api_key=WRONG_KEY, base_url=sb.url),
        "sandbox": sb,
    }
    t = targets
    person = Person.find(email=t[0]["email"], reveal_email=True, reveal_phone_numbers=True, client=client)
    assert person is not None
    objects |= {"person": person, "company": person.company, "phone numbers": person.phone_numbers}
    objects["company found"] = Company.find(domain=domain_of(t[1]["company"]), client=client)
    page = Person.search(person_titles="Engineer", page_size=3, client=client)
    objects |= {"search page": page, "searched person": page.results[0]}
    objects["search iterator"] = Person.search_iter(page_size=2, max_results=2, client=client)
    objects["async search iterator"] = Person.search_iter_async(max_results=2, client=client)
    found = Person.find_many([{"email": t[2]["email"]}, {"email": "nobody@nowhere.example"}], client=client)
    objects |= {"find result": found[0], "find result none": found[1]}
    job = EnrichmentJob.create([{"email": p["email"]} for p in t[3:6]], client=client)
    objects["job queued"] = job
    objects["job done"] = job.wait()
    objects |= {"results iterator": job.results(), "async results iterator": job.results_async()}
    results = list(job.results())
    objects |= {"enrichment result": results[0], "enrich": Person.enrich([{"email": t[6]["email"]}], client=client)}
    objects["account info"] = client.account_info()
    texts: dict[str, str] = {}
    for name, obj in objects.items():
        texts |= renderings(obj, name)
    assert_clean(texts | log_texts(debug_log))
    # The client does say which key it holds, in the redacted form.
    assert f"amp_…{KEY[-4:]}" in repr(client)
    assert f"amp_…{WRONG_KEY[-4:]}" in repr(objects["bad client"])


@keyed(job_progression="immediate")
def test_pickles_of_people_companies_and_results_hold_no_key(sb: Sandbox, targets: list[dict[str, Any]]) -> None:
    client = sb.client(rate_limit=False)
    person = Person.find(email=targets[0]["email"], reveal_email=True, reveal_phone_numbers=True, client=client)
    (result,) = Person.enrich([{"email": targets[1]["email"]}], reveal_email=True, client=client)
    for obj in (person, person.company, *(person.phone_numbers or []), result, result.person):
        data = pickle.dumps(obj)
        assert leaks(data.decode("latin-1")) == []
        assert pickle.loads(data) == obj  # a real pickle of the object, not a stub


@keyed(job_progression="immediate")
def test_find_results_pickle_without_the_key(sb: Sandbox, targets: list[dict[str, Any]]) -> None:
    client = sb.client(rate_limit=False)
    found, failed = Person.find_many([{"email": targets[0]["email"]}, {"email": 5}], client=client)
    for obj in (found, failed):
        data = pickle.dumps(obj)
        assert leaks(data.decode("latin-1")) == []
        back = pickle.loads(data)
        assert (repr(back), back.query, back.person) == (repr(obj), obj.query, obj.person)
        assert type(back.error) is type(obj.error) and str(back.error) == str(obj.error)


@keyed(job_progression="immediate")
def test_a_search_page_holds_a_client_so_it_refuses_pickling_but_its_people_pickle(
    sb: Sandbox, targets: list[dict[str, Any]]
) -> None:
    page = Person.search(page_size=2, client=sb.client(rate_limit=False))
    with pytest.raises(TypeError, match="SearchPage") as caught:
        pickle.dumps(page)
    assert leaks(str(caught.value)) == []
    people = pickle.loads(pickle.dumps(page.results))
    assert people == page.results and leaks(pickle.dumps(page.results).decode("latin-1")) == []


def test_the_sandbox_request_log_masks_every_authorization(sb: Sandbox, targets: list[dict[str, Any]]) -> None:
    for key in (KEY, WRONG_KEY, KEY[:-1], KEY + "x"):
        c = amplemarket.Client(api_key=key, base_url=sb.url, rate_limit=False, max_retries=0)
        with contextlib.suppress(amplemarket.AuthenticationError):
            Person.find(email=targets[0]["email"], client=c)
    with httpx.Client(base_url=sb.url) as raw:  # keys the SDK would never send: other schemes, no "Bearer "
        for value in (f"Token {KEY}", KEY, f"Basic {KEY}", f"bearer {KEY}"):
            assert raw.get("/account-info", headers={"Authorization": value}).status_code == 401
    log = sb.requests
    assert [e["authorized"] for e in log] == [True, False, False, False, False, False, False, False]
    assert {e["headers"]["authorization"] for e in log} == {"Bearer ***"}
    assert_clean({"request log": repr(log)})


# -- logs and everything a process writes -------------------------------------------------------------------------

LOGGING_CHILD = r"""
import asyncio, logging, os, sys, traceback
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")
import amplemarket
from amplemarket import Company, EnrichmentJob, Person
from amplemarket.testing import Sandbox

key, wrong = sys.argv[1:3]
sb = Sandbox(people=200, api_key=key, rate_limit=None, search_rate_limit=None, job_progression="immediate",
             poll_retry_after=0)
os.environ["AMPLEMARKET_API_KEY"] = key
os.environ["AMPLEMARKET_BASE_URL"] = sb.url
people = [p for p in sb.people if p.get("email") and p.get("company") and not p.get("_gdpr_removed")]
client = amplemarket.Client(rate_limit=False)  # key and URL from the environment
print(repr(client), repr(amplemarket.get_default_client()))


def attempt(label, fn):
    try:
        print(label, repr(fn()))
    except amplemarket.AmplemarketError as e:
        print(label, "raised")
        traceback.print_exc()


sb.script("GET /people/find", [{"status": 503, "retry_after": 0}, 200])
attempt("find", lambda: Person.find(email=people[0]["email"], reveal_email=True, reveal_phone_numbers=True))
attempt("company", lambda: Company.find(domain=people[1]["company"]["website"], client=client))
attempt("search", lambda: list(Person.search_iter(person_titles="Engineer", page_size=2, max_results=4)))
attempt("find_many", lambda: Person.find_many([{"email": p["email"]} for p in people[2:6]], client=client))
attempt("enrich", lambda: Person.enrich([{"email": p["email"]} for p in people[6:9]], client=client))
async def find_async(email):
    return await Person.find_async(email=email)  # the default client


attempt("async", lambda: asyncio.run(find_async(people[9]["email"])))
bad = amplemarket.Client(api_key=wrong, base_url=sb.url, rate_limit=False)
attempt("wrong key", lambda: Person.find(email=people[0]["email"], client=bad))
attempt("wrong key find_many", lambda: [r.error for r in Person.find_many([{"email": "a@b.co"}], client=bad)])
sb.script("GET /people/find", [{"status": 200, "delay": 2}])
attempt("timeout", lambda: Person.find(email="a@b.co", client=client.with_options(timeout=0.1, max_retries=0)))
sb.script("GET /people/find", [{"status": 500, "retry_after": 0}] * 2)
attempt("500", lambda: Person.find(email="a@b.co", client=client.with_options(max_retries=1)))
sb.configure(job_error_rate=1.0)
attempt("job failed", lambda: EnrichmentJob.create([{"email": "a@b.co"}], client=client).wait())
client.close()
attempt("closed", lambda: Person.find(email="a@b.co", client=client))
Person.find(email=people[0]["email"], client=bad)  # uncaught: the interpreter prints the traceback and exits 1
"""


def test_nothing_a_process_writes_holds_the_key(tmp_path: Path) -> None:
    env = dict(
        ENV,
        AMPLEMARKET_LOG="debug",
        RUST_LOG="trace",  # if anything in Rust logged through env_logger/tracing, it would now
        RUST_BACKTRACE="full",
        PYTHONASYNCIODEBUG="1",
        PYTHONWARNINGS="always",
    )
    proc = subprocess.run(
        [sys.executable, "-c", LOGGING_CHILD, KEY, WRONG_KEY],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr[-3000:]
    out, err = proc.stdout, proc.stderr
    # The capture saw what it should: every call, the debug lines, retries, failures and the final traceback.
    for label in ("find", "company", "search", "find_many", "enrich", "async"):
        assert f"\n{label} " in "\n" + out and f"{label} raised" not in out, out
    for label in ("wrong key", "timeout", "500", "job failed", "closed"):
        assert f"{label} raised" in out, out
    assert "amplemarket DEBUG GET /people/find" in err and "amplemarket INFO" in err, err[-3000:]
    assert "retrying" in err and f"amp_…{KEY[-4:]}" in err and f"amp_…{WRONG_KEY[-4:]}" in err
    assert "amplemarket.errors.AuthenticationError" in err.splitlines()[-1]
    assert_clean({"stdout": out, "stderr": err} | {str(p): p.read_text("latin-1") for p in tmp_path.rglob("*")})


# -- the command line ----------------------------------------------------------------------------------------------


def cli_env(sb: Sandbox | None, key: str = KEY, base_url: str | None = None) -> dict[str, str]:
    """The key (and the sandbox's URL) in the environment, as a user would set them; debug logging on."""
    env = dict(ENV, AMPLEMARKET_API_KEY=key, AMPLEMARKET_LOG="debug")
    if base_url or sb is not None:
        env["AMPLEMARKET_BASE_URL"] = base_url or sb.url  # type: ignore[union-attr]
    return env


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def files_in(folder: Path) -> dict[str, str]:
    return {str(p): p.read_text("latin-1") for p in folder.rglob("*") if p.is_file()}


def leads_csv(folder: Path, people: list[dict[str, Any]]) -> Path:
    rows = [{"Email": p["email"], "Company": p["company"]["name"]} for p in people]
    return write_rows(folder / "leads.csv", ["Email", "Company"], rows)


def cli_runs(sb: Sandbox, t: list[dict[str, Any]], folder: Path) -> dict[str, tuple[list[str], dict[str, str], int]]:
    """Command line, environment and expected exit code of each CLI run, successful and failing."""
    src = str(leads_csv(folder, t[:5]))
    port = closed_port()
    return {
        "find": (["find", "--email", t[0]["email"], "--reveal-email"], cli_env(sb), 0),
        "find json": (["find", "--email", t[0]["email"], "--reveal-phone-numbers", "--json"], cli_env(sb), 0),
        "company": (["company", "--domain", domain_of(t[1]["company"])], cli_env(sb), 0),
        "company json": (["company", "--domain", domain_of(t[1]["company"]), "--json"], cli_env(sb), 0),
        "search": (["search", "--title", "Engineer", "--max-results", "5"], cli_env(sb), 0),
        "search json": (["search", "--title", "Engineer", "--max-results", "5", "--json"], cli_env(sb), 0),
        "search to file": (["search", "--max-results", "5", "-o", str(folder / "s.csv")], cli_env(sb), 0),
        "enrich": (["enrich", src, "-o", str(folder / "e.csv"), "--reveal-email"], cli_env(sb), 0),
        "enrich json": (["enrich", src, "-o", str(folder / "e.jsonl"), "--json"], cli_env(sb), 0),
        "find wrong key": (["find", "--email", t[0]["email"]], cli_env(sb, WRONG_KEY), 1),
        "find wrong key argv": (["find", "--email", t[0]["email"], "--api-key", WRONG_KEY], cli_env(sb), 1),
        "company wrong key": (["company", "--domain", domain_of(t[1]["company"])], cli_env(sb, WRONG_KEY), 1),
        "search wrong key": (["search", "--title", "Engineer"], cli_env(sb, WRONG_KEY), 1),
        "enrich wrong key": (["enrich", src, "-o", str(folder / "w.csv")], cli_env(sb, WRONG_KEY), 1),
        "find refused": (
            ["find", "--email", "a@b.co"],
            cli_env(None, base_url=f"http://127.0.0.1:{port}"),
            1,
        ),
        "enrich refused": (
            # Without the cache, which holds this file's answers from the runs above and would need no server.
            ["enrich", src, "-o", str(folder / "r.csv"), "--no-cache"],
            cli_env(None, base_url=f"http://[::1]:{port}"),
            1,
        ),
        "http elsewhere": (["find", "--email", "a@b.co"], cli_env(None, base_url="http://api.amplemarket.com"), 1),
    }


@keyed(job_progression="immediate")
def test_cli_runs_never_print_or_store_the_key(sb: Sandbox, targets: list[dict[str, Any]], tmp_path: Path) -> None:
    texts: dict[str, str] = {}
    for name, (args, env, code) in cli_runs(sb, targets, tmp_path).items():
        proc = run_cli(args, env, tmp_path)
        assert proc.returncode == code, (name, proc.stdout, proc.stderr)
        texts |= {f"{name} stdout": proc.stdout, f"{name} stderr": proc.stderr}
    assert "401" in texts["find wrong key stderr"] and "could not connect" in texts["find refused stderr"]
    # AMPLEMARKET_LOG=debug: the SDK's log lines reach stderr (so they were scanned), with the key redacted.
    assert "DEBUG amplemarket: GET /people/find" in texts["find stderr"] and "Bearer amp_" in texts["find stderr"]
    assert {"s.csv", "e.csv", "e.jsonl"} <= {p.name for p in tmp_path.iterdir()}
    assert_clean(texts | files_in(tmp_path))


@pytest.mark.parametrize("command", [[], ["find"], ["company"], ["search"], ["enrich"], ["sandbox"]])
def test_cli_help_never_shows_the_key(command: list[str], sb: Sandbox, tmp_path: Path) -> None:
    proc = run_cli([*command, "--help"], cli_env(sb), tmp_path)
    assert proc.returncode == 0 and "usage: amplemarket" in proc.stdout
    assert_clean({"stdout": proc.stdout, "stderr": proc.stderr})


@keyed(job_progression="never")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_cli_killed_mid_run_leaves_no_key_in_its_state_file(
    sig: int, sb: Sandbox, targets: list[dict[str, Any]], tmp_path: Path
) -> None:
    src = leads_csv(tmp_path, targets[:20])
    out = tmp_path / "enriched.csv"
    proc = subprocess.Popen(
        [*CLI, "enrich", str(src), "-o", str(out), "--reveal-email"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(sb),  # AMPLEMARKET_LOG=debug: the signal may land while a log line is written
        cwd=tmp_path,
    )
    try:
        # The job exists and its id is on disk: the run is now waiting for a job that never completes.
        state = wait_for(lambda: (s := read_state(out)) and all(c.get("job_id") for c in s["chunks"]) and s, 60)
        assert state, "the state file never recorded the job"
        assert wait_for(lambda: len(sent(sb, POLL)) >= 1, 30)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == (-signal.SIGKILL if sig == signal.SIGKILL else 130), stderr
    if sig == signal.SIGINT:
        assert "--resume" in stderr
    files = files_in(tmp_path)
    assert any(name.endswith(".amplemarket-state.json") for name in files)
    assert_clean({"stdout": stdout, "stderr": stderr} | files)


# -- TLS ---------------------------------------------------------------------------------------------------------------

PERSON = {"object": "person", "id": "tls-person", "name": "Tls Person", "title": "Verifier"}


class _PersonHandler(http.server.BaseHTTPRequestHandler):
    seen: list[str]  # the Authorization headers received, set per server

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("Authorization", ""))
        body = json.dumps(PERSON).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class TLSServer:
    """An HTTPS server in a thread answering a Person for any GET, with a certificate from a test CA."""

    def __init__(self, ca: trustme.CA, names: list[str]) -> None:
        self.seen: list[str] = []
        handler = type("Handler", (_PersonHandler,), {"seen": self.seen})
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert(*names).configure_cert(context)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ca(tmp_path: Path) -> tuple[trustme.CA, Path]:
    authority = trustme.CA()
    pem = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(pem))
    return authority, pem


@pytest.fixture
def tls(ca: tuple[trustme.CA, Path]) -> Iterator[TLSServer]:
    server = TLSServer(ca[0], ["localhost", "127.0.0.1"])
    yield server
    server.stop()


@pytest.fixture
def tls_other_name(ca: tuple[trustme.CA, Path]) -> Iterator[TLSServer]:
    """Same CA, but a certificate for another host name only."""
    server = TLSServer(ca[0], ["api.example.test"])
    yield server
    server.stop()


def test_an_untrusted_certificate_fails_with_a_typed_error_and_sends_no_key(tls: TLSServer, mode: str) -> None:
    client = amplemarket.Client(api_key=KEY, base_url=f"https://localhost:{tls.port}", max_retries=0)
    with pytest.raises(amplemarket.APIConnectionError) as info:
        call(mode, Person, "find", email="a@b.co", client=client)
    e = info.value
    assert type(e) is amplemarket.APIConnectionError
    assert "certificate" in str(e).lower() and e.request == "GET /people/find", str(e)
    assert tls.seen == []  # the handshake failed before any HTTP request, so the key never left
    assert_clean(exception_texts(e))


def test_default_retries_still_end_in_the_certificate_error(tls: TLSServer) -> None:
    client = amplemarket.Client(api_key=KEY, base_url=f"https://127.0.0.1:{tls.port}", max_retry_wait=1)
    with pytest.raises(amplemarket.APIConnectionError, match=r"(?i)certificate"):
        Person.find(email="a@b.co", client=client)
    assert tls.seen == []


TLS_CHILD = r"""
import sys
import amplemarket
client = amplemarket.Client(api_key=sys.argv[1], base_url=sys.argv[2], max_retries=0)
try:
    person = amplemarket.Person.find(email="a@b.co", client=client)
    print("found", person.id)
except amplemarket.APIConnectionError as e:
    print("refused", e)
"""


def tls_child(base_url: str, ca_pem: Path) -> str:
    # A fresh process: the trusted roots are read when the first connection pool is built.
    env = dict(ENV, SSL_CERT_FILE=str(ca_pem))
    proc = subprocess.run(
        [sys.executable, "-c", TLS_CHILD, KEY, base_url], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert_clean({"stdout": proc.stdout, "stderr": proc.stderr})
    return proc.stdout.strip()


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_trusting_the_ca_through_ssl_cert_file_makes_the_same_call_succeed(
    host: str, tls: TLSServer, ca: tuple[trustme.CA, Path]
) -> None:
    assert tls_child(f"https://{host}:{tls.port}", ca[1]) == "found tls-person"
    assert tls.seen == [f"Bearer {KEY}"]  # the key travelled only inside the verified TLS connection


def test_a_trusted_ca_does_not_excuse_a_certificate_for_another_host(
    tls_other_name: TLSServer, ca: tuple[trustme.CA, Path]
) -> None:
    outcome = tls_child(f"https://localhost:{tls_other_name.port}", ca[1])
    assert outcome.startswith("refused") and "certificate" in outcome.lower(), outcome
    assert tls_other_name.seen == []


@pytest.mark.parametrize("option", ["verify", "verify_ssl", "ssl_verify", "insecure", "ssl", "cert_reqs", "tls"])
def test_no_option_turns_verification_off(option: str) -> None:
    with pytest.raises(TypeError, match=option):
        amplemarket.Client(api_key=KEY, **{option: False})
    client = amplemarket.Client(api_key=KEY)
    with pytest.raises(TypeError, match=option):
        client.with_options(**{option: False})


@pytest.mark.parametrize(
    "url",
    [
        "http://api.amplemarket.com",
        "http://example.com:8080",
        "http://10.0.0.1",
        "http://192.168.1.5:8080",
        "http://0.0.0.0:8080",
        "http://[2001:db8::1]",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
    ],
)
def test_plain_http_to_another_machine_is_refused(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for given in ("argument", "environment"):
        if given == "environment":
            monkeypatch.setenv("AMPLEMARKET_BASE_URL", url)
        with pytest.raises(amplemarket.ConfigurationError, match="https://") as info:
            amplemarket.Client(api_key=KEY, base_url=url if given == "argument" else None)
        assert_clean(exception_texts(info.value))


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "LOCALHOST", "[::1]", "127.0.0.2"], ids=lambda h: h.strip("[]")
)
def test_plain_http_to_loopback_is_accepted(host: str, sb: Sandbox) -> None:
    client = amplemarket.Client(api_key=KEY, base_url=f"http://{host}:{sb.port}")
    assert client.base_url.lower().startswith(f"http://{host.lower()}")
    if host in ("127.0.0.1", "localhost"):  # reachable: the sandbox listens on 127.0.0.1
        assert client.account_info()["object"] == "account_info"


# -- the sandbox -------------------------------------------------------------------------------------------------------


def outward_address() -> str | None:
    """This machine's address on a non-loopback interface, if it has one (no packet is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the route
            address = str(s.getsockname()[0])
    except OSError:
        return None
    return None if address.startswith("127.") else address


def test_the_sandbox_binds_loopback_by_default(sb: Sandbox) -> None:
    own = Sandbox(people=10)
    raw = SandboxServer(people=10)
    try:
        for url in (own.url, raw.url, sb.url):
            assert url.startswith("http://127.0.0.1:"), url
        address = outward_address()
        if address is None:
            pytest.skip("no non-loopback interface to try")
        with socket.socket() as s:
            s.settimeout(5)
            assert s.connect_ex((address, own.port)) != 0  # not listening there
    finally:
        own.stop()
        raw.stop()


def test_binding_every_interface_warns_loudly() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exposed = Sandbox(people=10, host="0.0.0.0")
    try:
        assert exposed.running
    finally:
        exposed.stop()
    (w,) = [w for w in caught if issubclass(w.category, UserWarning)]
    assert "0.0.0.0" in str(w.message) and "reachable from other machines" in str(w.message)
    assert w.filename == __file__  # attributed to the caller's line, where it can be found


def test_cli_sandbox_on_every_interface_warns_on_stderr(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*CLI, "sandbox", "--host", "0.0.0.0", "--port", "0", "--people", "10"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # "Amplemarket sandbox serving ..." once it listens
        assert "serving" in first, first
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert "WARNING" in err and "0.0.0.0" in err and "reachable from other machines" in err, err


@pytest.mark.parametrize(
    "given",
    [
        "Bearer " + KEY[:-1] + ("A" if KEY[-1] != "A" else "B"),  # same length, last character differs
        "Bearer " + ("B" if KEY[0] != "B" else "C") + KEY[1:],  # same length, first character differs
        "Bearer " + KEY[:-1],  # a prefix
        "Bearer " + KEY[:4],
        "Bearer",  # empty (a trailing space is not a legal header value; servers see this)
        "Bearer " + KEY + "0",  # longer
        "Bearer " + KEY + KEY,
        "Bearer " + KEY.upper(),
        "Bearer " + WRONG_KEY,
    ],
    ids=["last-char", "first-char", "prefix", "short-prefix", "empty", "longer", "doubled", "upper", "other"],
)
def test_every_near_miss_key_is_401(given: str, sb: Sandbox) -> None:
    # The comparison is constant-time (subtle::ConstantTimeEq in src/sandbox/server.rs `authorized`); timing
    # cannot be asserted here without a timed test, so this pins the outcome for keys that share a prefix.
    with httpx.Client(base_url=sb.url) as raw:
        r = raw.get("/account-info", headers={"Authorization": given})
        assert r.status_code == 401 and r.json()["_errors"][0]["code"] == "unauthorized"
        assert raw.get("/account-info", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert_clean({"body": r.text, "headers": repr(r.headers)})


def test_sdk_wrong_keys_are_401_and_the_right_one_works(sb: Sandbox, targets: list[dict[str, Any]]) -> None:
    for key in (KEY[:-1], KEY + "0", WRONG_KEY, KEY.swapcase()):
        with pytest.raises(amplemarket.AuthenticationError):
            Person.find(email=targets[0]["email"], client=amplemarket.Client(api_key=key, base_url=sb.url))
    person = Person.find(email=targets[0]["email"], client=amplemarket.Client(api_key=KEY, base_url=sb.url))
    assert person is not None and person.id == targets[0]["id"]


async def test_async_wrong_key_errors_are_clean(sb: Sandbox, targets: list[dict[str, Any]]) -> None:
    bad = amplemarket.Client(api_key=WRONG_KEY, base_url=sb.url, rate_limit=False)
    outcomes = await asyncio.gather(
        *(Person.find_async(email=p["email"], client=bad) for p in targets[:20]), return_exceptions=True
    )
    assert all(type(e) is amplemarket.AuthenticationError for e in outcomes)
    texts: dict[str, str] = {}
    for i, e in enumerate(outcomes):
        assert isinstance(e, BaseException)
        texts |= exception_texts(e, f"task {i}")
    assert_clean(texts)
