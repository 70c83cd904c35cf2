"""The runtime under the calls: Ctrl-C during a blocking call, asyncio cancellation dropping the request, closing
a client with a call in flight, ``os.fork()``, many threads on one client, the GIL released while waiting, and
blocking calls made while an event loop runs in the same thread (Jupyter)."""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from support import COMPANY, FIND, SEARCH, call, domain_of, sent, wait_for

import amplemarket
from amplemarket import Company, Person
from amplemarket.testing import Sandbox

posix_only = pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals / fork")


@pytest.fixture
def target(with_email: list[dict[str, Any]]) -> dict[str, Any]:
    return with_email[8]


def outcomes(sb: Sandbox, route: str) -> list[str]:
    return [r["outcome"] for r in sent(sb, route)]


def settled(sb: Sandbox, route: str, expected: list[str], timeout: float = 5.0) -> list[str]:
    """The outcomes of the route's requests once the server has recorded ``expected`` (or after ``timeout``)."""
    wait_for(lambda: outcomes(sb, route) == expected, timeout)
    return outcomes(sb, route)


async def settled_async(sb: Sandbox, route: str, expected: list[str], timeout: float = 5.0) -> list[str]:
    """``settled`` for async tests: polls without blocking the event loop (cancellation runs on it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and outcomes(sb, route) != expected:
        await asyncio.sleep(0.02)
    return outcomes(sb, route)


# -- Ctrl-C ------------------------------------------------------------------------------------------------------------

CHILD = """
import asyncio, json, sys, threading, time
import amplemarket
from amplemarket.testing import Sandbox

sb = Sandbox(people=20, rate_limit=None, search_rate_limit=None)
person = next(p for p in sb.people if not p.get("_gdpr_removed") and p.get("email"))
sb.script("GET /people/find", [{"status": 200, "delay": 30}])
client = sb.client(rate_limit=False)


def announce():
    # "ready" once the request is in flight at the sandbox.
    while not any(r["outcome"] == "pending" for r in sb.requests):
        time.sleep(0.01)
    print("ready", flush=True)


threading.Thread(target=announce, daemon=True).start()
try:
    if sys.argv[1] == "sync":
        amplemarket.Person.find(email=person["email"], client=client)
    else:
        async def main():
            return await amplemarket.Person.find_async(email=person["email"], client=client)
        asyncio.run(main())
    print("returned", flush=True)
finally:
    deadline = time.monotonic() + 5
    seen = []
    while time.monotonic() < deadline:
        seen = [r["outcome"] for r in sb.requests]
        if seen and "pending" not in seen:
            break
        time.sleep(0.02)
    print("outcomes " + json.dumps(seen), flush=True)
