"""The one place that writes read models: a batch of operations plus the consumer checkpoints,
applied atomically by one Lua script (writer.lua) in one round trip. On a Redis Cluster the batch
is split by node, the checkpoints written after every node has acknowledged (cluster_writer.py).

Redelivered or replayed events are harmless: every operation is last-writer-wins or set-like,
so applying it twice changes nothing the second time.

Size: the ops travel as one JSON argument (no per-op arguments, no `unpack` in the script), so a
batch of thousands of events or a course snapshot with thousands of blocks is fine. A batch whose
JSON exceeds `max_script_bytes` (default 32 MiB, far above a normal batch) is split into several
script calls, the checkpoints going with the last: the read models stay exact (a crash between
the calls redelivers the batch, and re-applying ops changes nothing), only the "applied" report
of a redelivered part is then empty. One call stays far below Redis' 512 MB argument limit and
does not block the server for long.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from readmodels import keys
from readmodels.cluster_writer import ClusterBatches
from readmodels.generations import FIRST_GENERATION
from readmodels.ops import Checkpoint, Op, coalesce
from readmodels.redis_client import is_cluster
from readmodels.replies import int_hash, text
from readmodels.scripts import lua

MAX_SCRIPT_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Applied:
    """An operation that took effect, with the raw value it replaced (None when there was none)."""

    index: int
    previous: str | None


class RedisWriter:
    def __init__(
        self, redis: Redis, namespace: str, *, announce: bool = True, max_script_bytes: int = MAX_SCRIPT_BYTES,
        track_serving: bool = False, report: bool = True,
    ) -> None:
        """`report=False`: `apply` returns no per-op report (always []), and the ops a batch
        overrides itself are left out before they are sent (`ops.coalesce`): the projectors take
        their change records from their own replay, and Redis then does half the work on a
        rebuild's batches (measured in bench/RESULTS.md)."""
        self._redis = redis
        self._ns = namespace
        self._script = redis.register_script(lua("writer"))
        self._announce = announce
        self._max_bytes = max_script_bytes
        self._track_serving = track_serving
        self._report = report
        self._cluster = ClusterBatches(redis, namespace) if is_cluster(redis) else None  # type: ignore[arg-type]
        # With `track_serving`: the serving generation as the last script call saw it, read inside
        # the script (atomic with that write), so the live projector needs no extra round trip.
        self.serving: int | None = None

    async def apply(
        self, generation: int, ops: Sequence[Op], checkpoints: Sequence[Checkpoint] = (), *,
        held: Mapping[str, bytes] | None = None,
    ) -> list[Applied]:
        """Apply `ops` in order, then the checkpoints; return the ops that took effect.

        `held`: change-record outbox fields (`keys.outbox`) to write in the same MULTI/EXEC as the
        write (projectors/change_records/outbox.py), so records are never lost between the write
        and the publish."""
        self.serving = None  # until this call's script reports it
        if not ops and not checkpoints and not held:
            return []
        if not self._report:
            ops = coalesce(ops)
        if self._cluster is not None:  # split by node (cluster_writer.py); no size split needed there
            return self._report_of(await self._cluster.apply(generation, ops, checkpoints, held, self._tail), 0)
        whole = orjson.dumps([op.encode() for op in ops])
        if len(whole) <= self._max_bytes:  # the usual case: one call, the ops encoded in one go
            return await self._apply_chunk(generation, 0, whole, checkpoints, held)
        encoded = [orjson.dumps(op.encode()) for op in ops]
        chunks = _chunks(encoded, self._max_bytes)
        out: list[Applied] = []
        for n, (start, end) in enumerate(chunks):
            last = n == len(chunks) - 1
            chunk = b"[" + b",".join(encoded[start:end]) + b"]"
            out.extend(await self._apply_chunk(generation, start, chunk, checkpoints if last else (),
                                               held if n == 0 else None))
        return out

    async def _apply_chunk(
        self, generation: int, start: int, ops_json: bytes, checkpoints: Sequence[Checkpoint],
        held: Mapping[str, bytes] | None = None,
    ) -> list[Applied]:
        args: list[bytes | str] = [keys.prefix(self._ns, generation), ops_json, *self._tail(checkpoints)]
        if held:
            raw = await self._with_outbox(held, args)
        else:
            raw = await self._script(keys=[], args=args)
        return self._report_of(raw, start)

    def _tail(self, checkpoints: Sequence[Checkpoint], applied: bool = True, changed: bool = True) -> list[bytes | str]:
        """writer.lua's ARGV after the prefix and the ops."""
        return [
            orjson.dumps([[c.field, c.offset] for c in checkpoints]),
            keys.applied_channel(self._ns) if self._announce and applied else "",
            keys.changed_channel(self._ns) if self._announce and changed else "",
            keys.serving(self._ns) if self._track_serving and applied else "",
            "1" if self._report else "",
        ]

    def _report_of(self, raw: list[Any], start: int) -> list[Applied]:
        if self._track_serving:
            self.serving = int(raw[0]) if raw[0] else FIRST_GENERATION  # as current_generation reads it
        out: list[Applied] = []
        for i in range(1, len(raw), 2):
            prev = raw[i + 1]
            out.append(Applied(start + int(raw[i]) - 1, text(prev) if prev else None))
        return out

    async def _with_outbox(self, held: Mapping[str, bytes], args: list[bytes | str]) -> list[Any]:
        """HSET of the outbox fields and the script in one MULTI/EXEC (one round trip, atomic)."""
        for attempt in (1, 2):
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(keys.outbox(self._ns), mapping=held)  # type: ignore[arg-type]
                pipe.execute_command("EVALSHA", self._script.sha, 0, *args)
                try:
                    replies = await pipe.execute()
                except NoScriptError:  # a restarted or flushed Redis: load it, run both again
                    if attempt == 2:
                        raise
                    await self._redis.script_load(self._script.script)
                    continue
            result: list[Any] = replies[1]
            return result
        raise AssertionError("unreachable")

    async def checkpoints(self, generation: int) -> dict[str, int]:
        raw = await self._redis.hgetall(keys.prefix(self._ns, generation) + keys.CHECKPOINTS)
        return int_hash(raw)


def _chunks(encoded: Sequence[bytes], max_bytes: int) -> list[tuple[int, int]]:
    """Split op indexes into [start, end) ranges of at most `max_bytes` of JSON (at least one op
    each); an empty batch is one empty range, so the checkpoints are still written."""
    ranges: list[tuple[int, int]] = []
    start, size = 0, 0
    for i, op in enumerate(encoded):
        if i > start and size + len(op) + 1 > max_bytes:
            ranges.append((start, i))
            start, size = i, 0
        size += len(op) + 1
    ranges.append((start, len(encoded)))
    return ranges
