"""What a ``*_async`` call returns: a coroutine whose Rust future is already running, settled on its event loop in
batches. These tests pin what that object promises beyond ``await``: it is a coroutine to asyncio, it cannot be
awaited twice, closing or dropping it drops the request, and it works on every kind of loop (several at once in
several threads, one that cannot watch sockets, one that takes no attributes)."""

from __future__ import annotations

import asyncio
import gc
import selectors
import threading
from typing import Any

import pytest
from support import FIND, sent

import amplemarket
from amplemarket import Person
from amplemarket.testing import Sandbox


def outcomes(sb: Sandbox) -> list[str]:
    return [r["outcome"] for r in sent(sb, FIND)]


async def until(sb: Sandbox, expected: list[str], timeout: float = 5.0) -> list[str]:
    """The find requests' outcomes once they are ``expected`` (or after ``timeout``), polling without blocking."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline and outcomes(sb) != expected:
        await asyncio.sleep(0.02)
    return outcomes(sb)


async def test_the_awaitable_is_a_coroutine(client: amplemarket.Client, with_email: list[dict[str, Any]]) -> None:
    aw = Person.find_async(email=with_email[0]["email"], client=client)
    assert asyncio.iscoroutine(aw)
    assert (await aw).id == with_email[0]["id"]
    with pytest.raises(RuntimeError, match="already awaited"):
        await aw


async def test_closing_the_awaitable_drops_the_request(
    sb: Sandbox, client: amplemarket.Client, with_email: list
) -> None:
    sb.script(FIND, [{"status": 200, "delay": 10}])
    aw = Person.find_async(email=with_email[0]["email"], client=client)
    assert await until(sb, ["pending"]) == ["pending"]
    aw.close()  # type: ignore[attr-defined]
    assert await until(sb, ["aborted"]) == ["aborted"]


async def test_dropping_an_unawaited_awaitable_drops_the_request(
    sb: Sandbox, client: amplemarket.Client, with_email: list
) -> None:
    sb.script(FIND, [{"status": 200, "delay": 10}])
    aw = Person.find_async(email=with_email[0]["email"], client=client)
    assert await until(sb, ["pending"]) == ["pending"]
    del aw
    gc.collect()
    assert await until(sb, ["aborted"]) == ["aborted"]


async def test_errors_keep_their_types(sb: Sandbox, with_email: list[dict[str, Any]]) -> None:
    bad = amplemarket.Client(api_key="amp_wrong_key_0000", base_url=sb.url, rate_limit=False, max_retries=0)
    with pytest.raises(amplemarket.AuthenticationError):
        await Person.find_async(email=with_email[0]["email"], client=bad)
    results = await asyncio.gather(
        Person.find_async(email=with_email[0]["email"], client=bad),
        Person.find_async(email=with_email[1]["email"], client=bad),
        return_exceptions=True,
    )
    assert all(isinstance(r, amplemarket.AuthenticationError) for r in results)


def test_several_loops_in_several_threads_at_once(client: amplemarket.Client, with_email: list) -> None:
    targets = with_email[:240]
    found: dict[int, list[list[str]]] = {}
    start = threading.Barrier(4)

    async def find_all(mine: list[dict[str, Any]]) -> list[str]:
        people = await asyncio.gather(*(Person.find_async(email=t["email"], client=client) for t in mine))
        return [p.id for p in people]

    def worker(k: int) -> None:
        mine = targets[k::4]
        start.wait()
        # Two loops one after the other in each thread, while the other threads run theirs.
        found[k] = [asyncio.run(find_all(mine)) for _ in range(2)]

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert found == {k: [[t["id"] for t in targets[k::4]]] * 2 for k in range(4)}


class NoReaderLoop(asyncio.SelectorEventLoop):
    """A loop that cannot watch sockets, like Windows' proactor loop."""

    def add_reader(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError


class NoAttributeLoop(asyncio.SelectorEventLoop):
    """A loop that takes no new attributes, like uvloop's."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_amplemarket"):
            raise AttributeError(name)
        super().__setattr__(name, value)


@pytest.mark.parametrize("make_loop", [NoReaderLoop, NoAttributeLoop], ids=["no-add-reader", "no-attributes"])
def test_other_kinds_of_loop(make_loop: Any, sb: Sandbox, client: amplemarket.Client, with_email: list) -> None:
    async def run() -> None:
        people = await asyncio.gather(*(Person.find_async(email=t["email"], client=client) for t in with_email[:50]))
        assert [p.id for p in people] == [t["id"] for t in with_email[:50]]
        assert (await Person.find_async(email=with_email[0]["email"], client=client)).id == with_email[0]["id"]
        sb.script(FIND, [{"status": 200, "delay": 10}])
        task = asyncio.create_task(Person.find_async(email=with_email[1]["email"], client=client))  # type: ignore[arg-type]
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while loop.time() < deadline and outcomes(sb)[-1] != "aborted":
            await asyncio.sleep(0.02)
        assert outcomes(sb)[-1] == "aborted"

    for _ in range(2):  # a second loop of the same kind
        loop = make_loop(selectors.DefaultSelector())
        try:
            loop.run_until_complete(run())
        finally:
            loop.close()
