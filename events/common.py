"""Shared nested records (`UserData`, `CourseData`, ...) and field types, as openedx-events defines them.

Field names, nesting and required-ness follow the openedx-events 10.x Avro schemas and EVENTS.md: a
field is optional (may be absent or null) only where EVENTS.md marks it `?`.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any

from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey, UsageKey
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field

from events.base import Record, parse_time


@lru_cache(maxsize=65536)
def _check_course_key(value: str) -> str:
    try:
        CourseKey.from_string(value)
    except (InvalidKeyError, ValueError, TypeError):
        raise ValueError(f"not a course key: {value[:120]!r}") from None
    return value


@lru_cache(maxsize=262144)
def _check_usage_key(value: str) -> str:
    try:
        UsageKey.from_string(value)
    except (InvalidKeyError, ValueError, TypeError):
        raise ValueError(f"not a usage key: {value[:120]!r}") from None
    return value


def course_key_or_empty(value: str) -> str:
    """`CourseAccessRoleData.course_key`: empty means every course of the org."""
    return value if value == "" else _check_course_key(value)


def _rfc3339(value: Any) -> Any:
    """Times on the wire are RFC 3339 strings; Python callers may pass datetimes."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("expected an RFC 3339 time string")
    return parse_time(value)


# Keys are kept as the exact strings the producer sent (the API echoes ids byte-for-byte), but
# they must parse with edx-opaque-keys, as Open edX itself parses them.
CourseKeyStr = Annotated[str, AfterValidator(_check_course_key)]
UsageKeyStr = Annotated[str, AfterValidator(_check_usage_key)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Time = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]


class UserPII(Record):
    username: str
    email: str
    name: str


class UserData(Record):
    id: int
    is_active: bool
    pii: UserPII


class CourseData(Record):
    course_key: CourseKeyStr
    display_name: str
    start: Time | None = None
    end: Time | None = None
