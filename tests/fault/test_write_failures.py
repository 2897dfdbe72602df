"""Regression: a batch whose Redis write fails for a non-transient reason used to escape
`Projector.handle` and stop the agent (faust then acks the batch, so it would be lost). Now the
batch is applied event by event and only the event Redis refuses goes to the dead-letter topic,
with Redis' answer as the reason; the rest of the batch and every later event are applied."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from redis.asyncio import Redis

from readmodels import fieldnames, keys, learner_dictionary
from readmodels.replies import text_hash
from tests.builders import COURSE, course_published, enrollment, visit
from tests.fault.faults import start_projector
from tests.fault.test_poison_messages import read_dead_letters
from tests.pipeline import Pipeline
from tools.stack import Stack

pytestmark = [pytest.mark.fault, pytest.mark.integration]

BROKEN = 7  # this learner's activity key holds a string: Redis answers WRONGTYPE to any write there
HEALTHY = 6


async def _redis(p: Pipeline, *commands: tuple[str, ...]) -> list[object]:
    redis = Redis.from_url(p.settings.redis_url)
    try:
        return [await redis.execute_command(*c) for c in commands]
    finally:
        await redis.aclose()


async def _learner_field(p: Pipeline, uid: int, field: str) -> str | None:
    """A learner field as the readers see it (through the learner's course dictionary,
    learner_dictionary.learner_fields)."""
    redis = Redis.from_url(p.settings.redis_url)
    try:
        stored = text_hash(await redis.hgetall(keys.prefix(p.settings.redis_namespace, 1) + keys.user(uid)))
        return learner_dictionary.learner_fields(stored).get(field)
    finally:
        await redis.aclose()


@pytest.fixture
def pipeline(fault_stack: Stack) -> Iterator[Pipeline]:
    p = Pipeline.create(fault_stack)
    gen1 = keys.prefix(p.settings.redis_namespace, 1)
    asyncio.run(_redis(p, ("SET", gen1 + keys.activity(BROKEN), "not a sorted set")))
    start_projector(p)
    yield p
    p.stop()


def test_write_refused_by_redis_dead_letters_only_that_event(pipeline: Pipeline) -> None:
    p = pipeline
    p.produce(
        [
            course_published(),
            enrollment("created", HEALTHY),
            enrollment("created", BROKEN),
            visit(HEALTHY),
            visit(BROKEN),
        ]
    )
    p.wait_applied()
    p.produce([visit(HEALTHY, course_key="course-v1:edX+Other+Run")])  # the stream goes on after it
    p.wait_applied()

    topic = p.settings.topic("learning-learner-activity") + ".dlq"
    letters = asyncio.run(read_dead_letters(p.settings.kafka_bootstrap, [topic], 1, wait=60))
    print(f"\ninjected: {keys.activity(BROKEN)} set to a string; found {len(letters)} dead letter(s):")
    for letter in letters:
        h = dict(letter.headers)
        print(f"  {h['dlq_source'].decode()}: {h['dlq_reason'].decode()}")
    assert len(letters) == 1
    reason = dict(letters[0].headers)["dlq_reason"].decode()
    assert reason.startswith("write failed: ResponseError") and "WRONGTYPE" in reason

    gen1 = keys.prefix(p.settings.redis_namespace, 1)
    (healthy_visits,) = asyncio.run(_redis(p, ("ZCARD", gen1 + keys.activity(HEALTHY))))
    broken_enrollment = asyncio.run(_learner_field(p, BROKEN, fieldnames.f_enrollment(COURSE)))
    assert healthy_visits == 2  # both visits of the healthy learner, the later batch included
    assert broken_enrollment is not None  # the broken learner's other event was applied
    assert p.projector is not None and p.projector.poll() is None


@pytest.fixture
def pipeline_with_broken_learner_hash(fault_stack: Stack) -> Iterator[Pipeline]:
    p = Pipeline.create(fault_stack)
    gen1 = keys.prefix(p.settings.redis_namespace, 1)
    asyncio.run(_redis(p, ("SET", gen1 + keys.user(BROKEN), "not a hash")))
    start_projector(p)
    yield p
    p.stop()


def test_change_records_that_cannot_be_read_do_not_stop_the_projector(
    pipeline_with_broken_learner_hash: Pipeline,
) -> None:
    """The change-record prefetch reads the learner hash before the write; WRONGTYPE there used to
    escape `handle`. Now the batch is written without its change records, and the event Redis
    refuses is dead-lettered as above."""
    p = pipeline_with_broken_learner_hash
    p.produce([course_published(), enrollment("created", HEALTHY), enrollment("created", BROKEN)])
    p.wait_applied()
    p.produce([visit(HEALTHY)])
    p.wait_applied()

    topic = p.settings.topic("learning-course-enrollment-lifecycle") + ".dlq"
    letters = asyncio.run(read_dead_letters(p.settings.kafka_bootstrap, [topic], 1, wait=60))
    print(f"\ninjected: {keys.user(BROKEN)} set to a string; dead letters: {len(letters)}")
    assert len(letters) == 1
    assert "WRONGTYPE" in dict(letters[0].headers)["dlq_reason"].decode()
    healthy = asyncio.run(_learner_field(p, HEALTHY, fieldnames.f_enrollment(COURSE)))
    assert healthy is not None
    assert p.projector is not None and p.projector.poll() is None
