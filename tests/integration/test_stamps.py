"""The writer's stamps (writer.lua `touch`, keys.stamp), which the answer memo's reads compare
(read_stamps.lua, api/answer_memo.py): every key a write batch changes has the stamp of its hash
tag bumped in the same script, and nothing else is bumped; a replayed batch changes nothing and
bumps nothing. What Redis itself says was written is the witness: its keyspace notifications, on a
private redis-server of the test's own (a notification per modifying command, in command order).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from bench.history import build
from events import Event
from projectors.projections import project
from readmodels import keys
from readmodels.writer import RedisWriter
from tools.redis_runner import RedisServer

pytestmark = pytest.mark.integration

NS = "st"
GEN = 1
PREFIX = keys.prefix(NS, GEN)
CHANNEL = f"__keyspace@0__:{PREFIX}*"
DONE = "stamps-test:done"


@pytest.fixture
async def redis(tmp_path: Path) -> AsyncIterator[Redis]:
    server = RedisServer(tmp_path / "redis", config=(*RedisServer.config, "--notify-keyspace-events", "KA")).start()
    client = Redis.from_url(server.url)
    try:
        yield client
    finally:
        await client.aclose()
        server.stop()


async def written(
    redis: Redis, writer: RedisWriter, events: list[Event[Any]], pubsub: Any
) -> tuple[set[str], set[str]]:
    """Apply `events` as one batch: (logical keys written other than stamps, stamp keys written)."""
    await writer.apply(GEN, [op for e in events for op in project(e)])
    await redis.publish(DONE, "1")
    data: set[str] = set()
    stamps: set[str] = set()
    while True:
        message = await pubsub.get_message(timeout=5.0)
        assert message is not None, "the notifications stopped before the batch's end"
        if message["type"] == "message" and message["channel"] == DONE.encode():
            return data, stamps
        if message["type"] == "pmessage":
            key = message["channel"].decode().split(":", 1)[1][len(PREFIX):]
            (stamps if key.startswith(keys.STAMP_PREFIX) else data).add(key)


async def test_every_changed_key_bumps_its_tags_stamp_and_a_replay_bumps_none(redis: Redis) -> None:
    history = build(3000, 13)
    writer = RedisWriter(redis, NS, announce=False)
    pubsub = redis.pubsub()
    await pubsub.psubscribe(CHANNEL)
    await pubsub.subscribe(DONE)
    events = history.events
    kinds: set[str] = set()
    for size in (1, 7, 50):  # one event a batch, then several: a batch bumps each tag once
        part, events = events[: 300 if size == 1 else 1000], events[300 if size == 1 else 1000 :]
        for start in range(0, len(part), size):
            data, stamps = await written(redis, writer, part[start : start + size], pubsub)
            assert stamps == {keys.stamp(keys.hash_tag(PREFIX + key)) for key in data}
            kinds |= {key.split(":", 1)[0] for key in data}
    # every kind of key the projections write was written (the learner's, the course's, programs')
    assert kinds >= {"u", "uc", "ua", "unames", "course", "cblk", "ccat", "cseq", "cl", "bid", "parts", "prog",
                     "runprogs"}
    data, stamps = await written(redis, writer, history.events[:1300], pubsub)  # a replay
    assert (data, stamps) == (set(), set())
