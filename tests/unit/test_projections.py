"""Each projection on small hand-written histories: what it stores, and that the newest fact wins
whatever the arrival order."""

from __future__ import annotations

from itertools import permutations
from typing import Any

import orjson

from events import Event
from events.base import lww_version
from projectors.oracle import fold
from projectors.projections import PROJECTIONS, project
from readmodels import fieldnames, keys
from readmodels.compact import completion_version, parse_version, resume_version, split_completion
from readmodels.memory import MemoryStore
from readmodels.ops import AddActivity, ReplaceSnapshot, SetCompletion, SetField
from tests.builders import (
    COURSE,
    ENTERPRISE,
    PROGRAM,
    access_role,
    at,
    block,
    bookmark,
    catalog_info,
    celebration_ack,
    certificate,
    completion,
    course_published,
    enrollment,
    enterprise_link,
    goal,
    grade_changed,
    idv,
    passing_status,
    position,
    preference,
    program_certificate,
    program_changed,
    program_deleted,
    retimed,
    signature,
    subsection_grade,
    visit,
)

U = keys.user(7)
UC = keys.completions(7, COURSE)
SEQ = block(COURSE, "sequential", "s1")
UNIT = block(COURSE, "vertical", "u1")
VIDEO = block(COURSE, "video", "v1")
OTHER_COURSE = "course-v1:edX+Other+2026"


def apply_in_order(*events: Event[Any]) -> MemoryStore:
    store = MemoryStore()
    for e in events:
        store.apply(project(e))
    return store


def value(store: MemoryStore, key: str, field: str) -> Any:
    raw = store.hgetall(key).get(field)
    return None if raw is None else orjson.loads(raw.partition("\t")[2])


def in_every_order(*events: Event[Any]) -> MemoryStore:
    """Apply the events in every order; all must give the same store, which is returned."""
    dumps = {orjson.dumps(apply_in_order(*p).dump()) for p in permutations(events)}
    assert len(dumps) == 1, "result depends on arrival order"
    store = apply_in_order(*events)
    assert store.dump() == fold(events).dump()
    return store


# Coverage ---------------------------------------------------------------------------------------


def test_every_registered_event_type_has_a_projection() -> None:
    from events import REGISTRY

    assert set(REGISTRY.values()) == set(PROJECTIONS)


# Enrollments ------------------------------------------------------------------------------------


def test_enrollment_created_stores_mode_activity_and_creation_date() -> None:
    store = in_every_order(enrollment("created", 7, mode="verified", created=at(-60)))
    assert value(store, U, fieldnames.f_enrollment(COURSE)) == {
        "mode": "verified", "is_active": True, "created": "2026-03-01T11:00:00Z"}


def test_enrollment_created_arms_both_celebrations() -> None:
    store = in_every_order(enrollment("created", 7))
    assert value(store, U, fieldnames.f_celebration("first_section", COURSE)) is True
    assert value(store, U, fieldnames.f_celebration("weekly_goal", COURSE)) is True


def test_enrollment_created_arms_celebrations_at_its_own_ce_time() -> None:
    op = next(o for o in project(enrollment("created", 7, time=at(5))) if "cel:" in getattr(o, "field", ""))
    assert isinstance(op, SetField)
    assert op.version.startswith(lww_version(int(at(5).timestamp()) * 1_000_000))


def test_enrollment_created_teaches_the_username() -> None:
    store = in_every_order(enrollment("created", 7))
    assert value(store, keys.USERNAMES, "learner7") == 7
    assert value(store, U, fieldnames.F_USERNAME) == "learner7"


def test_enrollment_changed_does_not_rearm_celebrations() -> None:
    ops = project(enrollment("changed", 7, mode="verified"))
    assert not any("cel:" in getattr(o, "field", "") for o in ops)


def test_unenrollment_makes_the_enrollment_inactive_and_keeps_the_mode() -> None:
    store = in_every_order(enrollment("created", 7, mode="verified", time=at(0)),
                           enrollment("unenrolled", 7, mode="verified", is_active=True, time=at(10)))
    assert value(store, U, fieldnames.f_enrollment(COURSE))["is_active"] is False
    assert value(store, U, fieldnames.f_enrollment(COURSE))["mode"] == "verified"


def test_reenrollment_after_unenrollment_is_active_again() -> None:
    store = in_every_order(enrollment("created", 7, time=at(0)), enrollment("unenrolled", 7, time=at(10)),
                           enrollment("changed", 7, mode="verified", time=at(20)))
    assert value(store, U, fieldnames.f_enrollment(COURSE)) == {
        "mode": "verified", "is_active": True, "created": "2026-03-01T12:00:00Z"}


