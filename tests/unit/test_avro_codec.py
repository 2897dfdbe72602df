"""The Avro wire format (events/avro.py through events.decode): real bytes of Open edX's own
producer (golden fixtures), every failure rule with its dead-letter reason, the choice of format
per message, and every event type through our own Avro writer."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import fastavro
import orjson
import pytest

from events import REGISTRY, DecodeError, Event, decode
from events.avro import UnusableSchema, avro_datum, encode_headers, encode_value, parse_writer_schema, schema_id
from events.codec import _decode_checked, _header_map
from tests.samples import SAMPLE_TYPES, sample_data
from tools.avro_writer import schema_variants

GOLDEN = json.loads((Path(__file__).parents[1] / "fixtures" / "openedx_golden.json").read_text())
GOLDEN_SCHEMAS = {int(i): parse_writer_schema(int(i), text) for i, text in GOLDEN["schemas"].items()}
ENROLLED = "org.openedx.learning.course.enrollment.created.v1"


def golden(index: int) -> tuple[list[tuple[str, bytes]], bytes, dict[str, Any]]:
    m = GOLDEN["messages"][index]
    return [(k, v.encode()) for k, v in m["headers"]], base64.b64decode(m["value"]), m


def both_paths(headers: list[tuple[str, bytes]], value: bytes | None, schemas: Any) -> Event[Any]:
    """decode's short path and the fully checked path agree; return the event."""
    event = decode(headers, value, schemas)
    assert _decode_checked(_header_map(headers), value, schemas) == event
    return event


@pytest.mark.parametrize("index", range(len(GOLDEN["messages"])),
                         ids=[m["sent"]["type"].removeprefix("org.openedx.") for m in GOLDEN["messages"]])
def test_decode_golden_bytes_of_openedx_producer_gives_the_payload_sent(index: int) -> None:
    headers, value, m = golden(index)

    event = both_paths(headers, value, GOLDEN_SCHEMAS)

    assert event.type == m["sent"]["type"]
    assert event.data.model_dump(mode="json") == m["sent"]["data"]
    assert event.time.isoformat() == m["sent"]["time"]
    assert event.id == dict(m["headers"])["ce_id"]
    assert event.source == "openedx/lms/web"


def test_golden_bytes_are_framed_as_the_reference_says() -> None:
    for m in GOLDEN["messages"]:
        h = dict(m["headers"])
        value = base64.b64decode(m["value"])
        assert value[0] == 0 and schema_id(value) in GOLDEN_SCHEMAS
        assert h["content-type"] == h["ce_datacontenttype"] == "application/avro"
        assert h["ce_minorversion"] == "0" and h["sourcelib"] == "10.5.0" and "ce_subject" not in h
        assert m["topic"].startswith(GOLDEN["topic_prefix"] + "-")
        ns = orjson.loads(GOLDEN["schemas"][str(schema_id(value))])["namespace"]
        assert ns == h["ce_type"]  # one subject (and schema) per record type
    times = [dict(m["headers"])["ce_time"] for m in GOLDEN["messages"]]
    assert "2026-03-01T12:01:00+00:00" in times and "2026-03-01T12:02:00.123456+00:00" in times


def test_golden_keys_are_never_needed_even_avro_longs() -> None:
    idv = next(i for i, m in enumerate(GOLDEN["messages"]) if "idv_attempt" in m["sent"]["type"])
    headers, value, m = golden(idv)
    key = base64.b64decode(m["key"])
    assert key[:1] == b"\x00" and key[5:] == b"\x0e"  # the Avro long 7: the user id
    assert decode(headers, value, GOLDEN_SCHEMAS).data.idv_attempt.user.id == 7


def test_decode_picks_avro_by_first_byte_without_content_type() -> None:
    headers, value, _ = golden(0)
    bare = [(k, v) for k, v in headers if k not in ("content-type", "ce_datacontenttype")]
    assert both_paths(bare, value, GOLDEN_SCHEMAS).type == ENROLLED


def test_decode_picks_avro_by_ce_datacontenttype_alone() -> None:
    headers, value, _ = golden(0)
    only = [(k, v) for k, v in headers if k != "content-type"]
    assert both_paths(only, value, GOLDEN_SCHEMAS).type == ENROLLED


def _edit(value: bytes, *, magic: int | None = None, sid: int | None = None, body: bytes | None = None) -> bytes:
    out = bytearray(value)
    if magic is not None:
        out[0] = magic
    if sid is not None:
        out[1:5] = sid.to_bytes(4, "big")
    if body is not None:
        out[5:] = body
    return bytes(out)


