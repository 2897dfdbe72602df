"""BatchPublisher (projectors/faust_publish.py) on a stand-in for aiokafka's producer: which batches
it hands over in which order, and that it waits for every batch before it reports a failure. The
real broker and faust's producer: tests/integration/test_batch_publish.py."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from projectors.faust_publish import BatchPublisher, Outgoing

ROOM = 2  # records per stand-in batch


class Builder:
    def __init__(self) -> None:
        self.values: list[bytes | None] = []
        self.timestamps: list[int] = []

    def append(self, *, key: bytes | None, value: bytes | None, timestamp: int, headers: Any) -> object | None:
        if len(self.values) == ROOM:
            return None
        self.values.append(value)
        self.timestamps.append(timestamp)
        return object()


class Producer:
    def __init__(self, outcomes: list[BaseException | None] | None = None) -> None:
        self.client = SimpleNamespace(cluster=SimpleNamespace(available_partitions_for_topic=lambda t: {0, 1}))
        self.sent: list[tuple[str, int, list[bytes | None]]] = []
        self.futures: list[asyncio.Future[None]] = []
        self.outcomes = outcomes or []

    async def partitions_for(self, topic: str) -> set[int]:
        return {0, 1}

    def create_batch(self) -> Builder:
        return Builder()

    async def send_batch(self, batch: Builder, topic: str, *, partition: int) -> asyncio.Future[None]:
        self.sent.append((topic, partition, batch.values))
        future = asyncio.get_running_loop().create_future()
        outcome = self.outcomes[len(self.futures)] if len(self.futures) < len(self.outcomes) else None
        # resolved later, in order: a failure is known before the batches after it are acknowledged
        asyncio.get_running_loop().call_later(0.001 * len(self.futures), _resolve, future, outcome)
        self.futures.append(future)
        return future


def _resolve(future: asyncio.Future[None], outcome: BaseException | None) -> None:
    if outcome is None:
        future.set_result(None)
    else:
        future.set_exception(outcome)


def publisher(producer: Producer) -> BatchPublisher:
    # the key's first byte picks the partition (the real app: murmur2 of the key)
    faust_producer = SimpleNamespace(_ensure_producer=lambda: producer,
                                     partitioner=lambda key, every, available: every[key[0] % len(every)])
    return BatchPublisher(SimpleNamespace(producer=faust_producer))  # type: ignore[arg-type]


def message(topic: str, key: int, n: int) -> Outgoing:
    return (topic, bytes([key]), b"%d" % n, [])


async def test_publish_hands_over_each_partitions_records_in_order_first_batches_first() -> None:
    producer = Producer()
    # partition 0 of "a" gets 5 records (3 batches), partition 1 of "a" 2, partition 0 of "b" 1
    messages = [message("a", 0, 0), message("a", 1, 1), message("a", 2, 2), message("b", 0, 3),
                message("a", 0, 4), message("a", 1, 5), message("a", 0, 6), message("a", 2, 7)]
    await publisher(producer).send(messages, timestamp_ms=1234)
    assert producer.sent == [
        ("a", 0, [b"0", b"2"]), ("a", 1, [b"1", b"5"]), ("b", 0, [b"3"]),  # every partition's first batch
        ("a", 0, [b"4", b"6"]),
        ("a", 0, [b"7"]),
    ]
    assert all(f.done() for f in producer.futures)


async def test_publish_waits_for_every_batch_then_raises_the_first_failure() -> None:
    failure = ConnectionError("broker gone")
    producer = Producer([None, failure, RuntimeError("later"), None])
    messages = [message("a", k, n) for n, k in enumerate([0, 1, 0, 1, 0, 1, 0])]  # 4 batches
    with pytest.raises(ConnectionError):
        await publisher(producer).send(messages)
    assert len(producer.futures) == 4 and all(f.done() for f in producer.futures)


async def test_publish_of_nothing_sends_nothing() -> None:
    producer = Producer()
    await publisher(producer).send([])
    assert producer.sent == []
