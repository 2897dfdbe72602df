"""Event times: openedx-events requires `ce_time` in UTC; LMS rows carry aware datetimes (USE_TZ)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive one (USE_TZ=False sites) is taken as UTC, as Django stores it."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def now() -> datetime:
    return datetime.now(UTC)
