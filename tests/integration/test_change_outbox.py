"""A crash between the Redis write and the publish: the redelivered batch publishes the same records
(the outbox), against a real Redis."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pytest
from redis.asyncio import Redis

from projectors.change_records.outbox import ChangeRecorder
from projectors.change_records.record import ChangeRecord
from projectors.pipeline import DeadLetter, Projector, RawMessage
from readmodels import keys
from readmodels.generations import current_generation, serving_generation
from readmodels.writer import RedisWriter
from tests.builders import (
    COURSE,
    SEQUENCE_FLAGS,
    at,
    block,
    completion,
    course_published,
    enrollment,
    grade_changed,
    program_changed,
    program_deleted,
)
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


def live(redis: Redis, ns: str, gen: int, sink: object, *, assigned: list[str] | None = None,
         track_serving: bool = False) -> Projector:
    """The live projector as projectors/app.py builds it (a test sink, no dead letters expected)."""
    recorder = ChangeRecorder(redis, ns, assigned=(lambda: assigned) if assigned is not None else None)
    return Projector(RedisWriter(redis, ns, track_serving=track_serving), NoDeadLetters(), gen,
                     pointer=lambda: current_generation(redis, ns), changes=recorder, sink=sink)  # type: ignore[arg-type]


async def test_redelivery_after_a_crash_before_publish_publishes_the_same_records(stack: Stack) -> None:
    redis = Redis.from_url(stack.redis.url)
    ns = f"t{uuid.uuid4().hex[:8]}"
    try:
        gen = await serving_generation(redis, ns)
        sink = CrashOnce()
        projector = live(redis, ns, gen, sink)
        batch = raw([course_published(), enrollment("created", 5), grade_changed(5, 0.9), enrollment("created", 6)])
        crashed = await projector.handle(batch)
        await projector.flush()  # the publish failed: the records stay held in the outbox
        assert projector.stats.change_record_failures == 1
        assert await redis.hlen(keys.prefix(ns, gen) + keys.user(5))  # the write happened
        assert await redis.exists(keys.outbox(ns))
        assert sink.sent == []

        restarted = live(redis, ns, gen, sink)  # a new process; faust redelivers the batch
        first = await restarted.handle(batch)
        await restarted.flush()
        assert [r.id for r in sink.sent] == [r.id for r in first.changes] == [r.id for r in crashed.changes]
        assert {(r.model, r.key) for r in sink.sent} == {
            ("learner-course-status", "5:course-v1:edX+DemoX+Demo_Course"),
            ("celebrations", "5:course-v1:edX+DemoX+Demo_Course"),
            ("learner-course-status", "6:course-v1:edX+DemoX+Demo_Course"),
            ("celebrations", "6:course-v1:edX+DemoX+Demo_Course"),
        }
        assert len(sink.sent) == 5  # status of learner 5 changed twice (enrolled, then graded)

        again = await restarted.handle(batch)  # published, released by this read: a further redelivery is a no-op
        await restarted.flush()
        assert again.changes == []
        assert len(sink.sent) == 5  # nothing published twice
        assert not await redis.exists(keys.outbox(ns))
    finally:
        await redis.aclose()


async def test_records_held_by_a_crash_go_out_before_the_next_batch_of_their_partition(stack: Stack) -> None:
    """faust may have committed the batch before the crash (the publish runs after the handler
    returns): then nothing is redelivered, and the next batch of the partition publishes them."""
    redis = Redis.from_url(stack.redis.url)
    ns = f"t{uuid.uuid4().hex[:8]}"
    try:
        gen = await serving_generation(redis, ns)
        crashing = live(redis, ns, gen, CrashOnce())
        held = (await crashing.handle(raw([course_published(), enrollment("created", 5)]))).changes
        await crashing.flush()

        sink = Collect()
        restarted = live(redis, ns, gen, sink)
        later = await restarted.handle(raw([grade_changed(5, 0.7)], first_offset=2))
        await restarted.flush()
        assert [r.id for r in later.changes[: len(held)]] == [r.id for r in held]  # the held ones first
        assert [r.id for r in sink.sent] == [r.id for r in later.changes]
        assert [r.state["percent_grade"] for r in sink.sent if r.model == "learner-course-status"] == [None, 0.7]
        assert not await redis.exists(keys.outbox(ns))
    finally:
        await redis.aclose()


class Collect:
    def __init__(self) -> None:
        self.sent: list[ChangeRecord] = []

    async def send(self, records: Sequence[ChangeRecord]) -> None:
        self.sent.extend(records)


async def test_resume_records_follow_a_republished_outline(stack: Stack) -> None:
    """The recorder keeps course outlines between batches; a republish that moves a block to
    another unit must show in the next resume-point record (the cache follows the snapshot)."""
    redis = Redis.from_url(stack.redis.url)
    ns = f"t{uuid.uuid4().hex[:8]}"
    try:
        gen = await serving_generation(redis, ns)
        sink = Collect()
        projector = live(redis, ns, gen, sink)
        video = block(COURSE, "video", "v1")
        await projector.handle(raw([course_published(), enrollment("created", 9)]))
        await projector.handle(raw([completion(9, video, modified=at(1))], first_offset=10))
        await projector.flush()
        resume = [r for r in sink.sent if r.model == "resume-point"]
        assert resume[-1].state == {"block_id": video, "unit_id": block(COURSE, "vertical", "u1"),
                                    "section_id": block(COURSE, "sequential", "s1")}

        # The same video, now in unit u9 of section ch9; then a later completion of it.
        moved = course_published(time=at(2), outline=[
            {"block_key": block(COURSE, "chapter", "ch9"), "display_name": "Moved", "sequences": [
                {"block_key": block(COURSE, "sequential", "s9"), "display_name": "Moved", **SEQUENCE_FLAGS,
                 "units": [{"block_key": block(COURSE, "vertical", "u9"), "display_name": "Moved", "icon": "video",
                            "graded": False, "contains_gated_content": False,
                            "blocks": [{"block_key": video, "block_type": "video", "completable": True}]}]}]}])
        await projector.handle(raw([moved], first_offset=20))
        await projector.handle(raw([completion(9, block(COURSE, "html", "h1"), modified=at(3))], first_offset=30))
        await projector.handle(raw([completion(9, video, modified=at(4))], first_offset=40))
        await projector.flush()
        resume = [r for r in sink.sent if r.model == "resume-point"]
        assert resume[-1].state == {"block_id": video, "unit_id": block(COURSE, "vertical", "u9"),
                                    "section_id": block(COURSE, "sequential", "s9")}
    finally:
        await redis.aclose()


async def test_live_records_over_redis_equal_the_pure_fold_per_key(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recorder reads only what the states need (chosen learner fields, cached outlines): over a
    synthetic history in odd batch sizes its records equal the pure replay on the whole state."""
    from bench.history import build
    from tests.unit.test_change_records import fold

    monkeypatch.setattr("projectors.change_records.reader.FANOUT_CHUNK", 7)  # the fan-out's learners in many chunks
    history = build(6_000, seed=3)
    # Reference data changes halfway and at the end, so the fan-out over the learner-course index
    # (its extra reads in the live path) is compared too: republishes with another passing bar,
    # a program over every course, then its deletion.
    courses = sorted({ck for _, ck in history.enrollments})
    late = [course_published(ck, time=at(100_000), lowest_passing_grade=0.2) for ck in courses]
    program = [program_changed(runs=tuple(courses), time=at(100_001)), program_deleted(time=at(100_002))]
    events = [*history.events[:3_000], *late, program[0], *history.events[3_000:], program[1]]
    expected = fold(events, batch_size=97)
    assert any(r.event_type == "ext.content.course.published.v1" and r.model == "learner-course-status"
               for r in expected), "the republishes should change some learner's status"
    redis = Redis.from_url(stack.redis.url)
    ns = f"t{uuid.uuid4().hex[:8]}"
    try:
        gen = await serving_generation(redis, ns)
        sink = Collect()
        projector = live(redis, ns, gen, sink, track_serving=True)
        messages = raw(events)
        for i in range(0, len(messages), 61):
            await projector.handle(messages[i : i + 61])
        await projector.flush()
        assert projector.stats.change_record_failures == 0

        def per_key(recs: Sequence[ChangeRecord]) -> dict[tuple[str, str], list[tuple[str, object, object]]]:
            out: dict[tuple[str, str], list[tuple[str, object, object]]] = {}
            for r in recs:
                out.setdefault((r.model, r.key), []).append((r.id, r.state, r.previous))
            return out

        assert len(sink.sent) == len(expected) > 1_000
        assert per_key(sink.sent) == per_key(expected)
    finally:
        await redis.aclose()


