"""Open edX's own producer on the input: real signals of openedx-events 10.5.0, sent through
edx-event-bus-kafka 6.1.0's KafkaEventProducer (configured by EVENT_BUS_PRODUCER_CONFIG, with an
EVENT_BUS_TOPIC_PREFIX, the suite's Kafka and the registry stand-in), in their own interpreter
(tests/openedx/env.py, tests/openedx/send_signals.py). The projector (faust) applies them and the
API answers accordingly.

What a stock LMS does not send (the course snapshot and the catalog program, `ext.` events of the
plugin of issue #14) is produced as JSON by our own tools onto the same topics."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from events import REGISTRY
from projectors.rebuild import partitions_of
from readmodels.settings import SOURCE_TOPICS
from tests import builders as b
from tests.openedx.env import openedx_python
from tests.openedx.make_schemas import file_name
from tests.openedx.plan import EXTRA_SOURCE_TOPICS, TOPICS, send
from tests.pipeline import Pipeline
from tools.stack import Stack

pytestmark = pytest.mark.integration

LEARNER, OTHER, STAFF, FORMER_STAFF = 501, 502, 503, 504
SECOND = "course-v1:edX+Second+2026"
PROGRAM, OTHER_PROGRAM = "5b6c7d8e-1f2a-4b3c-8d4e-5f6a7b8c9d0e", "6c7d8e9f-2a3b-4c4d-9e5f-6a7b8c9d0e1f"
CERT_URL = "https://lms.example.org/certificates/abc123"


def signals() -> list:  # type: ignore[type-arg]
    """Every official type we consume, as an LMS (and the credentials service) would send it."""
    grade = b.grade_changed(LEARNER, 0.82, time=b.at(6))
    grade_data = grade.data.model_dump(mode="json")["grade"]
    grade_data.update(course_edited_timestamp="2026-02-01T00:00:00+00:00", course_version="v1",
                      grading_policy_hash="h", letter_grade="Pass", passed_timestamp="2026-03-01T12:06:00+00:00")
    return [
        b.enrollment("created", LEARNER, time=b.at(1)),
        b.enrollment("changed", LEARNER, mode="verified", time=b.at(2)),
        b.enrollment("created", LEARNER, SECOND, time=b.at(3)),
        b.enrollment("unenrolled", LEARNER, SECOND, is_active=False, time=b.at(4)),
        b.enrollment("created", OTHER, time=b.at(5)),
        b.event(grade.type, {"grade": grade_data}, time=grade.time),
        b.passing_status(OTHER, True, time=b.at(7)),
        b.certificate("created", LEARNER, status="generating", time=b.at(8)),
        b.certificate("changed", LEARNER, status="downloadable", download_url=CERT_URL, time=b.at(9)),
        b.certificate("created", OTHER, mode="audit", time=b.at(10)),
        b.certificate("revoked", OTHER, mode="audit", status="unavailable", time=b.at(11)),
        b.program_certificate("awarded", LEARNER, PROGRAM, time=b.at(12)),
        b.program_certificate("awarded", LEARNER, OTHER_PROGRAM, time=b.at(13)),
        b.program_certificate("revoked", LEARNER, OTHER_PROGRAM, time=b.at(14)),
        b.catalog_info(name="Name From The Catalog", time=b.at(15)),
        b.access_role("added", STAFF, time=b.at(16)),
        b.access_role("added", FORMER_STAFF, time=b.at(17)),
        b.access_role("removed", FORMER_STAFF, time=b.at(18)),
        b.idv("created", LEARNER, time=b.at(19)),
        b.idv("pending", LEARNER, time=b.at(20)),
        b.idv("approved", LEARNER, time=b.at(21)),
        b.idv("denied", OTHER, time=b.at(22)),
    ]


async def _ends(bootstrap: str, topics: tuple[str, ...]) -> dict[tuple[str, int], int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        tps = await partitions_of(consumer, topics)
        return {(tp.topic, tp.partition): off for tp, off in (await consumer.end_offsets(tps)).items() if off}
    finally:
        await consumer.stop()


@pytest.fixture(scope="module")
def pipeline(stack: Stack) -> Iterator[Pipeline]:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    # Topics as the LMS names them: EVENT_BUS_TOPIC_PREFIX joined with "-", two of them not among our defaults.
    p = Pipeline.create(stack, topic_prefix="", event_bus_topic_prefix=prefix,
                        source_topic_names=[*SOURCE_TOPICS, *EXTRA_SOURCE_TOPICS]).start()
    try:
        p.produce([b.course_published(), b.course_published(SECOND),  # not sent by a stock LMS: ours, JSON
                   b.program_changed(PROGRAM, title="Demo Program"), b.program_changed(OTHER_PROGRAM)])
        events = signals()
        assert {e.type for e in events} == set(TOPICS), "every official type we consume is sent"
        out = send(events, bootstrap=p.settings.kafka_bootstrap, registry=p.settings.schema_registry_url,
                   topic_prefix=prefix)
        assert out == {"sent": len(events)}
        p.note_offsets(asyncio.run(_ends(p.settings.kafka_bootstrap, p.settings.source_topics)))
        p.wait_applied(timeout=90)
        yield p
    finally:
        p.stop()


def course(p: Pipeline, user: int, course_key: str = b.COURSE, query: str = "") -> dict:  # type: ignore[type-arg]
    r = p.get(f"/api/courseware/course/{course_key}{query}", user=user)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_openedx_enrollment_grade_certificate_and_idv_signals_are_served(pipeline: Pipeline) -> None:
    body = course(pipeline, LEARNER)

    assert body["enrollment"] == {"mode": "verified", "is_active": True}  # created, then changed
    assert body["user_has_passing_grade"] is True  # persistent grade 0.82
    assert body["certificate_data"]["cert_status"] == "downloadable"
    assert body["certificate_data"]["download_url"] == CERT_URL
    assert body["verification_status"] == "approved"  # IDV created, pending, approved


def test_openedx_unenrollment_and_passing_status_and_revocation_are_served(pipeline: Pipeline) -> None:
    assert course(pipeline, LEARNER, SECOND)["enrollment"] == {"mode": "audit", "is_active": False}
    other = course(pipeline, OTHER)
    assert other["enrollment"] == {"mode": "audit", "is_active": True}
    assert other["user_has_passing_grade"] is True  # passing status, no percent grade known
    assert other["certificate_data"]["cert_status"] == "invalidated"  # certificate revoked


def test_openedx_catalog_info_renames_the_course(pipeline: Pipeline) -> None:
    assert course(pipeline, LEARNER)["name"] == "Name From The Catalog"


def test_openedx_course_access_roles_grant_and_revoke_masquerade(pipeline: Pipeline) -> None:
    seen_as_learner = course(pipeline, STAFF, query=f"?username=learner{LEARNER}")
    assert seen_as_learner["enrollment"] == {"mode": "verified", "is_active": True}
    assert pipeline.get(f"/api/courseware/course/{b.COURSE}?username=learner{LEARNER}",
                        user=FORMER_STAFF).status_code == 403


def test_openedx_program_certificates_are_served(pipeline: Pipeline) -> None:
    r = pipeline.get(f"/api/dashboard/v0/programs/{PROGRAM}/progress_details/", user=LEARNER)
    assert r.status_code == 200, r.text
    assert r.json()["certificate_data"] == [
        {"type": "course", "title": "Course 0", "url": "/certificates/abc123"},  # the certificate's download url
        # upstream's get_certificates: the program's title, the credential behind the credentials login
        {"type": "program", "title": "Demo Program", "url": "https://credentials/login/?next=/c/1"},
    ]
    other = pipeline.get(f"/api/dashboard/v0/programs/{OTHER_PROGRAM}/progress_details/", user=LEARNER).json()
    assert not [c for c in other["certificate_data"] if c["type"] == "program"]  # awarded, then revoked


def test_official_schema_files_are_what_openedx_events_generates(tmp_path: Path) -> None:
    """events/avro_schemas/org+openedx+* are openedx-events' own (tests/openedx/make_schemas.py)."""
    from tests.openedx.make_schemas import OUT

    official = sorted(t for t in REGISTRY if not t.startswith("ext."))
    out = subprocess.run([str(openedx_python()), str(Path(__file__).parents[1] / "openedx" / "dump_schemas.py"),
                          *official], capture_output=True, text=True, check=True)
    for event_type, schema in json.loads(out.stdout).items():
        assert json.loads((OUT / file_name(event_type)).read_text()) == schema, event_type
