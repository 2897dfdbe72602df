"""The API's Kafka producer (acks=all) for the two events it emits itself.

Started in the lifespan but never blocks startup: the producer connects in the background and
retries while Kafka is down. Visits are fire-and-forget (bounded in-flight, dropped and counted
when Kafka is unavailable); celebration acknowledgements wait for Kafka's acknowledgement.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from events import Event, encode
from readmodels.settings import Settings
from readmodels.tokens import Position

log = logging.getLogger(__name__)

MAX_IN_FLIGHT_VISITS = 1000
SEND_TIMEOUT_S = 10.0


class BusUnavailableError(Exception):
    """Kafka did not acknowledge (not connected, timed out or refused)."""


class EventBus:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._producer: AIOKafkaProducer | None = None
        self._starter: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[Any]] = set()
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
        for task in list(self._in_flight):
            task.cancel()
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
        """Fire and forget: never waits, never raises; drops (and counts) when Kafka is unavailable."""
        if self._producer is None or len(self._in_flight) >= MAX_IN_FLIGHT_VISITS:
            self.dropped += 1
            return
        task = asyncio.create_task(self._emit(event))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _emit(self, event: Event[Any]) -> None:
        try:
            await self.send(event)
        except BusUnavailableError as exc:
            self.dropped += 1
            log.warning("dropped %s event %s: %s", event.type, event.id, exc)
