"""The demo history loaded by `lp start`: a small, readable world for a first look."""

from __future__ import annotations

from typing import Any

from events import Event

DEMO_USER_ID = 1
DEMO_USERNAME = "demo"
DEMO_COURSE = "course-v1:edX+DemoX+Demo_Course"


def demo_history() -> list[Event[Any]]:
    from tools.synthetic import demo_events

    return demo_events()
