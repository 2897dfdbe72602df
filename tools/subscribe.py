"""The subscriber example: follow `projected-program-progress` and keep learners per program by
progress bucket. Records are deduplicated by `ce_id` (delivery is at-least-once) and the newest
state per key wins (records of one key arrive in apply order, on one partition)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer

from projectors.rebuild import partitions_of

BUCKETS = ("not started", "in progress", "completed", "unenrolled")


def bucket(state: dict[str, Any]) -> str:
    if state.get("all_unenrolled"):
        return "unenrolled"
    if state.get("completed", 0) and not state.get("in_progress", 0) and not state.get("not_started", 0):
        return "completed"
    if state.get("completed", 0) or state.get("in_progress", 0):
        return "in progress"
    return "not started"


@dataclass
class ProgramBuckets:
    seen: set[str] = field(default_factory=set)
    latest: dict[str, tuple[str, str]] = field(default_factory=dict)  # record key -> (program, bucket)
    records: int = 0
    duplicates: int = 0

    def add(self, ce_id: str, value: dict[str, Any]) -> None:
        if ce_id in self.seen:
            self.duplicates += 1
            return
        self.seen.add(ce_id)
        self.records += 1
        key = value["key"]
        state = value.get("state")
        if state is None:
            self.latest.pop(key, None)
        else:
            self.latest[key] = (key.split(":", 1)[1], bucket(state))

    def table(self) -> dict[str, Counter[str]]:
        out: dict[str, Counter[str]] = {}
        for program, b in self.latest.values():
            out.setdefault(program, Counter())[b] += 1
        return dict(sorted(out.items()))


async def follow(
    bootstrap: str,
    topic: str,
    buckets: ProgramBuckets,
    *,
    max_seconds: float | None = None,
    once: bool = False,
    on_update: Callable[[ProgramBuckets], None] = lambda _b: None,
) -> ProgramBuckets:
    """Consume from the beginning (no group: a view rebuilt on every start); `once` stops at the end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        tps = await partitions_of(consumer, [topic])
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps) if once else {}
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        while deadline is None or time.monotonic() < deadline:
            fetched = await consumer.getmany(timeout_ms=200, max_records=1000)
            for records in fetched.values():
                for r in records:
                    headers = dict(r.headers or ())
                    buckets.add(headers["ce_id"].decode(), orjson.loads(r.value))
            on_update(buckets)
            if once and all(pos >= ends[tp] for tp, pos in [(tp, await consumer.position(tp)) for tp in tps]):
                break
        return buckets
    finally:
        await consumer.stop()
