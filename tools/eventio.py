"""Kafka side of `lp produce` / `lp tail`: where to connect, producing raw messages, following a topic."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from events import decode
from projectors.schema_registry import SchemaRegistry, registry_for
from readmodels.settings import Settings, load_settings
from tools.avro_writer import AvroWriter
from tools.jsonl import OutgoingMessage, describe


class TailError(RuntimeError):
    """The topic cannot be followed (e.g. it does not exist)."""


@dataclass(frozen=True, slots=True)
class Target:
    bootstrap: str
    topic_prefix: str
    settings: Settings  # the registry (URL and credentials) for Avro

    def registry(self) -> SchemaRegistry | None:
        return registry_for(self.settings)


def read_stack_env(path: Path) -> dict[str, str]:
    """`KEY=VALUE` lines of `.run/stack.env` (written by `lp start`); {} when there is none."""
    if not path.is_file():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def resolve_target(
    bootstrap: str | None, topic_prefix: str | None, stack_env: Path, registry: str | None = None
) -> Target:
    """Options first, then `LP_*` variables (settings), then the running `lp start` stack, then defaults.
    The topic prefix is the whole of it (LP_TOPIC_PREFIX, then LP_EVENT_BUS_TOPIC_PREFIX and `-`)."""
    settings = load_settings()
    running = read_stack_env(stack_env)
    if bootstrap is None:
        from_env = "LP_KAFKA_BOOTSTRAP" in os.environ
        bootstrap = settings.kafka_bootstrap if from_env else running.get("KAFKA_BOOTSTRAP", settings.kafka_bootstrap)
    if topic_prefix is None:
        from_env = "LP_TOPIC_PREFIX" in os.environ or "LP_EVENT_BUS_TOPIC_PREFIX" in os.environ
        prefix = settings.full_topic_prefix
        topic_prefix = prefix if from_env else running.get("TOPIC_PREFIX", prefix)
    if registry is None:
        from_env = "LP_SCHEMA_REGISTRY_URL" in os.environ
        registry = settings.schema_registry_url if from_env else running.get("SCHEMA_REGISTRY_URL", "")
    return Target(bootstrap, topic_prefix, settings.model_copy(update={"schema_registry_url": registry}))


def full_topic(name: str, prefix: str) -> str:
    """`learning-completion` -> `<prefix>learning-completion`; a name already prefixed is kept."""
    return name if not prefix or name.startswith(prefix) else prefix + name


async def reencode(message: OutgoingMessage, writer: AvroWriter) -> OutgoingMessage:
    """A validated JSON message as the same event in Avro (edx-event-bus-kafka's headers and framing)."""
    headers, value = await writer.encode(decode(message.headers, message.value), message.topic)
    return replace(message, value=value, headers=tuple(headers))


async def produce_messages(
    bootstrap: str, messages: Iterable[OutgoingMessage], *, window: int = 5000,
    avro: SchemaRegistry | None = None,
) -> dict[str, int]:
    """Produce in order (acks=all), at most `window` unacknowledged; return how many went to each topic.
    `avro`: each (JSON) message is written as Avro instead, its schema registered there."""
    writer = AvroWriter(avro) if avro is not None else None
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, request_timeout_ms=15000)
    await producer.start()
    counts: dict[str, int] = {}
    pending: list[asyncio.Future[Any]] = []

    async def drain() -> None:
        for f in pending:
            meta = await f
            counts[meta.topic] = counts.get(meta.topic, 0) + 1
        pending.clear()

    try:
        for m in messages:
            if writer is not None:
                m = await reencode(m, writer)
            pending.append(await producer.send(m.topic, m.value, key=m.key, headers=list(m.headers)))
            if len(pending) >= window:
                await drain()
        await drain()
        return counts
    finally:
        await producer.stop()
        if avro is not None:
            await avro.aclose()


async def _require_topic(consumer: AIOKafkaConsumer, topic: str, wait: float = 5.0) -> None:
    deadline = time.monotonic() + wait
    while topic not in await consumer.topics():  # fresh metadata each time
        if time.monotonic() > deadline:
            raise TailError(f"topic {topic!r} does not exist")
        await asyncio.sleep(0.2)


async def tail(
    bootstrap: str,
    topic: str,
    on_record: Callable[[dict[str, Any]], None],
    *,
    from_beginning: bool = False,
    max_messages: int | None = None,
    stop_after: float | None = None,
    registry: SchemaRegistry | None = None,
) -> int:
    """Follow every partition of `topic` (no consumer group, nothing committed); hand each message,
    described, to `on_record`. Stop after `max_messages` or `stop_after` seconds; return the count."""
    # Without a group, a subscribed consumer gets every partition and starts at auto_offset_reset.
    from projectors.pipeline import RawMessage, writer_schemas

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest" if from_beginning else "latest")
    await consumer.start()
    seen = 0
    try:
        await _require_topic(consumer, topic)
        consumer.subscribe([topic])
        deadline = time.monotonic() + stop_after if stop_after else None
        while max_messages is None or seen < max_messages:
            if deadline is not None and time.monotonic() >= deadline:
                break
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            # The Avro writer schemas first, as the projector fetches them (retried while the registry is down).
            raw = [RawMessage(m.topic, m.partition, m.offset, m.key, m.value) for ms in batches.values() for m in ms]
            schemas = await writer_schemas(registry, raw)
            for tp in sorted(batches, key=lambda t: t.partition):
                for m in batches[tp]:
                    if max_messages is not None and seen >= max_messages:
                        break
                    on_record(describe(m.topic, m.partition, m.offset, m.key, m.value, list(m.headers or ()), schemas))
                    seen += 1
        return seen
    finally:
        await consumer.stop()
        if registry is not None:
            await registry.aclose()
