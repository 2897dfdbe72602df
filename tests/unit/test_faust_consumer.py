"""projectors/faust_consumer.py's eager start: a delivery that never waits runs to its end in the
drain loop without a task; one that waits continues as a task exactly as asyncio would run it
(results, exceptions and cancellation reach the coroutine where it waits)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from faust.types import TP

from projectors import faust_consumer
from projectors.app import faust_app
from projectors.faust_consumer import run_eagerly
from readmodels.settings import Settings


async def test_a_coroutine_that_never_waits_finishes_in_the_call_without_a_task() -> None:
    done: list[int] = []
    lock = asyncio.Lock()

    async def deliver() -> None:
        async with lock:  # awaits that do not suspend (the conductor's callback takes a lock too)
            done.append(1)

    tasks = len(asyncio.all_tasks())
    assert run_eagerly(deliver()) is None
    assert done == [1]
    assert len(asyncio.all_tasks()) == tasks


async def test_an_exception_before_any_wait_is_raised_by_the_call() -> None:
    async def deliver() -> None:
        raise ValueError("bad")

    with pytest.raises(ValueError, match="bad"):
        run_eagerly(deliver())


async def test_a_coroutine_that_waits_continues_as_a_task_with_what_it_awaited() -> None:
    loop = asyncio.get_running_loop()
    first: asyncio.Future[str] = loop.create_future()
    second: asyncio.Future[str] = loop.create_future()
    steps: list[str] = []

    async def deliver() -> str:
        steps.append("start")
        steps.append(await first)
        await asyncio.sleep(0)  # a bare yield to the loop
        steps.append(await second)
        return "end"

    rest = run_eagerly(deliver())
    assert rest is not None and steps == ["start"]
    loop.call_soon(first.set_result, "a")
    loop.call_later(0.01, second.set_result, "b")
    assert await rest == "end"
    assert steps == ["start", "a", "b"]


async def test_an_exception_after_a_wait_ends_the_task() -> None:
    loop = asyncio.get_running_loop()
    waited: asyncio.Future[None] = loop.create_future()

    async def deliver() -> None:
        await waited
        raise KeyError("late")

    rest = run_eagerly(deliver())
    assert rest is not None
    waited.set_exception(RuntimeError("from the future"))
    with pytest.raises(RuntimeError, match="from the future"):
        await rest


async def test_cancelling_the_task_cancels_the_coroutine_where_it_waits() -> None:
    loop = asyncio.get_running_loop()
    never: asyncio.Future[None] = loop.create_future()
    seen: list[str] = []

    async def deliver() -> None:
        try:
            await never
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise
        finally:
            seen.append("finally")

    rest = run_eagerly(deliver())
    assert rest is not None
    await asyncio.sleep(0)
    rest.cancel()
    with pytest.raises(asyncio.CancelledError):
        await rest
    assert seen == ["cancelled", "finally"]
    assert never.cancelled()


async def test_a_coroutine_may_handle_the_cancellation_and_still_return() -> None:
    loop = asyncio.get_running_loop()
    never: asyncio.Future[None] = loop.create_future()

    async def deliver() -> str:
        try:
            await never
        except asyncio.CancelledError:
            return "handled"
        return "unreachable"

    rest = run_eagerly(deliver())
    assert rest is not None
    await asyncio.sleep(0)
    rest.cancel()
    assert await rest == "handled"


# The drain loop itself, on the consumer of the projector's app (never started: no broker), fed one
# fetched batch by a stand-in `getmany`, delivering to a stand-in conductor callback; each case
# also on faust's stock consumer, which must behave the same.
STOCK = pytest.mark.parametrize("stock", [False, True], ids=["drain", "stock"])

@dataclass
class _Message:
    topic: str
    partition: int
    offset: int
    key: bytes = b"k"
    value: bytes = b"v"


def _consumer_with(batch: list[_Message], callback: Callable[[Any], Awaitable[None]], stock: bool) -> tuple[Any, Any]:
    consumer = faust_app(Settings(kafka_bootstrap="127.0.0.1:1"), "g-unit-drain", stock_consumer=stock).consumer
    assert isinstance(consumer, faust_consumer.Consumer) != stock
    fetcher = SimpleNamespace(_stopped=asyncio.Event())

    async def getmany(**_: float) -> AsyncIterator[tuple[TP, _Message]]:  # faust passes timeout=
        for m in batch:
            yield TP(m.topic, m.partition), m
        fetcher._stopped.set()  # one fetch, then the fetcher stops

    consumer.getmany = getmany
    consumer.callback = callback
    return consumer, fetcher


@STOCK
async def test_the_drain_delivers_in_order_and_waits_for_a_delivery_that_waits(stock: bool) -> None:
    delivered: list[int] = []

    async def callback(m: _Message) -> None:
        if m.offset == 1:
            await asyncio.sleep(0.01)  # a full queue, say
        delivered.append(m.offset)

    consumer, fetcher = _consumer_with([_Message("t", 0, n) for n in range(3)], callback, stock)
    await consumer._drain_messages(fetcher)
    assert delivered == [0, 1, 2]
    assert consumer._read_offset[TP("t", 0)] == 2


@STOCK
async def test_a_suspended_flow_cuts_off_a_delivery_that_waits_as_faust_does(stock: bool) -> None:
    delivered: list[int] = []
    cancelled: list[int] = []
    never = asyncio.get_running_loop().create_future()

    async def callback(m: _Message) -> None:
        if m.offset == 1:
            try:
                await never  # e.g. flow control, suspended by a rebalance
            except asyncio.CancelledError:
                cancelled.append(m.offset)
                raise
        delivered.append(m.offset)

    consumer, fetcher = _consumer_with([_Message("t", 0, n) for n in range(3)], callback, stock)
    asyncio.get_running_loop().call_later(0.01, consumer.stop_flow)
    await asyncio.wait_for(consumer._drain_messages(fetcher), timeout=5)
    assert cancelled == [1]
    assert 1 not in delivered
    assert consumer._read_offset[TP("t", 0)] == 2  # faust's read offset too; the seek after the rebalance resets it


@STOCK
async def test_a_delivery_that_fails_ends_the_drain_as_in_faust(stock: bool) -> None:
    async def callback(m: _Message) -> None:
        raise RuntimeError("conductor failed")

    consumer, fetcher = _consumer_with([_Message("t", 0, 0)], callback, stock)
    with pytest.raises(RuntimeError, match="conductor failed"):
        await consumer._drain_messages(fetcher)
