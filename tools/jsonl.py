"""CloudEvents as JSON lines <-> Kafka messages, for `lp produce` and `lp tail`. Pure: no I/O.

One line is one CloudEvent in JSON (structured mode): `type`, `id`, `time`, `data`, optional `source`,
`topic` (the exact topic name) and `key`. It becomes a Kafka message in binary mode: `ce_*` headers
and the `data` as the JSON value, exactly as the projector expects it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from events import REGISTRY, DecodeError, decode
from events.avro import WriterSchemas, schema_id

REQUIRED = ("type", "id", "time", "data")


class JsonlLineError(ValueError):
    """One line cannot become a message; `line` is 1-based."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    line: int
    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


def _require_text(obj: dict[str, Any], name: str, line: int) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise JsonlLineError(line, f"`{name}` must be a non-empty string")
    return value


def _headers(obj: dict[str, Any], line: int) -> tuple[tuple[str, bytes], ...]:
    headers = [
        ("ce_type", _require_text(obj, "type", line).encode()),
        ("ce_id", _require_text(obj, "id", line).encode()),
        ("ce_time", _require_text(obj, "time", line).encode()),
        ("ce_specversion", b"1.0"),
        ("content-type", b"application/json"),
    ]
    if obj.get("source") is not None:
        headers.append(("ce_source", _require_text(obj, "source", line).encode()))
    return tuple(headers)


def _topic(obj: dict[str, Any], line: int, prefix: str) -> str:
    if obj.get("topic") is not None:
        return _require_text(obj, "topic", line)
    cls = REGISTRY.get(obj["type"])
    if cls is None:
        raise JsonlLineError(line, f"unknown event type {obj['type']!r} and no `topic` given")
    return prefix + cls.TOPIC


def parse_line(text: str, line: int, *, topic_prefix: str = "", validate: bool = True) -> OutgoingMessage | None:
    """One JSONL line -> a message; None for a blank line. Raise JsonlLineError naming the problem.

    With `validate`, the message must decode exactly as the projector would decode it, so a typo is
    caught here instead of landing in the dead-letter topic; without it, anything well-formed enough
    to be sent is sent (to inject bad events on purpose).
    """
    if not text.strip():
        return None
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise JsonlLineError(line, f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise JsonlLineError(line, "not a JSON object")
    missing = [name for name in REQUIRED if name not in obj]
    if missing:
        raise JsonlLineError(line, f"missing {', '.join(missing)}")
    headers = _headers(obj, line)
    value = orjson.dumps(obj["data"])
    key = obj.get("key")
    if key is not None and not isinstance(key, str):
        raise JsonlLineError(line, "`key` must be a string")
    if validate:
        try:
            event = decode(headers, value)
        except DecodeError as exc:
            raise JsonlLineError(line, exc.reason) from None
        key = key if key is not None else (event.data.partition_key() or None)
    return OutgoingMessage(line, _topic(obj, line, topic_prefix), key.encode() if key else None, value, headers)


def iter_messages(
    lines: Iterable[str], on_error: Callable[[JsonlLineError], None], *, topic_prefix: str = "",
    validate: bool = True,
) -> Iterator[OutgoingMessage]:
    """The good messages of a file, lazily and in order; each bad line goes to `on_error`."""
    for number, text in enumerate(lines, start=1):
        try:
            message = parse_line(text, number, topic_prefix=topic_prefix, validate=validate)
        except JsonlLineError as exc:
            on_error(exc)
            continue
        if message is not None:
            yield message


def parse_lines(
    lines: Iterable[str], *, topic_prefix: str = "", validate: bool = True
) -> tuple[list[OutgoingMessage], list[JsonlLineError]]:
    """Every line of a file: the good messages in order, and the errors of the bad lines."""
    errors: list[JsonlLineError] = []
    messages = list(iter_messages(lines, errors.append, topic_prefix=topic_prefix, validate=validate))
    return messages, errors


# Tail: one consumed message -> one printable record --------------------------------------------


def _header_text(headers: Sequence[tuple[str, bytes | None]], name: str) -> str | None:
    for k, v in reversed(headers):
        if k == name and v is not None:
            return v.decode("utf-8", errors="replace")
    return None


def describe(
    topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None,
    headers: Sequence[tuple[str, bytes | None]], schemas: WriterSchemas | None = None,
) -> dict[str, Any]:
    """A consumed message as a JSON-ready record: a decoded event, a dead letter or an undecodable one.
    `schemas`: the Avro writer schemas by id (None: no registry, Avro values are undecodable)."""
    sid = schema_id(value)
    record: dict[str, Any] = {
        "at": f"{topic}:{partition}:{offset}",
        "key": _show(key, 200),
        "format": "json" if sid is None else f"avro (schema id {sid})",
    }
    reason = _header_text(headers, "dlq_reason")
    if reason is not None:
        original = [(k, v) for k, v in headers if k not in ("dlq_reason", "dlq_source")]
        record.update(kind="dead_letter", reason=reason, source=_header_text(headers, "dlq_source"),
                      type=_header_text(original, "ce_type"), id=_header_text(original, "ce_id"),
                      value=_show(value))
        return record
    try:
        event = decode(headers, value, schemas)
    except DecodeError as exc:
        record.update(kind="undecodable", reason=exc.reason, type=_header_text(headers, "ce_type"), value=_show(value))
        return record
    record.update(kind="event", type=event.type, id=event.id, time=_header_text(headers, "ce_time"),
                  source=event.source, data=event.data.model_dump(mode="json"))
    return record


def _show(value: bytes | None, limit: int = 2000) -> str | None:
    """Text as it is; Avro (Confluent-framed) or other binary bytes in hex."""
    if value is None:
        return None
    try:
        if value[:1] == b"\x00":
            raise UnicodeDecodeError("utf-8", value, 0, 1, "framed")
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        text = "0x" + value[: limit // 2].hex()
    return text if len(text) <= limit else text[:limit] + "..."


def format_line(record: dict[str, Any]) -> str:
    """One human-readable line for a `describe` record."""
    if record["kind"] == "dead_letter":
        return (f"{record['at']} DLQ from {record['source']} type={record['type']} id={record['id']}: "
                f"{record['reason']}")
    if record["kind"] == "undecodable":
        return f"{record['at']} UNDECODABLE type={record['type']}: {record['reason']}"
    data = orjson.dumps(record["data"]).decode()
    if len(data) > 300:
        data = data[:300] + "..."
    return (f"{record['at']} {record['type']} id={record['id']} time={record['time']} key={record['key']} "
            f"[{record['format']}] {data}")
