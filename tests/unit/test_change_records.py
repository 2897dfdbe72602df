"""Change records computed by replaying a batch on pre-batch facts (projectors/changes.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from events import Event, encode
from projectors.changes import ChangeRecord, records
from projectors.pipeline import RawMessage, prepare
from readmodels.memory import MemoryStore
from tests.builders import COURSE, block, certificate, completion, course_published, enrollment, grade_changed
from tools.synthetic import generate


def raw(events: Sequence[Event[Any]], first_offset: int = 0) -> list[RawMessage]:
    out = []
    for i, e in enumerate(events):
        headers, value = encode(e)
        out.append(RawMessage("t", 0, first_offset + i, None, value, tuple(headers)))
    return out


def fold(events: Sequence[Event[Any]], batch_size: int, store: MemoryStore | None = None) -> list[ChangeRecord]:
    store = store if store is not None else MemoryStore()
    messages = raw(events)
    out: list[ChangeRecord] = []
    for i in range(0, len(messages), batch_size):
        projected, ops, _, _ = prepare(messages[i : i + batch_size])
        out += records(store, projected, ops, generation=1)
    return out


def test_enrollment_creates_status_and_celebration_records_with_no_previous() -> None:
    out = fold([course_published(), enrollment("created", 7)], batch_size=10)
    by_model = {r.model: r for r in out}
    assert set(by_model) == {"learner-course-status", "celebrations"}
    status = by_model["learner-course-status"]
    assert status.key == f"7:{COURSE}"
    assert status.previous is None
    assert status.state == {"mode": "audit", "is_active": True, "percent_grade": None, "is_passing": False,
                            "cert_status": None}
    assert by_model["celebrations"].state == {"first_section": True, "weekly_goal": True}


def test_redelivered_event_changes_nothing_and_publishes_nothing() -> None:
    store = MemoryStore()
    history = [course_published(), enrollment("created", 7), grade_changed(7, 0.8)]
    first = fold(history, 10, store)
    assert [r.model for r in first].count("learner-course-status") == 2
    assert fold(history, 10, store) == []


def test_record_ids_are_deterministic_and_distinct_per_key() -> None:
    history = [course_published(), enrollment("created", 7), certificate("created", 7),
               completion(7, block(COURSE, "video", "v1"))]
    a, b = fold(history, 1), fold(history, 100)
    assert [r.id for r in a] == [r.id for r in b]
    assert len({r.id for r in a}) == len(a)
    resume = [r for r in a if r.model == "resume-point"]
    assert resume[0].state == {"block_id": block(COURSE, "video", "v1"), "unit_id": block(COURSE, "vertical", "u1"),
                               "section_id": block(COURSE, "sequential", "s1")}


def test_records_of_a_synthetic_history_do_not_depend_on_batch_size() -> None:
    history = list(generate(seed=3, learners=15, courses=3))
    one = [(r.id, r.model, r.key, r.state, r.previous) for r in fold(history, 1)]
    many = [(r.id, r.model, r.key, r.state, r.previous) for r in fold(history, 333)]
    assert one == many
    assert one, "the synthetic history should change some model"
    # every record is a real change, and per key the states chain: previous == the last state
    last: dict[tuple[str, str], Any] = {}
    for _, model, key, state, previous in one:
        assert state != previous
        assert last.get((model, key)) == previous
        last[(model, key)] = state