def test_enrollment_state_with_equal_times_is_decided_by_the_larger_event_id() -> None:
    a = retimed(enrollment("changed", 7, mode="audit"), time=at(1), id="00000000-0000-4000-8000-00000000000a")
    b = retimed(enrollment("changed", 7, mode="verified"), time=at(1), id="00000000-0000-4000-8000-00000000000b")
    assert value(in_every_order(a, b), U, fieldnames.f_enrollment(COURSE))["mode"] == "verified"


def test_enterprise_link_and_unlink_keep_the_newest() -> None:
    store = in_every_order(enterprise_link("linked", 7, time=at(0)), enterprise_link("unlinked", 7, time=at(1)))
    assert value(store, U, fieldnames.f_enterprise(ENTERPRISE, COURSE)) is False


def test_enterprise_uuid_is_stored_lowercase() -> None:
    store = in_every_order(enterprise_link("linked", 7, enterprise=ENTERPRISE.upper()))
    assert value(store, U, fieldnames.f_enterprise(ENTERPRISE, COURSE)) is True


# Grades -----------------------------------------------------------------------------------------


def test_grade_summary_keeps_the_newest_percent_by_ce_time() -> None:
    store = in_every_order(grade_changed(7, 0.9, time=at(0)), grade_changed(7, 0.4, time=at(1)))
    assert value(store, U, fieldnames.f_grade(COURSE)) == 0.4


def test_passing_status_is_stored_separately_from_the_percent() -> None:
    store = in_every_order(passing_status(7, True, time=at(0)), grade_changed(7, 0.2, time=at(-5)))
    assert value(store, U, fieldnames.f_passing(COURSE)) is True
    assert value(store, U, fieldnames.f_grade(COURSE)) == 0.2


def test_subsection_grade_is_stored_per_block() -> None:
    store = in_every_order(subsection_grade(7, SEQ, 0.5, time=at(0)), subsection_grade(7, SEQ, 0.8, time=at(1)))
    assert value(store, U, fieldnames.f_subsection_grade(SEQ)) == 0.8


# Certificates -----------------------------------------------------------------------------------


def test_certificate_stores_status_mode_and_url() -> None:
    store = in_every_order(certificate("created", 7, "downloadable", mode="verified"))
    assert value(store, U, fieldnames.f_certificate(COURSE)) == {
        "status": "downloadable", "mode": "verified", "download_url": "https://lms/cert/1", "grade": "0.9"}


def test_certificate_revoked_means_status_unavailable_whatever_the_payload_says() -> None:
    store = in_every_order(certificate("created", 7, "downloadable", time=at(0)),
                           certificate("revoked", 7, "downloadable", time=at(1)))
    assert value(store, U, fieldnames.f_certificate(COURSE))["status"] == "unavailable"


def test_certificate_changed_after_a_revocation_wins_when_newer() -> None:
    store = in_every_order(certificate("revoked", 7, "downloadable", time=at(0)),
                           certificate("changed", 7, "generating", time=at(1)))
    assert value(store, U, fieldnames.f_certificate(COURSE))["status"] == "generating"


def test_certificate_without_download_url_stores_null() -> None:
    store = in_every_order(certificate("created", 7, "generating", download_url=""))
    assert value(store, U, fieldnames.f_certificate(COURSE))["download_url"] is None


def test_program_certificate_revoked_after_award_is_not_awarded() -> None:
    store = in_every_order(program_certificate("awarded", 7, time=at(0)), program_certificate("revoked", 7, time=at(1)))
    stored = value(store, U, fieldnames.f_program_certificate(PROGRAM))
    assert stored["awarded"] is False
    assert stored["title"] == "Program"


# Course content ---------------------------------------------------------------------------------


def test_course_published_stores_the_document_sequences_and_block_index() -> None:
    store = in_every_order(course_published())
    doc = orjson.loads(store.get(keys.course(COURSE)).partition("\t")[2])
    assert doc["course_key"] == COURSE and "outline" not in doc and doc["sequence_count"] == 1
    seq = orjson.loads(store.hgetall(keys.course_sequences(COURSE))[SEQ])
    assert [u["block_key"] for u in seq["units"]] == [UNIT, block(COURSE, "vertical", "u2")]
    blocks = store.hgetall(keys.course_blocks(COURSE))
    assert blocks[VIDEO] == f"video\t{UNIT}\t{SEQ}"
    assert blocks[UNIT] == f"vertical\t{UNIT}\t{SEQ}"
    assert blocks[SEQ] == f"sequential\t\t{SEQ}"


