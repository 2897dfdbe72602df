"""An in-memory store with exactly the semantics of writer.lua.

Used by the oracle fold (verify, tests) and by unit tests. It is run through the same contract
tests as the Redis writer, so the two cannot drift.

Completion records, positions and bookmarks (SetCompletion, SetBlockField) are kept under their
canonical field, not a dictionary index: the form that `dump` and `dump_redis` both give (Redis'
indexes depend on arrival order).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from readmodels import keys, learner_dictionary
from readmodels.ops import (
    AddActivity,
    AddMember,
    Checkpoint,
    Op,
    ReplaceSnapshot,
    SetBlockField,
    SetCompletion,
    SetField,
    newer,
    raw_value,
)


class MemoryStore:
    def __init__(self) -> None:
        self.strings: dict[str, str] = {}
        self.hashes: dict[str, dict[str, str]] = {}
        self.zsets: dict[str, dict[str, int]] = {}
        self.sets: dict[str, set[str]] = {}

    def apply(self, ops: Sequence[Op], checkpoints: Iterable[Checkpoint] = ()) -> list[tuple[int, str | None]]:
        """Apply in order; return (index, previous raw value) for every op that took effect."""
        for op in ops:
            if not isinstance(op, SetField | SetCompletion | SetBlockField | ReplaceSnapshot | AddActivity | AddMember):
                raise TypeError(f"unknown op {op!r}")  # checked first: like writer.lua, all or nothing
        out: list[tuple[int, str | None]] = []
        for i, op in enumerate(ops):
            if isinstance(op, SetField | SetCompletion | SetBlockField):
                h = self.hashes.setdefault(op.key, {})
                field = op.field if isinstance(op, SetField) else op.stored_field
                old = h.get(field)
                raw = raw_value(op.version, op.value) if isinstance(op, SetField) else op.raw
                if newer(raw, old):
                    h[field] = raw
                    out.append((i, old))
            elif isinstance(op, ReplaceSnapshot):
                old = self.strings.get(op.key)
                raw = raw_value(op.version, op.value)
                if newer(raw, old):
                    self._replace(op, raw)
                    out.append((i, old))
            elif isinstance(op, AddMember):
                self.sets.setdefault(op.key, set()).add(op.member)  # not reported, as writer.lua
            elif self._add_activity(op):
                out.append((i, None))
        for c in checkpoints:
            h = self.hashes.setdefault(keys.CHECKPOINTS, {})
            if c.offset > int(h.get(c.field, "-1")):
                h[c.field] = str(c.offset)
        return out

    def _replace(self, op: ReplaceSnapshot, raw: str) -> None:
        parts_key = keys.snapshot_parts(op.key)
        for owned in orjson.loads(self.strings.get(parts_key, "[]")):
            if len(owned) == 1:  # a hash the snapshot owns whole (ops.ReplaceSnapshot.whole)
                self.hashes.pop(owned[0], None)
            else:
                self._hdel(*owned)
        for hkey, field, value in op.parts:
            self.hashes.setdefault(hkey, {})[field] = value
        if op.parts:
            self.strings[parts_key] = op.parts_index
        else:
            self.strings.pop(parts_key, None)
        self.strings[op.key] = raw

    def _add_activity(self, op: AddActivity) -> bool:
        """ZADD GT plus trimming to the window below the newest member; True when a member was added."""
        z = self.zsets.setdefault(op.key, {})
        top = max(z.values()) if z else None
        added = False
        if top is None or op.score >= top - op.window:
            added = op.member not in z
            z[op.member] = max(op.score, z.get(op.member, op.score))
            if top is None or op.score > top:
                floor = op.score - op.window
                for m in [m for m, s in z.items() if s < floor]:
                    del z[m]
        if not z:
            del self.zsets[op.key]
        return added

    def _hdel(self, key: str, field: str) -> None:
        h = self.hashes.get(key)
        if h is not None:
            h.pop(field, None)
            if not h:
                del self.hashes[key]

    # Readers used by the oracle and tests.
    def hgetall(self, key: str) -> dict[str, str]:
        return dict(self.hashes.get(key, {}))

    def get(self, key: str) -> str | None:
        return self.strings.get(key)

    def dump(self, *, include_checkpoints: bool = False) -> dict[str, Any]:
        """Canonical form: {key: str | {field: value} | {member: score} | {member: ""}}, sorted."""
        out: dict[str, Any] = {}
        for k, v in self.strings.items():
            out[k] = v
        for k, h in self.hashes.items():
            if h and (include_checkpoints or k != keys.CHECKPOINTS):
                out[k] = dict(sorted(h.items()))
        for k, z in self.zsets.items():
            if z:
                out[k] = dict(sorted(z.items()))
        for k, members in self.sets.items():
            if members:
                out[k] = dict.fromkeys(sorted(members), "")
        return dict(sorted(out.items()))


_BLOCK_IDS = keys.BLOCK_IDS_PREFIX


def _block_fact_field(stored: str, names: dict[str, str]) -> str:
    """The canonical field of a `completions` field `<tag><block index>`."""
    index = stored.lstrip("abcdefghijklmnopqrstuvwxyz")
    tag = stored[: len(stored) - len(index)]
    name = names.get(index)
    return keys.block_fact_field(tag, name) if name is not None else f"<unknown block index {stored}>"


async def dump_redis(redis: Any, prefix: str, *, include_checkpoints: bool = False) -> dict[str, Any]:
    """The same canonical form read from one Redis generation (SCAN + typed reads): completion
    records under their completion field (read back through the course's block dictionary, which
    itself is left out: its indexes depend on arrival order), learner fields and activity members
    with their course keys (read back through the learner's course dictionary, also left out)."""
    out: dict[str, Any] = {}
    pattern = "".join("\\" + c if c in "*?[]\\" else c for c in prefix) + "*"
    block_ids: dict[str, dict[str, str]] = {}
    async for raw_key in redis.scan_iter(match=pattern, count=1000):
        key = raw_key.decode()[len(prefix):]
        if (key == keys.CHECKPOINTS and not include_checkpoints) or key.startswith((_BLOCK_IDS, keys.STAMP_PREFIX)):
            continue
        kind = (await redis.type(raw_key)).decode()
        if kind == "string":
            out[key] = (await redis.get(raw_key)).decode()
        elif kind == "hash":
            fields = {f.decode(): v.decode() for f, v in (await redis.hgetall(raw_key)).items()}
            course_key = keys.completions_course(key)
            if course_key is not None:
                if course_key not in block_ids:
                    ids = await redis.hgetall(prefix + keys.block_ids(course_key))
                    block_ids[course_key] = {f.decode(): v.decode() for f, v in ids.items()}
                fields = {_block_fact_field(f, block_ids[course_key]): v for f, v in fields.items()}
            elif keys.user_id_of(key) is not None:
                fields = learner_dictionary.learner_fields(fields)
            if fields:  # a learner hash may hold only its course dictionary
                out[key] = dict(sorted(fields.items()))
        elif kind == "zset":
            members = {m.decode(): int(s) for m, s in await redis.zrange(raw_key, 0, -1, withscores=True)}
            learner = keys.changed_learner(key)
            if learner is not None and key == keys.activity(learner):
                learner_hash = await redis.hgetall(prefix + keys.user(learner))
                courses = learner_dictionary.learner_courses({f.decode(): v.decode() for f, v in learner_hash.items()})
                members = {learner_dictionary.canonical_activity_member(m, courses): s for m, s in members.items()}
            out[key] = dict(sorted(members.items()))
        elif kind == "set":
            out[key] = dict.fromkeys(sorted(m.decode() for m in await redis.smembers(raw_key)), "")
    return dict(sorted(out.items()))
