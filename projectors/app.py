"""The faust app and its agent. The agent only wires: take a batch, hand it to the Projector.

Delivery is at-least-once; the Projector makes every write idempotent, so a batch redelivered
after a crash changes nothing twice. Agent concurrency stays 1: partitions give the parallelism,
and concurrency above 1 could commit offsets past unfinished messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import faust
from aiokafka.partitioner import DefaultPartitioner, murmur2
from faust.sensors import Monitor
from faust.types import TP, EventT, Message, StreamT

from projectors import faust_batches, faust_consumer
from projectors.change_records.outbox import ChangeRecorder
from projectors.change_records.record import MODELS, ChangeRecord, topic_of, utcnow
from projectors.faust_publish import BatchPublisher
from projectors.metrics import ProjectorMonitor
from projectors.pipeline import DeadLetter, Prepared, Projector, RawMessage
from projectors.retry import retry_forever
from projectors.schema_registry import registry_for
from readmodels import runtime
from readmodels.generations import current_generation, serving_generation
from readmodels.redis_client import make_redis
from readmodels.settings import Settings
from readmodels.writer import RedisWriter

log = logging.getLogger(__name__)


class FaustDeadLetters:
    """Publishes dead letters through the app's producer, one batch per partition (projectors/faust_publish.py)."""

    def __init__(self, app: faust.App) -> None:
        self._publisher = BatchPublisher(app)

    async def send(self, letters: Sequence[DeadLetter]) -> None:
        await self._publisher.send([(d.topic, d.message.key, d.message.value, d.headers) for d in letters])


class FaustChangeSink:
    """Publishes change records through the app's producer, in apply order (key = model key, so
    per key the records share a partition and keep their order), one batch per partition
    (projectors/faust_publish.py); the Kafka timestamp is the records' `projected_at`."""

    def __init__(self, app: faust.App, settings: Settings) -> None:
        self._publisher = BatchPublisher(app)
        self._topics = {m: settings.topic(topic_of(m)) for m in MODELS}

    async def send(self, records: Sequence[ChangeRecord]) -> None:
        now = utcnow()
        topics = self._topics
        await self._publisher.send([(topics[r.model], r.key.encode(), r.value(now), r.headers()) for r in records],
                                   timestamp_ms=int(now.timestamp() * 1000))


class QuietMonitor(Monitor):
    """faust's Monitor without its per-message statistics (four sensor calls, dict updates and clock
    reads for every message: ~10-30 us per event of the projector's CPU). Nothing reads them: faust's
    web views are off, and the projector's own metrics (projectors/metrics.py) count per batch."""

    def on_message_in(self, tp: TP, offset: int, message: Message) -> None:
        pass

    def on_stream_event_in(self, tp: TP, offset: int, stream: StreamT, event: EventT) -> dict[str, Any] | None:
        return None

    def on_stream_event_out(
        self, tp: TP, offset: int, stream: StreamT, event: EventT, state: dict[str, Any] | None = None
    ) -> None:
        pass

    def on_message_out(self, tp: TP, offset: int, message: Message) -> None:
        pass


class CachedPartitioner:
    """aiokafka's default partitioner (the Java client's murmur2 of the key) with each key's hash
    remembered: aiokafka computes murmur2 in pure Python, ~20 bytecode steps per 4 key bytes, for
    every change record, and a learner's model keys recur batch after batch. Same partitions."""

    def __init__(self, size: int = 65_536) -> None:
        self._hash = lru_cache(maxsize=size)(murmur2)
        self._default = DefaultPartitioner()

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        if key is None:
            return self._default(key, all_partitions, available)
        return all_partitions[(self._hash(key) & 0x7FFFFFFF) % len(all_partitions)]


def owned_fields(app: faust.App) -> list[str]:
    """The "<topic>:<partition>" of the source partitions assigned to this worker now."""
    return [f"{tp.topic}:{tp.partition}" for tp in app.consumer.assignment()]


def raw_message(message: Any) -> RawMessage:
    headers = message.headers or ()
    if isinstance(headers, dict):
        headers = headers.items()
    return RawMessage(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        headers=tuple(headers),  # aiokafka's (key, value) pairs
    )


