"""Change records computed by replaying a batch on pre-batch facts (projectors/change_records/)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from events import Event, encode
from projectors.change_records.record import MODELS, RECORD_NAMESPACE, ChangeRecord, record_id
from projectors.change_records.replay import records
from projectors.pipeline import RawMessage, prepare
from readmodels.memory import MemoryStore
from tests.builders import (
    COURSE,
    PROGRAM,
    SEQUENCE_FLAGS,
    at,
    block,
    certificate,
    completion,
    course_published,
    enrollment,
    grade_changed,
    program_changed,
    program_deleted,
)
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


@given(st.one_of(st.uuids().map(str), st.text()), st.sampled_from(MODELS), st.text())
def test_record_id_is_the_uuid5_of_event_model_and_key(event_id: str, model: str, key: str) -> None:
    assert record_id(event_id, model, key) == str(uuid.uuid5(RECORD_NAMESPACE, f"{event_id}\n{model}\n{key}"))


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


def test_course_republish_with_a_new_passing_bar_records_every_learner_whose_status_changes() -> None:
    history = [course_published(time=at(0)), enrollment("created", 1), enrollment("created", 2),
               enrollment("created", 3), grade_changed(1, 0.8), grade_changed(2, 0.4)]
    store = MemoryStore()
    fold(history, 50, store)
    out = fold([course_published(time=at(5), lowest_passing_grade=0.35)], 1, store)
    status = [r for r in out if r.model == "learner-course-status"]
    assert [(r.key, r.previous["is_passing"], r.state["is_passing"]) for r in status] == [(f"2:{COURSE}", False, True)]
    assert all(r.event_type == "ext.content.course.published.v1" for r in out)


def test_course_republish_that_moves_a_block_records_the_new_resume_unit() -> None:
    video = block(COURSE, "video", "v1")
    history = [course_published(time=at(0)), enrollment("created", 4), completion(4, video, modified=at(1)),
               enrollment("created", 5)]
    moved = course_published(time=at(5), outline=[
        {"block_key": block(COURSE, "chapter", "ch9"), "display_name": "Moved", "sequences": [
            {"block_key": block(COURSE, "sequential", "s9"), "display_name": "Moved", **SEQUENCE_FLAGS,
             "units": [{"block_key": block(COURSE, "vertical", "u9"), "display_name": "Moved", "icon": "video",
                        "graded": False, "contains_gated_content": False,
                        "blocks": [{"block_key": video, "block_type": "video", "completable": True}]}]}]}])
    for size in (1, 100):  # the republish alone, or in the same batch as the facts it reaches
        out = fold([*history, moved], size)
        resume = [r for r in out if r.model == "resume-point"]
        assert resume[-1].key == f"4:{COURSE}" and resume[-1].event_type == "ext.content.course.published.v1"
        assert resume[-1].state == {"block_id": video, "unit_id": block(COURSE, "vertical", "u9"),
                                    "section_id": block(COURSE, "sequential", "s9")}
        assert not [r for r in out if r.key == f"5:{COURSE}" and r.model == "resume-point"]  # no resume point


def test_program_change_records_the_progress_of_the_learners_of_its_runs() -> None:
    other = "course-v1:edX+Other+2026"
    history = [course_published(time=at(0)), course_published(other, time=at(0)), enrollment("created", 6),
               enrollment("created", 7, course_key=other), program_changed(runs=(COURSE,), time=at(1))]
    store = MemoryStore()
    before = fold(history, 50, store)
    assert {r.key for r in before if r.model == "program-progress"} == {f"6:{PROGRAM}"}

    out = fold([program_changed(runs=(COURSE, other), time=at(2))], 1, store)  # a run added
    progress = {r.key: r for r in out if r.model == "program-progress"}
    assert set(progress) == {f"6:{PROGRAM}", f"7:{PROGRAM}"}
    assert progress[f"7:{PROGRAM}"].previous is None and progress[f"7:{PROGRAM}"].state["in_progress"] == 1
    assert progress[f"6:{PROGRAM}"].state["not_started"] == 1  # the new run counts for learner 6 too

    gone = fold([program_deleted(time=at(3))], 1, store)
    assert {(r.key, r.state) for r in gone if r.model == "program-progress"} == {
        (f"6:{PROGRAM}", None), (f"7:{PROGRAM}", None)}


def test_status_is_passing_rounds_half_up_as_the_api_does() -> None:
    """0.495 against a bar of 0.5 passes (half-up to 0.50), as the course body's user_has_passing_grade."""
    out = fold([course_published(lowest_passing_grade=0.5), enrollment("created", 3), grade_changed(3, 0.495)], 10)
    status = [r for r in out if r.model == "learner-course-status"]
    assert status[-1].state is not None and status[-1].state["is_passing"] is True


def test_resume_point_of_a_block_gone_from_the_outline_has_no_state_as_the_api_shows_nulls() -> None:
    video = block(COURSE, "video", "v1")
    history = [course_published(time=at(0)), enrollment("created", 4), completion(4, video, modified=at(1))]
    without = course_published(time=at(5), outline=[])
    out = fold([*history, without], 1)
    resume = [r for r in out if r.model == "resume-point"]
    assert resume[-1].event_type == "ext.content.course.published.v1"
    assert resume[-1].previous is not None and resume[-1].state is None
