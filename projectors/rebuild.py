"""Rebuild: project the full retained history into a new generation beside the serving one, then
switch the API to it and hand live projection over, without losing or double-applying an event.

Consumer choice: a plain aiokafka consumer loop calling the same `Projector` the faust agent uses,
not a second faust app. A bounded replay must start at the new generation's own checkpoints (kept
in Redis, written atomically with the data, so a crash resumes exactly), must stop at a moving
target per partition, and must end; faust agents are made for unbounded streams and hide
assignment and seeking. The loop still uses its own consumer group (offsets committed for
operators to see), but positions come from the Redis checkpoints.

Handover (why nothing is lost or published twice):
- the rebuild applies, per partition, only offsets the serving generation has already applied
  (its checkpoints are the target), so every event beyond them is left to the live projector,
  which then applies it and publishes its change records;
- the switch is one Lua script (readmodels/lua/switch.lua): it moves the pointer only if the new
  generation's checkpoints cover the serving one's, so at that instant the new generation holds
  everything the old one does;
- the live projector reads the pointer per batch and again after every write: a batch that raced
  the switch and landed in the old generation is re-applied to the new one (idempotent), so no
  batch ends up only in the retired generation;
- the live projector keeps its consumer group and position; nothing else is handed over.
A crash or Ctrl-C before the switch leaves the serving generation untouched; `<ns>:rebuild` names
the generation in progress, and the next run resumes it (or starts over with `fresh=True`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from redis.asyncio import Redis

from projectors.pipeline import BatchResult, DeadLetter, Projector, RawMessage
from projectors.schema_registry import registry_for
from readmodels import keys, runtime
from readmodels.generations import (
    allocate_generation,
    delete_generation,
    generations,
    serving_generation,
    switch_generation,
)
from readmodels.ops import Checkpoint
from readmodels.replies import text_hash
from readmodels.settings import Settings
from readmodels.writer import RedisWriter

log = logging.getLogger(__name__)


class RebuildError(RuntimeError):
    """The rebuild cannot go on (for instance another rebuild switched the pointer first)."""


@dataclass(frozen=True)
class RebuildPlan:
    generation: int  # the one being built
    source: int  # the serving generation when the rebuild started
    group: str
    resumed: bool


@dataclass
class RebuildProgress:
    done: int = 0
    total: int = 0
    dead_letters: int = 0


@dataclass(frozen=True)
class RebuildOutcome:
    plan: RebuildPlan
    events: int
    switched: bool
    dead_letters: int = 0


class ReplayDeadLetters:
    """A replay does not re-send dead letters: the live projector sent each one when it first saw it."""

    def __init__(self) -> None:
        self.count = 0

    async def send(self, letters: Sequence[DeadLetter]) -> None:
        self.count += len(letters)


_RENEW = """if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"""
_RELEASE = """if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"""
_TAKE_OVER = """if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end return false"""


def _dead_here(holder: dict[str, object]) -> bool:
    """The holder ran on this machine and its process is gone (killed with -9, say)."""
    pid = holder.get("pid")
    if holder.get("host") != socket.gethostname() or not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


@asynccontextmanager
async def rebuild_lock(redis: Redis, ns: str, *, ttl: float = 30.0) -> AsyncIterator[None]:
    """One rebuild per namespace at a time: a Redis key set only if absent, with an expiry that a
    background task renews (every ttl/3) while the rebuild runs, deleted by its owner at the end.
    A second `lp rebuild` fails at once, naming the holder; the lock of a holder that died without
    releasing it is taken over at once on the same machine (its pid is gone), else after `ttl`.
    If the lock is lost anyway (the process stalled past the expiry and another
    rebuild took it), the rebuild is stopped before it can switch the pointer."""
    key = keys.rebuild_lock(ns)
    holder = orjson.dumps({"token": uuid.uuid4().hex, "pid": os.getpid(), "host": socket.gethostname(),
                           "since": datetime.now(UTC).isoformat(timespec="seconds")})
    ms = int(ttl * 1000)
    while not await redis.set(key, holder, nx=True, px=ms):
        raw = await redis.get(key)
        if raw is None:  # expired in between
            continue
        other = orjson.loads(raw)
        if _dead_here(other) and await redis.eval(_TAKE_OVER, 1, key, raw, holder, ms):
            log.warning("took over the rebuild lock of pid %s, which is gone", other.get("pid"))
            break
        raise RebuildError(f"another rebuild is running (pid {other.get('pid', '?')} on {other.get('host', '?')} "
                           f"since {other.get('since', '?')}); it holds {key} (freed {ttl:.0f} s after it dies)")
    main = asyncio.current_task()
    lost = False

    async def renew() -> None:
        nonlocal lost
        while True:
            await asyncio.sleep(ttl / 3)
            try:
                renewed = await redis.eval(_RENEW, 1, key, holder, ms)
            except Exception as exc:  # a Redis blip: the next tick retries, the expiry leaves margin
                log.warning("could not renew the rebuild lock: %r", exc)
                continue
            if not renewed:
                lost = True
                log.error("the rebuild lock %s was lost; stopping this rebuild", key)
                if main is not None:
                    main.cancel()
                return

    renewer = asyncio.create_task(renew())
    try:
        yield
    except asyncio.CancelledError:
        if lost:
            raise RebuildError(f"lost the rebuild lock {key} (stalled longer than {ttl:.0f} s?)") from None
        raise
    finally:
        renewer.cancel()
        await asyncio.gather(renewer, return_exceptions=True)
        try:
            await redis.eval(_RELEASE, 1, key, holder)
        except Exception as exc:  # it expires by itself
            log.warning("could not release the rebuild lock: %r", exc)


async def start_or_resume(redis: Redis, settings: Settings, *, fresh: bool = False) -> RebuildPlan:
    ns = settings.redis_namespace
    serving = await serving_generation(redis, ns)
    raw_state = await redis.hgetall(keys.rebuild_state(ns))
    state = text_hash(raw_state)
    if state:
        gen, source = int(state["generation"]), int(state["source"])
        usable = source == serving and gen != serving and gen in await generations(redis, ns)
        if usable and not fresh:
            return RebuildPlan(gen, source, state["group"], resumed=True)
        if gen != serving:
            await delete_generation(redis, ns, gen, grace_seconds=0)
        await redis.delete(keys.rebuild_state(ns))
    gen = await allocate_generation(redis, ns)
    group = f"{settings.consumer_group}-rebuild-g{gen}"
    await redis.hset(keys.rebuild_state(ns), mapping={"generation": gen, "source": serving, "group": group})
    return RebuildPlan(gen, serving, group, resumed=False)


async def partitions_of(consumer: AIOKafkaConsumer, topics: Sequence[str]) -> list[TopicPartition]:
    """Every partition of `topics`, from fresh metadata (aiokafka's public `topics()` fetches the
    metadata but does not keep it, so `partitions_for_topic` would not know an unsubscribed topic)."""
    cluster = await consumer._client.fetch_all_metadata()
    return [TopicPartition(t, p) for t in topics for p in sorted(cluster.partitions_for_topic(t) or ())]




class ShareOut(Protocol):
    """Replays the partitions with events left (`remaining` per (topic, partition)) elsewhere, calling
    `tick` now and then; returns (events applied, dead letters)."""

    async def __call__(self, settings: Settings, plan: RebuildPlan, remaining: Mapping[tuple[str, int], int],
                       tick: Callable[[], Awaitable[None]]) -> tuple[int, int]: ...


def _field(tp: TopicPartition) -> str:
    return Checkpoint(tp.topic, tp.partition, 0).field


def _raw(record: object) -> RawMessage:
    r = record
    return RawMessage(r.topic, r.partition, r.offset, r.key, r.value, tuple(r.headers or ()))  # type: ignore[attr-defined]


async def run_rebuild(
    redis: Redis,
    settings: Settings,
    plan: RebuildPlan,
    *,
    on_progress: Callable[[RebuildProgress], None] = lambda _p: None,
    switch: bool = True,
    share_out: ShareOut | None = None,
    partitions: Sequence[tuple[str, int]] | None = None,
) -> RebuildOutcome:
    """Replay into `plan.generation` until it covers the serving generation, then switch.

    `share_out` (projectors/rebuild_workers.py `in_workers(n)`): first the partitions are shared
    out among worker processes, each replaying its share up to the serving generation's
    checkpoints; then this loop replays whatever the live projector applied meanwhile and switches,
    as without it. `partitions`: replay only these (a worker's share; never with `switch`)."""
    ns = settings.redis_namespace
    writer = RedisWriter(redis, ns, announce=False, report=False)  # shadow writes wake no API waiter
    letters = ReplayDeadLetters()
    registry = registry_for(settings)
    projector = Projector(writer, letters, plan.generation, registry=registry)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, group_id=plan.group, enable_auto_commit=False,
        auto_offset_reset="earliest", max_partition_fetch_bytes=4 << 20,
    )
    await consumer.start()
    runtime.tune_gc(runtime.BATCH_GC_THRESHOLDS)
    try:
        tps = await partitions_of(consumer, settings.source_topics)
        if partitions is not None:
            share = set(partitions)
            tps = [tp for tp in tps if (tp.topic, tp.partition) in share]
        if not tps:
            raise RebuildError(f"none of the source topics exists: {', '.join(settings.source_topics)}")
        consumer.assign(tps)
        begin = await consumer.beginning_offsets(tps)
        ends = await consumer.end_offsets(tps)
        progress = RebuildProgress()
        if share_out is not None:
            def positions(done: dict[str, int]) -> dict[TopicPartition, int]:
                return {tp: max(done.get(_field(tp), begin[tp]), begin[tp]) for tp in tps}

            async def tick() -> None:  # the workers' progress, from the checkpoints they write
                pos = positions(await writer.checkpoints(plan.generation))
                source = await writer.checkpoints(plan.source)
                progress.done = sum(pos[tp] - begin[tp] for tp in tps)
                progress.total = sum(max(ends[tp], source.get(_field(tp), 0)) - begin[tp] for tp in tps)
                on_progress(progress)

            pos = positions(await writer.checkpoints(plan.generation))
            source = await writer.checkpoints(plan.source)
            remaining = {(tp.topic, tp.partition): source.get(_field(tp), 0) - pos[tp] for tp in tps}
            applied_from_workers, shared_letters = await share_out(settings, plan, remaining, tick)
            letters.count += shared_letters
        else:
            applied_from_workers = 0
        done = await writer.checkpoints(plan.generation)
        pos = {tp: max(done.get(_field(tp), begin[tp]), begin[tp]) for tp in tps}
        for tp in tps:
            consumer.seek(tp, pos[tp])
        applied_events = applied_from_workers
        last_commit = time.monotonic()
        # The write of one batch runs in Redis while the next one is fetched and prepared here;
        # writes stay one at a time and in order (each carries its checkpoints).
        writing: asyncio.Task[BatchResult] | None = None

        async def written() -> int:
            nonlocal writing
            if writing is None:
                return 0
            task, writing = writing, None
            return len((await task).projected)

        while True:
            source = await writer.checkpoints(plan.source)
            target = {tp: source.get(_field(tp), 0) for tp in tps}
            progress.done = sum(pos[tp] - begin[tp] for tp in tps)
            progress.total = sum(max(ends[tp], target[tp]) - begin[tp] for tp in tps)
            progress.dead_letters = letters.count
            on_progress(progress)
            active = [tp for tp in tps if pos[tp] < target[tp]]
            if not active:
                applied_events += await written()
                if not switch:
                    return RebuildOutcome(plan, applied_events, switched=False, dead_letters=letters.count)
                result = await switch_generation(redis, ns, expected=plan.source, new=plan.generation)
                if result.switched:
                    await redis.delete(keys.rebuild_state(ns))
                    return RebuildOutcome(plan, applied_events, switched=True)
                if result.reason.startswith("serving"):
                    raise RebuildError(f"cannot switch: {result.reason}")
                continue  # the live projector moved on in between: follow it
            fetched = await consumer.getmany(*active, timeout_ms=200, max_records=settings.batch_size)
            batch: list[RawMessage] = []
            for tp, records in fetched.items():
                for r in records:
                    if r.offset < pos[tp]:
                        continue
                    if r.offset >= target[tp]:
                        consumer.seek(tp, r.offset)  # not applied by the live projector yet: later
                        break
                    batch.append(_raw(r))
                    pos[tp] = r.offset + 1
            if batch:
                prepared = await projector.prepare(batch)  # schemas fetched, then the pure prepare()
                applied_events += await written()
                writing = asyncio.create_task(projector.handle_prepared(batch, prepared))
            if time.monotonic() - last_commit > 2.0:
                applied_events += await written()  # commit only what Redis holds
                await consumer.commit({tp: OffsetAndMetadata(pos[tp], "") for tp in tps if pos[tp] > begin[tp]})
                last_commit = time.monotonic()
            if not fetched:
                await asyncio.sleep(0)
    finally:
        if writing is not None:  # an error or Ctrl-C: let the write in flight finish or fail
            await asyncio.gather(writing, return_exceptions=True)
        await consumer.stop()
        if registry is not None:
            await registry.aclose()


async def retire(redis: Redis, settings: Settings, generation: int) -> int:
    """Delete a generation that no longer serves (SCAN + UNLINK), after the switch."""
    return await delete_generation(redis, settings.redis_namespace, generation)
