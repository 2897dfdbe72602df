"""Deterministic synthetic event histories (the demo history built on them: tools/demo.py).

`generate(seed=..., ...)` yields a realistic Open edX event-bus history in time order: the catalog
(course runs with outlines, programs, course staff) first, then day by day the learners'
enrolments, visits, completions, grades, certificates and the rest, with now and then a course
republished or a program changed. The same seed and options give the same events, ids and times
(and so the same bytes): nothing reads the clock or iterates an unordered collection.

Every event is built from its validated payload class, so `events.encode`/`events.decode` of any
generated event succeeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import orjson

from events import Event
from events.base import format_time
from tools.synth_model import Config, Raw
from tools.synth_world import World

D = Config()  # the defaults

__all__ = ["Config", "count_events", "generate", "to_jsonl_line"]


def _event(raw: Raw) -> Event[Any]:
    t, eid, cls, data, source = raw
    return Event(type=cls.TYPE, id=eid, time=t, data=cls.model_validate(data), source=source)


def generate(*, seed: int = D.seed, learners: int = D.learners, courses: int = D.courses,
             programs: int = D.programs, days: int = D.days, start: date = D.start
             ) -> Iterator[Event[Any]]:
    """The history of `days` days from `start` (00:00 UTC), as validated events in time order.

    Size is roughly linear in `learners` and in `days` (about 250 events per learner over 60 days:
    `learners=4000, days=60` gives about a million); `courses` and `programs` shape the catalog.
    Fewer than one course or day counts as one. Events are built lazily, a simulated day at a time.
    """
    world = World(Config(seed=seed, learners=learners, courses=courses, programs=programs, days=days, start=start))
    return map(_event, world.run())


def count_events(*, seed: int = D.seed, learners: int = D.learners, courses: int = D.courses,
                 programs: int = D.programs, days: int = D.days, start: date = D.start) -> int:
    """How many events `generate` yields for these options: a dry run that skips building the
    events (several times faster than generating them)."""
    world = World(Config(seed=seed, learners=learners, courses=courses, programs=programs, days=days, start=start))
    return sum(1 for _ in world.run())


def to_jsonl_line(event: Event[Any], topic_prefix: str = "") -> bytes:
    """One CloudEvent as one JSON line (with the newline): the format `lp produce` reads, which
    takes `topic` as the exact topic name."""
    return orjson.dumps({
        "type": event.type, "id": event.id, "time": format_time(event.time), "source": event.source,
        "data": event.data.model_dump(mode="json"), "topic": topic_prefix + type(event.data).TOPIC,
        "key": event.data.partition_key() or None,
    }) + b"\n"
