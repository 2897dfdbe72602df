"""The change record: one projected topic's message (PROJECTED.md "Record"), its id and topic."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from hashlib import sha1
from typing import Any

import orjson

from events.base import format_time
from projectors.pipeline import RawMessage

# Fixed namespace for the record ids: never change it, subscribers deduplicate by these ids.
RECORD_NAMESPACE = uuid.UUID("5b0e7c2e-8d0f-4a52-9a55-3c1f0b6f7a21")

LEARNER_COURSE_STATUS = "learner-course-status"
RESUME_POINT = "resume-point"
CELEBRATIONS = "celebrations"
PROGRAM_PROGRESS = "program-progress"
MODELS = (LEARNER_COURSE_STATUS, RESUME_POINT, CELEBRATIONS, PROGRAM_PROGRESS)

# One batch formats the same few times many times (several records per event, one send time).
format_record_time = lru_cache(maxsize=4096)(format_time)


def topic_of(model: str) -> str:
    """The projected topic name of a model (before the deployment's topic prefix)."""
    return f"projected-{model}"


_NAMESPACE_BYTES = RECORD_NAMESPACE.bytes
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}  # RFC 4122 variant bits (10xx)


def record_id(event_id: str, model: str, key: str) -> str:
    """`str(uuid.uuid5(RECORD_NAMESPACE, "<event_id>\\n<model>\\n<key>"))`, formatted from the SHA-1's hex
    digest directly: the same text (tests/unit/test_change_records.py compares them) in ~1.1 us instead
    of ~3.8 us (uuid5 builds a UUID object, masks its int and formats it again); every published record
    computes one."""
    h = sha1(_NAMESPACE_BYTES + f"{event_id}\n{model}\n{key}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"  # version 5


def utcnow() -> datetime:
    """The send time of a batch's records (`projected_at`)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    model: str
    key: str
    state: dict[str, Any] | None
    previous: dict[str, Any] | None
    message: RawMessage
    event_id: str
    event_type: str
    event_time: datetime
    generation: int

    @property
    def id(self) -> str:
        return record_id(self.event_id, self.model, self.key)

    @property
    def type(self) -> str:
        return f"ext.projected.{self.model}.changed.v1"

    def value(self, projected_at: datetime) -> bytes:
        m = self.message
        return orjson.dumps({
            "model": self.model,
            "key": self.key,
            "state": self.state,
            "previous": self.previous,
            "caused_by": {"event_id": self.event_id, "event_type": self.event_type, "topic": m.topic,
                          "partition": m.partition, "offset": m.offset},
            "generation": self.generation,
            "projected_at": format_record_time(projected_at),
        })

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            ("ce_type", self.type.encode()),
            ("ce_id", self.id.encode()),
            ("ce_time", format_record_time(self.event_time).encode()),
            ("ce_source", b"learner-projector"),
            ("ce_specversion", b"1.0"),
            ("content-type", b"application/json"),
        ]
