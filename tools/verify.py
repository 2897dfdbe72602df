"""`verify`: compare two read-model generations, or one with the oracle fold of the history it
applied, entity by entity (checkpoints excluded).

Both sides are read in the canonical form of `readmodels.memory.dump_redis` (the same form the
in-memory store dumps), so a generation can also be compared with an oracle fold of the history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer
from redis.asyncio import Redis

from events import DecodeError, Event, decode
from projectors.rebuild import partitions_of
from readmodels import keys
from readmodels.memory import dump_redis
from readmodels.settings import Settings
from readmodels.writer import RedisWriter

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


async def read_history(settings: Settings, until: dict[str, int]) -> list[Event[Any]]:
    """The decodable events of every source partition, below `until` ("<topic>:<partition>" -> next
    offset: a generation's checkpoints, so a generation is compared with exactly what it applied).
    Undecodable messages are left out, as the projector dead-letters them."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [tp for tp in await partitions_of(consumer, settings.source_topics)
               if until.get(f"{tp.topic}:{tp.partition}", 0) > 0]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = {tp: until[f"{tp.topic}:{tp.partition}"] for tp in tps}
        events: list[Event[Any]] = []
        pending = set(tps)
        while pending:
            for tp, records in (await consumer.getmany(*pending, timeout_ms=500, max_records=5000)).items():
                for r in records:
                    if r.offset >= end[tp]:
                        break
                    try:
                        events.append(decode(r.headers, r.value))
                    except DecodeError:
                        continue
            pending = {tp for tp in pending if await consumer.position(tp) < end[tp]}
        return events
    finally:
        await consumer.stop()


async def compare_with_oracle(redis: Redis, settings: Settings, generation: int) -> list[EntityDifference]:
    """A generation against the oracle fold (projectors/oracle.py) of the history it applied."""
    from projectors.oracle import compare, fold

    ns = settings.redis_namespace
    applied = await RedisWriter(redis, ns, announce=False).checkpoints(generation)
    expected = fold(await read_history(settings, applied)).dump()
    actual = await dump_redis(redis, keys.prefix(ns, generation))
    return [EntityDifference(d.key, {f.field: (_describe(f.left), _describe(f.right)) for f in d.fields})
            for d in compare(actual, expected)]
