"""projectors/faust_consumer.py's eager start: a delivery that never waits runs to its end in the
drain loop without a task; one that waits continues as a task exactly as asyncio would run it
(results, exceptions and cancellation reach the coroutine where it waits)."""

from __future__ import annotations

import asyncio

import pytest

from projectors.faust_consumer import run_eagerly


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
