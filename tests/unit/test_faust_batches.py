"""faust_batches.apply_in_order without faust: a batch is prepared while the previous one is
applied, applies run one at a time in batch order, and a batch's events are acked only once its
apply returned; a failing or interrupted apply acks nothing it did not apply (the unacked messages
are fetched again, so a crash between prepare and apply loses nothing). Also: the live agent's
sliced prepare gives what the one-piece prepare gives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from events import encode
from projectors.faust_batches import apply_in_order
from projectors.pipeline import RawMessage, prepare, prepare_in_slices
from tests.builders import enrollment


class FakeEvent:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log
        self.acked = False

    def ack(self) -> bool:
        self.acked = True
        self.log.append(f"ack {self.name}")
        return True


class Feed:
    """Batches handed out as the test puts them; `None` ends the feed."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[list[FakeEvent] | None] = asyncio.Queue()

    async def batches(self) -> AsyncIterator[Sequence[FakeEvent]]:
        while (batch := await self.queue.get()) is not None:
            yield batch


class Steps:
    """prepare/apply that log what they do; an apply waits until the test releases its batch."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.release: dict[str, asyncio.Event] = {}
        self.fail: set[str] = set()

    async def prepare(self, batch: Sequence[FakeEvent]) -> str:
        name = batch[0].name[0]
        self.log.append(f"prepare {name}")
        return name

    async def apply(self, batch: Sequence[FakeEvent], prepared: str) -> None:
        self.log.append(f"apply {prepared}")
        await self.release.setdefault(prepared, asyncio.Event()).wait()
        if prepared in self.fail:
            self.log.append(f"failed {prepared}")
            raise RuntimeError(f"apply of {prepared} failed")
        self.log.append(f"applied {prepared}")

    def let(self, name: str) -> None:
        self.release.setdefault(name, asyncio.Event()).set()


def events(name: str, log: list[str], n: int = 2) -> list[FakeEvent]:
    return [FakeEvent(f"{name}{i}", log) for i in range(n)]


def start(feed: Feed, steps: Steps, *batches: list[FakeEvent]) -> asyncio.Task[None]:
    """`apply_in_order` over `feed` with `steps`, as a task, `batches` fed in that order."""
    run = asyncio.create_task(apply_in_order(feed.batches(), steps.prepare, steps.apply))
    for batch in batches:
        feed.queue.put_nowait(batch)
    return run


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_the_next_batch_is_prepared_while_one_is_applied_and_each_is_acked_only_once_applied() -> None:
    log: list[str] = []
    feed, steps = Feed(), Steps(log)
    a, b = events("a", log), events("b", log)
    run = start(feed, steps, a, b)
    await settle()

    assert log == ["prepare a", "apply a", "prepare b"]  # b prepared, not applied, while a is in flight
    assert not any(e.acked for e in a + b)

    steps.let("a")
    await settle()
    assert log[3:] == ["applied a", "ack a0", "ack a1", "apply b"]
    assert not any(e.acked for e in b)

    steps.let("b")
    feed.queue.put_nowait(None)
    await asyncio.wait_for(run, 1)
    assert log[7:] == ["applied b", "ack b0", "ack b1"]


async def test_a_batch_is_acked_once_applied_even_when_no_next_batch_comes() -> None:
    log: list[str] = []
    feed, steps = Feed(), Steps(log)
    a = events("a", log)
    run = start(feed, steps, a)
    steps.let("a")
    await settle()

    assert all(e.acked for e in a)  # while the loop waits for the next batch
    assert not run.done()
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run


async def test_a_failing_apply_acks_nothing_and_ends_the_loop_while_it_waits_for_a_batch() -> None:
    log: list[str] = []
    feed, steps = Feed(), Steps(log)
    a = events("a", log)
    steps.fail.add("a")
    run = start(feed, steps, a)
    steps.let("a")

    with pytest.raises(RuntimeError, match="apply of a failed"):
        await asyncio.wait_for(run, 1)
    assert not any(e.acked for e in a)


async def test_a_crash_between_prepare_and_apply_leaves_the_prepared_batch_unapplied_and_unacked() -> None:
    log: list[str] = []
    feed, steps = Feed(), Steps(log)
    a, b = events("a", log), events("b", log)
    steps.fail.add("a")
    run = start(feed, steps, a, b)
    await settle()
    assert log == ["prepare a", "apply a", "prepare b"]

    steps.let("a")
    with pytest.raises(RuntimeError, match="apply of a failed"):
        await asyncio.wait_for(run, 1)
    assert "apply b" not in log
    assert not any(e.acked for e in a + b)  # both fetched again from the committed offset


async def test_a_cancelled_loop_lets_the_apply_in_flight_finish_and_acks_only_that_batch() -> None:
    log: list[str] = []
    feed, steps = Feed(), Steps(log)
    a, b = events("a", log), events("b", log)
    run = start(feed, steps, a, b)
    await settle()

    run.cancel()  # a worker's shutdown while a is applied and b prepared
    await settle()
    assert not run.done()  # it waits for a's apply
    steps.let("a")
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(run, 1)
    assert all(e.acked for e in a)
    assert "apply b" not in log
    assert not any(e.acked for e in b)


async def test_prepare_in_slices_gives_what_prepare_gives() -> None:
    topic = "learning-course-enrollment-lifecycle"
    batch = []
    for n in range(23):
        headers, value = encode(enrollment("created", 100 + n))
        bad = n % 7 == 3  # dead letters among them, at slice boundaries too
        batch.append(RawMessage(topic, n % 3, 50 + n, b"k", b"{not json" if bad else value, tuple(headers)))

    whole = prepare(batch)
    for size in (1, 5, 100):
        assert await prepare_in_slices(batch, size=size) == whole
