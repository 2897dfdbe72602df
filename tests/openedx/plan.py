"""What the Open edX producer sends in our tests: its EVENT_BUS_PRODUCER_CONFIG, and a list of
our test events turned into signal data for tests/openedx/send_signals.py (run with the Open edX
interpreter). Used by the golden-fixture maker and the integration test."""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from events import Event
from events.avro import avro_datum
from tests.openedx.env import openedx_python

SCRIPT = Path(__file__).with_name("send_signals.py")
_L = "org.openedx.learning"

# event type -> (base topic, event_key_field), as an operator would put them in the LMS's
# EVENT_BUS_PRODUCER_CONFIG. Several types share a topic (one subject per record type); catalog
# info and course access roles go to topics named as edx-platform names them, which are not among
# our default source topics (LP_SOURCE_TOPICS lists them); IDV attempts are keyed by the numeric
# user id, so their keys are Avro longs.
TOPICS: dict[str, tuple[str, str]] = {
    f"{_L}.course.enrollment.created.v1": ("learning-course-enrollment-lifecycle", "enrollment.course.course_key"),
    f"{_L}.course.enrollment.changed.v1": ("learning-course-enrollment-lifecycle", "enrollment.course.course_key"),
    f"{_L}.course.unenrollment.completed.v1": ("learning-course-enrollment-lifecycle", "enrollment.course.course_key"),
    f"{_L}.course.persistent_grade_summary.changed.v1": ("learning-course-grade-lifecycle", "grade.course.course_key"),
    f"{_L}.course.passing.status.updated.v1": ("learning-course-grade-lifecycle",
                                               "course_passing_status.course.course_key"),
    f"{_L}.certificate.created.v1": ("learning-certificate-lifecycle", "certificate.course.course_key"),
    f"{_L}.certificate.changed.v1": ("learning-certificate-lifecycle", "certificate.course.course_key"),
    f"{_L}.certificate.revoked.v1": ("learning-certificate-lifecycle", "certificate.course.course_key"),
    f"{_L}.program.certificate.awarded.v1": ("learning-certificate-lifecycle", "program_certificate.program.uuid"),
    f"{_L}.program.certificate.revoked.v1": ("learning-certificate-lifecycle", "program_certificate.program.uuid"),
    "org.openedx.content_authoring.course.catalog_info.changed.v1": ("course-catalog-info-changed",
                                                                      "catalog_info.course_key"),
    f"{_L}.user.course_access_role.added.v1": ("learning-course-access-role-lifecycle",
                                                "course_access_role_data.course_key"),
    f"{_L}.user.course_access_role.removed.v1": ("learning-course-access-role-lifecycle",
                                                  "course_access_role_data.course_key"),
    **{f"{_L}.idv_attempt.{kind}.v1": ("learning-learner-activity", "idv_attempt.user.id")
       for kind in ("created", "pending", "approved", "denied")},
}
EXTRA_SOURCE_TOPICS = ("course-catalog-info-changed", "learning-course-access-role-lifecycle")


def producer_config() -> dict[str, Any]:
    return {t: {topic: {"event_key_field": key, "enabled": True}} for t, (topic, key) in TOPICS.items()}


def signal_data(event: Event[Any]) -> dict[str, Any]:
    """Our event's payload as openedx-events' Avro dict (its deserializer makes the attrs objects)."""
    return avro_datum(event.data.model_dump())  # type: ignore[no-any-return]


def send(events: Iterable[Event[Any]], *, bootstrap: str, registry: str, topic_prefix: str) -> Any:
    """Send the events as signals through Open edX's producer; return the script's JSON output."""
    plan = {"bootstrap": bootstrap, "registry": registry, "topic_prefix": topic_prefix,
            "producer_config": producer_config(),
            "events": [{"type": e.type, "time": e.time.isoformat(), "data": signal_data(e)} for e in events]}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(plan, f)
    try:
        out = subprocess.run([str(openedx_python()), str(SCRIPT), f.name], capture_output=True, text=True,
                             timeout=300, check=False)
    finally:
        Path(f.name).unlink()
    if out.returncode != 0:
        raise RuntimeError(f"send_signals.py failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout)
