"""A crash between the Redis write and the publish: the redelivered batch publishes the same records
(the outbox), against a real Redis."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pytest
from redis.asyncio import Redis

from projectors.changes import ChangeRecord, ChangeRecorder
from projectors.pipeline import DeadLetter, Projector
from readmodels import keys
from readmodels.generations import current_generation, serving_generation
from readmodels.writer import RedisWriter
from tests.builders import course_published, enrollment, grade_changed
from tests.unit.test_change_records import raw
from tools.stack import Stack

pytestmark = [pytest.mark.integration]


class CrashOnce:
    """Fails the first publish the way a killed process would: after the write, before the send."""

    def __init__(self) -> None:
        self.crashed = False
        self.sent: list[ChangeRecord] = []

    async def send(self, records: Sequence[ChangeRecord]) -> None:
        if not self.crashed:
            self.crashed = True
            raise RuntimeError("killed between the write and the publish")
        self.sent.extend(records)


class NoDeadLetters:
    async def send(self, letters: Sequence[DeadLetter]) -> None:
        raise AssertionError(f"unexpected dead letters {letters}")


async def test_redelivery_after_a_crash_before_publish_publishes_the_same_records(stack: Stack) -> None:
    redis = Redis.from_url(stack.redis.url)
    ns = f"t{uuid.uuid4().hex[:8]}"
    try:
        gen = await serving_generation(redis, ns)
        sink = CrashOnce()
        projector = Projector(RedisWriter(redis, ns), NoDeadLetters(), gen,
                              pointer=lambda: current_generation(redis, ns),
                              changes=ChangeRecorder(redis, ns), sink=sink)
        batch = raw([course_published(), enrollment("created", 5), grade_changed(5, 0.9), enrollment("created", 6)])
        with pytest.raises(RuntimeError):
            await projector.handle(batch)
        assert await redis.hlen(keys.prefix(ns, gen) + keys.user(5))  # the write happened
        assert sink.sent == []

        first = await projector.handle(batch)  # the redelivery
        assert [r.id for r in sink.sent] == [r.id for r in first.changes]
        assert {(r.model, r.key) for r in sink.sent} == {
            ("learner-course-status", "5:course-v1:edX+DemoX+Demo_Course"),
            ("celebrations", "5:course-v1:edX+DemoX+Demo_Course"),
            ("learner-course-status", "6:course-v1:edX+DemoX+Demo_Course"),
            ("celebrations", "6:course-v1:edX+DemoX+Demo_Course"),
        }
        assert len(sink.sent) == 5  # status of learner 5 changed twice (enrolled, then graded)
        assert not await redis.exists(keys.outbox(ns))

        again = await projector.handle(batch)  # published and released: a further redelivery is a no-op
        assert again.changes == []
    finally:
        await redis.aclose()
