"""The change feed: what the projector announces, turned into wake-ups for waiting requests.

The projector's write script PUBLISHes, with the batch it applies, the checkpoints it applied
(`<ns>:applied`) and the logical keys that changed (`<ns>:changed`), each with the generation
prefix; a serving-generation switch is published on `<ns>:generation`. One subscriber per API
process (its own connection, no polling) dispatches them:

- long polls (`If-None-Match` + `Prefer: wait=<s>`) register a `Watch` for the learner whose data
  they read; a changed key of that learner, or of reference data (a course, a program, usernames)
  that any read may join, or a generation switch wakes the watch, and the request re-runs its route
  once: it answers only when the ETag differs. Held requests cost no CPU while nothing they read
  changes, and everything they share is in Redis, so any number of workers or processes can serve;
- read-your-writes waits (`X-Read-Model-Min-Token`, api/freshness.py) register the checkpoint field
  and offset they need; an applied checkpoint past it (or a switch) wakes them to check Redis.

Documented fallback: while the subscription is down (Redis restarting), waiters re-check every
`RECHECK_S` instead of waiting for a message, and every waiter re-checks when it is (re)established,
so a message lost in the gap costs at most one re-check.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterable, Iterator
from typing import Any, TypeVar

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.types import Receive, Scope

from api.auth import AuthError, authenticate
from readmodels import keys
from readmodels.redis_client import subscriber_urls
from readmodels.replies import text
from readmodels.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

RECHECK_S = 1.0
MAX_WAIT_S = 30.0


class Watch:
    """A held long poll: whose learner data its body shows (`everything`: unknown before the read,
    e.g. a masquerade), and the event a relevant change sets."""

    __slots__ = ("changed", "everything", "gone", "needs", "user")

    def __init__(self, user: int | None, everything: bool) -> None:
        self.user = user
        self.everything = everything
        self.changed = asyncio.Event()
        self.gone = False  # the client disconnected: stop holding (frees its place under the cap)
        self.needs = 0  # the feed's message count when woken: a re-read must start at or after it


class Expect:
    """A read-your-writes wait: set once a checkpoint of `field` reaches past `offset`."""

    __slots__ = ("applied", "field", "offset")

    def __init__(self, field: str, offset: int) -> None:
        self.field = field
        self.offset = offset
        self.applied = asyncio.Event()


class ChangeFeed:
    def __init__(self, redis_url: str, namespace: str, max_held: int) -> None:
        self._redis_url = redis_url
        self._channels = (
            keys.applied_channel(namespace),
            keys.changed_channel(namespace),
            keys.generation_channel(namespace),
        )
        self.max_held = max_held
        self.connected = False
        self._watches: dict[int | None, set[Watch]] = {}
        self._everything: set[Watch] = set()
        self._expects: dict[str, set[Expect]] = {}
        self._held = 0
        self._seen = 0  # messages dispatched so far (a re-read started after message n sees its write)
        self._reads: dict[Hashable, tuple[int, asyncio.Future[Any]]] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def held(self) -> int:
        return self._held

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="change-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # Long polls -----------------------------------------------------------------------------------

    def hold(self, user: int | None, *, everything: bool = False) -> Watch | None:
        """Register a held request; None when this worker already holds `max_held` (answer now)."""
        if self._held >= self.max_held:
            return None
        self._held += 1
        watch = Watch(user, everything)
        (self._everything if everything else self._watches.setdefault(user, set())).add(watch)
        return watch

    def release(self, watch: Watch) -> None:
        self._held -= 1
        if watch.everything:
            self._everything.discard(watch)
            return
        group = self._watches.get(watch.user)
        if group is not None:
            group.discard(watch)
            if not group:
                del self._watches[watch.user]

    @contextlib.contextmanager
    def holding(self, scope: Scope, settings: Settings) -> Iterator[Watch | None]:
        """A watch for the request in `scope` (registered before its first read, so a change that
        lands between that read and the wait is not lost), released on exit."""
        user, everything = _audience(scope, settings)
        watch = self.hold(user, everything=everything)
        try:
            yield watch
        finally:
            if watch is not None:
                self.release(watch)

    async def wait(self, watch: Watch, at_most_s: float) -> bool:
        """Until a relevant change (True) or `at_most_s` (False); while the subscription is down,
        True every RECHECK_S (the fallback re-check). Re-arms the watch for the next wait."""
        woken = await _wait(watch.changed, at_most_s if self.connected else min(at_most_s, RECHECK_S))
        watch.changed.clear()  # before the caller re-reads: a change during that read wakes the next wait
        watch.needs = self._seen
        return woken or not self.connected

    async def reread(self, watch: Watch, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
        """Run `read` for a woken watch, sharing one run among the watches of the same `key` (the
        same request but for its ETag) as long as it started after the change that woke them: one
        change to a popular read costs one re-run, not one per held request."""
        shared = self._reads.get(key)
        if shared is None or shared[0] < watch.needs:
            future: asyncio.Future[Any] = asyncio.ensure_future(read())
            entry = (self._seen, future)
            self._reads[key] = entry
            future.add_done_callback(lambda _: self._reads.pop(key, None) if self._reads.get(key) is entry else None)
            shared = entry
        result: T = await asyncio.shield(shared[1])
        return result

    @contextlib.asynccontextmanager
    async def watching_disconnect(self, watch: Watch, receive: Receive) -> AsyncIterator[None]:
        """While inside, a client disconnect marks the watch `gone` and wakes it."""

        async def listen() -> None:
            with contextlib.suppress(Exception):  # whatever receive raises, the hold just goes on
                while (await receive())["type"] != "http.disconnect":
                    pass
                watch.gone = True
                watch.changed.set()

        task = asyncio.create_task(listen())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # Read-your-writes ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def expecting(self, field: str, offset: int) -> Iterator[Expect]:
        expect = Expect(field, offset)
        self._expects.setdefault(field, set()).add(expect)
        try:
            yield expect
        finally:
            group = self._expects.get(field)
            if group is not None:
                group.discard(expect)
                if not group:
                    del self._expects[field]

    async def wait_applied(self, expect: Expect, at_most_s: float) -> None:
        await _wait(expect.applied, at_most_s if self.connected else min(at_most_s, RECHECK_S))
        expect.applied.clear()

    # The subscriber --------------------------------------------------------------------------------

    async def _run(self) -> None:
        delay = 0.2
        urls = subscriber_urls(self._redis_url)
        for attempt in itertools.count():
            # Its own connection without a read timeout: a quiet channel is not an error.
            redis = Redis.from_url(urls[attempt % len(urls)], socket_connect_timeout=2, socket_keepalive=True)
            pubsub = redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(*self._channels)
                self.connected = True
                self._wake_all()  # whatever was published while we were not subscribed
                delay = 0.2
                async for message in pubsub.listen():
                    self.dispatch(message["channel"], message["data"])
            except (RedisError, OSError) as exc:
                log.warning("change feed lost (%r); resubscribing in %.1fs", exc, delay)
            finally:
                if self.connected:
                    self.connected = False
                    self._wake_all()  # waiters switch to the fallback re-check
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()
                    await redis.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    def dispatch(self, channel: bytes | str, data: bytes | str) -> None:
        """One published message: wake whoever it concerns."""
        self._seen += 1
        name = text(channel)
        applied, changed, _generation = self._channels
        if name not in (applied, changed):
            self._wake_all()  # a generation switch: every answer may differ
            return
        try:
            _prefix, items = orjson.loads(data)
            if name == applied:
                self._on_applied((str(f), int(o)) for f, o in items)
            else:
                self._on_changed([str(k) for k in items])
        except (ValueError, TypeError) as exc:
            log.warning("change feed: unreadable message on %s (%r); waking every waiter", name, exc)
            self._wake_all()

    def _on_applied(self, checkpoints: Iterable[tuple[str, int]]) -> None:
        for field, next_offset in checkpoints:
            for expect in self._expects.get(field, ()):
                if next_offset > expect.offset:
                    expect.applied.set()

    def _on_changed(self, logical_keys: list[str]) -> None:
        # The username index only resolves masquerades (`everything` watches, woken below anyway);
        # it is rewritten by every enrollment event, so it must not wake every held request.
        learners = {keys.changed_learner(k) for k in logical_keys if k != keys.USERNAMES}
        if None in learners:  # reference data: any read may join it
            self._wake_watches()
            return
        for watch in self._everything:
            watch.changed.set()
        for learner in learners:
            for watch in self._watches.get(learner, ()):
                watch.changed.set()

    def _wake_watches(self) -> None:
        for watch in self._everything:
            watch.changed.set()
        for group in self._watches.values():
            for watch in group:
                watch.changed.set()

    def _wake_all(self) -> None:
        self._seen += 1
        self._wake_watches()
        for group in self._expects.values():
            for expect in group:
                expect.applied.set()


async def _wait(event: asyncio.Event, timeout_s: float) -> bool:
    if event.is_set():
        return True
    try:
        await asyncio.wait_for(event.wait(), max(timeout_s, 0.0))
    except TimeoutError:
        return False
    return True


def _audience(scope: Scope, settings: Settings) -> tuple[int | None, bool]:
    """Whose learner data the request reads: the caller (None: anonymous), or `everything` when that
    is only known after the read (a `?username=` masquerade) or the credentials are bad (the route
    answers 401 then, which is never held)."""
    request = Request(scope)
    if request.query_params.get("username"):
        return None, True
    try:
        caller = authenticate(request, settings)
    except AuthError:
        return None, True
    return (caller.user_id if caller is not None else None), False


# Headers that differ between two otherwise identical reads without changing their answer.
PER_REQUEST_HEADERS = frozenset(
    {b"if-none-match", b"prefer", b"x-read-model-min-token", b"x-request-id", b"connection", b"keep-alive"}
)


def read_key(scope: Scope) -> Hashable:
    """What a route's answer depends on: path, query and the headers (credentials included)."""
    raw = scope.get("headers") or ()
    headers = tuple(sorted((k.lower(), v) for k, v in raw if k.lower() not in PER_REQUEST_HEADERS))
    return (scope.get("method"), scope.get("path"), scope.get("query_string"), headers)


def prefer_wait(value: str | None) -> float:
    """Seconds from `Prefer: wait=<seconds>` (cut to 30); 0 when absent or malformed."""
    if not value:
        return 0.0
    for part in value.split(","):
        name, _, raw = part.split(";", 1)[0].strip().partition("=")
        if name.strip().lower() == "wait":
            try:
                seconds = float(raw.strip().strip('"'))
            except ValueError:
                return 0.0
            return max(0.0, min(seconds, MAX_WAIT_S)) if seconds == seconds else 0.0
    return 0.0
