"""The course route's visit is encoded without pydantic (api/bus.visit_record): it must be exactly
what events.encode makes of the route's CoursewareVisited event (headers and value bytes)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from api.auth import Caller
from api.bus import EVENT_SOURCE, visit_record
from events import Event, decode, encode
from events.activity import CoursewareVisited

NOW = datetime(2026, 1, 21, 15, 0, tzinfo=UTC)


def visit_event(caller: Caller, key: str, now: datetime, browser_timezone: str | None) -> Event[Any]:
    """The visit as the validated Event the route would emit (moved here from api/routes/courseware.py:
    the route emits visit_record's bytes, this is what they are checked against)."""
    visit = {
        "user_id": caller.user_id,
        "course_key": key,
        "visited_at": now,
        "browser_timezone": browser_timezone[:64] if browser_timezone else None,
    }
    data = CoursewareVisited.model_validate({"visit": visit})
    return Event(type=CoursewareVisited.TYPE, id=str(uuid.uuid4()), time=now, data=data, source=EVENT_SOURCE)


@pytest.mark.parametrize(
    "now",
    [
        NOW,
        NOW + timedelta(microseconds=120_000),
        NOW + timedelta(microseconds=1),
        datetime(2026, 1, 21, 16, 30, 5, 7, tzinfo=timezone(timedelta(hours=1, minutes=30))).astimezone(UTC),
    ],
)
@pytest.mark.parametrize("browser_timezone", [None, "", "Europe/Paris", "x" * 100, 'é"\\\n'])
@pytest.mark.parametrize("key", ["course-v1:edX+DemoX+Demo_Course", "edX/Demo/2014"])
def test_visit_record_is_the_encoded_visit_event(now: datetime, browser_timezone: str | None, key: str) -> None:
    event = visit_event(Caller(42, "learner42", False), key, now, browser_timezone)
    expected_headers, expected_value = encode(event)
    headers, value = visit_record(42, key, now, browser_timezone)
    assert value == expected_value
    ids = [v for name, v in headers if name == "ce_id"]
    assert len(ids) == 1
    assert [(n, v) for n, v in headers if n != "ce_id"] == [(n, v) for n, v in expected_headers if n != "ce_id"]
    assert [n for n, _ in headers] == [n for n, _ in expected_headers]
    decoded = decode(headers, value)
    assert decoded.data == event.data and decoded.time == event.time and decoded.source == event.source
