"""Through the real producer to the suite's Kafka and schema registry (edx-event-bus-kafka 6.1.0,
confluent-kafka): what lands on the topic is what a real LMS with the plugin would write.

Needs LP_TEST_KAFKA_BOOTSTRAP and LP_TEST_SCHEMA_REGISTRY_URL (the main suite's
tests/e2e/test_openedx_plugin.py passes its session stack's and a topic prefix of its own).
"""

from __future__ import annotations

import io
import json
import os
import urllib.request
import uuid
from datetime import UTC, datetime

import fastavro
import pytest
from completion.models import BlockCompletion
from confluent_kafka import Consumer, TopicPartition
from django.conf import settings
from django.core.management import call_command
from learner_projector_openedx.publisher import PUBLISHER, flush_producer
from opaque_keys.edx.keys import UsageKey

BOOTSTRAP = os.environ.get("LP_TEST_KAFKA_BOOTSTRAP")
REGISTRY = os.environ.get("LP_TEST_SCHEMA_REGISTRY_URL")
BLOCK = UsageKey.from_string("block-v1:edX+DemoX+Demo_Course+type@html+block@intro")
OLD = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)

pytestmark = [
    pytest.mark.bus,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not (BOOTSTRAP and REGISTRY), reason="no Kafka / schema registry given (LP_TEST_*)"),
]


def topic(name: str) -> str:
    prefix = settings.EVENT_BUS_TOPIC_PREFIX
    return f"{prefix}-{name}" if prefix else name


def read_all(name: str) -> list:
    consumer = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": f"plugin-test-{uuid.uuid4().hex}",
                         "enable.auto.commit": False})
    try:
        metadata = consumer.list_topics(topic(name), timeout=10).topics[topic(name)]
        parts = [TopicPartition(topic(name), p, 0) for p in metadata.partitions]
        ends = {p.partition: consumer.get_watermark_offsets(p, timeout=10)[1] for p in parts}
        consumer.assign(parts)
        messages, left = [], {p: e for p, e in ends.items() if e > 0}
        while left:
            message = consumer.poll(10)
            assert message is not None, f"nothing more to read from {topic(name)}; still expected {left}"
            assert message.error() is None, message.error()
            messages.append(message)
            if message.offset() + 1 >= left.get(message.partition(), 0):
                left.pop(message.partition(), None)
        return messages
    finally:
        consumer.close()


def decode(message) -> tuple[dict[str, str], dict]:
    headers = {k: v.decode() for k, v in message.headers()}
    value = message.value()
    assert value[0] == 0
    schema_id = int.from_bytes(value[1:5], "big")
    with urllib.request.urlopen(f"{REGISTRY}/schemas/ids/{schema_id}", timeout=10) as response:
        writer = json.loads(response.read())["schema"]
    return headers, fastavro.schemaless_reader(io.BytesIO(value[5:]), fastavro.parse_schema(json.loads(writer)))


def of_user(user_id: int) -> list[tuple[dict[str, str], dict]]:
    decoded = [decode(m) for m in read_all("learning-completion")]
    return [(h, d) for h, d in decoded if d["completion"]["user_id"] == user_id]


def test_saved_completion_lands_on_the_completion_topic_as_the_real_producer_writes_it(user, completion_tracking):
    row, _ = BlockCompletion.objects.submit_completion(user, BLOCK, 1.0)
    assert PUBLISHER.drain(60)
    flush_producer()

    [(headers, body)] = of_user(user.id)
    assert headers["ce_type"] == "ext.learning.block.completion.changed.v1"
    assert headers["content-type"] == "application/avro"
    assert headers["ce_time"] == row.modified.isoformat()
    assert body["completion"] == {"user_id": user.id, "course_key": str(BLOCK.course_key), "block_key": str(BLOCK),
                                  "completion": 1.0, "modified": row.modified.isoformat()}


def test_backfill_keeps_the_rows_original_time(user, completion_tracking):
    row, _ = BlockCompletion.objects.submit_completion(user, BLOCK, 0.5)  # also sent live, with today's time
    assert PUBLISHER.drain(60)
    BlockCompletion.objects.filter(pk=row.pk).update(modified=OLD)

    call_command("lp_backfill", "--only", "completions", stdout=io.StringIO())

    times = sorted(h["ce_time"] for h, _ in of_user(user.id))
    assert times == ["2021-03-04T05:06:07+00:00", row.modified.isoformat()]
