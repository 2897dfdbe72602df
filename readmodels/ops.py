"""The changes a projection asks for. Each one is idempotent and order-independent by itself:

- SetField: last-writer-wins on one hash field, by `version` (bytes order).
- SetCompletion: the same for a block's completion record in `keys.completions`, stored in its
  compact form (readmodels/compact.py) under the block's index in the course's block dictionary
  (`keys.block_ids`, assigned on first sight).
- SetBlockField: the same for a learner's sequence position or bookmark, stored beside the
  completion records under a tag and the block's index.
- ReplaceSnapshot: last-writer-wins on a whole document plus the hash fields derived from it
  (the fields of the older snapshot are removed, the new ones written).
- AddMember: add a member to a set (an index: never removed, so order never matters).
- AddActivity: add a member to a time-window sorted set, keeping what lies within `window`
  of the newest member (so the result does not depend on arrival order); a member keeps the
  largest score it was given.

Learner facts (u:, usernames, completions) carry compact versions whose ce_id tie-break keeps the
first 13 characters of the ce_id: the one approximation of the contract's order (see
readmodels/compact.py and docs/DESIGN.md). Reference data (courses, catalog info, programs) keeps
the whole ce_id.

"Last writer" compares the raw stored text `<version>\t<json>` byte-wise: the version decides,
and two different values under one version (a producer reusing an event id) are ordered by their
JSON, so even then the outcome does not depend on arrival order. Versions never contain a byte
below the tab (events.base.lww_version, compact.fact_version: `-`, digits, letters, `_`), so this
is exactly the order of (version, json). A completion record `<compact version><completion>` has no
tab and its version has bytes below it; there the version is prefix-free (readmodels/compact.py),
which gives the same order of (version, value).

The Redis writer (writer.lua) and the in-memory store (memory.py) implement exactly these
semantics; the contract tests run both on the same operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from events.frozen import quick_init
from readmodels import keys, learner_dictionary


@quick_init  # several per event (events/frozen.py)
@dataclass(frozen=True, slots=True)
class SetField:
    key: str
    field: str
    version: str
    value: str  # JSON text

    def encode(self) -> list[object]:
        scoped = learner_dictionary.learner_field_course(self.field)
        if scoped is None:
            return ["H", self.key, self.field, self.version, self.value]
        # A learner field naming a course: writer.lua stores it as `<index><tail>`
        # (learner_dictionary.learner_field_course), the index of the course in the dictionary of the learner
        # hash `key` (learner_dictionary.LEARNER_COURSES).
        return ["H", self.key, scoped[0], self.version, self.value, scoped[1]]


@quick_init  # several per event (events/frozen.py)
@dataclass(frozen=True, slots=True)
class SetCompletion:
    """Last-writer-wins on `field` (keys.completion_field) of `key` (keys.completions): stored as
    `<version><value>` (no tab: the compact version is prefix-free) in the Redis field that
    `block_ids` (keys.block_ids of the course) assigns to `field`. The in-memory stores keep `field`
    itself, which is what every dump shows."""

    key: str
    block_ids: str
    field: str
    version: str  # compact.completion_version
    value: str  # compact.completion_value

    @property
    def raw(self) -> str:
        return self.version + self.value

    @property
    def stored_field(self) -> str:
        """The field in the in-memory stores and in every dump."""
        return self.field

    def encode(self) -> list[object]:
        return ["C", self.key, self.block_ids, self.field, "", self.raw]


@quick_init  # several per event (events/frozen.py)
@dataclass(frozen=True, slots=True)
class SetBlockField:
    """Last-writer-wins on another per-block fact of a learner in one course (sequence position,
    bookmark: `tag` keys.POSITION_TAG or keys.BOOKMARK_TAG), kept beside the completion records
    in `key` (keys.completions) under `tag` + the block's index in `block_ids`; in the in-memory
    stores under `keys.block_fact_field(tag, field)`. Stored as `<version>\\t<json>`."""

    key: str
    block_ids: str
    tag: str
    field: str  # keys.completion_field
    version: str
    value: str  # JSON text

    @property
    def raw(self) -> str:
        return raw_value(self.version, self.value)

    @property
    def stored_field(self) -> str:
        return keys.block_fact_field(self.tag, self.field)

    def encode(self) -> list[object]:
        return ["C", self.key, self.block_ids, self.field, self.tag, self.raw]


@quick_init  # several per event (events/frozen.py)
@dataclass(frozen=True, slots=True)
class ReplaceSnapshot:
    key: str
    version: str
    value: str  # JSON text; "null" for a deletion tombstone
    parts: tuple[tuple[str, str, str], ...] = ()  # (hash key, field, value)
    # Hash keys whose every field is a part of this snapshot (a course's outline hashes): the index
    # names each such hash once, `[hash key]`, instead of each of its fields (a course's index was
    # as large as its outline; a program shares `runprogs:` hashes with other programs, so it
    # lists its fields).
    whole: tuple[str, ...] = ()

    @property
    def parts_index(self) -> str:
        """The JSON list of what the snapshot owns, stored at `keys.snapshot_parts(key)`: `[hash key]`
        for a hash it owns whole, `[hash key, field]` for a field of another hash."""
        whole = self.whole
        owned = [[hkey] for hkey in whole] + [[hkey, field] for hkey, field, _ in self.parts if hkey not in whole]
        return orjson.dumps(owned).decode()

    def encode(self) -> list[object]:
        return ["S", self.key, self.version, self.value, [list(p) for p in self.parts], self.parts_index]


@quick_init  # several per event (events/frozen.py)
@dataclass(frozen=True, slots=True)
class AddActivity:
    key: str
    member: str
    score: int  # exact in a double up to 2^53 (activity: a bucket number, keys.ACTIVITY_BUCKET_US)
    window: int
    # A member naming a course (keys.activity_member): Redis stores it with the course's index in
    # the course dictionary of the learner hash `learner` (learner_dictionary.stored_activity_member).
    learner: str = ""
    course_key: str = ""

    def encode(self) -> list[object]:
        if not self.learner:
            return ["Z", self.key, self.member, self.score, self.window]
        return ["Z", self.key, self.member, self.score, self.window, self.learner, self.course_key]


@quick_init  # several per event (events/frozen.py)
@dataclass(frozen=True, slots=True)
class AddMember:
    key: str
    member: str

    def encode(self) -> list[object]:
        return ["M", self.key, self.member]


Op = SetField | SetCompletion | SetBlockField | ReplaceSnapshot | AddActivity | AddMember


@quick_init  # several per event (events/frozen.py)
@dataclass(frozen=True, slots=True)
class Checkpoint:
    topic: str
    partition: int
    offset: int  # the next offset to apply (last applied + 1), as Kafka commits it

    @property
    def field(self) -> str:
        return f"{self.topic}:{self.partition}"


def raw_value(version: str, value: str) -> str:
    """The stored text of a versioned value; larger (byte-wise) wins."""
    return f"{version}\t{value}"


def newer(raw: str, stored: str | None) -> bool:
    """Whether `raw` replaces `stored` under last-writer-wins (byte order, as writer.lua)."""
    return stored is None or raw.encode() > stored.encode()


def coalesce(ops: Sequence[Op]) -> list[Op]:
    """The same writes with every op that another op of the batch overrides left out: of the ops on
    one hash field (or one block's record), one snapshot key or one activity member, only the one
    that wins under the rules above; a set member once. Exact because every op is idempotent and
    order-independent: applying the winner alone leaves what applying them all leaves. The first
    op of each target keeps its place (so a block's dictionary index is still assigned on first
    sight). For writes whose per-op report is not wanted (readmodels/writer.py `report=False`)."""
    best: dict[tuple[object, ...], int] = {}
    out: list[Op] = []
    for op in ops:
        # By the exact class (no op class has subclasses), the usual ones first: a rebuild batch has
        # about four ops per event, and this runs for each.
        kind = type(op)
        if kind is SetCompletion:
            target: tuple[object, ...] = ("C", op.key, op.field)  # type: ignore[union-attr]
        elif kind is SetField:
            target = ("H", op.key, op.field)  # type: ignore[union-attr]
        elif kind is AddActivity:
            target = ("Z", op.key, op.member, op.window)  # type: ignore[union-attr]
        elif kind is AddMember:
            target = ("M", op.key, op.member)  # type: ignore[union-attr]
        elif kind is SetBlockField:
            target = ("C" + op.tag, op.key, op.field)  # type: ignore[union-attr]
        else:
            target = ("S", op.key)
        at = best.get(target)
        if at is None:
            best[target] = len(out)
            out.append(op)
        elif _wins(op, out[at]):
            out[at] = op
    return out


def _wins(op: Op, other: Op) -> bool:
    """Whether `op` overrides `other`, an op on the same target (see `coalesce`)."""
    # Tuples of classes, not `A | B`: that expression builds a union object on every call.
    if isinstance(op, (SetField, ReplaceSnapshot)):
        return raw_value(op.version, op.value) > raw_value(other.version, other.value)  # type: ignore[union-attr]
    if isinstance(op, (SetCompletion, SetBlockField)):
        return op.raw > other.raw  # type: ignore[union-attr]
    if isinstance(op, AddActivity):
        return op.score > other.score  # type: ignore[union-attr]
    return False  # AddMember: the same member
