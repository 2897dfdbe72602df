""" "Now" for the read-time rules: the real clock, unless `LP_FAKE_NOW` is set (tests only)."""

from __future__ import annotations

from datetime import UTC, datetime

from readmodels.settings import Settings


def now(settings: Settings) -> datetime:
    return settings.fake_now.astimezone(UTC) if settings.fake_now is not None else datetime.now(UTC)
