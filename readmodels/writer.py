"""The one place that writes read models: a batch of operations plus the consumer checkpoints,
applied atomically by one Lua script (writer.lua) in one round trip.

Redelivered or replayed events are harmless: every operation is last-writer-wins or set-like,
so applying it twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from redis.asyncio import Redis

from readmodels import keys
from readmodels.ops import Checkpoint, Op
from readmodels.scripts import lua




@dataclass(frozen=True, slots=True)
class Applied:
    """An operation that took effect, with the raw value it replaced (None when there was none)."""

    index: int
    previous: str | None


class RedisWriter:
    def __init__(self, redis: Redis, namespace: str, *, announce: bool = True) -> None:
        self._redis = redis
        self._ns = namespace
        self._script = redis.register_script(lua("writer"))
        self._announce = announce

    async def apply(self, generation: int, ops: Sequence[Op], checkpoints: Sequence[Checkpoint] = ()) -> list[Applied]:
        if not ops and not checkpoints:
            return []
        args = [
            keys.prefix(self._ns, generation),
            orjson.dumps([op.encode() for op in ops]),
            orjson.dumps([[c.field, c.offset] for c in checkpoints]),
            keys.applied_channel(self._ns) if self._announce else "",
            keys.changed_channel(self._ns) if self._announce else "",
        ]
        raw = await self._script(keys=[], args=args)
        out: list[Applied] = []
        for i in range(0, len(raw), 2):
            prev = raw[i + 1]
            out.append(Applied(int(raw[i]) - 1, prev.decode() if isinstance(prev, bytes) else prev or None))
        return out

    async def checkpoints(self, generation: int) -> dict[str, int]:
        raw = await self._redis.hgetall(keys.prefix(self._ns, generation) + keys.CHECKPOINTS)
        return {k.decode(): int(v) for k, v in raw.items()}
