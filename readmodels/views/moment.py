"""A "now" that knows how long a view's answer stays the same: the views' only clock input.

The views are pure functions of (stored facts, request parameters, now). Most of them use `now` only
to compare it with a time they read (a deadline, a start, an end, a certificate date): each such
comparison keeps its result until `now` reaches that time. `Moment` is a datetime that notes those
times as the views compare it with them, so that a finished body can be kept until the first of
them (api/answer_memo.py):

- a comparison (`<`, `<=`, `>`, `>=`, `==`, `!=`, either side: for `deadline > now` Python asks the
  subclass first) notes the other time; a time equal to now itself ends the window at once;
- `local_date(now, tz)` (the celebrations' "today") notes the next local midnight;
- any other use (arithmetic, an attribute or method such as `astimezone`, `isoformat`, hashing)
  marks the moment *used*: the body then depends on now in a way not tracked here, and is not kept.
  What such a use returns is a plain datetime, so nothing downstream sees a Moment.

`window(moment)` is then how long the answer holds: None (not to be kept), or the first noted time after
now. Exact for what it tracks; anything it does not track falls on the "used" side.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

_plain_getattribute = object.__getattribute__
_set = object.__setattr__
FOREVER = datetime.max.replace(tzinfo=UTC)


def _comparison(plain: Callable[[datetime, Any], Any]) -> Callable[[Moment, Any], Any]:
    """A rich comparison of the moment: the other time noted, then compared with the plain now."""

    def compare(self: Moment, other: Any) -> Any:
        Moment._note(self, other)
        return plain(_plain_getattribute(self, "_at"), other)

    compare.__name__ = plain.__name__
    return compare


class Moment(datetime):
    """`Moment.of(now)`: `now` (aware) as a datetime that notes how the views use it."""

    # Instances carry their state in __dict__ (a datetime subclass cannot add slots):
    # `_at` the plain datetime, `_until` the first noted time after it, `_used` the untracked use.

    @classmethod
    def of(cls, now: datetime) -> Moment:
        moment = cls(now.year, now.month, now.day, now.hour, now.minute, now.second, now.microsecond,
                     now.tzinfo, fold=now.fold)
        _set(moment, "_at", now)
        _set(moment, "_until", None)
        _set(moment, "_used", False)
        return moment

    def _note(self, other: object) -> None:
        if isinstance(other, Moment):  # two moments: nothing to learn, and no safe answer
            _set(self, "_used", True)
            return
        if not isinstance(other, datetime):
            return
        at: datetime = _plain_getattribute(self, "_at")
        if other > at:
            until = _plain_getattribute(self, "_until")
            if until is None or other < until:
                _set(self, "_until", other)
        elif other == at:
            _set(self, "_used", True)

    def _use(self) -> datetime:
        _set(self, "_used", True)
        at: datetime = _plain_getattribute(self, "_at")
        return at

    def __getattribute__(self, name: str) -> Any:
        return getattr(Moment._use(self), name)

    __lt__ = _comparison(datetime.__lt__)
    __le__ = _comparison(datetime.__le__)
    __gt__ = _comparison(datetime.__gt__)
    __ge__ = _comparison(datetime.__ge__)
    __eq__ = _comparison(datetime.__eq__)
    __ne__ = _comparison(datetime.__ne__)

    def __hash__(self) -> int:
        return hash(Moment._use(self))

    def __add__(self, other: Any) -> Any:
        return Moment._use(self) + other

    __radd__ = __add__

    def __sub__(self, other: Any) -> Any:
        return Moment._use(self) - other

    def __rsub__(self, other: Any) -> Any:
        return other - Moment._use(self)

    def __str__(self) -> str:
        return str(Moment._use(self))

    def __repr__(self) -> str:
        return f"Moment({_plain_getattribute(self, '_at')!r})"

    def __format__(self, spec: str) -> str:
        return format(Moment._use(self), spec)

    def __reduce__(self) -> Any:
        return Moment._use(self).__reduce__()


def as_plain(value: Any) -> datetime:
    """orjson's `default` for a body built with a Moment: a Moment that reached the body itself is
    written as the plain now (and is then *used*: that body is not kept); anything else is an error."""
    if isinstance(value, Moment):
        return Moment._use(value)
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def window(now: Moment) -> datetime | None:
    """The first time at which an answer built with `now` could change (FOREVER: none noted);
    None: not to be kept (an untracked use, or a compared time equal to now itself)."""
    if _plain_getattribute(now, "_used"):
        return None
    until: datetime | None = _plain_getattribute(now, "_until")
    return FOREVER if until is None else until


def local_date(now: datetime, tz: tzinfo) -> date:
    """The calendar date at `now` in `tz`. A Moment notes the next local midnight (the first
    instant of a later date; found by stepping when a zone's transition falls on midnight)."""
    if not isinstance(now, Moment):
        return now.astimezone(tz).date()
    at: datetime = _plain_getattribute(now, "_at")
    today = at.astimezone(tz).date()
    Moment._note(now, _next_day_start(at, today, tz))
    return today


def _next_day_start(at: datetime, today: date, tz: tzinfo) -> datetime:
    """The first instant after `at` whose date in `tz` is not `today`, to the minute or earlier
    (an earlier time only ends the window sooner)."""
    guess = datetime.combine(today + timedelta(days=1), time(0), tz).astimezone(UTC)
    # Zones whose midnight is skipped or repeated (DST at 00:00): step back to a minute on `today`.
    while guess > at and (guess - timedelta(minutes=1)).astimezone(tz).date() != today:
        guess -= timedelta(minutes=1)
    return guess if guess > at else at