HEADERS, VALUE, _ = golden(0)
SID = schema_id(VALUE)
FAILURES: dict[str, tuple[bytes | None, Any, str]] = {
    "no registry configured": (VALUE, None,
                               f"Avro value (schema id {SID}) but no schema registry is configured"),
    "unknown schema id": (_edit(VALUE, sid=999), GOLDEN_SCHEMAS, "unknown schema id 999 (not in the schema registry)"),
    "registry answered 404": (_edit(VALUE, sid=999), {999: UnusableSchema("unknown schema id 999 (the schema "
                                                                          "registry answered 404)")},
                              "unknown schema id 999 (the schema registry answered 404)"),
    "wrong magic byte": (_edit(VALUE, magic=1), GOLDEN_SCHEMAS,
                         "wrong magic byte 0x01 (the Confluent framing starts with 0x00)"),
    "too short for the framing": (b"\x00\x00\x01", GOLDEN_SCHEMAS, "Avro value too short for the Confluent framing"),
    "truncated body": (VALUE[:-10], GOLDEN_SCHEMAS, f"body does not decode against schema id {SID}: "),
    "bytes left after the record": (VALUE + b"\x00\x00", GOLDEN_SCHEMAS,
                                    f"body does not decode against schema id {SID}: 2 byte(s) left after the record"),
    "body of another schema": (_edit(VALUE, sid=next(i for i in GOLDEN_SCHEMAS if i != SID and "grade" in
                                                      GOLDEN["schemas"][str(i)])), GOLDEN_SCHEMAS, "schema id"),
    "schema not avro": (_edit(VALUE, sid=5), {5: parse_writer_schema(5, "syntax = 'proto3';", "PROTOBUF")},
                        "schema id 5 is a PROTOBUF schema, not Avro"),
    "schema does not parse": (_edit(VALUE, sid=6), {6: parse_writer_schema(6, '{"type": "nope"}')},
                              "schema id 6 is not a usable Avro schema"),
    "tombstone": (None, GOLDEN_SCHEMAS, "empty value (tombstone)"),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_decode_bad_avro_raises_decode_error_with_precise_reason(case: str) -> None:
    value, schemas, expected = FAILURES[case]

    with pytest.raises(DecodeError) as info:
        decode(HEADERS, value, schemas)
    with pytest.raises(DecodeError) as checked:
        _decode_checked(_header_map(HEADERS), value, schemas)

    assert expected in info.value.reason, info.value.reason
    assert checked.value.reason == info.value.reason
    assert "\n" not in info.value.reason


def test_decode_avro_data_is_validated_like_json() -> None:
    """A writer schema whose types differ from the contract's (user id as a string) is decoded by
    Avro, then rejected by the same strict validation as JSON."""
    schema = orjson.loads(GOLDEN["schemas"][str(SID)])
    schema["fields"][0]["type"]["fields"][0]["type"]["fields"][0]["type"] = "string"
    parsed = fastavro.parse_schema(schema)
    data = orjson.loads(orjson.dumps(both_paths(HEADERS, VALUE, GOLDEN_SCHEMAS).data.model_dump(mode="json")))
    data["enrollment"]["user"]["id"] = "7"
    import io

    body = io.BytesIO()
    fastavro.schemaless_writer(body, parsed, data)
    value = b"\x00" + (77).to_bytes(4, "big") + body.getvalue()

    with pytest.raises(DecodeError) as info:
        decode(HEADERS, value, {77: parsed})

    assert info.value.reason.startswith("invalid data: enrollment.user.id: Input should be a valid integer")


@pytest.mark.parametrize("type_", SAMPLE_TYPES)
def test_avro_writer_round_trip_of_every_event_type_equals_json_decode(type_: str) -> None:
    """Our schemas (official and ext) carry every field of every event type: the Avro message
    decodes to the same event as the JSON one."""
    from events import encode

    event = Event(type=type_, id="8df27388-f0bd-11f1-91ee-02fc00000001", time=decode(
        *_json_message(type_)).time, data=REGISTRY[type_].model_validate(sample_data(type_)), source="openedx/lms/web")
    json_event = decode(*encode(event))
    schemas, value = {}, b""
    for sid, (text, parsed) in enumerate(schema_variants(type_), start=41):  # the first that fits, as AvroWriter
        schemas[sid] = parse_writer_schema(sid, text)
        try:
            value = encode_value(sid, parsed, event)
            break
        except TypeError:
            continue
    headers = encode_headers(event, host="host", lib="test")

    avro_event = both_paths(headers, value, schemas)

    assert avro_event == json_event


def _json_message(type_: str) -> tuple[list[tuple[str, bytes]], bytes]:
    headers = [("ce_type", type_.encode()), ("ce_id", b"8df27388-f0bd-11f1-91ee-02fc00000001"),
               ("ce_time", b"2026-12-05T15:07:14.615851+00:00")]
    return headers, orjson.dumps(sample_data(type_))


def test_avro_datum_writes_times_as_openedx_does() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    assert avro_datum(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00+00:00"
    assert avro_datum(datetime(2026, 1, 1, 0, 0, 0, 5, tzinfo=UTC)) == "2026-01-01T00:00:00.000005+00:00"
    assert avro_datum({"t": (datetime(2026, 1, 1, 2, tzinfo=timezone(timedelta(hours=2))),)}) == {
        "t": ["2026-01-01T00:00:00+00:00"]}


def test_encode_headers_are_those_of_edx_event_bus_kafka_in_order() -> None:
    headers, _, m = golden(1)
    event = decode(headers, base64.b64decode(m["value"]), GOLDEN_SCHEMAS)

    ours = encode_headers(event, host="vm", lib="10.5.0")

    assert ours == headers
