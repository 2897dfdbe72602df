"""faust's aiokafka consumer with a drain loop that delivers a fetched message without a task when
nothing makes it wait.

faust's `Consumer._drain_messages` (faust/transport/consumer.py) runs in the worker's loop, fed
by its consumer thread's `getmany`. Per message it keeps the read offset and the gaps, commits
every `broker_commit_every` acks, and hands the message to the conductor's callback (flow control,
the producer's backpressure, decoding into an `Event`, the channel's queue with its pressure
callbacks) as `await self.wait_first(callback(message), self.suspend_flow.wait())`: mode's
`wait_first` makes four tasks (the callback, the suspended flow, the service's stopped and
crashed events), waits for the first with `asyncio.wait` and cancels the other three. That is
for the rare callback that has to wait (a full queue, a suspended flow, a full producer buffer):
a rebalance (`stop_flow`) must be able to cut it off, so that no message of the old assignment is
put on a queue after the queues were cleared and the offsets sought back. But almost every
callback never waits, and the four tasks and their loop turns were about a third of the faust
floor's CPU (py-spy of bench/faust_consume.py: `wait_first` and its tasks ~21% of the samples
plus the loop's own scheduling of them).

Here the same callback coroutine is started in the drain loop itself (`run_eagerly`: one
`send(None)`, what Python 3.12's eager tasks do). If it finishes there, which is when it never
had to wait, it did exactly what the stock task did, and no task exists. If it has to wait, the
rest of it becomes a task and the drain waits for it as faust does,
`wait_first(rest, suspend_flow.wait())`, so a rebalance still cuts it off (the task is cancelled
at the point where it waits, as faust's own callback task would be). Everything else is faust's:
the thread, `getmany` (it stops a batch when the flow stops or the generation changes), read
offsets and gaps (a message's read offset is set once its delivery finished or was cut off, as
before), `commit_every`, the error handling, and faust's `sleep(0)` every 100 messages, which is
now the only turn the drain gives the loop when nothing waits (the stock loop also gave one per
message inside `wait_first`): 100 deliveries of a few us each hold the loop ~1 ms.
Nothing changes for acks or commits: the conductor still puts each message's `Event` on the
topic's queue, `projectors/faust_batches.py` tracks and acks it after the Projector applied it,
and faust's `wait_empty` still waits for those at a revocation.

Measured (bench/RESULTS.md, CPU per event on a shared machine): faust's floor with the projector's
batches 96-103 -> 21-28 us; the live worker 172-260 -> 109-140 us (a fetch now reaches the queue in
one loop turn, so the Projector's batches fill and its per-batch work is shared by more events).

Why written here: faust-streaming 0.15 offers no setting for it, and asyncio's eager tasks
(`asyncio.eager_task_factory`) are Python 3.12's, not 3.11's; a transport's `Consumer` class
is its extension point, and the projector's app picks the transport by the scheme of its
`broker_consumer` URL (registered under faust's own `faust.transports` entry point group in
pyproject.toml), so faust modules are not patched and other faust apps in the process keep the
stock consumer.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import AsyncIterator, Awaitable, Coroutine, Generator
from typing import Any, cast

from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as faust_aiokafka
from mode import Service, ServiceT

# The broker URL scheme of `Transport` (pyproject.toml, [project.entry-points."faust.transports"]).
SCHEME = "lp-kafka"
YIELD_EVERY = 100  # messages between two turns given to the loop (faust's own figure)
# While some partitions are paused for a full queue, a fetch waits this long at most for the
# others (faust: 1 s), so that the paused ones are fetched soon after the queue drains.
BUFFERED_POLL_S = 0.02
# The longest a fetch waits at the broker for records that are not there yet (faust: 1.5 s; the
# broker answers at once when any fetched partition has records). `ConsumerThread` says why.
FETCH_MAX_WAIT_MS = 100


@types.coroutine
def _finish(coro: Coroutine[Any, Any, Any], waiting: Any) -> Generator[Any, Any, Any]:
    """The rest of `coro`, which already yielded `waiting` to the loop: the steps asyncio's
    `Task` would take (hand the awaited future up, resume or throw into the coroutine)."""
    while True:
        thrown: BaseException | None = None
        sent: Any = None
        try:
            sent = yield waiting
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as exc:  # a cancellation (or anything thrown in) goes to the coroutine
            thrown = exc
        try:
            waiting = coro.send(sent) if thrown is None else coro.throw(thrown)
        except StopIteration as stop:
            return stop.value


def run_eagerly(coro: Coroutine[Any, Any, Any]) -> asyncio.Future[Any] | None:
    """Run `coro` up to its first wait. None when it finished there (its exception, if any, is
    raised here); else a task that runs the rest."""
    try:
        waiting = coro.send(None)
    except StopIteration:
        return None
    return asyncio.ensure_future(_finish(coro, waiting))


class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """faust's consumer thread, with fetches that wait at most `FETCH_MAX_WAIT_MS` at the broker.

    aiokafka has one fetch in flight per broker, and it leaves out of a fetch the partitions whose
    fetched records are not consumed yet. Those of a partition faust has paused for a full queue
    (`on_buffer_full`: under a backlog, the normal state) wait there; after aiokafka's prefetch
    backoff (0.1 s) it fetches the broker's other partitions without them. When those others have
    nothing new (caught up, or quiet topics), that fetch waits at the broker for data, and faust
    sets that wait to 1.5 s (`fetch_max_wait_ms=1500`, not a setting). Meanwhile the paused
    partition is resumed and its records consumed, but its next fetch waits for the one in flight:
    the agent ran its queue dry and waited up to 1.5 s, again and again, whenever one partition
    had a backlog and the others did not (a worker's share of the history's last partitions, or a
    live partition catching up). Measured (bench/RESULTS.md, quick runs): two workers 15.8-16.2 k
    -> 18.8-22.4 k events/s (1.31-1.55 -> 1.50-1.67 x one worker); fetches that waited ~1 s, about
    once a second, are gone. The cost is one empty fetch per `FETCH_MAX_WAIT_MS` while a worker is
    idle; new records still answer a waiting fetch at once, so no event waits longer for it.

    aiokafka reads `fetch_max_wait_ms` from the consumer when it starts its fetcher; faust passes
    its own to the constructor, so it is set on the consumer between the two (aiokafka pinned in
    pyproject.toml; tests/integration/test_faust_fetch.py checks the fetcher has it)."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class Consumer(faust_aiokafka.Consumer):
    """faust's aiokafka consumer; the drain loop differs (module docstring), so does the wait for
    records while partitions are paused for a full queue (`_wait_next_records`), and its thread's
    fetches wait less at the broker (`ConsumerThread`)."""

    def _new_consumer_thread(self) -> ConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def _wait_next_records(self, timeout: float) -> tuple[Any, Any]:  # noqa: ASYNC109 (faust's signature)
        """faust's, except while partitions are paused because the topic's queue is full
        (`on_buffer_full`; under a backlog that is the normal state: the consumer fills the queue
        faster than the Projector applies it). faust then fetches only the other partitions and
        waits up to `timeout` (1 s) for their records, or, when all are paused, sleeps 1 s; the
        paused ones are resumed as the agent drains the queue (`on_buffer_drop`) but fetched only
        after that wait, so the agent ran the queue dry and waited, again and again (bench/RESULTS.md,
        round 5: 0.67 -> 0.91 x the faust floor). Here either wait is `BUFFERED_POLL_S` at most
        while any partition is paused."""
        if self._buffered_partitions:
            timeout = min(timeout, BUFFERED_POLL_S)
            if self.flow_active and not self.app.client_only and not self._get_active_partitions():
                await self.sleep(timeout)  # faust's sleep(1) with every partition paused
                return {}, set()
        return cast(tuple[Any, Any], await super()._wait_next_records(timeout))

    async def _drain_messages(self, fetcher: ServiceT) -> None:  # the shape of faust's own
        callback = self.callback
        getmany = self.getmany
        consumer_should_stop = cast(Service, self)._stopped.is_set
        fetcher_should_stop = cast(Service, fetcher)._stopped.is_set
        get_read_offset = self._read_offset.__getitem__
        set_read_offset = self._read_offset.__setitem__
        set_flag = self.diag.set_flag
        unset_flag = self.diag.unset_flag
        commit_every = self._commit_every
        acks_enabled_for = self.app.topics.acks_enabled_for
        suspended = self.suspend_flow
        since_yield = 0
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                set_flag(CONSUMER_FETCHING)
                ait = cast(AsyncIterator[Any], getmany(timeout=1.0))
                await self.sleep(0)  # getmany may return at once, again and again
                if not self.should_stop:
                    async for tp, message in ait:
                        since_yield += 1
                        if since_yield > YIELD_EVERY:
                            await asyncio.sleep(0)
                            since_yield = 0
                        offset = message.offset
                        r_offset = get_read_offset(tp)
                        if r_offset is None or offset >= r_offset:
                            gap = offset - (r_offset or 0)
                            if gap > 1 and r_offset and acks_enabled_for(message.topic):
                                await self._add_gap(tp, r_offset + 1, offset)
                            if commit_every is not None and self._n_acked >= commit_every:
                                self._n_acked = 0
                                await self.commit()
                            rest = run_eagerly(cast(Coroutine[Any, Any, None], callback(message)))
                            if rest is not None:
                                await self.wait_first(cast(Awaitable[Any], rest), suspended.wait())
                            set_read_offset(tp, offset)
                        else:
                            self.log.dev("DROPPED MESSAGE ROFF %r: k=%r v=%r", offset, message.key, message.value)
                    unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                self.log.info("Broker stopped consumer, shutting down...")
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                self.log.info("Consumer shutting down for user cancel.")
                return
            raise
        except Exception as exc:
            self.log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            unset_flag(CONSUMER_FETCHING)


class Transport(faust_aiokafka.Transport):
    """faust's aiokafka transport with the consumer above."""

    Consumer = Consumer
