"""The envelope and the base class of every event payload."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Record(BaseModel):
    """Immutable nested record. Unknown extra fields are ignored (forward compatible).

    The codec validates the wire JSON in strict mode (no `"42"` for an int, no `1` for a bool);
    Python callers (builders, tests) may use the lax `model_validate`.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=False, allow_inf_nan=False)


class EventData(Record):
    """The `data` of one event type. Subclasses set TYPE (the `ce_type`) and TOPIC (default topic)."""

    TYPE: ClassVar[str]
    TOPIC: ClassVar[str]

    def partition_key(self) -> str:
        """The Kafka key the producer uses; never relied on for correctness."""
        return ""


D = TypeVar("D", bound=EventData)


@dataclass(frozen=True, slots=True)
class Event(Generic[D]):
    """One CloudEvent: identity, time, type and the typed payload."""

    type: str
    id: str
    time: datetime
    data: D
    source: str | None = None
    minorversion: int = 0

    @property
    def micros(self) -> int:
        """Event time as integer microseconds since the epoch (parsed, never compared as text)."""
        return to_micros(self.time)

    @property
    def version(self) -> str:
        """Last-writer-wins order key: (ce_time, ce_id), as a string that sorts correctly."""
        return lww_version(self.micros, self.id)


def to_micros(t: datetime) -> int:
    delta = t - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def lww_version(*parts: int | str) -> str:
    """A text key whose byte order is the tuple order: integers fixed-width, then the id.

    Integers are microseconds since 1970 (times up to the year 2286 fit in 16 digits).
    """
    return "|".join(f"{p:016d}" if isinstance(p, int) else p for p in parts)


# RFC 3339 `date-time`: full date, `T`, full time with seconds, optional fraction, `Z` or offset.
# Stricter than datetime.fromisoformat, which also takes ISO 8601 basic forms and naive times.
_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


def parse_time(value: str) -> datetime:
    """Parse an RFC 3339 time (offset required); return it in UTC. Raise ValueError otherwise."""
    m = _RFC3339.fullmatch(value.strip())
    if m is None:
        raise ValueError(f"not an RFC 3339 time with offset: {value[:80]!r}")
    date, clock, fraction, offset = m.groups()
    micros = f".{(fraction or '0')[:6]:0<6}"  # nanosecond precision is truncated, not rounded
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        return datetime.fromisoformat(f"{date}T{clock}{micros}{offset}").astimezone(UTC)
    except (ValueError, OverflowError):  # Feb 30, hour 25, or out of range once moved to UTC
        raise ValueError(f"not a valid calendar time: {value[:80]!r}") from None


def format_time(t: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ`, with `.ffffff` when there are microseconds (the API's date format)."""
    t = t.astimezone(UTC)
    base = t.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{t.microsecond:06d}Z" if t.microsecond else f"{base}Z"
