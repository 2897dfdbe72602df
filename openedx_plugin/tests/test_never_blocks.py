"""No source holds up or breaks the LMS request: the bus is reached from the sending thread only,
and whatever fails there (or in a receiver) is logged and counted."""

from __future__ import annotations

import threading

import pytest
from completion.models import BlockCompletion
from django.test import override_settings
from learner_projector_openedx import publisher as publisher_module
from learner_projector_openedx.publisher import PUBLISHER, Publisher
from learner_projector_openedx.signals import BLOCK_COMPLETION_CHANGED
from opaque_keys.edx.keys import UsageKey

from tests.standin_app import models as m

BLOCK = UsageKey.from_string("block-v1:edX+DemoX+Demo_Course+type@html+block@intro")

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_save_returns_while_the_bus_is_still_busy(monkeypatch, user, completion_tracking):
    release, entered = threading.Event(), threading.Event()

    def stuck_bus(signal, payload, time):
        entered.set()
        return release.wait(30)

    assert PUBLISHER.drain(10)
    monkeypatch.setattr(PUBLISHER, "_sender", stuck_bus)
    try:
        BlockCompletion.objects.submit_completion(user, BLOCK, 1.0)  # returns although the send cannot finish
        assert entered.wait(10), "the event never reached the sending thread"
        assert not PUBLISHER.drain(0.2)
    finally:
        release.set()
    assert PUBLISHER.drain(10)


@override_settings(EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9",
                   EVENT_BUS_KAFKA_SCHEMA_REGISTRY_URL="http://127.0.0.1:9")
def test_registry_and_kafka_down_cost_the_request_nothing_and_are_counted(user, completion_tracking):
    """The real producer with nothing listening on its Kafka and registry ports."""
    publisher_module.watch_producer_errors()
    before = PUBLISHER.stats()

    BlockCompletion.objects.submit_completion(user, BLOCK, 1.0)
    assert PUBLISHER.drain(120)

    after = PUBLISHER.stats()
    assert after["queued"] == before.get("queued", 0) + 1
    # edx-event-bus-kafka swallows the registry error and logs it; we count that log record.
    assert after["producer_errors"] == before["producer_errors"] + 1


def test_a_full_queue_drops_and_counts(monkeypatch):
    small = Publisher(sender=lambda *event: threading.Event().wait(0.5) or True)
    monkeypatch.setattr("django.conf.settings.LEARNER_PROJECTOR_QUEUE_SIZE", 1, raising=False)
    payload = {"completion": object()}

    for _ in range(5):
        small.submit(BLOCK_COMPLETION_CHANGED, payload, None)

    assert small.counts["dropped"] >= 3
    assert small.counts["queued"] + small.counts["dropped"] == 5


def test_a_failing_receiver_is_counted_and_the_save_succeeds(monkeypatch, published, user):
    def broken(*args, **kwargs):
        raise ValueError("a bug in building the event")

    monkeypatch.setattr("learner_projector_openedx.receivers.course_goals.goal_event", broken)
    before = PUBLISHER.counts["failed"]

    m.CourseGoal.objects.create(user=user, course_key=BLOCK.course_key, days_per_week=2)

    assert PUBLISHER.counts["failed"] == before + 1
    assert published.of("ext.learning.course.goal.changed.v1") == []
