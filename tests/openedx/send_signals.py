"""Send Open edX signals through Open edX's own event-bus producer. Runs with the Open edX
interpreter (tests/openedx/env.py: openedx-events, edx-event-bus-kafka, confluent-kafka, Django),
never inside the project's own Python.

    <.venv-openedx/bin/python> tests/openedx/send_signals.py PLAN.json

PLAN.json:
    {"bootstrap": "127.0.0.1:9092", "registry": "http://127.0.0.1:8081" | "mock://golden",
     "topic_prefix": "dev",                      # EVENT_BUS_TOPIC_PREFIX ("" for none)
     "producer_config": {event type: {topic: {"event_key_field": "a.b", "enabled": true}}},
     "events": [{"type": event type, "time": isoformat, "data": {init-data key: Avro-shaped dict}}]}

Django is configured with just what edx-event-bus-kafka needs (no database); each event's data
becomes the signal's attrs objects through openedx-events' own `AvroSignalDeserializer.from_dict`,
and `signal.send_event(time=...)` goes the whole real way: openedx-events' handler for the
configured types, `get_producer()` = edx-event-bus-kafka's `create_producer`, its Avro serializers
and schema registry client, and confluent-kafka's Producer to Kafka.

With a `mock://` registry (golden fixtures: no broker, no registry process), the registry is
confluent-kafka's in-process MockSchemaRegistryClient (edx-event-bus-kafka builds
`SchemaRegistryClient` directly, which rejects `mock://`: the one patch below), the Producer is a
recorder of `produce()` calls, and the script prints the recorded messages and the registry's
schemas as JSON. Any error the producer logs (it logs instead of raising) makes the exit code 1.
"""

import base64
import json
import logging
import sys
from datetime import datetime

import django
from django.conf import settings


class _Errors(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages = []

    def emit(self, record):
        self.messages.append(self.format(record))


class RecordingProducer:
    """Stands in for confluent_kafka.Producer in golden mode: keeps what would have been sent."""

    def __init__(self):
        self.messages = []

    def produce(self, topic, key=None, value=None, headers=None, on_delivery=None):
        self.messages.append({"topic": topic, "key": key, "value": value, "headers": headers or []})

    def poll(self, timeout=None):
        return 0

    def flush(self, timeout=None):
        return 0


RECORDER = RecordingProducer()


def recording_producer():
    """EVENT_BUS_PRODUCER in golden mode: the real KafkaEventProducer around the recorder."""
    from edx_event_bus_kafka.internal.producer import KafkaEventProducer

    return KafkaEventProducer(RECORDER)


def _pairs(headers):
    """confluent-kafka takes headers as a dict or a list of pairs; edx-event-bus-kafka passes a dict."""
    return list(headers.items()) if isinstance(headers, dict) else list(headers)


def main(plan_path):
    with open(plan_path) as f:
        plan = json.load(f)
    golden = plan["registry"].startswith("mock://")
    settings.configure(
        INSTALLED_APPS=["openedx_events", "edx_event_bus_kafka"],
        EVENTS_SERVICE_NAME="lms",
        EVENT_BUS_PRODUCER="__main__.recording_producer" if golden else "edx_event_bus_kafka.create_producer",
        EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS=plan["bootstrap"],
        EVENT_BUS_KAFKA_SCHEMA_REGISTRY_URL=plan["registry"],
        EVENT_BUS_TOPIC_PREFIX=plan["topic_prefix"],
        EVENT_BUS_PRODUCER_CONFIG=plan["producer_config"],
        EVENT_BUS_KAFKA_POLL_INTERVAL_SEC=0.1,
    )
    errors = _Errors()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger().addHandler(errors)
    if golden:
        from confluent_kafka.schema_registry import SchemaRegistryClient
        from edx_event_bus_kafka.internal import config

        config.SchemaRegistryClient = SchemaRegistryClient.new_client
    django.setup()

    from openedx_events.event_bus import get_producer
    from openedx_events.event_bus.avro.deserializer import AvroSignalDeserializer
    from openedx_events.tooling import OpenEdxPublicSignal, load_all_signals

    load_all_signals()
    for event in plan["events"]:
        signal = OpenEdxPublicSignal.get_signal_by_type(event["type"])
        data = AvroSignalDeserializer(signal).from_dict(event["data"])
        signal.send_event(time=datetime.fromisoformat(event["time"]), **data)
    get_producer().prepare_for_shutdown()
    if errors.messages:
        sys.exit("the producer logged errors:\n" + "\n".join(errors.messages))
    if not golden:
        json.dump({"sent": len(plan["events"])}, sys.stdout)
        return
    from edx_event_bus_kafka.internal.config import get_schema_registry_client

    client = get_schema_registry_client()
    b64 = lambda b: None if b is None else base64.b64encode(b).decode()  # noqa: E731
    messages = [{"topic": m["topic"], "key": b64(m["key"]), "value": b64(m["value"]),
                 "headers": [[k, v.decode() if isinstance(v, bytes) else v] for k, v in _pairs(m["headers"])]}
                for m in RECORDER.messages]
    ids = sorted({int.from_bytes(base64.b64decode(m["value"])[1:5], "big") for m in messages})
    json.dump({"schemas": {str(i): client.get_schema(i).schema_str for i in ids}, "messages": messages}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
