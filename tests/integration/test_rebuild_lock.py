"""One rebuild per namespace: the second is refused with the holder named; a dead holder's lock
is taken over; a lost lock stops the rebuild (real Redis)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import uuid

import orjson
import pytest
from redis.asyncio import Redis

from projectors.rebuild import RebuildError, rebuild_lock
from readmodels import keys
from tools.stack import Stack

pytestmark = [pytest.mark.integration]


async def test_a_second_rebuild_is_refused_while_the_first_holds_the_lock(stack: Stack) -> None:
    redis = Redis.from_url(stack.redis.url)
    ns = f"t{uuid.uuid4().hex[:8]}"
    try:
        async with rebuild_lock(redis, ns):
            with pytest.raises(RebuildError, match=rf"another rebuild is running \(pid {os.getpid()} on "):
                async with rebuild_lock(redis, ns):
                    pass
        assert not await redis.exists(keys.rebuild_lock(ns))  # released by its owner
        async with rebuild_lock(redis, ns):  # free again
            assert await redis.exists(keys.rebuild_lock(ns))
    finally:
        await redis.aclose()


async def test_the_lock_of_a_holder_that_died_is_taken_over(stack: Stack) -> None:
    redis = Redis.from_url(stack.redis.url)
    ns = f"t{uuid.uuid4().hex[:8]}"
    dead = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await dead.wait()
    try:
        stale = {"token": "x", "pid": dead.pid, "host": socket.gethostname(), "since": "2026-01-01T00:00:00+00:00"}
        await redis.set(keys.rebuild_lock(ns), orjson.dumps(stale), px=60_000)
        async with rebuild_lock(redis, ns):
            mine = orjson.loads(await redis.get(keys.rebuild_lock(ns)))
            assert mine["pid"] == os.getpid()
    finally:
        await redis.aclose()


async def test_a_rebuild_that_loses_its_lock_stops(stack: Stack) -> None:
    redis = Redis.from_url(stack.redis.url)
    ns = f"t{uuid.uuid4().hex[:8]}"
    try:
        with pytest.raises(RebuildError, match="lost the rebuild lock"):
            async with rebuild_lock(redis, ns, ttl=0.3):
                await redis.set(keys.rebuild_lock(ns), b"someone else")  # as if it expired and was taken
                await asyncio.sleep(5)
        assert await redis.get(keys.rebuild_lock(ns)) == b"someone else"  # not deleted by the loser
    finally:
        await redis.aclose()
