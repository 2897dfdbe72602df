"""Producing events to Kafka (CloudEvents binary mode), for the CLI, the demo, tests and benches:
JSON values, or Avro as edx-event-bus-kafka writes them (tools/avro_writer.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer

from events import Event, encode
from readmodels.settings import Settings


def topic_for(event: Event[Any], prefix: str = "") -> str:
    return prefix + type(event.data).TOPIC


async def produce(
    bootstrap: str, events: Iterable[Event[Any]], *, topic_prefix: str = "", linger_ms: int = 5,
    avro: Settings | None = None,
) -> dict[tuple[str, int], int]:
    """Produce every event (acks=all); return the next offset per (topic, partition) written.

    `avro`: write Avro values, registering the schemas in the registry of these settings
    (`LP_SCHEMA_REGISTRY_URL`, ValueError when there is none); else JSON."""
    from projectors.schema_registry import registry_for
    from tools.avro_writer import AvroWriter

    registry = registry_for(avro) if avro is not None else None
    if avro is not None and registry is None:
        raise ValueError("Avro needs a schema registry: set LP_SCHEMA_REGISTRY_URL")
    writer = AvroWriter(registry) if registry is not None else None
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=linger_ms,
                                max_batch_size=1 << 20, compression_type=None)
    await producer.start()
    try:
        ends: dict[tuple[str, int], int] = {}
        futures: list[Any] = []

        async def drain() -> None:
            for f in futures:
                meta = await f
                tp = (meta.topic, meta.partition)
                ends[tp] = max(ends.get(tp, 0), meta.offset + 1)
            futures.clear()

        for event in events:
            topic = topic_for(event, topic_prefix)
            headers, value = encode(event) if writer is None else await writer.encode(event, topic)
            key = event.data.partition_key().encode() or None
            futures.append(await producer.send(topic, value, key=key, headers=headers))
            if len(futures) >= 5000:
                await drain()
        await drain()
        return ends
    finally:
        await producer.stop()
        if registry is not None:
            await registry.aclose()
