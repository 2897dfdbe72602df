"""Kafka message (headers + value) <-> Event. CloudEvents 1.0 binary content mode; the data is
JSON or, as edx-event-bus-kafka writes it, Confluent-framed Avro (events/avro.py), chosen per
message by `content-type` (else `ce_datacontenttype`, else the value's first byte: 0x00 is the
Avro framing, which no JSON text starts with). Both formats end in the same strict validation by
the event type's payload class.

Every way a message can be wrong raises DecodeError with a one-line reason; the consuming side
turns that into a dead-letter entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any, get_args, get_origin

import orjson
from pydantic import BaseModel, ValidationError

from events import avro
from events.base import Event, EventData, format_time, parse_time
from events.errors import DecodeError
from events.registry import REGISTRY, lookup, split_version

Headers = Sequence[tuple[str, bytes]]

_DIGITS = re.compile(r"\s*([0-9]{1,9})\s*", re.ASCII)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", re.ASCII)


__all__ = ["DecodeError", "decode", "encode"]


def _header_map(headers: Iterable[tuple[str, bytes | None]] | None) -> dict[str, bytes]:
    """Name -> value, the last one winning, headers without a value skipped."""
    # A tuple of types, not `list | tuple`: that expression builds a union object on every call.
    pairs = headers if isinstance(headers, (list, tuple)) else list(headers or ())
    h = dict(pairs)  # in C: the usual case (Open edX writes ten headers, none without a value)
    if None in h.values():
        return {k: v for k, v in pairs if v is not None}
    return h


def _text(h: dict[str, bytes], name: str, *, required: bool) -> str | None:
    raw = h.get(name)
    if raw is None:
        if required:
            raise DecodeError(f"missing header {name}")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError(f"header {name} is not UTF-8") from None
    if required and not text.strip():
        raise DecodeError(f"empty header {name}")
    return text


def _resolve_type(ce_type: str) -> type[EventData]:
    cls = lookup(ce_type)
    if cls is not None:
        return cls
    parts = split_version(ce_type)
    if parts is not None:
        stem, major = parts
        known = [t for t in REGISTRY if (split_version(t) or ("", 0))[0] == stem]
        if known:
            raise DecodeError(f"unsupported major version v{major} of {stem} (supported: {', '.join(sorted(known))})")
    raise DecodeError(f"unknown event type {ce_type!r}")


def _validation_reason(exc: ValidationError) -> str:
    """One line naming the first offending field, e.g. `invalid data: enrollment.user.id: ...`."""
    first = exc.errors(include_url=False, include_input=False)[0]
    if not first["loc"]:
        if first["type"] == "json_invalid":
            return f"value is not JSON: {first['msg']}"
        if first["type"] == "model_type":
            return "value is not a JSON object"
    path = ".".join(str(p) for p in first["loc"]) or "data"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"invalid data: {path}: {first['msg']}{more}"


def _parse_data(cls: type[EventData], value: bytes | None) -> EventData:
    if value is None:
        raise DecodeError("empty value (tombstone) where event data was expected")
    try:
        # Strict on the wire: JSON types must match (no "42" for an int, no 1 for a bool).
        return cls.__pydantic_validator__.validate_json(value, strict=True)  # model_validate_json, minus a frame
    except ValidationError as exc:
        raise DecodeError(_validation_reason(exc)) from None


# Header values that need no further parsing (what our producers and Open edX send).
_PLAIN_CONTENT_TYPES = frozenset((b"application/json", b"application/json; charset=utf-8"))
_JSON, _AVRO = "json", "avro"


def decode(
    headers: Iterable[tuple[str, bytes | None]] | None, value: bytes | None,
    schemas: avro.WriterSchemas | None = None,
) -> Event[Any]:
    """Kafka headers + value -> Event. Raise DecodeError (never anything else) when it cannot be one.

    `schemas`: the parsed Avro writer schemas by id (the registry client's cache, holding every id
    the message may name); None when no registry is configured, which dead-letters Avro values.

    The usual message (required headers present and UTF-8, plain content type, spec 1.0, minor
    version absent or 0) takes a short path; anything else goes through `_decode_checked`, which
    checks every header in order, so both give the same event or the same error."""
    h = _header_map(headers)
    try:
        ce_type = h["ce_type"].decode()
        ce_id = h["ce_id"].decode()
        ce_time = h["ce_time"].decode()
        source_raw = h.get("ce_source")
        source = None if source_raw is None else source_raw.decode()
    except (KeyError, UnicodeDecodeError):
        return _decode_checked(h, value, schemas)
    content_type, spec, minor = h.get("content-type"), h.get("ce_specversion"), h.get("ce_minorversion")
    if content_type is None:
        content_type = h.get("ce_datacontenttype")
    if content_type is None:
        fmt = _AVRO if value and value[0] == avro.MAGIC else _JSON
    elif content_type in _PLAIN_CONTENT_TYPES:
        fmt = _JSON
    elif content_type == avro.CONTENT_TYPE:
        fmt = _AVRO
    else:
        return _decode_checked(h, value, schemas)
    if (
        not ce_type.strip() or not ce_id.strip() or not ce_time.strip()
        or (spec is not None and spec != b"1.0")
        or (minor is not None and minor != b"0")
    ):
        return _decode_checked(h, value, schemas)
    time = _checked_time(ce_id, ce_time)
    cls = _resolve_type(ce_type)
    data = _parse_data(cls, value) if fmt is _JSON else _parse_avro(cls, value, schemas)
    return Event(type=ce_type, id=ce_id, time=time, data=data, source=source, minorversion=0)


def _parse_avro(cls: type[EventData], value: bytes | None, schemas: avro.WriterSchemas | None) -> EventData:
    """The Avro data, validated by the payload class exactly as a JSON value is: strictly. Strict
    validation of the Python values fastavro returns accepts and rejects what strict JSON
    validation does, except that a tuple field takes no list in Python mode; so a class with
    tuple (array) fields is validated from the data re-serialized as JSON, the others directly
    (which saves the serialization: most events, measured in bench/avro_decode.py)."""
    if value is None:
        raise DecodeError("empty value (tombstone) where event data was expected")
    data = avro.read_datum(value, schemas)
    if _has_arrays(cls):
        try:
            encoded = orjson.dumps(data)
        except TypeError as exc:  # Avro bytes or fixed: no JSON value, so no payload field takes them
            raise DecodeError(f"Avro data holds a value no event field takes: {exc}") from None
        return _parse_data(cls, encoded)
    try:
        return cls.__pydantic_validator__.validate_python(data, strict=True)
    except ValidationError as exc:
        raise DecodeError(_validation_reason(exc)) from None


@cache
def _has_arrays(cls: type[BaseModel]) -> bool:
    """Does the payload class hold a tuple or list anywhere inside?"""
    def arrays(annotation: Any) -> bool:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return _has_arrays(annotation)
        return get_origin(annotation) in (tuple, list) or any(arrays(a) for a in get_args(annotation))

    return any(arrays(f.annotation) for f in cls.model_fields.values())


def _wire_format(h: dict[str, bytes], value: bytes | None) -> str:
    content_type = _text(h, "content-type", required=False)
    if content_type is None:
        content_type = _text(h, "ce_datacontenttype", required=False)
    if content_type is None:
        return _AVRO if value and value[0] == avro.MAGIC else _JSON
    media = content_type.split(";")[0].strip().lower()
    if media == "application/json":
        return _JSON
    if media == "application/avro":
        return _AVRO
    raise DecodeError(f"unsupported content-type {content_type[:80]!r} (only application/json or application/avro)")


def _checked_time(ce_id: str, ce_time: str) -> datetime:
    """Check the event id (a UUID) and parse the event time, each failure a DecodeError."""
    if _UUID.fullmatch(ce_id) is None:
        raise DecodeError(f"ce_id is not a UUID: {ce_id[:80]!r}")
    try:
        return parse_time(ce_time)
    except ValueError:
        raise DecodeError(f"ce_time is not an RFC 3339 time with offset: {ce_time[:80]!r}") from None


def _decode_checked(h: dict[str, bytes], value: bytes | None, schemas: avro.WriterSchemas | None = None) -> Event[Any]:
    ce_type = _text(h, "ce_type", required=True)
    ce_id = _text(h, "ce_id", required=True)
    ce_time = _text(h, "ce_time", required=True)
    assert ce_type is not None and ce_id is not None and ce_time is not None
    fmt = _wire_format(h, value)
    spec = _text(h, "ce_specversion", required=False)
    if spec is not None and spec.strip() != "1.0":
        raise DecodeError(f"unsupported ce_specversion {spec[:40]!r} (only 1.0)")
    time = _checked_time(ce_id, ce_time)
    minor = _minor_version(_text(h, "ce_minorversion", required=False))
    source = _text(h, "ce_source", required=False)
    cls = _resolve_type(ce_type)
    data = _parse_data(cls, value) if fmt is _JSON else _parse_avro(cls, value, schemas)
    return Event(type=ce_type, id=ce_id, time=time, data=data, source=source, minorversion=minor)


def _minor_version(text: str | None) -> int:
    if text is None:
        return 0
    digits = _DIGITS.fullmatch(text)
    if digits is None:
        raise DecodeError(f"ce_minorversion is not a non-negative integer: {text[:40]!r}")
    return int(digits.group(1))


def encode(event: Event[Any]) -> tuple[list[tuple[str, bytes]], bytes]:
    """Event -> (headers, value) for producing."""
    headers = [
        ("ce_type", event.type.encode()),
        ("ce_id", event.id.encode()),
        ("ce_time", format_time(event.time).encode()),
        ("ce_specversion", b"1.0"),
        ("content-type", b"application/json"),
    ]
    if event.source:
        headers.append(("ce_source", event.source.encode()))
    if event.minorversion:
        headers.append(("ce_minorversion", str(event.minorversion).encode()))
    return headers, orjson.dumps(event.data.model_dump(mode="json"))