def test_course_published_newer_snapshot_replaces_the_outline_entirely() -> None:
    small_outline = [{"block_key": block(COURSE, "chapter", "ch9"), "display_name": "Only", "sequences": []}]
    store = in_every_order(course_published(time=at(0)), course_published(time=at(1), outline=small_outline))
    assert store.hgetall(keys.course_sequences(COURSE)) == {}
    assert list(store.hgetall(keys.course_blocks(COURSE))) == [block(COURSE, "chapter", "ch9")]


def test_course_published_older_snapshot_arriving_late_changes_nothing() -> None:
    newer = course_published(time=at(1), display_name="New name")
    store = in_every_order(course_published(time=at(0)), newer)
    assert orjson.loads(store.get(keys.course(COURSE)).partition("\t")[2])["display_name"] == "New name"


def test_course_snapshots_sharing_time_and_id_are_still_ordered_deterministically() -> None:
    a = course_published(time=at(0))
    b = retimed(course_published(outline=[]), time=at(0), id=a.id)
    in_every_order(a, b)


def test_catalog_info_is_stored_as_one_lww_field() -> None:
    store = in_every_order(catalog_info(name="Old", time=at(0)), catalog_info(name="New", time=at(1)))
    info = value(store, keys.course_catalog(COURSE), fieldnames.CATALOG_INFO_FIELD)
    assert info["name"] == "New" and info["pacing"] == "self" and info["start"] == "2026-03-01T12:00:00Z"


def test_course_access_role_removed_after_added_is_not_granted() -> None:
    store = in_every_order(access_role("added", 7, time=at(0)), access_role("removed", 7, time=at(1)))
    assert value(store, U, fieldnames.f_role("edX", COURSE, "staff")) is False


def test_org_wide_course_access_role_has_an_empty_course_key() -> None:
    store = in_every_order(access_role("added", 7, course_key="", role="instructor"))
    assert value(store, U, fieldnames.f_role("edX", "", "instructor")) is True


# Programs ---------------------------------------------------------------------------------------


def test_program_changed_copies_the_program_to_each_of_its_runs() -> None:
    store = in_every_order(program_changed(runs=(COURSE, OTHER_COURSE)))
    for run in (COURSE, OTHER_COURSE):
        assert orjson.loads(store.hgetall(keys.run_programs(run))[PROGRAM])["uuid"] == PROGRAM


def test_program_changed_dropping_a_run_removes_it_from_that_run() -> None:
    store = in_every_order(program_changed(runs=(COURSE, OTHER_COURSE), time=at(0)),
                           program_changed(runs=(COURSE,), time=at(1)))
    assert keys.run_programs(OTHER_COURSE) not in store.dump()
    assert PROGRAM in store.hgetall(keys.run_programs(COURSE))


def test_program_deleted_leaves_a_tombstone_and_no_run_copies() -> None:
    store = in_every_order(program_changed(time=at(0)), program_deleted(time=at(1)))
    assert store.get(keys.program(PROGRAM)).endswith("\tnull")
    assert keys.run_programs(COURSE) not in store.dump()


def test_program_changed_older_than_its_deletion_stays_deleted() -> None:
    store = in_every_order(program_deleted(time=at(5)), program_changed(time=at(0)))
    assert store.get(keys.program(PROGRAM)).endswith("\tnull")


# Completion and activity ------------------------------------------------------------------------


def test_completion_is_stored_per_block_with_the_newest_modified_winning() -> None:
    newest = completion(7, VIDEO, 0.5, modified=at(10), time=at(0))
    older = completion(7, VIDEO, 1.0, modified=at(5), time=at(20))  # later event, older record
    store = in_every_order(newest, older)
    raw = store.hgetall(keys.completions(7, COURSE))[keys.completion_field(COURSE, VIDEO)]
    assert split_completion(raw)[1] == 0.5
    assert value(store, U, fieldnames.f_resume(COURSE)) == VIDEO


def test_completion_field_is_the_block_relative_to_its_course() -> None:
    op = project(completion(7, VIDEO))[0]
    assert isinstance(op, SetCompletion)
    assert op.block_ids == keys.block_ids(COURSE)
    assert not op.field.startswith("block-v1:") and len(op.field) < len(VIDEO)
    assert keys.completion_block(COURSE, op.field) == VIDEO


