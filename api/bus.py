"""The API's Kafka producer (acks=all) for the two events it emits itself.

Started in the lifespan but never blocks startup: the producer connects in the background and
retries while Kafka is down. Visits are fire-and-forget (bounded in-flight, dropped and counted
when Kafka is unavailable); celebration acknowledgements wait for Kafka's acknowledgement.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from events import Event, encode
from readmodels.settings import Settings
from readmodels.tokens import Position

log = logging.getLogger(__name__)

MAX_IN_FLIGHT_VISITS = 1000
EMIT_LINGER_S = 0.005  # visits queued within this window go out together
SEND_TIMEOUT_S = 10.0


class BusUnavailableError(Exception):
    """Kafka did not acknowledge (not connected, timed out or refused)."""


class EventBus:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._producer: AIOKafkaProducer | None = None
        self._starter: asyncio.Task[None] | None = None
        self._queued: deque[Event[Any]] = deque()
        self._flusher: asyncio.Task[None] | None = None
        self._unacked = 0
        self.dropped = 0

    @property
    def ready(self) -> bool:
        return self._producer is not None

    def start(self) -> None:
        self._starter = asyncio.create_task(self._connect(), name="kafka-producer-connect")

    async def _connect(self) -> None:
        delay = 0.2
        while True:
            producer = AIOKafkaProducer(
                bootstrap_servers=self._settings.kafka_bootstrap,
                acks="all",
                linger_ms=2,
                request_timeout_ms=int(SEND_TIMEOUT_S * 1000),
            )
            try:
                await producer.start()
            except (KafkaError, OSError) as exc:
                with contextlib.suppress(Exception):
                    await producer.stop()
                log.warning("Kafka producer not connected (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            self._producer = producer
            return

    async def stop(self) -> None:
        if self._starter is not None and not self._starter.done():
            self._starter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._starter
        if self._flusher is not None and not self._flusher.done():
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        if self._producer is not None:
            with contextlib.suppress(Exception):
                await self._producer.stop()
            self._producer = None

    async def send(self, event: Event[Any]) -> Position:
        """Produce and wait for Kafka's acknowledgement (acks=all)."""
        producer = self._producer
        if producer is None:
            raise BusUnavailableError("Kafka producer is not connected")
        headers, value = encode(event)
        topic = self._settings.topic(type(event.data).TOPIC)
        key = event.data.partition_key().encode() or None
        try:
            meta = await asyncio.wait_for(
                producer.send_and_wait(topic, value, key=key, headers=headers), SEND_TIMEOUT_S
            )
        except (KafkaError, OSError, TimeoutError) as exc:
            raise BusUnavailableError(f"Kafka did not acknowledge: {exc!r}") from exc
        return Position(meta.topic, meta.partition, meta.offset)

    def emit(self, event: Event[Any]) -> None:
        """Fire and forget: never waits, never raises; drops (and counts) when Kafka is unavailable.

        The request only queues the event; one flusher task hands everything queued to the producer
        a few milliseconds later (so a burst of visits shares one produce request), and the
        delivery callbacks count what Kafka did not acknowledge."""
        if self._producer is None or len(self._queued) + self._unacked >= MAX_IN_FLIGHT_VISITS:
            self.dropped += 1
            return
        self._queued.append(event)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="kafka-visits-flush")

    async def _flush(self) -> None:
        await asyncio.sleep(EMIT_LINGER_S)
        while self._queued:
            event = self._queued.popleft()
            producer = self._producer
            if producer is None:
                self._drop(event, "Kafka producer is not connected")
                continue
            headers, value = encode(event)
            topic = self._settings.topic(type(event.data).TOPIC)
            key = event.data.partition_key().encode() or None
            try:
                # asyncio.timeout rather than wait_for: no task per visit (aiokafka's send is a
                # coroutine that returns at once unless its buffer is full or metadata is missing).
                async with asyncio.timeout(SEND_TIMEOUT_S):
                    delivery = await producer.send(topic, value, key=key, headers=headers)
            except (KafkaError, OSError, TimeoutError) as exc:
                self._drop(event, repr(exc))
                continue
            self._unacked += 1
            delivery.add_done_callback(lambda f, e=event: self._delivered(f, e))

    def _delivered(self, delivery: asyncio.Future[Any], event: Event[Any]) -> None:
        self._unacked -= 1
        exc = None if delivery.cancelled() else delivery.exception()
        if delivery.cancelled() or exc is not None:
            self._drop(event, f"Kafka did not acknowledge: {exc!r}")

    def _drop(self, event: Event[Any], reason: str) -> None:
        self.dropped += 1
        log.warning("dropped %s event %s: %s", event.type, event.id, reason)
