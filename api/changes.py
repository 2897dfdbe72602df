"""Long polling: a read with `If-None-Match` and `Prefer: wait=<s>` is held until its body would
change. The projector publishes changed keys (and generation switches); one subscriber per API
process turns them into a wake-up for every held request, which then re-runs its route. A fallback
re-check every second covers a lost subscription."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from readmodels import keys

log = logging.getLogger(__name__)

RECHECK_S = 1.0
MAX_WAIT_S = 30.0


class ChangeFeed:
    def __init__(self, redis_url: str, namespace: str, max_held: int) -> None:
        self._redis_url = redis_url
        self._ns = namespace
        self.max_held = max_held
        self.held = 0
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="change-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        delay = 0.2
        while True:
            # Its own connection without a read timeout: a quiet channel is not an error.
            redis = Redis.from_url(self._redis_url, socket_connect_timeout=2)
            pubsub = redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(keys.changed_channel(self._ns), keys.generation_channel(self._ns))
                delay = 0.2
                async for _message in pubsub.listen():
                    self._notify()
            except (RedisError, OSError) as exc:
                log.warning("change feed lost (%r); resubscribing in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                    await redis.aclose()

    def _notify(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    def marker(self) -> asyncio.Event:
        """Take before re-checking; `wait(marker)` then returns at once if a change came since."""
        return self._event

    async def wait(self, marker: asyncio.Event, at_most_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(marker.wait(), min(at_most_s, RECHECK_S))

    def try_hold(self) -> bool:
        if self.held >= self.max_held:
            return False
        self.held += 1
        return True

    def release(self) -> None:
        self.held -= 1


def prefer_wait(value: str | None) -> float:
    """Seconds from `Prefer: wait=<seconds>` (cut to 30); 0 when absent or malformed."""
    if not value:
        return 0.0
    for part in value.split(","):
        name, _, raw = part.strip().partition("=")
        if name.strip().lower() == "wait":
            try:
                seconds = float(raw.strip().strip('"'))
            except ValueError:
                return 0.0
            return max(0.0, min(seconds, MAX_WAIT_S)) if seconds == seconds else 0.0
    return 0.0
