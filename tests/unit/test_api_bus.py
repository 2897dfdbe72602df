"""The course route's visit is encoded without pydantic (api/bus.visit_record): it must be exactly
what events.encode makes of the route's CoursewareVisited event (headers and value bytes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from api.auth import Caller
from api.bus import visit_record
from api.routes.courseware import visit_event
from events import decode, encode

NOW = datetime(2026, 1, 21, 15, 0, tzinfo=UTC)


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
