"""Read-model generations: which one the API serves, and switching atomically."""

from __future__ import annotations

from redis.asyncio import Redis

from readmodels import keys

FIRST_GENERATION = 1


async def serving_generation(redis: Redis, ns: str) -> int:
    """The generation the API reads; the first call on an empty Redis sets it to 1."""
    await redis.set(keys.serving(ns), FIRST_GENERATION, nx=True)
    await redis.sadd(keys.generations(ns), FIRST_GENERATION)
    raw = await redis.get(keys.serving(ns))
    return int(raw)
