"""Dead letters through the real broker: every kind of malformed message lands in `<topic>.dlq` with
its original key, value and headers plus `dlq_reason` and `dlq_source`, and the projector carries on
with the valid event produced after them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from redis.asyncio import Redis
from typer.testing import CliRunner

from readmodels import fieldnames, keys, learner_dictionary
from readmodels.replies import text_hash
from tests.builders import COURSE
from tests.pipeline import Pipeline
from tests.samples import sample_data
from tools.cli import app as lp
from tools.stack import Stack

pytestmark = pytest.mark.integration

ENROLLED = "org.openedx.learning.course.enrollment.created.v1"
GOOD_USER = 4242


def headers(type_: str = ENROLLED, **overrides: bytes | None) -> list[tuple[str, bytes]]:
    base: dict[str, bytes | None] = {
        "ce_type": type_.encode(), "ce_id": b"5f0c6f2e-7a1b-4c3d-9e8f-0a1b2c3d4e5f",
        "ce_time": b"2026-03-01T12:00:00Z", "ce_specversion": b"1.0", "content-type": b"application/json",
        "ce_source": b"tests/dead-letters",
    }
    base.update(overrides)
    return [(k, v) for k, v in base.items() if v is not None]


def enrollment_value(uid: int = 7, **changes: object) -> bytes:
    data = sample_data(ENROLLED)
    data["enrollment"]["user"]["id"] = uid
    data["enrollment"].update(changes)
    for k in [k for k, v in changes.items() if v is None]:
        del data["enrollment"][k]
    return orjson.dumps(data)


@dataclass(frozen=True)
class Injected:
    name: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    reason: str  # expected part of dlq_reason


MALFORMED = [
    Injected("bad JSON", b"bad-json", b'{"enrollment": {"user": ', headers(), "value is not JSON"),
    Injected("missing ce_type", b"no-type", enrollment_value(), headers(ce_type=None), "missing header ce_type"),
    Injected("missing ce_id", b"no-id", enrollment_value(), headers(ce_id=None), "missing header ce_id"),
    Injected("missing ce_time", b"no-time", enrollment_value(), headers(ce_time=None), "missing header ce_time"),
    Injected("ce_id not a UUID", b"id-not-uuid", enrollment_value(), headers(ce_id=b"event-1"),
             "ce_id is not a UUID"),
    Injected("ce_time not RFC 3339", b"time-not-rfc3339", enrollment_value(), headers(ce_time=b"01/03/2026 12:00"),
             "ce_time is not an RFC 3339 time"),
    Injected("unknown type", b"unknown-type", enrollment_value(), headers("org.openedx.learning.mystery.v1"),
             "unknown event type 'org.openedx.learning.mystery.v1'"),
    Injected("unsupported major version", b"major-v2", enrollment_value(),
             headers("org.openedx.learning.course.enrollment.created.v2"),
             "unsupported major version v2 of org.openedx.learning.course.enrollment.created"),
    Injected("unsupported content-type", b"text", enrollment_value(), headers(**{"content-type": b"text/plain"}),
             "unsupported content-type 'text/plain' (only application/json or application/avro)"),
    Injected("JSON value labelled Avro", b"avro", enrollment_value(), headers(**{"content-type": b"application/avro"}),
             "wrong magic byte 0x7b (the Confluent framing starts with 0x00)"),
    Injected("missing required field", b"no-mode", enrollment_value(mode=None), headers(),
             "invalid data: enrollment.mode: Field required"),
    Injected("wrong type", b"active-as-text", enrollment_value(is_active="yes"), headers(),
             "invalid data: enrollment.is_active: Input should be a valid boolean"),
]


@dataclass
class Scenario:
    pipeline: Pipeline
    topic: str
    offsets: dict[bytes, int]  # key -> offset in partition 0


async def _produce(topic: str, bootstrap: str, messages: list[Injected]) -> dict[bytes, int]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        offsets = {}
        for m in messages:  # one partition, one at a time: the valid event is strictly after the bad ones
            meta = await producer.send_and_wait(topic, m.value, key=m.key, headers=m.headers, partition=0)
            offsets[m.key] = meta.offset
        return offsets
    finally:
        await producer.stop()


async def _consume(topic: str, bootstrap: str, count: int, wait: float = 60.0) -> list[object]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        found: list[object] = []
        async with asyncio.timeout(wait):
            while len(found) < count:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    found.extend(batch)
        return found
    finally:
        await consumer.stop()


async def _enrollment_field(p: Pipeline, uid: int) -> dict[str, object] | None:
    redis = Redis.from_url(p.settings.redis_url)
    try:
        gen = int(await redis.get(keys.serving(p.settings.redis_namespace)) or 1)
        key = keys.prefix(p.settings.redis_namespace, gen) + keys.user(uid)
        # Through the learner's course dictionary (learner_dictionary.learner_fields): as the readers see it.
        stored = text_hash(await redis.hgetall(key))
        raw = learner_dictionary.learner_fields(stored).get(fieldnames.f_enrollment(COURSE))
        return orjson.loads(raw.split("\t", 1)[1]) if raw else None
    finally:
        await redis.aclose()


@pytest.fixture(scope="module")
def scenario(stack: Stack) -> Iterator[Scenario]:
    p = Pipeline.create(stack).start(api=False)
    topic = p.settings.topic("learning-course-enrollment-lifecycle")
    valid = Injected("valid enrollment", b"valid", enrollment_value(GOOD_USER),
                     headers(ce_id=b"9a0b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d"), "")
    offsets = asyncio.run(_produce(topic, p.settings.kafka_bootstrap, [*MALFORMED, valid]))
    p.offsets[(topic, 0)] = offsets[b"valid"] + 1
    print(f"\ninjected into {topic} partition 0:")
    for m in [*MALFORMED, valid]:
        print(f"  offset {offsets[m.key]:3d}  {m.name:28s} key={m.key.decode()}")
    p.wait_applied()
    yield Scenario(p, topic, offsets)
    p.stop()


def test_dead_letter_topic_holds_every_malformed_message_with_reason_and_source(scenario: Scenario) -> None:
    p = scenario.pipeline
    letters = asyncio.run(_consume(scenario.topic + ".dlq", p.settings.kafka_bootstrap, len(MALFORMED)))
    by_key = {m.key: m for m in letters}  # type: ignore[attr-defined]

    print(f"found in {scenario.topic}.dlq:")
    for letter in letters:
        h = dict(letter.headers)  # type: ignore[attr-defined]
        print(f"  {h['dlq_source'].decode():55s} {h['dlq_reason'].decode()}")
    assert len(letters) == len(MALFORMED)
    for injected in MALFORMED:
        letter = by_key[injected.key]
        original = [(k, v) for k, v in letter.headers if k not in ("dlq_reason", "dlq_source")]
        extra = dict(letter.headers)
        assert letter.value == injected.value, injected.name
        assert original == injected.headers, injected.name
        assert injected.reason in extra["dlq_reason"].decode(), (injected.name, extra["dlq_reason"])
        assert b"\n" not in extra["dlq_reason"]
        assert extra["dlq_source"] == f"{scenario.topic}:0:{scenario.offsets[injected.key]}".encode()


def test_valid_event_after_dead_letters_is_still_projected(scenario: Scenario) -> None:
    enrollment = asyncio.run(_enrollment_field(scenario.pipeline, GOOD_USER))

    print(f"projected enrollment of user {GOOD_USER}: {enrollment}")
    assert enrollment is not None
    assert enrollment["mode"] == "verified"
    assert enrollment["is_active"] is True


def test_tail_dead_letter_topic_prints_reasons(scenario: Scenario) -> None:
    settings = scenario.pipeline.settings
    env = {"LP_KAFKA_BOOTSTRAP": settings.kafka_bootstrap, "LP_TOPIC_PREFIX": settings.topic_prefix}

    result = CliRunner().invoke(lp, ["tail", "learning-course-enrollment-lifecycle.dlq", "--from-beginning",
                                     "--max", str(len(MALFORMED)), "--timeout", "60"], env=env)

    print(result.output)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == len(MALFORMED)
    for injected, text in zip(MALFORMED, lines, strict=True):
        assert " DLQ from " in text and injected.reason in text