def faust_app(settings: Settings, group: str | None = None, *, stock_consumer: bool = False) -> faust.App:
    """The faust app with the projector's settings, no agent yet (bench/faust_consume.py measures
    it alone, as the floor of what one worker can consume). Its consumer is faust's aiokafka one
    with the drain loop of projectors/faust_consumer.py; `stock_consumer`: faust's own (the floor)."""
    scheme = "kafka" if stock_consumer else faust_consumer.SCHEME
    return faust.App(
        group or settings.consumer_group,
        broker=f"kafka://{settings.kafka_bootstrap}",
        broker_consumer=f"{scheme}://{settings.kafka_bootstrap}",
        value_serializer="raw",
        key_serializer="raw",
        store="memory://",
        web_enabled=False,
        topic_allow_declare=False,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_partitioner=CachedPartitioner(),
        producer_max_batch_size=settings.publish_batch_bytes,
        broker_commit_every=settings.batch_size,
        broker_commit_interval=1.0,
        stream_buffer_maxsize=max(4096, settings.batch_size * 4),
        worker_redirect_stdouts=False,
        Monitor=QuietMonitor,
        datadir=f"/tmp/learner-projector-{group or settings.consumer_group}",
    )


def create_app(settings: Settings, *, generation: int | None = None, group: str | None = None) -> faust.App:
    """Build the faust app. `generation`/`group` override the serving generation (rebuilds)."""
    app = faust_app(settings, group)
    source = app.topic(*settings.source_topics, value_serializer="raw", key_serializer="raw")
    monitor = ProjectorMonitor()
    if generation is None:  # only the live projector serves metrics and reports its lag
        monitor.install(app, settings)

    @app.agent(source, concurrency=1, name="project")
    async def project(stream: faust.StreamT) -> None:
        redis = make_redis(settings.redis_url)
        ns = settings.redis_namespace
        # Shadow writes wake no API waiter; the live writer reports the serving pointer with each write.
        writer = RedisWriter(redis, ns, announce=generation is None, track_serving=generation is None, report=False)
        registry = registry_for(settings)
        if generation is not None:  # a shadow generation: fixed, publishes nothing
            projector = Projector(writer, FaustDeadLetters(app), generation, registry=registry)
        else:  # live: follows the serving pointer per batch and publishes change records
            gen = await retry_forever("read serving generation", lambda: serving_generation(redis, ns))
            projector = Projector(
                writer, FaustDeadLetters(app), gen, pointer=lambda: current_generation(redis, ns),
                changes=ChangeRecorder(redis, ns, assigned=lambda: owned_fields(app)),
                sink=FaustChangeSink(app, settings), registry=registry,
            )
        log.info("projecting into generation %d%s", projector.generation, "" if generation is not None else " (live)")
        runtime.tune_gc(runtime.BATCH_GC_THRESHOLDS)
        try:
            # Whole batches straight from the topic's queue, each prepared while the previous one is
            # applied, and acked once applied (projectors/faust_batches.py).
            within = settings.batch_within_ms / 1000
            batches = faust_batches.batches(app, stream, settings.batch_size, within)

            async def prepare(events: Sequence[EventT]) -> tuple[list[RawMessage], tuple[Prepared, float]]:
                batch = [raw_message(e.message) for e in events]
                return batch, await monitor.prepare(projector, batch)

            async def apply(events: Sequence[EventT], prepared: tuple[list[RawMessage], tuple[Prepared, float]]
                            ) -> object:
                return await monitor.apply(projector, *prepared)

            await faust_batches.apply_in_order(batches, prepare, apply)
        finally:
            # The last publish and release, before the connection goes; bounded, as the broker may be
            # what is going away (unpublished records stay held in the outbox for the next run).
            with contextlib.suppress(Exception, asyncio.TimeoutError):
                await asyncio.wait_for(projector.flush(), timeout=5.0)
            await redis.aclose()
            if registry is not None:
                await registry.aclose()

    return app
