"""Write tests/fixtures/openedx_golden.json: real bytes of Open edX's producer, for unit tests.

    .venv/bin/python -m tests.openedx.make_golden

Each official event type we consume is sent as a signal through openedx-events 10.5.0 and
edx-event-bus-kafka 6.1.0 (tests/openedx/send_signals.py in the Open edX virtualenv) with
confluent-kafka's in-process MockSchemaRegistryClient and a recorder instead of the broker; the
file keeps each message's topic, key, value and headers as produced, the registry's schemas by
id, and the payload that was sent (to compare with what we decode)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from events import Event
from tests import builders as b
from tests.openedx.env import ROOT
from tests.openedx.plan import send

OUT = ROOT / "tests" / "fixtures" / "openedx_golden.json"
COMMAND = ".venv/bin/python -m tests.openedx.make_golden"
PREFIX = "dev"


def golden_events() -> list[Event[Any]]:
    """One event of every official type we consume; times with and without microseconds."""
    t = lambda minutes, micro=0: datetime(2026, 3, 1, 12, minutes, 0, micro, tzinfo=UTC)  # noqa: E731
    passed = "2026-03-01T12:30:00.123456+00:00"
    grade = b.grade_changed(7, 0.82, time=t(5, 250000))
    grade_data = grade.data.model_dump(mode="json")["grade"]
    grade_data.update(course_edited_timestamp="2026-02-01T00:00:00+00:00", course_version="v1",
                      grading_policy_hash="abc", letter_grade="Pass", passed_timestamp=passed)
    return [
        b.enrollment("created", 7, time=t(1), created=t(1)),
        b.enrollment("changed", 7, mode="verified", time=t(2, 123456)),
        b.enrollment("unenrolled", 7, is_active=False, time=t(3)),
        b.event(grade.type, {"grade": grade_data}, time=grade.time),
        b.passing_status(7, True, time=t(6)),
        b.certificate("created", 7, time=t(7)),
        b.certificate("changed", 7, status="downloadable", time=t(8)),
        b.certificate("revoked", 7, status="unavailable", time=t(9)),
        b.program_certificate("awarded", 7, time=t(10)),
        b.program_certificate("revoked", 7, time=t(11)),
        b.catalog_info(name="Catalog name", start=t(0), time=t(12)),
        b.access_role("added", 8, time=t(13)),
        b.access_role("removed", 8, time=t(14)),
        b.idv("created", 7, time=t(15)),
        b.idv("pending", 7, time=t(16)),
        b.idv("approved", 7, expiration=t(59), time=t(17)),
        b.idv("denied", 7, time=t(18)),
    ]


def main() -> None:
    events = golden_events()
    out = send(events, bootstrap="127.0.0.1:1", registry="mock://golden", topic_prefix=PREFIX)
    assert len(out["messages"]) == len(events), "one message per signal"
    for message, event in zip(out["messages"], events, strict=True):
        message["sent"] = {"type": event.type, "time": event.time.isoformat(),
                           "data": event.data.model_dump(mode="json")}
    doc = {"command": COMMAND, "libraries": "openedx-events 10.5.0, edx-event-bus-kafka 6.1.0, "
           "confluent-kafka 2.16.1 (tests/openedx/requirements.txt)", "topic_prefix": PREFIX, **out}
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {len(out['messages'])} messages and {len(out['schemas'])} schemas to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
