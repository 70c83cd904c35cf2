"""Glue between the Rust core's asyncio futures and Python coroutines."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def coroutine(future: Awaitable[T]) -> T:
    """Awaits ``future``: makes the ``*_async`` methods return real coroutines (``asyncio.create_task`` accepts
    them). The work has already started; cancelling the awaiting task cancels ``future`` and so the request."""
    return await future
