"""The synthetic history generator: deterministic, always decodable, complete and plausible."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from events import REGISTRY, Event, decode, encode
from tools.demo import DEMO_COURSE, DEMO_USER_ID, demo_history
from tools.synthetic import count_events, generate, to_jsonl_line

MEDIUM = {"seed": 1, "learners": 100, "courses": 8, "programs": 3, "days": 45, "start": date(2026, 1, 5)}
SMALL = {"learners": 30, "courses": 5, "programs": 2, "days": 12, "start": date(2026, 3, 2)}


@pytest.fixture(scope="module")
def medium() -> list[Event[Any]]:
    return list(generate(**MEDIUM))


def _jsonl(**options: Any) -> bytes:
    return b"".join(to_jsonl_line(e) for e in generate(**options))


def _by_type(history: list[Event[Any]], suffix: str) -> list[Event[Any]]:
    return [e for e in history if e.type.endswith(suffix)]


def test_generate_same_seed_gives_same_bytes() -> None:
    assert _jsonl(seed=7, **SMALL) == _jsonl(seed=7, **SMALL)


def test_generate_other_seed_gives_other_bytes() -> None:
    assert _jsonl(seed=7, **SMALL) != _jsonl(seed=8, **SMALL)


def test_count_events_matches_generate() -> None:
    assert count_events(seed=3, **SMALL) == sum(1 for _ in generate(seed=3, **SMALL))


def test_generate_medium_history_decodes_without_error(medium: list[Event[Any]]) -> None:
    assert len(medium) > 15_000
    for event in medium:
        decoded = decode(*encode(event))
        assert (decoded.type, decoded.id, decoded.time, decoded.data) == (event.type, event.id, event.time, event.data)


def test_generate_medium_history_has_every_event_type(medium: list[Event[Any]]) -> None:
    assert {e.type for e in medium} == set(REGISTRY)


def test_generate_history_comes_in_time_order_with_unique_ids(medium: list[Event[Any]]) -> None:
    times = [e.time for e in medium]
    assert times == sorted(times)
    assert len({e.id for e in medium}) == len(medium)


def test_generate_reference_data_precedes_learner_activity(medium: list[Event[Any]]) -> None:
    first_learner_event = next(i for i, e in enumerate(medium) if e.type.startswith("org.openedx.learning.course.en"))
    head = {e.type for e in medium[:first_learner_event]}
    assert "ext.content.course.published.v1" in head
    assert "ext.catalog.program.changed.v1" in head


def test_generate_enrolment_precedes_completions(medium: list[Event[Any]]) -> None:
    enrolled: dict[tuple[int, str], datetime] = {}
    for e in _by_type(medium, "enrollment.created.v1"):
        enrolled.setdefault((e.data.enrollment.user.id, e.data.enrollment.course.course_key), e.time)
    completions = _by_type(medium, "completion.changed.v1")
    assert completions
    for e in completions:
        key = (e.data.completion.user_id, e.data.completion.course_key)
        assert key in enrolled and enrolled[key] < e.time


def test_generate_completions_mostly_follow_course_order(medium: list[Event[Any]]) -> None:
    order: dict[str, int] = {}  # block -> position in its course outline
    for e in _by_type(medium, "course.published.v1"):
        blocks = [b.block_key for ch in e.data.course.outline for s in ch.sequences for u in s.units for b in u.blocks]
        for i, block in enumerate(blocks):
            order.setdefault(block, i)
    last: dict[tuple[int, str], int] = {}
    forward = backward = 0
    for e in _by_type(medium, "completion.changed.v1"):
        c = e.data.completion
        if c.completion < 1.0:
            continue
        key, position = (c.user_id, c.course_key), order[c.block_key]
        if key in last:
            forward += position > last[key]
            backward += position <= last[key]
        last[key] = position
    assert forward > 0.85 * (forward + backward)


def test_generate_passing_status_agrees_with_latest_grade(medium: list[Event[Any]]) -> None:
    passing_grade = {e.data.course.course_key: e.data.course.lowest_passing_grade
                     for e in _by_type(medium, "course.published.v1")}
    percent: dict[tuple[int, str], float] = {}
    for e in medium:
        if e.type.endswith("persistent_grade_summary.changed.v1"):
            percent[(e.data.grade.user_id, e.data.grade.course.course_key)] = e.data.grade.percent_grade
        elif e.type.endswith("passing.status.updated.v1"):
            s = e.data.course_passing_status
            key = (s.user.id, s.course.course_key)
            assert s.is_passing == (percent[key] >= passing_grade[key[1]])


def test_generate_grades_prerequisites_and_entrance_exams(medium: list[Event[Any]]) -> None:
    prerequisites, exams = set(), set()
    for e in _by_type(medium, "course.published.v1"):
        course = e.data.course
        if course.entrance_exam:
            exams.add(course.entrance_exam.chapter_key)
        prerequisites |= {s.prerequisite.block_key for ch in course.outline for s in ch.sequences if s.prerequisite}
    graded = {e.data.subsection_grade.block_key for e in _by_type(medium, "subsection.grade.changed.v1")}
    assert graded & prerequisites
    assert graded & exams


def test_generate_preferences_use_real_time_zones(medium: list[Event[Any]]) -> None:
    prefs = [e.data.preference for e in _by_type(medium, "user.preference.changed.v1")]
    zones = [p.value for p in prefs if p.key == "time_zone"]
    assert zones and all(ZoneInfo(z) for z in zones)
    assert any(p.key.startswith("notes_visibility:course-v1:") for p in prefs)


def test_generate_program_certificates_follow_course_certificates(medium: list[Event[Any]]) -> None:
    certified: dict[int, set[str]] = defaultdict(set)
    programs: dict[str, set[str]] = {}
    for e in medium:
        if e.type == "ext.catalog.program.changed.v1":
            programs[e.data.program.uuid] = {r.key for c in e.data.program.courses for r in c.course_runs}
        elif e.type.startswith("org.openedx.learning.certificate.") and e.data.certificate.current_status == (
                "downloadable"):
            certified[e.data.certificate.user.id].add(e.data.certificate.course.course_key)
        elif e.type == "org.openedx.learning.program.certificate.awarded.v1":
            pc = e.data.program_certificate
            assert certified[pc.user.id] & programs[pc.program.uuid]


def test_generate_course_staff_roles_include_org_wide_ones(medium: list[Event[Any]]) -> None:
    roles = [e.data.course_access_role_data for e in _by_type(medium, "course_access_role.added.v1")]
    assert {r.role for r in roles} == {"staff", "instructor"}
    assert any(r.course_key == "" for r in roles)


# The demo history -----------------------------------------------------------------------------

NOW = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)  # a Wednesday


@pytest.fixture(scope="module")
def demo() -> list[Event[Any]]:
    return demo_history(NOW)


def _demo_user_events(history: list[Event[Any]], suffix: str) -> list[Any]:
    out = []
    for e in _by_type(history, suffix):
        payload = next(iter(e.data.model_dump().values()))
        uid = payload.get("user_id", (payload.get("user") or {}).get("id"))
        if uid == DEMO_USER_ID:
            out.append(e)
    return out


def test_demo_history_is_before_now_in_order_and_decodes(demo: list[Event[Any]]) -> None:
    assert 200 <= len(demo) <= 10_000
    assert all(e.time < NOW for e in demo)
    assert [e.time for e in demo] == sorted(e.time for e in demo)
    for event in demo:
        decode(*encode(event))


def test_demo_learner_is_enrolled_audit_with_completions_and_a_goal(demo: list[Event[Any]]) -> None:
    enrolments = [e.data.enrollment for e in _demo_user_events(demo, "enrollment.created.v1")]
    assert any(en.course.course_key == DEMO_COURSE and en.mode == "audit" and en.is_active for en in enrolments)
    completions = [e for e in _demo_user_events(demo, "completion.changed.v1")
                   if e.data.completion.course_key == DEMO_COURSE]
    assert len(completions) >= 5
    goals = [e.data.goal for e in _demo_user_events(demo, "goal.changed.v1")]
    assert any(g.course_key == DEMO_COURSE and g.days_per_week > 0 for g in goals)
    assert not _demo_user_events(demo, "celebration.acknowledged.v1")  # first_section stays armed


def test_demo_learner_visited_on_the_two_days_before_today(demo: list[Event[Any]]) -> None:
    zone = next(e.data.preference.value for e in _demo_user_events(demo, "preference.changed.v1")
                if e.data.preference.key == "time_zone")
    today = NOW.astimezone(ZoneInfo(zone)).date()
    days = {(today - e.data.visit.visited_at.astimezone(ZoneInfo(zone)).date()).days
            for e in _demo_user_events(demo, "courseware.visited.v1")}
    assert {1, 2} <= days
    assert 0 not in days and 3 not in days


def test_demo_course_is_in_a_program(demo: list[Event[Any]]) -> None:
    programs = [e.data.program for e in _by_type(demo, "program.changed.v1")]
    assert any(r.key == DEMO_COURSE for p in programs for c in p.courses for r in c.course_runs)


def test_demo_history_follows_now(demo: list[Event[Any]]) -> None:
    later = demo_history(NOW + timedelta(days=30))
    assert max(e.time for e in later) > NOW
