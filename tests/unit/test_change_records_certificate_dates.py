"""The projected program-progress topic waits for certificate dates as the API does (API.md counting
rule 1, PROJECTED.md clock rule: computed as of each causing event's ce_time)."""

from __future__ import annotations

from typing import Any

import orjson

from projectors.change_records.states import program_progress
from readmodels import keys
from readmodels.facts import UserFacts
from readmodels.memory import MemoryStore
from readmodels.views.certificates import effective_courses
from readmodels.views.program_progress import progress
from tests.builders import COURSE, PROGRAM, at, catalog_info, certificate, course_published, enrollment, program_changed
from tests.unit.test_change_records import fold

OTHER = "course-v1:edX+Other+2026"


def _waiting(**changes: Any) -> Any:
    """COURSE, instructor-paced, ended, its certificates available at at(100)."""
    fields = {"pacing": "instructor", "end": at(-10).isoformat(), "certificate_available_date": at(100).isoformat()}
    return course_published(COURSE, **{**fields, **changes.pop("fields", {})}, **changes)


def _graduate() -> MemoryStore:
    """Learner 7, enrolled verified in COURSE (the only course of PROGRAM) with a certificate that
    waits for the date."""
    store = MemoryStore()
    history = [
        _waiting(time=at(0)),
        program_changed(time=at(0)),
        enrollment("created", 7, mode="verified", time=at(1)),
        certificate("created", 7, time=at(2)),
    ]
    fold(history, 10, store)
    return store


def _progress(records: list[Any]) -> list[dict[str, Any] | None]:
    return [r.state for r in records if r.model == "program-progress" and r.key == f"7:{PROGRAM}"]


def test_projected_progress_follows_the_certificate_date_as_of_each_event() -> None:
    """Before the date the certificate fails its run (not_started); an event after the date (a new
    enrollment in the program) is computed as of its own time, when the course is completed."""
    history = [
        _waiting(time=at(0)),
        course_published(OTHER, time=at(0)),
        program_changed(runs=(COURSE, OTHER), time=at(0)),
        enrollment("created", 7, mode="verified", time=at(1)),
        certificate("created", 7, time=at(2)),
        enrollment("created", 7, OTHER, mode="verified", time=at(200)),
    ]
    for size in (1, 100):
        states = _progress(fold(history, size))
        assert states[-2] == {"completed": 0, "in_progress": 0, "not_started": 2, "all_unenrolled": False}
        assert states[-1] == {"completed": 1, "in_progress": 1, "not_started": 0, "all_unenrolled": False}


def test_projected_state_equals_the_api_count_at_the_same_time() -> None:
    """The record's state is the API's count (the same function, the same courses) at the event's time."""
    store = _graduate()
    program = orjson.loads(store.hashes[keys.run_programs(COURSE)][PROGRAM])
    user = UserFacts(7, store.hashes[keys.user(7)])
    version, course = store.strings[keys.course(COURSE)].split("\t", 1)
    courses = effective_courses({COURSE: (orjson.loads(course), version, None)}, shared=False)
    for when in (at(50), at(150)):
        assert program_progress(store, 7, program, when) == progress(program, user, when, courses=courses).counts()
    assert program_progress(store, 7, program, at(50))["completed"] == 0  # type: ignore[index]
    assert program_progress(store, 7, program, at(150))["completed"] == 1  # type: ignore[index]


def test_republish_or_catalog_change_that_moves_the_schedule_reaches_program_progress() -> None:
    store = _graduate()
    earlier = fold([_waiting(time=at(10), fields={"certificate_available_date": at(5).isoformat()})], 1, store)
    assert _progress(earlier) == [{"completed": 1, "in_progress": 0, "not_started": 0, "all_unenrolled": False}]
    assert (
        fold(
            [_waiting(time=at(11), fields={"certificate_available_date": at(5).isoformat()}, display_name="Renamed")],
            1,
            store,
        )
        == []
    )  # same schedule: nothing
    # Newer catalog info makes the course self-paced: its certificates no longer wait at all.
    back = fold([_waiting(time=at(12))], 1, store)  # back to a future date
    assert _progress(back) == [{"completed": 0, "in_progress": 0, "not_started": 1, "all_unenrolled": False}]
    selfpaced = fold([catalog_info(COURSE, pacing="self", time=at(13))], 1, store)
    assert _progress(selfpaced) == [{"completed": 1, "in_progress": 0, "not_started": 0, "all_unenrolled": False}]
