"""The changes a projection asks for. Each one is idempotent and order-independent by itself:

- SetField: last-writer-wins on one hash field, by `version` (bytes order).
- ReplaceSnapshot: last-writer-wins on a whole document plus the hash fields derived from it
  (the fields of the older snapshot are removed, the new ones written).
- AddActivity: add a member to a time-window sorted set, keeping what lies within `window`
  of the newest member (so the result does not depend on arrival order).

The Redis writer (writer.lua) and the in-memory store (memory.py) implement exactly these
semantics; the contract tests run both on the same operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True, slots=True)
class SetField:
    key: str
    field: str
    version: str
    value: str  # JSON text

    def encode(self) -> list[object]:
        return ["H", self.key, self.field, self.version, self.value]


@dataclass(frozen=True, slots=True)
class ReplaceSnapshot:
    key: str
    version: str
    value: str  # JSON text; "null" for a deletion tombstone
    parts: tuple[tuple[str, str, str], ...] = ()  # (hash key, field, value)

    def encode(self) -> list[object]:
        return ["S", self.key, self.version, self.value, [list(p) for p in self.parts]]


@dataclass(frozen=True, slots=True)
class AddActivity:
    key: str
    member: str
    score: int  # microseconds since the epoch (exact in a double up to 2^53)
    window: int

    def encode(self) -> list[object]:
        return ["Z", self.key, self.member, self.score, self.window]


Op = Union[SetField, ReplaceSnapshot, AddActivity]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    topic: str
    partition: int
    offset: int  # the next offset to apply (last applied + 1), as Kafka commits it

    @property
    def field(self) -> str:
        return f"{self.topic}:{self.partition}"


def split_versioned(raw: str | bytes | None) -> tuple[str, str] | None:
    """`<version>\\t<json>` -> (version, json)."""
    if raw is None:
        return None
    text = raw.decode() if isinstance(raw, bytes) else raw
    version, _, value = text.partition("\t")
    return version, value
