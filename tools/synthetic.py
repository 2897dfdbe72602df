"""Synthetic event histories. (Placeholder: the seeded generator replaces demo_events.)"""

from __future__ import annotations

from typing import Any

from events import Event


def demo_events() -> list[Event[Any]]:
    from tests.builders import course_published, enrollment  # noqa: PLC0415 - temporary

    return [course_published(), enrollment("created", 1)]
