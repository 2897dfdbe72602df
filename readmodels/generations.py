"""Read-model generations: which one the API serves, allocating new ones, switching atomically,
and deleting old ones in the background.

A generation is the key namespace `<ns>:g<gen>:`. `keys.serving` names the one the API reads (its
Lua read scripts read the pointer inside the script, so a switch is atomic for every request);
`keys.generations` is the set of generations that exist, so none is forgotten and leaked.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from redis.asyncio import Redis

from readmodels import keys
from readmodels.replies import text_or_none
from readmodels.scripts import lua

FIRST_GENERATION = 1


class GenerationError(RuntimeError):
    """A generation operation was refused (for instance deleting the serving generation)."""


@dataclass(frozen=True)
class SwitchResult:
    switched: bool
    reason: str


async def serving_generation(redis: Redis, ns: str) -> int:
    """The generation the API reads; the first call on an empty Redis sets it to 1."""
    await redis.set(keys.serving(ns), FIRST_GENERATION, nx=True)
    await redis.sadd(keys.generations(ns), FIRST_GENERATION)
    raw = await redis.get(keys.serving(ns))
    return int(raw) if raw is not None else FIRST_GENERATION


async def current_generation(redis: Redis, ns: str) -> int:
    """The serving generation without initialising anything (one GET; 1 when unset, as the API reads it)."""
    raw = await redis.get(keys.serving(ns))
    return int(raw) if raw is not None else FIRST_GENERATION


async def generations(redis: Redis, ns: str) -> list[int]:
    return sorted(int(g) for g in await redis.smembers(keys.generations(ns)))


async def allocate_generation(redis: Redis, ns: str) -> int:
    """A new, never used generation number (recorded in `<ns>:gens` before anything is written)."""
    await serving_generation(redis, ns)
    while True:
        candidate = max(await generations(redis, ns)) + 1
        if await redis.sadd(keys.generations(ns), candidate):
            return candidate


async def switch_generation(redis: Redis, ns: str, *, expected: int, new: int) -> SwitchResult:
    """Point the API at `new` if `expected` still serves and `new` has applied every offset it has.

    One Lua script: the check and the pointer write cannot interleave with a projector's write.
    """
    script = redis.register_script(lua("switch"))
    ok, reason = await script(
        keys=[keys.serving(ns), keys.generations(ns), keys.prefix(ns, expected) + keys.CHECKPOINTS,
              keys.prefix(ns, new) + keys.CHECKPOINTS],
        args=[keys.generation_channel(ns), str(expected), str(new)],
    )
    return SwitchResult(bool(int(ok)), text_or_none(reason) or "")


async def delete_generation(redis: Redis, ns: str, generation: int, *, grace_seconds: float = 2.0) -> int:
    """Delete every key of a generation that no longer serves: SCAN + UNLINK in batches (never KEYS).

    A live projector that read the pointer just before a switch may still land one batch in the old
    generation (it then re-applies it to the new one); a second pass after `grace_seconds` removes it.
    Returns the number of keys unlinked.
    """
    if await current_generation(redis, ns) == generation:
        raise GenerationError(f"generation {generation} is serving; switch first")
    prefix = keys.prefix(ns, generation)
    pattern = "".join("\\" + c if c in "*?[]\\" else c for c in prefix) + "*"
    total = 0
    for pass_no in range(2):
        if pass_no:
            await asyncio.sleep(grace_seconds)
        batch: list[bytes] = []
        async for key in redis.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 500:
                total += await redis.unlink(*batch)
                batch.clear()
        if batch:
            total += await redis.unlink(*batch)
    await redis.srem(keys.generations(ns), generation)
    return total