def test_completion_version_is_modified_then_ce_time_then_ce_id() -> None:
    e = completion(7, VIDEO, modified=at(3), time=at(9), id="00000000-0000-4000-8000-000000000001")
    record, resume = project(e)[:2]
    assert isinstance(record, SetCompletion) and isinstance(resume, SetField)
    micros = lambda t: int(t.timestamp()) * 1_000_000  # noqa: E731
    # both in their compact forms (same order, ce_id cut to 13 characters: tests/unit/test_compact.py)
    assert resume.version == resume_version(micros(at(3)), micros(at(9)), e.id)
    assert resume.version.startswith(lww_version(micros(at(3)), micros(at(9)) - micros(at(3))))
    assert record.version == completion_version(micros(at(3)), micros(at(9)), e.id)
    assert parse_version(record.version)[:2] == (micros(at(3)), micros(at(9)))


def test_resume_point_is_the_block_of_the_newest_completion_record_in_the_course() -> None:
    store = in_every_order(completion(7, VIDEO, 0.2, modified=at(10)),
                           completion(7, block(COURSE, "html", "h1"), 1.0, modified=at(2)),
                           completion(7, block(OTHER_COURSE, "html", "x"), 1.0, modified=at(30),
                                      course_key=OTHER_COURSE))
    assert value(store, U, fieldnames.f_resume(COURSE)) == VIDEO
    assert value(store, U, fieldnames.f_resume(OTHER_COURSE)) == block(OTHER_COURSE, "html", "x")


def test_resume_ties_on_modified_are_broken_by_ce_time() -> None:
    a = completion(7, VIDEO, modified=at(1), time=at(5))
    b = completion(7, UNIT, modified=at(1), time=at(6))
    assert value(in_every_order(a, b), U, fieldnames.f_resume(COURSE)) == UNIT


def test_completion_and_visit_are_recorded_as_activity_buckets() -> None:
    store = in_every_order(completion(7, VIDEO, modified=at(7)), visit(7, at(20)))
    bucket = lambda t: int(t.timestamp() * 1_000_000) // keys.ACTIVITY_BUCKET_US  # noqa: E731
    assert store.dump()[keys.activity(7)] == {
        keys.activity_member("c", COURSE, bucket(at(7))): bucket(at(7)),
        keys.activity_member("v", COURSE, bucket(at(20))): bucket(at(20)),
    }


def test_activity_keeps_only_the_fifteen_days_before_the_newest() -> None:
    day = 24 * 60
    store = in_every_order(visit(7, at(0)), visit(7, at(10 * day)), visit(7, at(16 * day)))
    assert len(store.dump()[keys.activity(7)]) == 2


def test_activity_window_does_not_depend_on_arrival_order_of_old_visits() -> None:
    day = 24 * 60
    in_every_order(visit(7, at(0)), visit(7, at(15 * day)), visit(7, at(31 * day)), visit(7, at(14 * day)))


def test_visits_in_one_quarter_hour_share_a_bucket() -> None:
    store = in_every_order(visit(7, at(0)), visit(7, at(14)), visit(7, at(16)))
    assert len(store.dump()[keys.activity(7)]) == 2


def test_visit_projection_is_one_activity_op() -> None:
    ops = project(visit(7, at(0)))
    assert len(ops) == 1 and isinstance(ops[0], AddActivity) and ops[0].window == keys.ACTIVITY_WINDOW_BUCKETS
    assert ops[0].window * keys.ACTIVITY_BUCKET_US == keys.ACTIVITY_WINDOW_US


# Celebrations -----------------------------------------------------------------------------------


def test_acknowledgement_sets_only_the_keys_given() -> None:
    store = in_every_order(enrollment("created", 7, time=at(0)), celebration_ack(7, first_section=False, time=at(1)))
    assert value(store, U, fieldnames.f_celebration("first_section", COURSE)) is False
    assert value(store, U, fieldnames.f_celebration("weekly_goal", COURSE)) is True


def test_acknowledgement_with_true_rearms() -> None:
    store = in_every_order(celebration_ack(7, weekly_goal=False, time=at(1)),
                           celebration_ack(7, weekly_goal=True, time=at(2)))
    assert value(store, U, fieldnames.f_celebration("weekly_goal", COURSE)) is True


def test_acknowledgement_older_than_the_enrollment_leaves_celebrations_armed() -> None:
    store = in_every_order(celebration_ack(7, first_section=False, weekly_goal=False, time=at(-1)),
                           enrollment("created", 7, time=at(0)))
    assert value(store, U, fieldnames.f_celebration("first_section", COURSE)) is True


