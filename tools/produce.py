"""Producing events to Kafka (CloudEvents binary mode), for the CLI, the demo, tests and benches."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer

from events import Event, encode


def topic_for(event: Event[Any], prefix: str = "") -> str:
    return prefix + type(event.data).TOPIC


async def produce(
    bootstrap: str, events: Iterable[Event[Any]], *, topic_prefix: str = "", linger_ms: int = 5
) -> dict[tuple[str, int], int]:
    """Produce every event (acks=all); return the next offset per (topic, partition) written."""
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
            headers, value = encode(event)
            key = event.data.partition_key().encode() or None
            futures.append(await producer.send(topic_for(event, topic_prefix), value, key=key, headers=headers))
            if len(futures) >= 5000:
                await drain()
        await drain()
        return ends
    finally:
        await producer.stop()
