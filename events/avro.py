"""The Avro wire format of edx-event-bus-kafka: Confluent framing around a schemaless Avro body.

A value is `0x00` (magic byte), the writer schema's id (4 bytes, big-endian) in a Confluent-
compatible schema registry, then the event's data as schemaless Avro (fastavro). The schema itself
is not in the message: the caller fetches it by id (projectors/schema_registry.py, which does the
I/O), parses it once with `parse_writer_schema`, and hands the parsed schemas to the codec. The
body is decoded with the writer schema alone (no reader schema): the result is checked by the
same pydantic payload class as a JSON value, strictly (events/codec.py), which is where every
rule of EVENTS.md lives (a reader schema would re-check types the payload class checks anyway, at
a cost per message).

Pure: no I/O. Every failure is a DecodeError with a one-line reason for `dlq_reason`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

import fastavro
import orjson
from fastavro.types import Schema

from events.base import Event
from events.errors import DecodeError

MAGIC = 0
FRAME = 5  # magic byte + 4-byte schema id
_MAGIC_BYTE = bytes((MAGIC,))
_FAILED = object()
_schemaless_reader = fastavro.schemaless_reader
CONTENT_TYPE = b"application/avro"


@dataclass(frozen=True, slots=True)
class UnusableSchema:
    """A schema id that can never decode a message (the registry does not know it, or its schema
    is not Avro): every message naming it is dead-lettered with `reason`."""

    reason: str


WriterSchema = Schema | UnusableSchema
# Parsed writer schemas by id, as the registry client caches them (None: no registry configured).
WriterSchemas = Mapping[int, WriterSchema]


def schema_id(value: bytes | None) -> int | None:
    """The schema id of a Confluent-framed value; None when it is not framed (too short, other magic)."""
    if value is None or len(value) < FRAME or value[0] != MAGIC:
        return None
    return int.from_bytes(value[1:FRAME], "big")


def parse_writer_schema(schema_id: int, text: str, schema_type: str | None = None) -> WriterSchema:
    """The registry's answer for one id -> a parsed schema, or why no message can use it."""
    if schema_type not in (None, "AVRO"):
        return UnusableSchema(f"schema id {schema_id} is a {schema_type} schema, not Avro")
    try:
        return fastavro.parse_schema(orjson.loads(text))
    except (orjson.JSONDecodeError, fastavro.schema.SchemaParseException, TypeError, KeyError, ValueError) as exc:
        return UnusableSchema(f"schema id {schema_id} is not a usable Avro schema: {exc}")


def read_datum(value: bytes, schemas: WriterSchemas | None) -> Any:
    """A framed Avro value -> its data (dicts, lists, str, int, float, bool, None). Raises DecodeError.

    The usual message (framed, a known schema, a body that decodes exactly) takes the first few
    lines; anything else is examined again by `_reject`, which names what is wrong."""
    if schemas is not None and value[:1] == _MAGIC_BYTE:
        schema = schemas.get(int.from_bytes(value[1:FRAME], "big"))
        if type(schema) is dict:  # a parsed schema (an UnusableSchema is no dict)
            body = io.BytesIO(value)
            body.seek(FRAME)
            data: Any
            try:
                data = _schemaless_reader(body, schema, None)
            except Exception:  # fastavro raises EOFError, ValueError, UnicodeDecodeError, IndexError...
                data = _FAILED
            if data is not _FAILED and body.tell() == len(value):
                return data
    _reject(value, schemas)


def _reject(value: bytes, schemas: WriterSchemas | None) -> NoReturn:
    """Why `value` cannot be read (each check in the order a reader meets it); always raises."""
    if len(value) < FRAME:
        raise DecodeError(f"Avro value too short for the Confluent framing ({len(value)} bytes; "
                          "needs a magic byte and a 4-byte schema id)")
    if value[0] != MAGIC:
        raise DecodeError(f"wrong magic byte 0x{value[0]:02x} (the Confluent framing starts with 0x00)")
    sid = int.from_bytes(value[1:FRAME], "big")
    if schemas is None:
        raise DecodeError(f"Avro value (schema id {sid}) but no schema registry is configured (LP_SCHEMA_REGISTRY_URL)")
    schema = schemas.get(sid)
    if schema is None:
        raise DecodeError(f"unknown schema id {sid} (not in the schema registry)")
    if isinstance(schema, UnusableSchema):
        raise DecodeError(schema.reason)
    body = io.BytesIO(value)
    body.seek(FRAME)
    try:
        _schemaless_reader(body, schema, None)
    except Exception as exc:
        raise DecodeError(f"body does not decode against schema id {sid}: {type(exc).__name__}: {exc}") from None
    left = len(value) - body.tell()
    if left:
        raise DecodeError(f"body does not decode against schema id {sid}: {left} byte(s) left after the record")
    raise AssertionError("unreachable: read_datum would have read this value")


# Producing (our tools: `lp produce --format avro`, the demo, the bench) ---------------------------


def avro_datum(value: Any) -> Any:
    """A payload (`model_dump()` in Python mode) as openedx-events serializes it for Avro: datetimes
    as `isoformat()` in UTC (`+00:00`, no fraction when microseconds are 0), tuples as lists."""
    if isinstance(value, dict):
        return {k: avro_datum(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [avro_datum(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def encode_value(schema_id: int, schema: Schema, event: Event[Any]) -> bytes:
    """The framed Avro value of `event` (ValueError when its data does not fit `schema`)."""
    out = io.BytesIO()
    out.write(bytes((MAGIC,)) + schema_id.to_bytes(4, "big"))
    fastavro.schemaless_writer(out, schema, avro_datum(event.data.model_dump()))
    return out.getvalue()


def encode_headers(event: Event[Any], *, host: str, lib: str) -> list[tuple[str, bytes]]:
    """The headers edx-event-bus-kafka writes, in its order (`sourcehost` and `sourcelib` are the
    producing machine and library version; the projector ignores both)."""
    return [
        ("ce_specversion", b"1.0"),
        ("content-type", CONTENT_TYPE),
        ("ce_datacontenttype", CONTENT_TYPE),
        ("ce_type", event.type.encode()),
        ("ce_id", event.id.encode()),
        ("ce_source", (event.source or "openedx/lms/web").encode()),
        ("ce_time", event.time.astimezone(UTC).isoformat().encode()),
        ("ce_minorversion", str(event.minorversion).encode()),
        ("sourcehost", host.encode()),
        ("sourcelib", lib.encode()),
    ]


def subject(topic: str, event_type: str) -> str:
    """The value subject edx-event-bus-kafka registers (TopicRecordNameStrategy)."""
    return f"{topic}-{event_type}.CloudEvent"
