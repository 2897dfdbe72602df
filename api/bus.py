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
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from api.ids import uuid4_text
from events import Event, encode
from events.activity import CoursewareVisited
from events.base import format_time
from readmodels.settings import Settings
from readmodels.tokens import Position

log = logging.getLogger(__name__)

MAX_IN_FLIGHT_VISITS = 1000
EMIT_LINGER_S = 0.005  # visits queued within this window go out together
SEND_TIMEOUT_S = 10.0


EVENT_SOURCE = "learner-projector/api"
_VISIT_TYPE = CoursewareVisited.TYPE.encode()
_SOURCE = EVENT_SOURCE.encode()


class BusUnavailableError(Exception):
    """Kafka did not acknowledge (not connected, timed out or refused)."""


class Produced(NamedTuple):
    """An event encoded for producing (what events.encode gives, plus where it goes)."""

    topic: str
    key: bytes | None
    headers: list[tuple[str, bytes]]
    value: bytes
    type: str
    id: str


def visit_record(
    user_id: int, course_key: str, now: datetime, browser_timezone: str | None
) -> tuple[list[tuple[str, bytes]], bytes]:
    """encode() of the course route's CoursewareVisited event (same headers, same value bytes;
    tests/unit/test_api_bus.py compares them), without the pydantic
    models: `course_key` must be a key that parsed (api/path_keys.py), `now` an aware UTC datetime."""
    event_id = uuid4_text()
    visit = {
        "user_id": user_id,
        "course_key": course_key,
        "visited_at": now,
        "browser_timezone": browser_timezone[:64] if browser_timezone else None,
    }
    headers = [
        ("ce_type", _VISIT_TYPE),
        ("ce_id", event_id.encode()),
        # orjson writes a UTC time as format_time does (`Z`, microseconds only when non-zero), faster
        (
            "ce_time",
            orjson.dumps(now, option=orjson.OPT_UTC_Z)[1:-1] if now.tzinfo is UTC else format_time(now).encode(),
        ),
        ("ce_specversion", b"1.0"),
        ("content-type", b"application/json"),
        ("ce_source", _SOURCE),
    ]
    return headers, orjson.dumps({"visit": visit}, option=orjson.OPT_UTC_Z)


STOP_FLUSH_S = 2.0


class EventBus:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._producer: AIOKafkaProducer | None = None
        self._starter: asyncio.Task[None] | None = None
        self._queued: deque[Produced] = deque()
        self._visit_topic = settings.topic(CoursewareVisited.TOPIC)
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
            # Visits queued in the last few milliseconds are handed to the producer (whose stop
            # sends what it buffers) instead of being lost uncounted; bounded, Kafka may be down.
            try:
                await asyncio.wait_for(asyncio.shield(self._flusher), timeout=STOP_FLUSH_S)
            except Exception:  # a timeout or a send failure: what is left is counted below
                self._flusher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._flusher
        while self._queued:
            self._drop(self._queued.popleft(), "the API stopped before it was sent")
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

    def emit_visit(self, user_id: int, course_key: str, now: datetime, browser_timezone: str | None) -> None:
        """Fire and forget the course route's visit: never waits, never raises; drops (and counts)
        when Kafka is unavailable. Encoded directly (visit_record: no pydantic models, no key
        re-validation per request). The request only queues it; one flusher task hands everything
        queued to the producer a few milliseconds later (so a burst of visits shares one produce
        request), and the delivery callbacks count what Kafka did not acknowledge."""
        if self._producer is None or len(self._queued) + self._unacked >= MAX_IN_FLIGHT_VISITS:
            self.dropped += 1
            return
        headers, value = visit_record(user_id, course_key, now, browser_timezone)
        event_id = headers[1][1].decode()
        self._queue(
            Produced(self._visit_topic, str(user_id).encode(), headers, value, CoursewareVisited.TYPE, event_id)
        )

    def _queue(self, produced: Produced) -> None:
        self._queued.append(produced)
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
            topic, key, headers, value = event.topic, event.key, event.headers, event.value
            try:
                # asyncio.timeout rather than wait_for: no task per visit (aiokafka's send is a
                # coroutine that returns at once unless its buffer is full or metadata is missing).
                async with asyncio.timeout(SEND_TIMEOUT_S):
                    delivery = await producer.send(topic, value, key=key, headers=headers)
            except (KafkaError, OSError, TimeoutError) as exc:
                self._drop(event, repr(exc))
                continue
            except asyncio.CancelledError:  # the API is stopping: this one is not sent, count it
                self._drop(event, "the API stopped while it was being sent")
                raise
            self._unacked += 1
            delivery.add_done_callback(lambda f, e=event: self._delivered(f, e))

    def _delivered(self, delivery: asyncio.Future[Any], event: Produced) -> None:
        self._unacked -= 1
        exc = None if delivery.cancelled() else delivery.exception()
        if delivery.cancelled() or exc is not None:
            self._drop(event, f"Kafka did not acknowledge: {exc!r}")

    def _drop(self, event: Produced, reason: str) -> None:
        self.dropped += 1
        log.warning("dropped %s event %s: %s", event.type, event.id, reason)
