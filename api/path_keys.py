"""Parsing the keys that arrive raw in the path, with the rules Open edX uses (edx-opaque-keys).

A key is only ever used as a literal Redis key part (never a pattern); characters that could only
mean trouble (`*`, `?`, `[`, whitespace, control characters, `..`) and very long keys are refused
before parsing."""

from __future__ import annotations

from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey, UsageKey
from starlette.convertors import Convertor, register_url_convertor

from api.errors import ApiError, shown

MAX_KEY_LENGTH = 1000
_FORBIDDEN = frozenset("*?[]\\") | frozenset(chr(c) for c in range(33)) | {"\x7f"}


def _plausible(raw: str) -> bool:
    return 0 < len(raw) <= MAX_KEY_LENGTH and ".." not in raw and not (_FORBIDDEN & set(raw))


def _strip(raw: str) -> str:
    return raw[:-1] if raw.endswith("/") else raw


def parse_course_key(raw: str) -> tuple[str, CourseKey]:
    """(the key exactly as requested, parsed); 400 naming the key when it does not parse."""
    key = _strip(raw)
    if _plausible(key):
        try:
            return key, CourseKey.from_string(key)
        except InvalidKeyError:
            pass
    raise ApiError(400, f"Invalid course key: '{shown(key)}'.")


def parse_usage_key(raw: str) -> tuple[str, UsageKey]:
    """(the key exactly as requested, parsed); 404 naming the key when it does not parse, or when
    it names no course run (an `i4x://org/course/type/id` key: its course key cannot be printed,
    so no read model can hold it)."""
    key = _strip(raw)
    if _plausible(key):
        try:
            parsed = UsageKey.from_string(key)
            str(parsed.course_key)  # TypeError for a run-less (i4x) key
            return key, parsed
        except (InvalidKeyError, TypeError, ValueError):
            pass
    raise ApiError(404, f"Invalid usage key: '{shown(key)}'.")


class RawKeyConvertor(Convertor[str]):
    """`{name:key}` in a route: the rest of the path, newlines included (Starlette's `path`
    convertor stops at a newline, which would turn a bad key into a route miss instead of a 400)."""

    regex = r"[\s\S]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("key", RawKeyConvertor())
