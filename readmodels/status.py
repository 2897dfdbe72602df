"""Operational status in Redis: what the live projector reports every few seconds, and what the API
reads for `/readyz` and the status page. Not a read model: it has no generation and is never rebuilt.

- `<ns>:ops:ends:{ops}`: the source partitions' log start and end offsets, as the projector last saw them
  (the high watermarks), one field per partition. It expires `ENDS_TTL_S` after the last report, so
  readiness never judges the lag from a dead projector's old numbers. The API computes the lag itself
  as end minus the *serving* generation's checkpoint, so the answer is about what it serves.
- `<ns>:ops:samples:{ops}`: a capped list of JSON samples (newest first): the projector's lag per
  partition and its cumulative counters. The status page turns consecutive samples into rates.

The API reads these through `StatusReader` (it never sees a Redis command); the projector writes
them through `StatusWriter`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis

from readmodels import keys
from readmodels.generations import current_generation
from readmodels.replies import int_hash, text

REPORT_INTERVAL_S = 2.0
ENDS_TTL_S = 30  # no report for this long: the projector is not running (or cannot reach Redis)
SAMPLES_KEPT = 150  # five minutes at REPORT_INTERVAL_S


@dataclass(frozen=True, slots=True)
class Offsets:
    """A source partition's log start (oldest retained offset) and end (next offset to be written)."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Lag:
    generation: int
    partitions: dict[str, int]  # "<topic>:<partition>" -> messages not yet applied

    @property
    def total(self) -> int:
        return sum(self.partitions.values())


def lag_of(ends: Mapping[str, Offsets], checkpoints: Mapping[str, int]) -> dict[str, int]:
    """Per partition: end minus the next offset to apply (or the log start, when nothing was applied
    and retention already dropped the beginning)."""
    return {tp: max(0, o.end - max(checkpoints.get(tp, 0), o.start)) for tp, o in sorted(ends.items())}


async def _checkpoints(redis: Redis, ns: str, generation: int) -> dict[str, int]:
    raw = await redis.hgetall(keys.prefix(ns, generation) + keys.CHECKPOINTS)
    return int_hash(raw)


class StatusWriter:
    """The live projector's side."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self._ns = namespace

    async def checkpoints(self) -> tuple[int, dict[str, int]]:
        """The serving generation and its checkpoints."""
        generation = await current_generation(self._redis, self._ns)
        return generation, await _checkpoints(self._redis, self._ns, generation)

    async def report(self, ends: Mapping[str, Offsets], sample: Mapping[str, Any]) -> None:
        """One transaction: refresh the offsets (and their expiry), push the sample, cap the list."""
        pipe = self._redis.pipeline(transaction=True)
        if ends:
            ends_key = keys.ops_ends(self._ns)
            pipe.hset(ends_key, mapping={tp: orjson.dumps([o.start, o.end]) for tp, o in ends.items()})
            pipe.expire(ends_key, ENDS_TTL_S)
        samples_key = keys.ops_samples(self._ns)
        pipe.lpush(samples_key, orjson.dumps(sample))
        pipe.ltrim(samples_key, 0, SAMPLES_KEPT - 1)
        await pipe.execute()


class StatusReader:
    """The API's side."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self._ns = namespace

    async def ping(self) -> None:
        await self._redis.ping()

    async def lag(self) -> Lag | None:
        """The serving generation's lag, or None when no projector reported offsets recently."""
        generation = await current_generation(self._redis, self._ns)
        raw_ends = await self._redis.hgetall(keys.ops_ends(self._ns))
        if not raw_ends:
            return None
        ends = {text(k): Offsets(*orjson.loads(v)) for k, v in raw_ends.items()}
        checkpoints = await _checkpoints(self._redis, self._ns, generation)
        return Lag(generation, lag_of(ends, checkpoints))

    async def samples(self) -> list[dict[str, Any]]:
        """The kept samples, oldest first."""
        raw = await self._redis.lrange(keys.ops_samples(self._ns), 0, -1)
        return [orjson.loads(r) for r in reversed(raw)]


def _rate(sample: Mapping[str, Any], before: Mapping[str, Any] | None, counter: str) -> float | None:
    """Per second between two samples of one worker (None for its first sample)."""
    if before is None:
        return None
    elapsed = float(sample["at"]) - float(before["at"])
    if elapsed <= 0:
        return None
    return round(max(0, int(sample[counter]) - int(before[counter])) / elapsed, 2)


def summarize(samples: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The status page's data: a time series (rates between consecutive samples of one worker) and
    the newest figures of every worker. Pure, so it is unit tested without Redis."""
    series: list[dict[str, Any]] = []
    previous: dict[str, Mapping[str, Any]] = {}
    for s in samples:
        worker = str(s.get("worker", ""))
        before = previous.get(worker)
        lag = {tp: int(p["lag"]) for tp, p in s.get("partitions", {}).items()}
        series.append(
            {
                "at": s["at"],
                "worker": worker,
                "lag": lag,
                "lag_total": sum(lag.values()),
                "events_per_s": _rate(s, before, "events"),
                "dead_letters_per_s": _rate(s, before, "dead_letters"),
                "events_total": int(s["events"]),
                "dead_letters_total": int(s["dead_letters"]),
            }
        )
        previous[worker] = s
    partitions: dict[str, dict[str, int]] = {}
    by_topic: dict[str, int] = {}
    by_type: dict[str, int] = {}
    workers = []
    for worker, s in sorted(previous.items()):
        workers.append(
            {
                "worker": worker,
                "at": s["at"],
                "generation": s.get("generation"),
                "events": s["events"],
                "dead_letters": s["dead_letters"],
            }
        )
        for tp, p in s.get("partitions", {}).items():
            partitions[tp] = {"end": int(p["end"]), "next": int(p["next"]), "lag": int(p["lag"])}
        for topic, n in s.get("dead_letters_by_topic", {}).items():
            by_topic[topic] = by_topic.get(topic, 0) + int(n)
        for event_type, n in s.get("events_by_type", {}).items():
            by_type[event_type] = by_type.get(event_type, 0) + int(n)
    return {
        "samples": series,
        "partitions": [{"partition": tp, **partitions[tp]} for tp in sorted(partitions)],
        "dead_letters_by_topic": dict(sorted(by_topic.items())),
        "events_by_type": dict(sorted(by_type.items())),
        "workers": workers,
    }
