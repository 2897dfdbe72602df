"""Publishing a list of messages through the producer faust runs: one record batch per (topic,
partition) handed to aiokafka whole, instead of one `send` per message.

Per message, faust's `Producer.send` fires its `on_produce_message` signal and awaits aiokafka's
`send`, which awaits the topic's metadata, estimates the record's size, partitions it, finds the
partition's open batch and makes a future for the message, all of which the caller then awaits one
by one (bench/RESULTS.md, stream round 3: ~40 us per change record in the worker). aiokafka's batch
API (`create_batch`, `BatchBuilder.append`, `send_batch`) is the library's own way in for callers
that have their messages together: per message only the record's encoding (aiokafka's C builder)
and the partition choice remain, and there is one future per batch. What is ours here is only the
grouping by partition and the order of the batches.

What stays as with `send`:
- the producer is faust's own (`app.producer`, started, flushed and stopped by faust's lifecycle,
  acks=all from the app's settings); faust exposes it only as `_ensure_producer()`, which is
  pinned with faust-streaming (pyproject.toml) and covered by the integration tests;
- the partition is the app's partitioner (projectors.app.CachedPartitioner: murmur2 of the key)
  given the topic's partitions exactly as aiokafka gives them, so a key keeps its partition;
- the order per partition is the order given: messages are appended in order, a full batch is
  followed by the next one for the same partition (every partition's first batch is queued before
  any second one, so one produce request can carry them all), and aiokafka sends a partition's next
  batch only once the one in flight is answered and puts a batch it retries back in front;
- `send` returns when every batch is acknowledged, and raises the first failure only after waiting
  for all of them (nothing left unawaited; the caller retries the whole list, and the records'
  ids make a repeat harmless to subscribers).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import faust

# topic, key, value, headers
Outgoing = tuple[str, bytes | None, bytes | None, Sequence[tuple[str, bytes]]]


class BatchPublisher:
    def __init__(self, app: faust.App) -> None:
        self._app = app

    async def send(self, messages: Iterable[Outgoing], timestamp_ms: int | None = None) -> None:
        """Publish `messages` (one timestamp for all: `timestamp_ms`, else now) and wait for the
        broker's acknowledgement of every one."""
        owner: Any = self._app.producer  # faust's Producer (aiokafka driver)
        producer = owner._ensure_producer()  # the AIOKafkaProducer it started
        partitioner = owner.partitioner
        cluster = producer.client.cluster
        ts = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
        partitions: dict[str, tuple[list[int], list[int]]] = {}
        batches: dict[tuple[str, int], list[Any]] = {}  # (topic, partition) -> its builders, in order
        for topic, key, value, headers in messages:
            parts = partitions.get(topic)
            if parts is None:  # as aiokafka's `_partition` passes them: all, and those with a leader
                every = list(await producer.partitions_for(topic))
                parts = partitions[topic] = (every, list(cluster.available_partitions_for_topic(topic) or ()))
            tp = (topic, partitioner(key, parts[0], parts[1]))
            builders = batches.get(tp)
            if builders is None:
                builders = batches[tp] = [producer.create_batch()]
            if builders[-1].append(key=key, value=value, timestamp=ts, headers=headers) is None:
                builders.append(producer.create_batch())  # full: the next batch (a first record always fits)
                builders[-1].append(key=key, value=value, timestamp=ts, headers=headers)
        futures = []
        for i in range(max(map(len, batches.values()), default=0)):
            for (topic, partition), builders in batches.items():
                if i < len(builders):
                    futures.append(await producer.send_batch(builders[i], topic, partition=partition))
        failure: BaseException | None = None
        for f in futures:
            try:
                await f
            except Exception as exc:  # wait for the others, then raise the first
                failure = failure or exc
        if failure is not None:
            raise failure