def test_empty_acknowledgement_writes_nothing() -> None:
    assert project(celebration_ack(7)) == []


# Goals, preferences, bookmarks, positions, signatures -------------------------------------------


def test_goal_is_stored_with_days_and_reminders() -> None:
    store = in_every_order(goal(7, 3, True))
    assert value(store, U, fieldnames.f_goal(COURSE)) == {"days_per_week": 3, "subscribed_to_reminders": True}


def test_goal_with_zero_days_per_week_clears_the_goal() -> None:
    store = in_every_order(goal(7, 3, time=at(0)), goal(7, 0, time=at(1)))
    raw = store.hgetall(U)[fieldnames.f_goal(COURSE)]
    assert raw.endswith("\tnull")
    assert value(store, U, fieldnames.f_goal(COURSE)) is None


def test_goal_set_after_clearing_is_back() -> None:
    store = in_every_order(goal(7, 0, time=at(0)), goal(7, 5, time=at(1)))
    assert value(store, U, fieldnames.f_goal(COURSE))["days_per_week"] == 5


def test_preference_keeps_the_newest_value_including_null() -> None:
    store = in_every_order(preference(7, "time_zone", "Europe/Paris", time=at(0)),
                           preference(7, "time_zone", None, time=at(1)),
                           preference(7, f"notes_visibility:{COURSE}", "false", time=at(0)))
    assert store.hgetall(U)[fieldnames.f_preference("time_zone")].endswith("\tnull")
    assert value(store, U, fieldnames.f_preference(f"notes_visibility:{COURSE}")) == "false"


def test_bookmark_removed_after_added_is_false() -> None:
    store = in_every_order(bookmark(7, UNIT, True, time=at(0)), bookmark(7, UNIT, False, time=at(1)))
    assert value(store, UC, keys.block_fact_field(keys.BOOKMARK_TAG, keys.completion_field(COURSE, UNIT))) is False
    assert fieldnames.f_bookmark(UNIT) not in store.hgetall(U)  # beside the completions, not in the learner hash


def test_bookmark_and_position_of_a_key_without_a_course_stay_in_the_learner_hash() -> None:
    legacy = "i4x://edX/DemoX/vertical/u1"  # opaque keys know no run for it, so no course key
    store = in_every_order(bookmark(7, legacy, True, time=at(0)), position(7, legacy, 3, time=at(1)))
    assert value(store, U, fieldnames.f_bookmark(legacy)) is True
    assert value(store, U, fieldnames.f_position(legacy)) == 3


def test_sequence_position_keeps_the_newest() -> None:
    store = in_every_order(position(7, SEQ, 2, time=at(1)), position(7, SEQ, 1, time=at(0)))
    assert value(store, UC, keys.block_fact_field(keys.POSITION_TAG, keys.completion_field(COURSE, SEQ))) == 2


def test_integrity_signature_is_a_flag_per_course() -> None:
    store = in_every_order(signature(7), signature(7, time=at(3)))
    assert value(store, U, fieldnames.f_signature(COURSE)) is True


# Identity verification --------------------------------------------------------------------------


def test_idv_status_comes_from_the_event_type_not_the_payload() -> None:
    store = in_every_order(idv("approved", 7, status="submitted"))
    assert value(store, U, fieldnames.F_IDV) == {"status": "approved", "expiration_date": None}


def test_idv_created_and_pending_are_both_pending() -> None:
    for kind in ("created", "pending"):
        assert value(in_every_order(idv(kind, 7)), U, fieldnames.F_IDV)["status"] == "pending"


def test_idv_newest_attempt_wins_with_its_expiration_date() -> None:
    store = in_every_order(idv("denied", 7, time=at(0)), idv("approved", 7, expiration=at(60 * 24), time=at(1)))
    assert value(store, U, fieldnames.F_IDV) == {"status": "approved", "expiration_date": "2026-03-02T12:00:00Z"}


# Snapshot ops -----------------------------------------------------------------------------------


def test_program_snapshot_parts_index_lists_the_owned_fields() -> None:
    (op,) = project(program_changed(runs=(COURSE,)))
    assert isinstance(op, ReplaceSnapshot)
    assert orjson.loads(op.parts_index) == [[keys.run_programs(COURSE), PROGRAM]]


def test_duplicated_history_folds_to_the_same_models() -> None:
    history = [course_published(), enrollment("created", 7), completion(7, VIDEO), goal(7, 2), visit(7)]
    assert fold(history + history[::-1]).dump() == fold(history).dump()
