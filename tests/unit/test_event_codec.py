"""The codec: every registered event type survives encode -> decode, and every malformed message is
rejected with a one-line DecodeError that says what is wrong."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from events import REGISTRY, DecodeError, Event, decode, encode
from events.codec import _resolve_type
from events.registry import DuplicateEventTypeError, register
from tests.samples import SAMPLE_TYPES, sample_data

ENROLLED = "org.openedx.learning.course.enrollment.created.v1"
EVENT_ID = "5f0c6f2e-7a1b-4c3d-9e8f-0a1b2c3d4e5f"


def headers_for(type_: str = ENROLLED, **overrides: bytes | None) -> list[tuple[str, bytes]]:
    base = {
        "ce_type": type_.encode(),
        "ce_id": EVENT_ID.encode(),
        "ce_time": b"2026-03-01T12:00:00.123456Z",
        "ce_source": b"openedx/lms/web",
        "ce_specversion": b"1.0",
        "content-type": b"application/json",
    }
    base.update(overrides)
    return [(k, v) for k, v in base.items() if v is not None]


def value_for(type_: str = ENROLLED, data: dict[str, Any] | None = None) -> bytes:
    return orjson.dumps(data if data is not None else sample_data(type_))


def test_registry_holds_the_31_contract_event_types() -> None:
    assert len(REGISTRY) == 31
    assert sorted(REGISTRY) == list(SAMPLE_TYPES)


@pytest.mark.parametrize("type_", SAMPLE_TYPES)
def test_encode_then_decode_event_round_trips(type_: str) -> None:
    cls = REGISTRY[type_]
    record = Event(type=type_, id=str(uuid.uuid4()), time=datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC),
                   data=cls.model_validate(sample_data(type_)), source="openedx/lms/web", minorversion=2)

    headers, value = encode(record)
    decoded = decode(headers, value)

    assert decoded == record
    assert type(decoded.data) is cls
    assert dict(headers)["ce_type"] == type_.encode()


@pytest.mark.parametrize("type_", SAMPLE_TYPES)
def test_decode_wire_sample_then_encode_keeps_every_given_field(type_: str) -> None:
    event = decode(headers_for(type_), value_for(type_))

    _, value = encode(event)

    assert decode(headers_for(type_), value) == event


def test_decode_event_ignores_unknown_fields_at_every_level() -> None:
    data = sample_data(ENROLLED)
    data["future_top"] = 1
    data["enrollment"]["future_field"] = {"x": [1, 2]}
    data["enrollment"]["user"]["pii"]["nickname"] = "seven"

    event = decode(headers_for(), value_for(data=data))

    assert event.data.enrollment.user.pii.username == "learner7"
    assert "future_field" not in event.data.enrollment.model_dump()


def test_decode_event_defaults_minorversion_and_source() -> None:
    event = decode(headers_for(ce_source=None, ce_specversion=None, **{"content-type": None}), value_for())
    assert event.minorversion == 0
    assert event.source is None


def test_decode_event_parses_time_with_offset_to_utc() -> None:
    event = decode(headers_for(ce_time=b"2026-03-01T13:30:00+01:30"), value_for())
    assert event.time == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _without(path: str) -> dict[str, Any]:
    data = sample_data(ENROLLED)
    *parents, last = path.split(".")
    node = data
    for p in parents:
        node = node[p]
    del node[last]
    return data


def _with(path: str, value: Any, type_: str = ENROLLED) -> dict[str, Any]:
    data = sample_data(type_)
    *parents, last = path.split(".")
    node = data
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    node[last] = value
    return data


MALFORMED: dict[str, tuple[list[tuple[str, bytes]], bytes | None, str]] = {
    "missing ce_type": (headers_for(ce_type=None), value_for(), "missing header ce_type"),
    "missing ce_id": (headers_for(ce_id=None), value_for(), "missing header ce_id"),
    "missing ce_time": (headers_for(ce_time=None), value_for(), "missing header ce_time"),
    "empty ce_type": (headers_for(ce_type=b" "), value_for(), "empty header ce_type"),
    "ce_type not utf-8": (headers_for(ce_type=b"\xff\xfe"), value_for(), "header ce_type is not UTF-8"),
    "ce_id not a uuid": (headers_for(ce_id=b"event-42"), value_for(), "ce_id is not a UUID"),
    "ce_id uuid without hyphens": (headers_for(ce_id=uuid.uuid4().hex.encode()), value_for(), "ce_id is not a UUID"),
    "ce_time naive": (headers_for(ce_time=b"2026-03-01T12:00:00"), value_for(), "ce_time is not an RFC 3339"),
    "ce_time words": (headers_for(ce_time=b"yesterday"), value_for(), "ce_time is not an RFC 3339"),
    "ce_time basic iso": (headers_for(ce_time=b"20260301T120000Z"), value_for(), "ce_time is not an RFC 3339"),
    "ce_time no seconds": (headers_for(ce_time=b"2026-03-01T12:00Z"), value_for(), "ce_time is not an RFC 3339"),
    "ce_time impossible date": (headers_for(ce_time=b"2026-02-30T12:00:00Z"), value_for(), "ce_time is not"),
    "unknown type": (headers_for("org.openedx.learning.nope.v1"), value_for(), "unknown event type"),
    "type without version": (headers_for("org.openedx.learning.nope"), value_for(), "unknown event type"),
    "unsupported major version": (
        headers_for("org.openedx.learning.course.enrollment.created.v2"), value_for(),
        "unsupported major version v2 of org.openedx.learning.course.enrollment.created"),
    "content-type text": (headers_for(**{"content-type": b"text/plain"}), value_for(),
                          "unsupported content-type 'text/plain' (only application/json or application/avro)"),
    # Since issue #13 Avro is a wire format: a JSON value labelled Avro fails at the framing.
    "content-type avro on json": (headers_for(**{"content-type": b"application/avro"}), value_for(),
                                  "wrong magic byte 0x7b (the Confluent framing starts with 0x00)"),
    "specversion 0.3": (headers_for(ce_specversion=b"0.3"), value_for(), "unsupported ce_specversion '0.3'"),
    "minorversion not int": (headers_for(ce_minorversion=b"one"), value_for(), "ce_minorversion is not"),
    "minorversion negative": (headers_for(ce_minorversion=b"-1"), value_for(), "ce_minorversion is not"),
    "minorversion control char": (headers_for(ce_minorversion=b"\x1c0"), value_for(), "ce_minorversion is not"),
    "tombstone": (headers_for(), None, "empty value (tombstone)"),
    "empty value": (headers_for(), b"", "value is not JSON"),
    "bad json": (headers_for(), b'{"enrollment": {', "value is not JSON"),
    "not utf-8 json": (headers_for(), b'{"enrollment": "\xff"}', "value is not JSON"),
    "json array": (headers_for(), b"[1, 2]", "value is not a JSON object"),
    "json string": (headers_for(), b'"hello"', "value is not a JSON object"),
    "missing payload root": (headers_for(), b"{}", "invalid data: enrollment: Field required"),
    "missing required field": (headers_for(), value_for(data=_without("enrollment.mode")),
                               "invalid data: enrollment.mode: Field required"),
    "missing nested required field": (headers_for(), value_for(data=_without("enrollment.user.pii.email")),
                                      "invalid data: enrollment.user.pii.email: Field required"),
    "user id as text": (headers_for(), value_for(data=_with("enrollment.user.id", "7")),
                        "invalid data: enrollment.user.id: Input should be a valid integer"),
    "is_active as number": (headers_for(), value_for(data=_with("enrollment.is_active", 1)),
                            "invalid data: enrollment.is_active: Input should be a valid boolean"),
    "mode null": (headers_for(), value_for(data=_with("enrollment.mode", None)),
                  "invalid data: enrollment.mode: Input should be a valid string"),
    "bad course key": (headers_for(), value_for(data=_with("enrollment.course.course_key", "DemoX")),
                       "invalid data: enrollment.course.course_key: Value error, not a course key"),
    "payload time naive": (headers_for(), value_for(data=_with("enrollment.creation_date", "2026-03-01T12:00:00")),
                           "invalid data: enrollment.creation_date: Value error, not an RFC 3339 time"),
    "payload time as number": (headers_for(), value_for(data=_with("enrollment.creation_date", 1767225600)),
                               "invalid data: enrollment.creation_date: Value error, expected an RFC 3339"),
    "fraction above one": (
        headers_for("ext.learning.block.completion.changed.v1"),
        value_for(data=_with("completion.completion", 1.5, "ext.learning.block.completion.changed.v1")),
        "invalid data: completion.completion: Input should be less than or equal to 1"),
    "icon not allowed": (
        headers_for("ext.content.course.published.v1"),
        value_for(data=_with("course.outline.0.sequences.0.units.0.icon", "lab", "ext.content.course.published.v1")),
        "invalid data: course.outline.0.sequences.0.units.0.icon: Input should be 'problem', 'video' or 'other'"),
    "program uuid not a uuid": (
        headers_for("ext.catalog.program.deleted.v1"), b'{"program": {"uuid": "nope"}}',
        "invalid data: program.uuid: String should match pattern"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_decode_malformed_message_raises_decode_error_with_reason(case: str) -> None:
    headers, value, expected = MALFORMED[case]

    with pytest.raises(DecodeError) as info:
        decode(headers, value)

    assert expected in info.value.reason, info.value.reason
    assert "\n" not in info.value.reason and "\r" not in info.value.reason


def test_decode_invalid_data_reason_counts_further_errors() -> None:
    data = _without("enrollment.mode")
    data["enrollment"]["is_active"] = "yes"
    with pytest.raises(DecodeError, match=r"\(\+1 more\)"):
        decode(headers_for(), value_for(data=data))


def test_decode_error_reason_is_one_bounded_line() -> None:
    error = DecodeError("first\nsecond\r" + "x" * 1000)
    assert "\n" not in error.reason and "\r" not in error.reason
    assert len(error.reason) <= 500


def test_register_second_class_for_same_type_fails_loudly() -> None:
    existing = REGISTRY[ENROLLED]

    class Impostor(existing):  # type: ignore[misc, valid-type]
        pass

    with pytest.raises(DuplicateEventTypeError, match=ENROLLED):
        register(Impostor)
    assert REGISTRY[ENROLLED] is existing


def test_resolve_type_lists_the_supported_versions() -> None:
    with pytest.raises(DecodeError, match=r"supported: org\.openedx\.learning\.certificate\.revoked\.v1"):
        _resolve_type("org.openedx.learning.certificate.revoked.v9")
