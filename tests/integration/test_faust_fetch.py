"""The projector's consumer fetches with `FETCH_MAX_WAIT_MS` (projectors/faust_consumer.py,
`ConsumerThread`): faust hands its own 1.5 s to aiokafka's constructor, so the projector sets it on
the consumer before aiokafka starts its fetcher; this checks, against the real broker, that the
started fetcher has it (aiokafka's private hand-off, pinned in pyproject.toml) and that faust's
stock consumer keeps its own."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from projectors import faust_consumer
from projectors.app import faust_app
from readmodels.settings import Settings
from tools.stack import Stack

pytestmark = pytest.mark.integration

FAUST_FETCH_MAX_WAIT_MS = 1500  # faust-streaming 0.15's, in AIOKafkaConsumerThread._create_worker_consumer


async def started_fetch_wait(settings: Settings, *, stock: bool) -> int:
    """The fetch wait of the aiokafka consumer the app's consumer thread makes, once started."""
    app = faust_app(settings, stock_consumer=stock)
    thread: Any = app.consumer._thread  # type: ignore[attr-defined]
    assert isinstance(thread, faust_consumer.ConsumerThread) != stock
    consumer = thread._create_worker_consumer(app.transport)
    await consumer.start()
    try:
        wait: int = consumer._fetcher._fetch_max_wait_ms
        return wait
    finally:
        await consumer.stop()


def test_the_projectors_fetcher_waits_at_most_its_own_fetch_wait(stack: Stack) -> None:
    settings = stack.settings(consumer_group=f"lp-test-fetch-{uuid.uuid4().hex[:8]}")
    assert asyncio.run(started_fetch_wait(settings, stock=False)) == faust_consumer.FETCH_MAX_WAIT_MS
    assert asyncio.run(started_fetch_wait(settings, stock=True)) == FAUST_FETCH_MAX_WAIT_MS
    assert faust_consumer.FETCH_MAX_WAIT_MS < FAUST_FETCH_MAX_WAIT_MS
