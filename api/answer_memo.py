"""Finished bodies of the hot read routes, kept while they cannot change.

A route's body is a pure function of its read script's reply, the request's parameters, the app's
configuration and "now" (readmodels/views). So a body built once is the right answer again for a
request with the same parameters, as long as the reply would be the same and "now" is still before
the first time the views compared it with (readmodels/views/moment.py).

Whether the reply would be the same is asked of Redis, in the read's own round trip: the read
script returns, with its reply, the stamps of the hash tags of every key it read (readmodels/lua/
read_stamps.lua), and the writer bumps a tag's stamp with every write that changes one of its keys
(writer.lua). The next read for the same request sends those stamps back; when the serving
generation and all of them are unchanged, the script answers nil at once (a few GETs) and the
kept body is the answer. Every key the reply was read from is then unchanged, so the script would
read the same keys and give the same reply: nothing is ever served stale. Replies without stamps
(a Redis Cluster's pipelined reads, readmodels/cluster_reads.py, which are not atomic) are made in
full, and a body is kept for the exact reply instead (no digest: two different replies can never
share an entry). A body whose views used "now" in a way the moment does not track is not kept.

Bounded: the oldest entry goes when it is full (`LP_API_ANSWER_MEMO` entries; 0 turns it off). An
entry is also dropped after `HOLD` whatever its window, which only bounds how long a mistake in a
view's use of "now" could last; correctness does not rest on it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime, timedelta
from typing import Any

import orjson

from readmodels.replies import frozen
from readmodels.views.moment import Moment, as_plain, window

HOLD = timedelta(seconds=60)


class Stamps(tuple[Any, ...]):
    """A read script's stamps (read_stamps.lua `stamps`: generation, tag, stamp, ...), which the
    next read sends back for Redis to compare."""


class AnswerMemo:
    def __init__(self, max_entries: int) -> None:
        self._max = max_entries
        # key -> (value, what it was built from: Stamps, or the frozen reply; window start, end)
        self._entries: dict[Hashable, tuple[Any, Hashable, datetime, datetime]] = {}
        self.hits = 0
        self.misses = 0

    async def answer(
        self,
        key: Hashable,
        now: datetime,
        read: Callable[[tuple[Any, ...]], Awaitable[Any]],
        build: Callable[[Any], tuple[Any, datetime | None]],
    ) -> Any:
        """The value for the request `key`: `read(stamps)` makes the route's read (sending the kept
        entry's stamps, or nothing); a nil reply, or the very reply an entry was kept for, is
        answered from the entry; else `build(reply)` gives the value and how long it holds (None:
        not to be kept; `render` gives both)."""
        entry = self._entries.get(key)
        if entry is not None and not entry[2] <= now < entry[3]:
            if now >= entry[3]:
                del self._entries[key]
            entry = None
        basis = entry[1] if entry is not None else None
        raw = await read(basis if isinstance(basis, Stamps) else ())
        # nil: the stamps sent still hold; else a reply kept by (a cluster's, unstamped) is the same
        kept_by = None if raw is None else stamps_of(raw)
        if entry is not None and (raw is None or kept_by == basis):
            self.hits += 1
            return entry[0]
        self.misses += 1
        value, until = build(raw)
        self._put(key, value, kept_by, now, until)
        return value

    def _put(self, key: Hashable, value: Any, basis: Hashable, now: datetime, until: datetime | None) -> None:
        """Keep `value` until `until` (at most HOLD from now); None: not to be kept."""
        if until is None or self._max <= 0 or not now < until:
            return
        entries = self._entries
        if key not in entries and len(entries) >= self._max:
            del entries[next(iter(entries))]
        entries[key] = (value, basis, now, min(until, now + HOLD))


def stamps_of(raw: list[Any]) -> Hashable:
    """What a body built from the read script reply `raw` is kept by: its stamps (the reply's last
    element), or the whole reply frozen when it has none (a cluster's reads)."""
    return Stamps(raw[-1]) if raw[-1] else frozen(raw)


def render(now: datetime, shape: Callable[[datetime], Any]) -> tuple[bytes | None, datetime | None]:
    """`shape(now)` built with a Moment, as JSON (None when it shaped no body), and how long that
    body holds (`AnswerMemo.put`'s `until`)."""
    moment = Moment.of(now)
    shaped = shape(moment)
    if shaped is None:
        return None, None
    return orjson.dumps(shaped, default=as_plain), window(moment)
