"""Projected topics: one record per actual change, deterministic ids, nothing for no-ops.

The history is produced in phases (waiting for each to be applied) so that, per model key, the
apply order is the production order: the four models of one key are fed by one partition per phase.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from events import Event
from projectors.change_records.replay import records
from projectors.pipeline import prepare
from readmodels.memory import MemoryStore
from tests.builders import (
    COURSE,
    PROGRAM,
    at,
    block,
    celebration_ack,
    certificate,
    completion,
    course_published,
    enrollment,
    grade_changed,
    program_changed,
)
from tests.integration.lp import lp, read_topics
from tests.pipeline import Pipeline
from tests.unit.test_change_records import raw
from tools.stack import Stack

pytestmark = [pytest.mark.integration]

OTHER = "course-v1:edX+Other+2026"
USERS = range(1, 21)


def phases() -> list[list[Event[Any]]]:
    first = enrollment("created", 1, time=at(1))
    return [
        [course_published(COURSE), course_published(OTHER), program_changed(runs=(COURSE, OTHER))],
        [first, first,  # a redelivered duplicate: changes nothing
         *(enrollment("created", u, mode="verified" if u % 2 else "audit", time=at(1)) for u in USERS if u > 1),
         enrollment("unenrolled", 3, is_active=False, time=at(2))],
        [enrollment("created", u, OTHER, mode="verified", time=at(3)) for u in USERS if u <= 10],
        [*(grade_changed(u, 0.3 + u / 40, time=at(4)) for u in USERS),
         *(grade_changed(u, 0.3 + u / 40, time=at(5)) for u in USERS if u <= 5)],  # same grade again: no change
        [certificate("created", u, time=at(6)) for u in USERS if u % 4 == 1],
        [*(completion(u, block(COURSE, "video", "v1"), time=at(7)) for u in USERS if u <= 8),
         *(celebration_ack(u, time=at(8), first_section=False) for u in USERS if u <= 4)],
    ]


def expected(history: list[list[Event[Any]]]) -> list[tuple[Any, ...]]:
    """The in-memory fold, event by event: every actual change of the four models."""
    store = MemoryStore()
    out = []
    for phase in history:
        for m in raw(phase):
            projected, ops, _, _ = prepare([m])
            out += [(r.id, r.model, r.key, _canon(r.state), _canon(r.previous))
                    for r in records(store, projected, ops, 1)]
    return out


def _canon(v: Any) -> Any:
    return None if v is None else tuple(sorted(v.items()))


def published(p: Pipeline, at_least: int, timeout: float = 30) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        got = read_topics(p.settings, list(p.settings.projected_topics))
        if len(got) >= at_least or time.monotonic() > deadline:
            return got


def as_tuples(got: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(g["headers"]["ce_id"], g["value"]["model"], g["value"]["key"], _canon(g["value"]["state"]),
             _canon(g["value"]["previous"])) for g in got]


def run(p: Pipeline, history: list[list[Event[Any]]]) -> None:
    for phase in history:
        p.produce(phase)
        p.wait_applied()


@pytest.fixture(scope="module")
def history() -> list[list[Event[Any]]]:
    return phases()


@pytest.fixture(scope="module")
def pipeline(stack: Stack, history: list[list[Event[Any]]]) -> Iterator[Pipeline]:
    p = Pipeline.create(stack).start(api=False)
    run(p, history)
    yield p
    p.stop()


def test_projected_records_equal_the_actual_state_changes(pipeline: Pipeline, history: list[list[Event[Any]]]) -> None:
    want = expected(history)
    got = published(pipeline, len(want))
    assert len(got) == len(want)
    assert Counter(as_tuples(got)) == Counter(want)
    assert len({g["headers"]["ce_id"] for g in got}) == len(got)
    assert {g["value"]["model"] for g in got} == {"learner-course-status", "celebrations", "resume-point",
                                                  "program-progress"}
    sample = got[0]
    assert sample["headers"]["ce_type"] == f"ext.projected.{sample['value']['model']}.changed.v1"
    assert sample["topic"] == pipeline.settings.topic(f"projected-{sample['value']['model']}")
    assert sample["value"]["generation"] == 1
    assert set(sample["value"]["caused_by"]) == {"event_id", "event_type", "topic", "partition", "offset"}
    # per key, records arrive in apply order: each one's previous is the state before it
    last: dict[tuple[str, str], Any] = {}
    for g in sorted(got, key=lambda g: (g["topic"], g["partition"], g["offset"])):
        k = (g["value"]["model"], g["value"]["key"])
        assert g["value"]["previous"] == last.get(k)
        last[k] = g["value"]["state"]


def test_redelivered_events_publish_nothing_more_and_replay_gives_the_same_ids(
    stack: Stack, pipeline: Pipeline, history: list[list[Event[Any]]]
) -> None:
    first = as_tuples(published(pipeline, len(expected(history))))
    run(pipeline, history)  # every event delivered again, same ids: nothing changes
    after = as_tuples(read_topics(pipeline.settings, list(pipeline.settings.projected_topics)))
    assert Counter(after) == Counter(first)

    fresh = Pipeline.create(stack).start(api=False)  # the same events into an empty read model
    try:
        run(fresh, history)
        again = as_tuples(published(fresh, len(first)))
    finally:
        fresh.stop()
    assert Counter(again) == Counter(first)


def test_subscriber_counts_learners_per_program_bucket(pipeline: Pipeline) -> None:
    result = lp(pipeline.settings, "subscribe", "--once", "--max-seconds", "30", COLUMNS="200")
    assert result.returncode == 0, result.stderr
    assert PROGRAM in result.stdout
    assert "0 duplicates skipped" in result.stdout
