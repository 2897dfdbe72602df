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
from collections.abc import AsyncIterator, Sequence
from typing import Any

import faust

# A batch is cut when no message came for this long: what arrives in one burst (a fetch, a
# producer's linger) goes together, and a lone event is not held for a whole window.
IDLE_S = 0.002


async def batches(app: faust.App, stream: faust.StreamT, max_: int, within: float) -> AsyncIterator[Sequence[Any]]:
    """Yield lists of faust events of `stream`'s topic: what the queue holds, up to `max_`, and
    what follows within `IDLE_S` of the last, for at most `within` seconds after the first. Each
    batch is acked when the consumer of this generator asks for the next one (after it was applied)."""
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
        for e in events:
            e.ack()


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
