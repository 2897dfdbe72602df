"""Shared nested records (`UserData`, `CourseData`, ...) and key types, as openedx-events defines them."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey, UsageKey
from pydantic import AfterValidator, AwareDatetime, Field

from events.base import Record


@lru_cache(maxsize=65536)
def _check_course_key(value: str) -> str:
    try:
        CourseKey.from_string(value)
    except InvalidKeyError:
        raise ValueError(f"not a course key: {value[:120]!r}") from None
    return value


@lru_cache(maxsize=262144)
def _check_usage_key(value: str) -> str:
    try:
        UsageKey.from_string(value)
    except InvalidKeyError:
        raise ValueError(f"not a usage key: {value[:120]!r}") from None
    return value


# Keys are kept as the exact strings the producer sent (the API echoes ids byte-for-byte), but
# they must parse with edx-opaque-keys, as Open edX itself parses them.
CourseKeyStr = Annotated[str, AfterValidator(_check_course_key)]
UsageKeyStr = Annotated[str, AfterValidator(_check_usage_key)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Time = AwareDatetime


class UserPII(Record):
    username: str
    email: str = ""
    name: str = ""


class UserData(Record):
    id: int
    is_active: bool = True
    pii: UserPII


class CourseData(Record):
    course_key: CourseKeyStr
    display_name: str = ""
    start: Time | None = None
    end: Time | None = None
