"""Stopping the API hands the visits still queued to the producer instead of losing them uncounted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from api.bus import EventBus
from readmodels.settings import load_settings

NOW = datetime(2026, 1, 21, 15, 0, tzinfo=UTC)


class FakeProducer:
    def __init__(self, *, hang: bool = False) -> None:
        self.sent: list[bytes] = []
        self.stopped = False
        self.hang = hang

    async def send(
        self, topic: str, value: bytes, key: bytes | None = None, headers: Any = None
    ) -> asyncio.Future[Any]:
        if self.hang:
            await asyncio.sleep(3600)
        self.sent.append(value)
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def stop(self) -> None:
        self.stopped = True


async def test_stop_sends_the_visits_queued_just_before() -> None:
    bus = EventBus(load_settings())
    producer = FakeProducer()
    bus._producer = producer  # type: ignore[assignment]
    for uid in (1, 2, 3):
        bus.emit_visit(uid, "course-v1:edX+DemoX+Demo_Course", NOW, None)
    await bus.stop()
    assert len(producer.sent) == 3 and producer.stopped
    assert bus.dropped == 0


async def test_stop_with_a_stuck_producer_counts_what_it_could_not_send(monkeypatch: Any) -> None:
    monkeypatch.setattr("api.bus.STOP_FLUSH_S", 0.1)
    bus = EventBus(load_settings())
    bus._producer = FakeProducer(hang=True)  # type: ignore[assignment]
    for uid in (1, 2):
        bus.emit_visit(uid, "course-v1:edX+DemoX+Demo_Course", NOW, None)
    await asyncio.wait_for(bus.stop(), timeout=5)
    assert bus.dropped == 2  # the one being sent when cancelled, and the one still queued
