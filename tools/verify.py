"""`verify`: compare two read-model generations entity by entity (checkpoints excluded).

Both sides are read in the canonical form of `readmodels.memory.dump_redis` (the same form the
in-memory store dumps), so a generation can also be compared with an oracle fold of the history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from readmodels import keys
from readmodels.memory import dump_redis

MISSING = "<missing>"


@dataclass(frozen=True)
class EntityDifference:
    key: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field ("" = the whole value) -> (a, b)


def _describe(value: Any) -> Any:
    return MISSING if value is None else value


def compare_dumps(a: dict[str, Any], b: dict[str, Any]) -> list[EntityDifference]:
    out: list[EntityDifference] = []
    for key in sorted(a.keys() | b.keys()):
        va, vb = a.get(key), b.get(key)
        if va == vb:
            continue
        if isinstance(va, dict) and isinstance(vb, dict):
            diffs = {f: (_describe(va.get(f)), _describe(vb.get(f)))
                     for f in sorted(va.keys() | vb.keys()) if va.get(f) != vb.get(f)}
            out.append(EntityDifference(key, diffs))
        else:
            out.append(EntityDifference(key, {"": (_describe(va), _describe(vb))}))
    return out


async def compare_generations(redis: Redis, ns: str, a: int, b: int) -> list[EntityDifference]:
    dump_a = await dump_redis(redis, keys.prefix(ns, a))
    dump_b = await dump_redis(redis, keys.prefix(ns, b))
    return compare_dumps(dump_a, dump_b)
