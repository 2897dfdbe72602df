"""The demo history loaded by `lp start`: a small, readable world for a first look."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from events import Event

DEMO_USER_ID = 1
DEMO_USERNAME = "demo"
DEMO_COURSE = "course-v1:edX+DemoX+Demo_Course"


def demo_history(now: datetime | None = None) -> list[Event[Any]]:
    """The demo world as of `now` (default: the current time), every event before it, in time order."""
    from tools.synthetic import demo_events

    return demo_events(now or datetime.now(UTC))