"""


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline() if ready else ""


@posix_only
def test_ctrl_c_interrupts_a_call_and_drops_its_request(mode: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = _read_line(proc, 60)
        assert line.strip() == "ready", (line, proc.poll())
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "KeyboardInterrupt" in err, err
    assert proc.returncode != 0
    assert "returned" not in out
    (last,) = [line for line in out.splitlines() if line.startswith("outcomes ")]
    assert json.loads(last.removeprefix("outcomes ")) == ["aborted"], out


# -- asyncio cancellation ----------------------------------------------------------------------------------------------

CANCELLABLE: dict[str, tuple[str, Callable[[dict[str, Any], amplemarket.Client], Awaitable[Any]]]] = {
    "Person.find_async": (FIND, lambda t, c: Person.find_async(email=t["email"], client=c)),
    "Company.find_async": (COMPANY, lambda t, c: Company.find_async(domain=domain_of(t["company"]), client=c)),
    "Person.search_async": (SEARCH, lambda t, c: Person.search_async(person_titles="Engineer", client=c)),
    "account_info_async": ("GET /account-info", lambda t, c: c.account_info_async()),
}


@pytest.mark.parametrize("op", list(CANCELLABLE))
async def test_cancelling_the_task_drops_the_request(
    op: str, sb: Sandbox, client: amplemarket.Client, target: dict[str, Any]
) -> None:
    route, start = CANCELLABLE[op]
    sb.script(route, [{"status": 200, "delay": 10}])

    async def use() -> Any:
        return await start(target, client)

    task = asyncio.create_task(use())
    assert await settled_async(sb, route, ["pending"]) == ["pending"]  # the request is in flight
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await settled_async(sb, route, ["aborted"]) == ["aborted"]


async def test_cancelling_the_awaitable_itself_drops_the_request(
    sb: Sandbox, client: amplemarket.Client, target: dict[str, Any]
) -> None:
    sb.script(FIND, [{"status": 200, "delay": 10}])
    fut = asyncio.ensure_future(Person.find_async(email=target["email"], client=client))
    await asyncio.sleep(0.3)
    fut.cancel()
    with pytest.raises(asyncio.CancelledError):
        await fut
    assert await settled_async(sb, FIND, ["aborted"]) == ["aborted"]
    # The client is still usable.
    assert (await Person.find_async(email=target["email"], client=client)).id == target["id"]


async def test_wait_for_timeout_drops_the_request(sb: Sandbox, client: amplemarket.Client, target: dict) -> None:
    sb.script(FIND, [{"status": 200, "delay": 10}])
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(Person.find_async(email=target["email"], client=client), timeout=0.3)
    assert await settled_async(sb, FIND, ["aborted"]) == ["aborted"]


async def test_create_task_accepts_the_awaitable(sb: Sandbox, client: amplemarket.Client, target: dict) -> None:
    sb.script(FIND, [{"status": 200, "delay": 10}])
    task = asyncio.create_task(Person.find_async(email=target["email"], client=client))  # type: ignore[arg-type]
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await settled_async(sb, FIND, ["aborted"]) == ["aborted"]


# -- closing with a call in flight ---------------------------------------------------------------------------------


def test_close_from_another_thread_ends_a_blocking_call(sb: Sandbox, target: dict[str, Any]) -> None:
    sb.script(FIND, [{"status": 200, "delay": 3}])
    c = sb.client(rate_limit=False)
    closer = threading.Thread(
        target=lambda: (wait_for(lambda: outcomes(sb, FIND) == ["pending"]), time.sleep(0.2), c.close())
    )
    closer.start()
    try:
        with pytest.raises(amplemarket.ClientClosedError):
            Person.find(email=target["email"], client=c)
    finally:
        closer.join()
    assert settled(sb, FIND, ["aborted"]) == ["aborted"]


async def test_close_ends_an_awaited_call(sb: Sandbox, target: dict[str, Any]) -> None:
    sb.script(FIND, [{"status": 200, "delay": 3}])
    c = sb.client(rate_limit=False)
    fut = asyncio.ensure_future(Person.find_async(email=target["email"], client=c))
    await asyncio.sleep(0.3)
    c.close()
    with pytest.raises(amplemarket.ClientClosedError):
        await fut
    assert await settled_async(sb, FIND, ["aborted"]) == ["aborted"]


# -- fork --------------------------------------------------------------------------------------------------------------


@posix_only
def test_fork_child_can_use_the_client(sb: Sandbox, with_email: list[dict[str, Any]]) -> None:
    c = sb.client(rate_limit=False)
    amplemarket.set_default_client(c)
    company = sb.companies[0]
    # The parent has used the client (pool, runtime) in both forms before forking.
    assert Person.find(email=with_email[0]["email"], client=c) is not None
    assert call("async", Person, "find", email=with_email[1]["email"], client=c) is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # "fork() in a multi-threaded process"
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        ok = False
        try:
            a = Person.find(email=with_email[2]["email"], client=c)
            b = Person.find(email=with_email[3]["email"])  # the default client
            d = call("async", Person, "find", email=with_email[4]["email"], client=c)
            e = Company.find(domain=domain_of(company))
            ok = (a.id, b.id, d.id, e.id) == (
                with_email[2]["id"],
                with_email[3]["id"],
                with_email[4]["id"],
                company["id"],
            )
        except BaseException:
            ok = False
        finally:
            os._exit(0 if ok else 1)
    deadline = time.monotonic() + 30
    status = None
    while time.monotonic() < deadline:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            break
        time.sleep(0.02)
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung")
    assert os.waitstatus_to_exitcode(status) == 0
    # The parent still works too.
    assert Person.find(email=with_email[6]["email"], client=c) is not None
    c.close()


# -- threads, concurrency, the GIL -------------------------------------------------------------------------------------


def test_one_client_from_many_threads(sb: Sandbox, client: amplemarket.Client, with_email: list[dict]) -> None:
    targets = with_email[:200]

    def find(t: dict[str, Any]) -> str | None:
        p = Person.find(email=t["email"], reveal_email=True, client=client)
        return None if p is None else p.email

    with ThreadPoolExecutor(max_workers=16) as pool:
        emails = list(pool.map(find, targets))
    assert emails == [t["email"] for t in targets]
    assert len(sent(sb, FIND)) == 200


async def test_many_concurrent_awaits_on_one_client(
    sb: Sandbox, client: amplemarket.Client, with_email: list[dict]
) -> None:
    targets = with_email[200:400]
    found = await asyncio.gather(*(Person.find_async(email=t["email"], client=client) for t in targets))
    assert [p.id for p in found] == [t["id"] for t in targets]
    assert len(sent(sb, FIND)) == 200


def test_blocking_call_releases_the_gil(sb: Sandbox, client: amplemarket.Client, target: dict[str, Any]) -> None:
    sb.script(FIND, [{"status": 200, "delay": 1}])
    stop = threading.Event()
    count = 0

    def spin() -> None:
        nonlocal count
        while not stop.is_set():
            count += 1

    t = threading.Thread(target=spin)
    t.start()
    try:
        assert Person.find(email=target["email"], client=client) is not None
    finally:
        stop.set()
        t.join()
    assert count > 10_000  # the other thread ran while the call waited


# -- Jupyter: blocking calls inside a running event loop -----------------------------------------------------------


async def test_blocking_calls_work_inside_a_running_loop(
    sb: Sandbox, client: amplemarket.Client, target: dict[str, Any]
) -> None:
    asyncio.get_running_loop()  # as in a notebook cell
    assert Person.find(email=target["email"], client=client).id == target["id"]
    assert Company.find(domain=domain_of(target["company"]), client=client) is not None
    assert len(Person.search(person_titles="Engineer", page_size=2, client=client)) == 2
    assert len(list(Person.search_iter(person_titles="Engineer", page_size=2, max_results=3, client=client))) == 3
    assert client.account_info()["object"] == "account_info"


async def test_blocking_call_while_an_awaitable_is_pending(
    sb: Sandbox, client: amplemarket.Client, with_email: list[dict]
) -> None:
    pending = asyncio.ensure_future(Person.find_async(email=with_email[0]["email"], client=client))
    blocking = Person.find(email=with_email[1]["email"], client=client)
    assert blocking.id == with_email[1]["id"]
    assert (await pending).id == with_email[0]["id"]


def test_awaitables_work_across_event_loops(client: amplemarket.Client, target: dict[str, Any]) -> None:
    for _ in range(3):  # a fresh loop each time, as asyncio.run makes
        assert call("async", Person, "find", email=target["email"], client=client).id == target["id"]
