"""Whole batches from a faust agent's topic, with the least faust work per message.

faust stays the live consumer: its consumer fetches, its conductor turns every record into a faust
`Event` and puts it on the agent's topic queue, its group membership assigns the partitions, and
offsets are committed from the messages acknowledged here (never before the Projector applied
them), as with any agent. What this skips is faust's `Stream` machinery between that queue and
the agent, per message: `take_events` runs every message through the stream's iterator (a loop
turn with `sleep(0)`, the context variable, the processor chain with `take_events`' own
`add_to_buffer` coroutine, `on_merge`, the sensors) and then acks it through `Stream.ack`; and it
stops moving messages into the next batch while the handler runs. Here a batch is what the queue
holds when the previous batch is done (up to `max_`), taken with `get_nowait`;
while the handler runs the queue keeps filling (bounded by faust's own backpressure), so under a
backlog every batch is full at once; otherwise the batch waits at most `within` after its first
message for more (a few milliseconds: a lone event is not held for a whole window of a stalled stream).

Per message, what the stream did that still matters is done here, in bulk:
- a message fetched before the current rebalance (its `generation_id` is not the consumer's), or
  taken while faust's flow control is suspended (a rebalance in progress), is dropped unacked: the
  consumer fetches it again from the committed offset (the stream acked such messages; not acking
  is the safe side: nothing is committed that was not applied);
- the others are tracked as unacked (faust then waits for them at a revocation before it commits,
  `Consumer.wait_empty`) and acked after the batch is applied, which is what commits them.

The acks are explicit (`apply_in_order`): the agent prepares batch N+1 (decode and project, pure
CPU) while batch N is being applied (its Redis round trips and the previous batch's publish), and
acks N when its apply has returned, not when N+1 is asked for. Applies stay one at a time and in
batch order, so a batch's facts are read after the previous batch's write, and change records go
out in batch order.

Measured (bench/RESULTS.md, the faust floor with an agent that only counts): with faust's stock
consumer the CPU per message is about the same either way (71-77 us: most of faust's cost was
before the queue, a `wait_first` per message in its drain loop); what changed here is that faust
keeps filling the queue while the Projector works, so the two overlap, and that a batch no longer
waits for a window that a stalled stream cannot fill (quick runs: freshness p50/p99 34/56 -> 22/31
ms). The cost before the queue is cut by the projector's consumer (projectors/faust_consumer.py:
faust's drain loop without a task per message), which keeps faust's fetching and rebalances.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TypeVar

import faust

# A batch is cut when no message came for this long: what arrives in one burst (a fetch, a
# producer's linger) goes together, and a lone event is not held for a whole window.
IDLE_S = 0.002

# How long a cancelled `apply_in_order` waits for the apply in flight before it cancels it.
STOP_WAIT_S = 5.0
E = TypeVar("E")
P = TypeVar("P")


async def batches(app: faust.App, stream: faust.StreamT, max_: int, within: float) -> AsyncIterator[Sequence[Any]]:
    """Yield lists of faust events of `stream`'s topic: what the queue holds, up to `max_`, and
    what follows within `IDLE_S` of the last, for at most `within` seconds after the first. The
    events are tracked as unacked; the caller acks each batch once applied (`apply_in_order`)."""
    channel: Any = stream.channel.__aiter__()  # the topic's iterating clone, registered with the conductor
    queue = channel.queue
    consumer = app.consumer
    flow = app.flow_control
    loop = asyncio.get_running_loop()
    while not stream.should_stop:
        try:
            taken = await _gather(queue, max_, within, loop)
        except StopAsyncIteration:
            # faust throws this into the queue's getters when the stream stops (a worker's
            # shutdown): the end of the batches, not the agent's crash that an async generator
            # turns it into. What was taken is neither applied nor acked: fetched again.
            return
        generation = app.consumer_generation_id
        events = [e for e in taken if e.message.generation_id == generation] if flow.is_active() else []
        if not events:
            continue
        unacked = consumer.unacked
        for e in events:
            m = e.message
            if not m.tracked:
                m.tracked = True
                unacked.add(m)
        yield events


async def _gather(queue: Any, max_: int, within: float, loop: asyncio.AbstractEventLoop) -> list[Any]:
    """The queue's first message, then what it holds and what follows within `IDLE_S` of the last,
    up to `max_`, for at most `within` after the first."""
    taken = [await queue.get()]
    deadline = loop.time() + within
    # One timeout for the whole gathering, moved to `IDLE_S` after each wait's start (a new
    # timeout per message showed in the profile).
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout_at(deadline) as timeout:
            while len(taken) < max_:
                if not queue.empty():
                    taken.append(queue.get_nowait())
                    continue
                timeout.reschedule(min(deadline, loop.time() + IDLE_S))
                taken.append(await queue.get())
    return taken


async def apply_in_order(
    batches: AsyncIterator[Sequence[E]],
    prepare: Callable[[Sequence[E]], Awaitable[P]],
    apply: Callable[[Sequence[E], P], Awaitable[object]],
) -> None:
    """Apply every batch of `batches`, `prepare(batch)` then `apply(batch, prepared)`, and ack its
    events (`event.ack()`) once its apply returned. A batch is prepared while the previous one is
    applied (the apply waits on Redis and Kafka most of its time; the prepare is CPU), but applies
    run one at a time in batch order: the next starts only after the previous returned.

    A failing apply acks nothing of its batch and wakes this loop even while it waits for the next
    batch, which then ends with that error; the batch prepared meanwhile is not applied nor acked
    (both are fetched again). When `batches` ends the apply in flight is awaited; when this loop is
    cancelled (a worker's shutdown), it is given `STOP_WAIT_S` to finish, then cancelled: what it
    applied is acked, else nothing of its batch.
    """
    me = asyncio.current_task()
    applying: asyncio.Task[object] | None = None

    def done(events: Sequence[Any], task: asyncio.Task[object]) -> None:
        if task.cancelled():
            return
        if task.exception() is None:
            for e in events:
                e.ack()
        elif me is not None:
            me.cancel()  # raised below as the apply's own error

    try:
        async for events in batches:
            prepared = await prepare(events)
            if applying is not None:
                await asyncio.shield(applying)  # a cancellation of this loop is handled below
            applying = asyncio.create_task(_run(apply(events, prepared)))
            applying.add_done_callback(partial(done, events))
            await asyncio.sleep(0)  # the apply's first request goes out before the next batch is gathered
        if applying is not None:
            await asyncio.shield(applying)
    except asyncio.CancelledError:
        failed = applying.exception() if applying is not None and applying.done() and not applying.cancelled() else None
        if failed is not None:
            raise failed from None
        raise
    finally:
        if applying is not None and not applying.done():
            # Cancelled (a worker's shutdown): the apply in flight may finish (and be acked), for a
            # while: it retries without end while Redis or Kafka is away.
            with contextlib.suppress(Exception, asyncio.TimeoutError):
                await asyncio.wait_for(applying, timeout=STOP_WAIT_S)


async def _run(apply: Awaitable[object]) -> object:
    return await apply
