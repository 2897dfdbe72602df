"""Events -> Avro messages as edx-event-bus-kafka writes them, for our producing tools (`lp produce
--format avro`, `lp generate --produce --format avro`, the `lp start` demo, the bench, tests).

The writer schemas are the checked-in files of events/avro_schemas/ (see its README), registered
the way confluent-kafka's producer registers them (subject `<topic>-<event type>.CloudEvent`, the
schema text as openedx-events' `schema_string()`: `json.dumps(schema, sort_keys=True)`), so the
ids are the ones a real LMS gets from the same registry. An event whose data does not fit the
official schema (a grade with no `passed_timestamp`, which a stock LMS cannot send) is written
with the type's `_nullable` schema instead.
"""

from __future__ import annotations

import json
import socket
from functools import cache
from pathlib import Path
from typing import Any

import fastavro
from fastavro.types import Schema

import events
from events import Event
from events.avro import encode_headers, encode_value, subject
from projectors.schema_registry import SchemaRegistry

SCHEMA_DIR = Path(events.__file__).resolve().parent / "avro_schemas"
SOURCE_LIB = "learner-projector"


def schema_path(event_type: str, variant: str = "") -> Path:
    return SCHEMA_DIR / f"{event_type.replace('.', '+')}{variant}_schema.avsc"


@cache
def schema_variants(event_type: str) -> tuple[tuple[str, Schema], ...]:
    """(registered text, parsed schema) of the type's schema, then of its `_nullable` one if any."""
    out = []
    for path in (schema_path(event_type), schema_path(event_type, "_nullable")):
        if path.exists():
            schema = json.loads(path.read_text())
            out.append((json.dumps(schema, sort_keys=True), fastavro.parse_schema(schema)))
    if not out:
        raise ValueError(f"no Avro schema for {event_type} in {SCHEMA_DIR}")
    return tuple(out)


class AvroWriter:
    """Encodes events for one registry; schema ids are registered once per subject and variant."""

    def __init__(self, registry: SchemaRegistry, *, host: str | None = None) -> None:
        self.registry = registry
        self.host = host or socket.gethostname()

    async def encode(self, event: Event[Any], topic: str) -> tuple[list[tuple[str, bytes]], bytes]:
        headers = encode_headers(event, host=self.host, lib=SOURCE_LIB)
        errors = []
        for text, parsed in schema_variants(event.type):
            sid = await self.registry.register(subject(topic, event.type), text)
            try:
                return headers, encode_value(sid, parsed, event)
            except (ValueError, TypeError, AttributeError) as exc:  # fastavro: the datum does not fit
                errors.append(f"{type(exc).__name__}: {exc}")
        raise ValueError(f"{event.type} {event.id}: data does not fit its Avro schema: {'; '.join(errors)}")
