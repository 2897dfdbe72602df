"""Avro input through the real broker, the real schema registry stand-in and the real faust projector:
a history half JSON, half Avro on the same topics ends equal to the oracle fold; bad Avro messages are
dead-lettered with precise reasons (the stand-in's real 404 among them); Avro without a registry is
dead-lettered; a registry that is down holds the batch (nothing dead-lettered, nothing applied) until
it is back; `lp produce --format avro` and `lp tail` speak Avro."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from events import Event
from projectors.oracle import compare, fold, report
from projectors.schema_registry import SchemaRegistry
from tests import builders as b
from tests.integration.test_dead_letters import Injected, _consume, _enrollment_field, _produce
from tests.pipeline import Pipeline
from tools.avro_writer import AvroWriter
from tools.cli import app as lp
from tools.eventio import tail
from tools.registry_stand_in import RegistryStandIn
from tools.stack import Stack
from tools.synthetic import generate

pytestmark = pytest.mark.integration

OPTIONS = {"seed": 5, "learners": 30, "courses": 3, "programs": 2, "days": 20}
ENROLLMENT_TOPIC = "learning-course-enrollment-lifecycle"


def avro_message(p: Pipeline, event: Event[Any], topic: str) -> tuple[list[tuple[str, bytes]], bytes]:
    async def run() -> tuple[list[tuple[str, bytes]], bytes]:
        registry = SchemaRegistry(p.settings.schema_registry_url)
        try:
            return await AvroWriter(registry, host="tests").encode(event, topic)
        finally:
            await registry.aclose()

    return asyncio.run(run())


def formats(p: Pipeline) -> dict[str, set[str]]:
    """Per source topic, the value formats on it (`avro`, `json`)."""
    seen: dict[str, set[str]] = {}

    def note(record: dict[str, Any]) -> None:
        seen.setdefault(record["at"].split(":")[0], set()).add(record["format"].split()[0])

    for topic in p.settings.source_topics:
        count = sum(n for (t, _), n in p.offsets.items() if t == topic)
        if count:
            asyncio.run(tail(p.settings.kafka_bootstrap, topic, note, from_beginning=True, max_messages=count,
                             stop_after=30))
    return seen


@pytest.fixture(scope="module")
def history() -> list[Event[Any]]:
    return list(generate(**OPTIONS))


def test_history_half_json_half_avro_on_the_same_topics_equals_the_oracle_fold(
    stack: Stack, history: list[Event[Any]]
) -> None:
    p = Pipeline.create(stack).start(api=False)
    try:
        p.produce(history[0::2])  # JSON
        p.produce(history[1::2], avro=True)  # Avro, as edx-event-bus-kafka writes it, to the same topics
        p.wait_applied(timeout=180)
        differences = compare(fold(history).dump(), p.read_models())
        if differences:
            print(report(differences, limit=50))
        assert not differences, f"{len(differences)} entities differ"
        mixed = formats(p)
        print(f"{len(history)} events; formats per topic: {mixed}")
        assert len(mixed) >= 5 and all(f == {"json", "avro"} for f in mixed.values()), mixed
    finally:
        p.stop()


@pytest.fixture(scope="module")
def poisoned(stack: Stack) -> Iterator[tuple[Pipeline, str, list[Injected], dict[bytes, int]]]:
    p = Pipeline.create(stack).start(api=False)
    topic = p.settings.topic(ENROLLMENT_TOPIC)
    good_headers, good = avro_message(p, b.enrollment("created", 4242, mode="verified"), topic)
    unknown = good[:1] + (999_999).to_bytes(4, "big") + good[5:]
    bad = [
        Injected("unknown schema id (registry 404)", b"unknown-id", unknown, good_headers,
                 "unknown schema id 999999 (the schema registry answered 404)"),
        Injected("JSON labelled Avro", b"magic", b'{"enrollment": {}}', good_headers,
                 "wrong magic byte 0x7b (the Confluent framing starts with 0x00)"),
        Injected("truncated body", b"truncated", good[:-12], good_headers,
                 f"body does not decode against schema id {int.from_bytes(good[1:5], 'big')}"),
    ]
    valid = Injected("valid Avro enrollment", b"valid", good, good_headers, "")
    offsets = asyncio.run(_produce(topic, p.settings.kafka_bootstrap, [*bad, valid]))
    p.offsets[(topic, 0)] = offsets[b"valid"] + 1
    p.wait_applied()
    yield p, topic, bad, offsets
    p.stop()


def test_bad_avro_messages_are_dead_lettered_with_precise_reasons(
    poisoned: tuple[Pipeline, str, list[Injected], dict[bytes, int]]
) -> None:
    p, topic, bad, offsets = poisoned

    letters = asyncio.run(_consume(topic + ".dlq", p.settings.kafka_bootstrap, len(bad)))

    by_key = {m.key: m for m in letters}  # type: ignore[attr-defined]
    for injected in bad:
        letter = by_key[injected.key]
        h = dict(letter.headers)
        print(f"  {injected.name:34s} {h['dlq_reason'].decode()}")
        assert letter.value == injected.value
        assert h["dlq_reason"].decode().startswith(injected.reason), h["dlq_reason"]
        assert h["dlq_source"] == f"{topic}:0:{offsets[injected.key]}".encode()
    enrollment = asyncio.run(_enrollment_field(p, 4242))
    assert enrollment is not None and enrollment["mode"] == "verified"


def test_tail_shows_decoded_avro_and_avro_dead_letters(
    poisoned: tuple[Pipeline, str, list[Injected], dict[bytes, int]]
) -> None:
    p, _, bad, _ = poisoned
    env = {"LP_KAFKA_BOOTSTRAP": p.settings.kafka_bootstrap, "LP_TOPIC_PREFIX": p.settings.topic_prefix,
           "LP_SCHEMA_REGISTRY_URL": p.settings.schema_registry_url}

    events = CliRunner().invoke(lp, ["tail", ENROLLMENT_TOPIC, "--from-beginning", "--max", "4", "--timeout", "30",
                                     "--json"], env=env)
    letters = CliRunner().invoke(lp, ["tail", ENROLLMENT_TOPIC + ".dlq", "--from-beginning", "--max", "3",
                                      "--timeout", "30"], env=env)

    print(events.output, letters.output)
    records = [orjson.loads(line) for line in events.output.splitlines()]
    decoded = [r for r in records if r["kind"] == "event"]
    assert len(decoded) == 1 and decoded[0]["format"].startswith("avro (schema id ")
    assert decoded[0]["data"]["enrollment"]["user"]["id"] == 4242
    assert {r["reason"] for r in records if r["kind"] == "undecodable"} >= {
        "unknown schema id 999999 (the schema registry answered 404)"}
    assert all(i.reason in letters.output for i in bad)


def test_avro_without_a_registry_is_dead_lettered_with_the_reason(stack: Stack) -> None:
    p = Pipeline.create(stack, schema_registry_url="").start(api=False)
    try:
        topic = p.settings.topic(ENROLLMENT_TOPIC)
        with_registry = p.settings.model_copy(update={"schema_registry_url": stack.schema_registry_url})
        h, value = avro_message(Pipeline(stack, with_registry), b.enrollment("created", 77), topic)
        offsets = asyncio.run(_produce(topic, p.settings.kafka_bootstrap, [Injected("avro", b"a", value, h, "")]))
        p.offsets[(topic, 0)] = offsets[b"a"] + 1
        p.wait_applied()

        letters = asyncio.run(_consume(topic + ".dlq", p.settings.kafka_bootstrap, 1))

        reason = dict(letters[0].headers)["dlq_reason"].decode()  # type: ignore[attr-defined]
        assert reason == (f"Avro value (schema id {int.from_bytes(value[1:5], 'big')}) but no schema registry is "
                          "configured (LP_SCHEMA_REGISTRY_URL)")
    finally:
        p.stop()


def test_registry_down_holds_the_batch_until_it_is_back_and_dead_letters_nothing(
    stack: Stack, tmp_path: Path
) -> None:
    registry = RegistryStandIn(tmp_path / "registry").start()
    p = Pipeline.create(stack, schema_registry_url=registry.url)
    try:
        events = [b.course_published(), b.enrollment("created", 31, mode="verified"), b.idv("approved", 31)]
        p.produce(events, avro=True)  # registers the schemas, then the registry goes away
        registry.stop()
        p.start(api=False)
        time.sleep(8)  # the projector is up, fetching the schemas fails and is retried
        assert asyncio.run(p._checkpoints()) == {}, "nothing may be applied while the registry is down"
        log = (stack.workdir / f"projector-{p.settings.consumer_group}.log").read_text()
        assert "schema registry lookup failed" in log and "unreachable" in log

        registry.start()  # same port, same schemas file
        p.wait_applied(timeout=60)

        assert asyncio.run(_enrollment_field(p, 31))["mode"] == "verified"  # type: ignore[index]
        dlq = [t + ".dlq" for t in {t for t, _ in p.offsets}]
        seen: list[dict[str, Any]] = []
        for topic in dlq:
            asyncio.run(tail(p.settings.kafka_bootstrap, topic, seen.append, from_beginning=True, stop_after=2))
        assert seen == [], "a registry outage must not dead-letter anything"
    finally:
        p.stop()
        registry.stop()


def test_produce_jsonl_as_avro_then_projected(stack: Stack, tmp_path: Path) -> None:
    p = Pipeline.create(stack).start(api=False)
    try:
        file = tmp_path / "events.jsonl"
        lines = [b.enrollment("created", 55, mode="verified"), b.goal(55, 3)]
        file.write_bytes(b"".join(orjson.dumps({"type": e.type, "id": e.id, "time": e.time.isoformat(),
                                                "data": e.data.model_dump(mode="json")}) + b"\n" for e in lines))
        env = {"LP_KAFKA_BOOTSTRAP": p.settings.kafka_bootstrap, "LP_TOPIC_PREFIX": p.settings.topic_prefix,
               "LP_SCHEMA_REGISTRY_URL": p.settings.schema_registry_url}

        produced = CliRunner().invoke(lp, ["produce", str(file), "--format", "avro"], env=env)
        tailed = CliRunner().invoke(lp, ["tail", "learning-learner-activity", "--from-beginning", "--max", "1",
                                         "--timeout", "30"], env=env)

        print(produced.output, tailed.output)
        assert produced.exit_code == 0 and "produced 2 event(s) (avro)" in produced.output
        assert "ext.learning.course.goal.changed.v1" in tailed.output and "[avro (schema id " in tailed.output
    finally:
        p.stop()
