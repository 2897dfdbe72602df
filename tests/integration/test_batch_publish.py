"""Batch publishing (projectors/faust_publish.py) through the producer of a real faust app against
the real broker: every record lands in its key's partition (the app's murmur2 partitioner), and per
key in the order given, also when a partition's records fill several batches in one send."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import orjson
import pytest
from aiokafka.partitioner import murmur2

from projectors.app import faust_app
from projectors.faust_publish import BatchPublisher, Outgoing
from readmodels.settings import Settings
from tests.integration.lp import read_topics
from tools.stack import Stack

pytestmark = pytest.mark.integration

PARTITIONS = 3
KEYS = [f"{n}|course-v1:edX+Order+2026".encode() for n in range(12)]
PAD = "x" * 1500  # ~10 records fill one of the producer's batches of 16 KiB (BATCH_BYTES)
BATCH_BYTES = 16 * 1024
SENDS, PER_KEY = 3, 10


def outgoing(topics: list[str], send: int) -> list[Outgoing]:
    """Per topic and key, PER_KEY records numbered in sending order, keys interleaved."""
    return [
        (topic, key, orjson.dumps({"key": key.decode(), "seq": send * PER_KEY + i, "pad": PAD}), [("seq", b"%d" % i)])
        for i in range(PER_KEY)
        for topic in topics
        for key in KEYS
    ]


async def publish(settings: Settings, topics: list[str]) -> Counter[tuple[str, int]]:
    """Publish SENDS lists through the app's own producer; the batches handed to it per partition."""
    app = faust_app(settings)
    await app.producer.start()
    try:
        producer: Any = app.producer._ensure_producer()  # type: ignore[attr-defined]
        batches: Counter[tuple[str, int]] = Counter()
        send_batch = producer.send_batch

        async def counted(batch: Any, topic: str, *, partition: int) -> Any:
            batches[(topic, partition)] += 1
            return await send_batch(batch, topic, partition=partition)

        producer.send_batch = counted
        publisher = BatchPublisher(app)
        for send in range(SENDS):
            await publisher.send(outgoing(topics, send))
        return batches
    finally:
        await app.producer.stop()


def test_records_of_a_key_keep_their_partition_and_order_across_full_batches(stack: Stack) -> None:
    tag = uuid.uuid4().hex[:8]
    settings = stack.settings(topic_prefix=f"t{tag}.", consumer_group=f"lp-test-{tag}", topic_partitions=PARTITIONS,
                              publish_batch_bytes=BATCH_BYTES)
    stack.create_topics(settings)
    topics = [settings.topic("projected-resume-point"), settings.topic("projected-celebrations")]

    batches = asyncio.run(publish(settings, topics))
    got = read_topics(settings, topics)

    assert len(got) == SENDS * PER_KEY * len(topics) * len(KEYS)
    # the 12 keys fall 2 / 6 / 4 on the partitions: 20+ records of ~1.5 kB each per partition and send
    assert len(batches) == len(topics) * PARTITIONS
    assert min(batches.values()) >= 2 * SENDS, f"every partition needs several batches per send: {batches}"
    assert sum(batches.values()) * 5 < len(got)  # and the batches carry several records each
    by_key: dict[tuple[str, str], list[int]] = {}
    for g in sorted(got, key=lambda g: (g["topic"], g["partition"], g["offset"])):
        key = g["value"]["key"].encode()
        assert g["partition"] == (murmur2(key) & 0x7FFFFFFF) % PARTITIONS  # the Java client's partition
        by_key.setdefault((g["topic"], g["value"]["key"]), []).append(g["value"]["seq"])
    assert len(by_key) == len(topics) * len(KEYS)
    assert all(seqs == list(range(SENDS * PER_KEY)) for seqs in by_key.values()), by_key