async def test_records_held_for_an_owned_partition_go_out_with_any_batch_after_a_restart(stack: Stack) -> None:
    """A crash after faust committed the batch, on a partition that gets no further event: the
    restarted worker's first batch, whatever partition it comes from, publishes them."""
    redis = Redis.from_url(stack.redis.url)
    ns = f"t{uuid.uuid4().hex[:8]}"
    try:
        gen = await serving_generation(redis, ns)
        crashing = live(redis, ns, gen, CrashOnce())
        held = (await crashing.handle(raw([course_published(), enrollment("created", 5)]))).changes
        await crashing.flush()
        assert held and await redis.hexists(keys.outbox(ns), "t:0")

        sink = Collect()
        restarted = live(redis, ns, gen, sink, assigned=["t:0", "other:3"])
        other = [RawMessage("other", 3, m.offset, m.key, m.value, m.headers) for m in raw([grade_changed(6, 0.5)])]
        later = await restarted.handle(other)
        await restarted.flush()
        assert [r.id for r in sink.sent[: len(held)]] == [r.id for r in held]  # the held ones first
        assert [r.id for r in sink.sent] == [r.id for r in later.changes]
        assert not await redis.exists(keys.outbox(ns))

        again = await restarted.handle([RawMessage("other", 3, 1, m.key, m.value, m.headers)
                                        for m in raw([grade_changed(6, 0.6)])])
        await restarted.flush()
        assert len(sink.sent) == len(later.changes) + len(again.changes)  # nothing published twice
    finally:
        await redis.aclose()
