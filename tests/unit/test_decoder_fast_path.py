"""`events.decode` takes a short path for the usual message; it must give exactly what the fully
checked path (`_decode_checked`) gives: the same event, or the same dead-letter reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from events import DecodeError, Event, decode
from events.base import parse_time
from events.codec import _decode_checked, _header_map
from tests.samples import SAMPLE_TYPES, sample_data
from tests.unit.test_decoder_fuzz import FUZZ, HEADER_NAMES

ODD_VALUES = (b"", b" ", b"\xff", b"application/json", b"Application/JSON", b"application/json; charset=utf-8",
              b"text/plain", b"1.0", b" 1.0", b"0.3", b"3", b" 7 ", b"2024-01-01T00:00:00Z", b"not-a-uuid",
              b"123e4567-e89b-12d3-a456-426614174000", *(t.encode() for t in SAMPLE_TYPES))


def outcome(f: Any, *args: Any) -> tuple[str, Event[Any] | str]:
    try:
        return "event", f(*args)
    except DecodeError as exc:
        return "rejected", exc.reason


@FUZZ
@given(st.sampled_from(SAMPLE_TYPES),
       st.lists(st.tuples(st.sampled_from(HEADER_NAMES), st.one_of(st.none(), st.sampled_from(ODD_VALUES))),
                max_size=3),
       st.booleans(), st.booleans())
def test_decode_fast_path_matches_checked_path_on_edited_headers(
    ce_type: str, edits: list[tuple[str, bytes | None]], drop_edited: bool, break_value: bool
) -> None:
    headers: list[tuple[str, bytes | None]] = [
        ("ce_type", ce_type.encode()), ("ce_id", b"5f0c6f2e-7a1b-4c3d-9e8f-0a1b2c3d4e5f"),
        ("ce_time", b"2026-03-01T12:00:00.250000Z"), ("content-type", b"application/json"),
        ("ce_specversion", b"1.0"), ("ce_source", b"openedx/lms/web")]
    value = orjson.dumps(sample_data(ce_type))
    for name, new in edits:
        if drop_edited:
            headers = [h for h in headers if h[0] != name]
        headers.append((name, new))
    if break_value:
        value = b'{"truncated": '
    assert outcome(decode, headers, value) == outcome(_decode_checked, _header_map(headers), value)


@FUZZ
@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.just(UTC)),
       st.sampled_from(("Z", "+00:00", "+00:00 ")), st.integers(min_value=0, max_value=9))
def test_parse_time_fast_forms_match_the_general_path(t: datetime, suffix: str, digits: int) -> None:
    """`Z` and `+00:00` (Python's isoformat in Open edX's Avro events) take fromisoformat directly;
    the result must be what the general path (any offset, any fraction) gives."""
    fraction = f".{t.microsecond:06d}000"[: digits + 1] if digits else ""
    text = t.strftime("%Y-%m-%dT%H:%M:%S") + fraction + suffix
    general = t.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "+01:00"  # the same instant, one hour on
    assert parse_time(text) == parse_time(general) + timedelta(hours=1)
    assert parse_time(text).tzinfo is UTC
