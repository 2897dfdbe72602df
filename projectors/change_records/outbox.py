"""The outbox: change records held in Redis with the batch's write until published, and the
ChangeRecorder the Projector calls around every live batch (prefetch, records, hold, release)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from redis.asyncio import Redis

from events.base import parse_time
from projectors.change_records.reader import BlockCache, read
from projectors.change_records.record import ChangeRecord, format_record_time
from projectors.change_records.replay import records
from projectors.pipeline import Projected, RawMessage
from readmodels import keys
from readmodels.generations import FIRST_GENERATION
from readmodels.memory import MemoryStore
from readmodels.ops import Op

log = logging.getLogger(__name__)


def _to_json(r: ChangeRecord) -> dict[str, Any]:
    m = r.message
    return {"model": r.model, "key": r.key, "state": r.state, "previous": r.previous,
            "topic": m.topic, "partition": m.partition, "offset": m.offset, "event_id": r.event_id,
            "event_type": r.event_type, "event_time": format_record_time(r.event_time), "generation": r.generation}


def _from_json(d: dict[str, Any]) -> ChangeRecord:
    return ChangeRecord(d["model"], d["key"], d["state"], d["previous"],
                        RawMessage(d["topic"], d["partition"], d["offset"], None, None), d["event_id"],
                        d["event_type"], parse_time(d["event_time"]), d["generation"])


@dataclass
class BatchFacts:
    """What a live batch needs besides its messages: the pre-batch facts, and the records an
    earlier attempt at these offsets computed but may not have published (the outbox)."""

    store: MemoryStore
    ends: dict[str, int]  # "<topic>:<partition>" -> next offset after this batch
    held: dict[str, list[ChangeRecord]]  # outbox field -> records held there
    later: dict[str, list[ChangeRecord]] = field(default_factory=dict)  # held, beyond this batch
    serving: int = 0  # the serving generation, read in the same round trip as the facts


class ChangeRecorder:
    """Prefetch, replay and the outbox for one namespace; the Projector calls it around every live batch.

    At-least-once across a crash between the Redis write and the publish: the records are computed
    before the write (they only need the pre-batch facts) and held in `<ns>:outbox` (one field per
    source partition) atomically with the write (`held`, passed to RedisWriter.apply); after the
    publish they are released in the background (before the next batch's read). A redelivered batch
    finds its effects already applied (so the replay yields nothing new) but publishes what the
    outbox still holds for its offsets, with the same ids (a running projector has released what
    it published before it reads the outbox again, so it does not publish anything twice).

    Round trips per live batch: one read (facts, outbox, serving pointer), the write (with the
    hold); the publish (projectors/pipeline.py) and the release follow in the background.
    """

    def __init__(self, redis: Redis, ns: str, *, assigned: Callable[[], Iterable[str]] | None = None) -> None:
        """`assigned`: the "<topic>:<partition>" fields of the source partitions this worker owns
        now (faust's assignment). The first read after they change also reads their outbox fields,
        so records a crashed owner held after its batch was committed go out without waiting for
        the next event of their partition."""
        self._redis = redis
        self._ns = ns
        self._assigned = assigned
        self._swept: frozenset[str] = frozenset()  # owned partitions whose outbox fields were read
        self._blocks = BlockCache()
        self._unreleased: set[str] = set()  # outbox fields whose records are published, not yet released
        self._releasing: asyncio.Task[None] | None = None

    async def settle(self) -> None:
        """Wait for the release in flight (a failed one is folded into the next read)."""
        if self._releasing is not None:
            task, self._releasing = self._releasing, None
            await asyncio.gather(task, return_exceptions=True)

    async def prefetch(self, generation: int, ops: Sequence[Op], batch: Sequence[RawMessage] = ()) -> BatchFacts:
        ends: dict[str, int] = {}
        for m in batch:
            f = f"{m.topic}:{m.partition}"
            ends[f] = max(ends.get(f, 0), m.offset + 1)
        owned = frozenset(self._assigned()) if self._assigned is not None else frozenset()
        fields = sorted(ends) + sorted(owned - self._swept - ends.keys())
        await self.settle()
        release = sorted(self._unreleased)
        got = await read(self._redis, self._ns, generation, ops, fields, release=release, serving=True,
                         blocks=self._blocks)
        self._unreleased.clear()
        self._swept = owned
        held = {f: [_from_json(d) for d in orjson.loads(v)] for f, v in zip(fields, got.outbox, strict=True) if v}
        serving = got.serving if got.serving is not None else FIRST_GENERATION
        return BatchFacts(got.store, ends, held, serving=serving)

    def records(self, facts: BatchFacts, projected: Sequence[Projected], ops: Sequence[Op],
                generation: int) -> list[ChangeRecord]:
        """Held records of this batch's offsets (an earlier attempt) and every record held for an
        owned partition this batch does not touch (their batch was written), then the new ones, by
        id once."""
        fresh = records(facts.store, projected, ops, generation)
        out: list[ChangeRecord] = []
        for f, held in facts.held.items():
            end = facts.ends.get(f)
            if end is None:
                out += held
                continue
            out += [r for r in held if r.message.offset < end]
            facts.later[f] = [r for r in held if r.message.offset >= end]
        if not out:  # nothing held for these offsets (the usual case): no ids to compare
            return fresh
        seen = {r.id for r in out}
        return out + [r for r in fresh if r.id not in seen]

    def held(self, facts: BatchFacts, pending: Sequence[ChangeRecord]) -> dict[str, bytes]:
        """The outbox fields to write with the batch: its records, and held ones beyond it."""
        by_field: dict[str, list[dict[str, Any]]] = {}
        for r in pending:
            by_field.setdefault(f"{r.message.topic}:{r.message.partition}", []).append(_to_json(r))
        for f, later in facts.later.items():
            by_field.setdefault(f, []).extend(_to_json(r) for r in later)
        return {f: orjson.dumps(v) for f, v in by_field.items()}

    def published(self, facts: BatchFacts, records: Sequence[ChangeRecord]) -> None:
        """The records are out: release their outbox fields in the background (off the batch's
        path; the next prefetch waits for it, and re-does it in its own round trip if it failed)."""
        for r in records:
            f = f"{r.message.topic}:{r.message.partition}"
            if not facts.later.get(f):
                self._unreleased.add(f)
        if self._unreleased and self._releasing is None:
            self._releasing = asyncio.create_task(self._release())

    async def _release(self) -> None:
        fields = sorted(self._unreleased)
        try:
            await self._redis.hdel(keys.outbox(self._ns), *fields)
        except Exception as exc:  # kept: the next batch's read releases them in its round trip
            log.warning("releasing published change records failed (retried with the next read): %r", exc)
            return
        self._unreleased.difference_update(fields)
