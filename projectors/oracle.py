"""The reference fold: a whole history -> the read models, and an entity-by-entity comparison.

`fold(events)` is the definition the live projector is checked against (`lp verify`, the
property and history tests). It takes what each event asks for from the pure projection functions
(unit-tested one by one), but it does not reuse the incremental store logic: it reads the
contract's rules directly over the whole history,

- a field holds the value of its newest write (largest `(version, value)`; completion records under
  their completion field, in their compact form),
- a snapshot holds its newest document and exactly the hash fields that document owns,
- an activity set holds each member at its largest score, keeping the members within the window
  of the newest score,

and writes the result into a MemoryStore, so `fold(h).dump()` has the canonical form of
`memory.dump_redis`. Events whose projection fails are skipped (the projector dead-letters them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from events import Event
from projectors.projections import project as project_event
from readmodels import keys
from readmodels.memory import MemoryStore
from readmodels.ops import (
    AddActivity,
    AddMember,
    Op,
    ReplaceSnapshot,
    SetBlockField,
    SetCompletion,
    SetField,
    newer,
    raw_value,
)

log = logging.getLogger(__name__)


def fold(events: Iterable[Event[Any]], project: Callable[[Event[Any]], Sequence[Op]] | None = None) -> MemoryStore:
    if project is None:
        project = project_event
    fields: dict[tuple[str, str], str] = {}
    snapshots: dict[str, tuple[str, ReplaceSnapshot]] = {}
    activity: dict[str, dict[str, tuple[int, int]]] = {}  # key -> member -> (score, window)
    sets: dict[str, set[str]] = {}
    for event in events:
        try:
            ops = project(event)
        except Exception:  # the projector dead-letters these; the fold leaves them out the same way
            log.warning("oracle: projection of %s %s failed; left out", event.type, event.id, exc_info=True)
            continue
        for op in ops:
            if isinstance(op, SetField | SetCompletion | SetBlockField):
                raw = raw_value(op.version, op.value) if isinstance(op, SetField) else op.raw
                at = (op.key, op.field if isinstance(op, SetField) else op.stored_field)
                if newer(raw, fields.get(at)):
                    fields[at] = raw
            elif isinstance(op, ReplaceSnapshot):
                raw = raw_value(op.version, op.value)
                current = snapshots.get(op.key)
                if newer(raw, None if current is None else current[0]):
                    snapshots[op.key] = (raw, op)
            elif isinstance(op, AddMember):
                sets.setdefault(op.key, set()).add(op.member)
            else:
                assert isinstance(op, AddActivity)
                members = activity.setdefault(op.key, {})
                score, _ = members.get(op.member, (op.score, op.window))
                members[op.member] = (max(score, op.score), op.window)
    return _materialize(fields, snapshots, activity, sets)


def _materialize(
    fields: Mapping[tuple[str, str], str],
    snapshots: Mapping[str, tuple[str, ReplaceSnapshot]],
    activity: Mapping[str, Mapping[str, tuple[int, int]]],
    sets: Mapping[str, set[str]],
) -> MemoryStore:
    store = MemoryStore()
    store.sets = {k: set(v) for k, v in sets.items()}
    for key, (raw, snap) in snapshots.items():
        store.strings[key] = raw
        if snap.parts:
            store.strings[keys.snapshot_parts(key)] = snap.parts_index
        for hkey, field, value in snap.parts:
            store.hashes.setdefault(hkey, {})[field] = value
    for (key, field), raw in fields.items():
        store.hashes.setdefault(key, {})[field] = raw
    for key, members in activity.items():
        # Every op on one key uses the same window (keys.ACTIVITY_WINDOW_BUCKETS); the newest decides.
        top, window = max(members.values())
        kept = {m: s for m, (s, _) in members.items() if s >= top - window}
        if kept:
            store.zsets[key] = kept
    return store


# Comparison -------------------------------------------------------------------------------------

_WHOLE = ""  # the "field" name used for a plain string value (snapshots, parts indexes)


@dataclass(frozen=True, slots=True)
class FieldDifference:
    field: str  # hash field, zset member, or "" for a string value
    left: Any  # None when absent on that side
    right: Any


@dataclass(frozen=True, slots=True)
class Difference:
    """One entity (Redis key) whose read model differs between two dumps."""

    key: str
    fields: tuple[FieldDifference, ...]

    def __str__(self) -> str:
        lines = [f"{self.key}:"]
        for f in self.fields:
            name = f.field or "(value)"
            lines.append(f"  {name}: {_short(f.left)} != {_short(f.right)}")
        return "\n".join(lines)


def compare(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[Difference]:
    """Every key whose value differs between two canonical dumps, with the differing fields,
    sorted by key. A key missing on one side is reported with all its fields (other side None)."""
    out: list[Difference] = []
    for key in sorted(set(a) | set(b)):
        left, right = a.get(key), b.get(key)
        if left == right:
            continue
        out.append(Difference(key, tuple(_field_differences(left, right))))
    return out


def _field_differences(left: Any, right: Any) -> list[FieldDifference]:
    if isinstance(left, Mapping) or isinstance(right, Mapping):
        if not (left is None or isinstance(left, Mapping)) or not (right is None or isinstance(right, Mapping)):
            return [FieldDifference(_WHOLE, left, right)]  # different types under one key
        lm: Mapping[str, Any] = left or {}
        rm: Mapping[str, Any] = right or {}
        return [
            FieldDifference(f, lm.get(f), rm.get(f))
            for f in sorted(set(lm) | set(rm))
            if lm.get(f) != rm.get(f) or (f in lm) != (f in rm)
        ]
    return [FieldDifference(_WHOLE, left, right)]


def report(differences: Iterable[Difference], *, limit: int = 50) -> str:
    """A readable report of the first `limit` differences."""
    diffs = list(differences)
    if not diffs:
        return "no differences"
    shown = "\n".join(str(d) for d in diffs[:limit])
    more = f"\n... and {len(diffs) - limit} more" if len(diffs) > limit else ""
    return f"{len(diffs)} entities differ:\n{shown}{more}"


def _short(value: Any, width: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."
