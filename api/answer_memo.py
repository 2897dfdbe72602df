"""Finished bodies of the hot read routes, kept while they cannot change.

A route's body is a pure function of its read script's reply, the request's parameters, the app's
configuration and "now" (readmodels/views). So a body built once is the right answer again for a
request with the same parameters whose read returned the same reply, byte for byte, as long as
"now" is still before the first time the views compared it with (readmodels/views/moment.py).
Every request still makes its read (one round trip, like the Starlette floor's GET): what is saved
is parsing the reply, the views and the JSON encoding. A write, a republish, a generation switch
or another learner's request all change the reply or the key, so nothing is ever served stale; a
body whose views used "now" in a way the moment does not track is not kept.

Keys hold the replies themselves (no digest: two different replies can never share an entry).
Bounded: the oldest entry goes when it is full (`LP_API_ANSWER_MEMO` entries; 0 turns it off). An
entry is also dropped after `HOLD` whatever its window, which only bounds how long a mistake in a
view's use of "now" could last; correctness does not rest on it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import Any

import orjson

from readmodels.views.moment import Moment, as_plain, window

HOLD = timedelta(seconds=60)


class AnswerMemo:
    def __init__(self, max_entries: int) -> None:
        self._max = max_entries
        self._entries: dict[Hashable, tuple[Any, datetime, datetime]] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, now: datetime) -> Any | None:
        """The value kept under `key` if `now` is inside its window (from the now it was built at,
        which a request that read the clock a little earlier may precede, to its first change)."""
        entry = self._entries.get(key)
        if entry is not None:
            if entry[1] <= now < entry[2]:
                self.hits += 1
                return entry[0]
            if now >= entry[2]:
                del self._entries[key]
        self.misses += 1
        return None

    def put(self, key: Hashable, value: Any, now: datetime, until: datetime | None) -> None:
        """Keep `value` until `until` (at most HOLD from now); None: not to be kept."""
        if until is None or self._max <= 0 or not now < until:
            return
        entries = self._entries
        if key not in entries and len(entries) >= self._max:
            del entries[next(iter(entries))]
        entries[key] = (value, now, min(until, now + HOLD))


def render(now: datetime, shape: Callable[[datetime], Any]) -> tuple[bytes | None, datetime | None]:
    """`shape(now)` built with a Moment, as JSON (None when it shaped no body), and how long that
    body holds (`AnswerMemo.put`'s `until`)."""
    moment = Moment.of(now)
    shaped = shape(moment)
    if shaped is None:
        return None, None
    return orjson.dumps(shaped, default=as_plain), window(moment)
