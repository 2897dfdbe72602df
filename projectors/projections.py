"""Pure projection functions: one event in, the read-model operations it asks for out.

No projection needs the current state: every fact is stored as a last-writer-wins field (by the
event's `(ce_time, ce_id)`, or `(modified, ce_time, ce_id)` for completions), a snapshot, or a
time-window set member, so the result is the same whatever the order or repetition of events.

Derived values are resolved where it is cheapest (see readmodels/views):
- values that depend on the clock (deadlines, due dates, days, streaks) at read time, always;
- values that join learner facts with reference data (resume point -> outline, program counts ->
  catalog runs and seats, first_section -> course feature) also at read time, inside the API's one
  Redis round trip: a course republish or a program change then costs one write instead of a
  fan-out over every enrolled learner, and reads stay O(facts of one learner).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import orjson
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import UsageKey

from events import Event
from events.activity import (
    BookmarkChanged,
    CelebrationAcknowledged,
    CourseGoalChanged,
    CoursewareVisited,
    IdvAttemptApproved,
    IdvAttemptCreated,
    IdvAttemptDenied,
    IdvAttemptPending,
    IntegritySignatureCreated,
    SequencePositionChanged,
    UserPreferenceChanged,
)
from events.base import EventData, format_time, lww_version, to_micros
from events.catalog import ProgramChanged, ProgramDeleted
from events.certificates import (
    CertificateChanged,
    CertificateCreated,
    CertificateRevoked,
    ProgramCertificateAwarded,
    ProgramCertificateRevoked,
)
from events.common import UserData
from events.completion import BlockCompletionChanged
from events.content import (
    CourseAccessRoleAdded,
    CourseAccessRoleRemoved,
    CourseCatalogInfoChanged,
    CoursePublished,
)
from events.enrollment import (
    CourseEnrollmentChanged,
    CourseEnrollmentCreated,
    CourseUnenrollmentCompleted,
    EnterpriseEnrollmentLinked,
    EnterpriseEnrollmentUnlinked,
)
from events.grades import CoursePassingStatusUpdated, PersistentGradeSummaryChanged, SubsectionGradeChanged
from readmodels import fieldnames, keys
from readmodels.compact import completion_value, completion_versions, fact_version
from readmodels.documents import course_document, program_document, sequence_documents
from readmodels.ops import AddActivity, AddMember, Op, ReplaceSnapshot, SetBlockField, SetCompletion, SetField

Projection = Callable[[Event[Any]], list[Op]]


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _set(event: Event[Any], key: str, field: str, value: Any) -> SetField:
    """A learner fact: compact version (readmodels/compact.fact_version: ce_id cut to 13 characters)."""
    return SetField(key, field, fact_version(event.micros, event.id), _json(value))


@lru_cache(maxsize=4096)
def _course_of(usage_key: str) -> str | None:
    """The course of a usage key as the API derives it from the path (opaque keys); None when it
    has none that prints (an `i4x://` key, whose run is unknown)."""
    try:
        return str(UsageKey.from_string(usage_key).course_key)
    except (InvalidKeyError, ValueError, TypeError):
        return None


def _block_fact(event: Event[Any], user_id: int, tag: str, usage_key: str, value: Any) -> SetField | SetBlockField:
    """A position or bookmark, kept beside the completion records of the block's course (one
    dictionary index instead of the usage key in the learner hash); in the learner hash, as
    `f_position` / `f_bookmark`, when the key has no course (the sequence read script returns both)."""
    ck = _course_of(usage_key)
    if ck is None:
        field = fieldnames.f_position(usage_key) if tag == keys.POSITION_TAG else fieldnames.f_bookmark(usage_key)
        return _set(event, keys.user(user_id), field, value)
    return SetBlockField(keys.completions(user_id, ck), keys.block_ids(ck), tag, keys.completion_field(ck, usage_key),
                         fact_version(event.micros, event.id), _json(value))


def _learner_of(user_id: int, course_key: str) -> AddMember:
    """The learner has facts in the course: the index change records of a course republish or a
    program change fan out over (projectors/change_records/)."""
    return AddMember(keys.course_learners(course_key), str(user_id))


def _identity(event: Event[Any], user: UserData) -> list[Op]:
    """Every event that carries a UserData teaches us the username <-> id mapping."""
    name = user.pii.username
    if not name:
        return []
    return [
        SetField(keys.USERNAMES, name, fact_version(event.micros, event.id), str(user.id)),
        _set(event, keys.user(user.id), fieldnames.F_USERNAME, name),
    ]


def _activity(user_id: int, kind: str, course_key: str, at_micros: int) -> AddActivity:
    bucket = at_micros // keys.ACTIVITY_BUCKET_US
    return AddActivity(
        keys.activity(user_id), keys.activity_member(kind, course_key, bucket), bucket, keys.ACTIVITY_WINDOW_BUCKETS,
        keys.user(user_id), course_key,
    )


# Enrollments ------------------------------------------------------------------------------------


def on_enrollment_created(event: Event[CourseEnrollmentCreated]) -> list[Op]:
    ops = on_enrollment_changed(event)  # type: ignore[arg-type]
    course_key = event.data.enrollment.course.course_key
    user_key = keys.user(event.data.enrollment.user.id)
    # Armed at the enrollment's time; whether the course has celebrations on is applied at read time.
    ops.append(_set(event, user_key, fieldnames.f_celebration("first_section", course_key), True))
    ops.append(_set(event, user_key, fieldnames.f_celebration("weekly_goal", course_key), True))
    return ops


def on_enrollment_changed(event: Event[CourseEnrollmentChanged]) -> list[Op]:
    e = event.data.enrollment
    is_active = e.is_active and not isinstance(event.data, CourseUnenrollmentCompleted)
    value = {"mode": e.mode, "is_active": is_active, "created": format_time(e.creation_date)}
    return [_set(event, keys.user(e.user.id), fieldnames.f_enrollment(e.course.course_key), value),
            _learner_of(e.user.id, e.course.course_key), *_identity(event, e.user)]


def on_enterprise_link(event: Event[EnterpriseEnrollmentLinked]) -> list[Op]:
    d = event.data.enterprise_enrollment
    linked = not isinstance(event.data, EnterpriseEnrollmentUnlinked)
    field = fieldnames.f_enterprise(d.enterprise_customer_uuid.lower(), d.course_key)
    return [_set(event, keys.user(d.user_id), field, linked)]


# Grades -----------------------------------------------------------------------------------------


def on_grade_summary_changed(event: Event[PersistentGradeSummaryChanged]) -> list[Op]:
    g = event.data.grade
    return [_set(event, keys.user(g.user_id), fieldnames.f_grade(g.course.course_key), g.percent_grade),
            _learner_of(g.user_id, g.course.course_key)]


def on_passing_status_updated(event: Event[CoursePassingStatusUpdated]) -> list[Op]:
    s = event.data.course_passing_status
    op = _set(event, keys.user(s.user.id), fieldnames.f_passing(s.course.course_key), s.is_passing)
    return [op, _learner_of(s.user.id, s.course.course_key), *_identity(event, s.user)]


def on_subsection_grade_changed(event: Event[SubsectionGradeChanged]) -> list[Op]:
    s = event.data.subsection_grade
    return [_set(event, keys.user(s.user_id), fieldnames.f_subsection_grade(s.block_key), s.percent)]


# Certificates -----------------------------------------------------------------------------------


def on_certificate_changed(event: Event[CertificateChanged]) -> list[Op]:
    c = event.data.certificate
    status = "unavailable" if isinstance(event.data, CertificateRevoked) else c.current_status
    value = {"status": status, "mode": c.mode, "download_url": c.download_url or None, "grade": c.grade}
    op = _set(event, keys.user(c.user.id), fieldnames.f_certificate(c.course.course_key), value)
    return [op, _learner_of(c.user.id, c.course.course_key), *_identity(event, c.user)]


def on_program_certificate(event: Event[ProgramCertificateAwarded]) -> list[Op]:
    c = event.data.program_certificate
    awarded = not isinstance(event.data, ProgramCertificateRevoked)
    value = {
        "awarded": awarded,
        "uuid": c.uuid,
        "url": c.url,
        "title": c.program.title,
        "program_type": c.program.program_type,
        "certificate_available_date": format_time(c.certificate_available_date)
        if c.certificate_available_date
        else None,
    }
    op = _set(event, keys.user(c.user.id), fieldnames.f_program_certificate(c.program.uuid.lower()), value)
    return [op, *_identity(event, c.user)]


# Course content ---------------------------------------------------------------------------------


def on_course_published(event: Event[CoursePublished]) -> list[Op]:
    course = event.data.course
    parts: list[tuple[str, str, str]] = []
    seq_key = keys.course_sequences(course.course_key)
    blk_key = keys.course_blocks(course.course_key)
    for doc in sequence_documents(course):
        parts.append((seq_key, doc["block_key"], _json(doc)))
    for chapter in course.outline:
        parts.append((blk_key, chapter.block_key, "chapter\t\t"))
        for seq in chapter.sequences:
            parts.append((blk_key, seq.block_key, f"sequential\t\t{seq.block_key}"))
            for unit in seq.units:
                parts.append((blk_key, unit.block_key, f"vertical\t{unit.block_key}\t{seq.block_key}"))
                for block in unit.blocks:
                    parts.append((blk_key, block.block_key, f"{block.block_type}\t{unit.block_key}\t{seq.block_key}"))
    # The document leaves the outline out, so the version carries a digest of the parts: two
    # different snapshots under one (ce_time, ce_id) are then still ordered the same way everywhere.
    digest = hashlib.sha1(_json(parts).encode(), usedforsecurity=False).hexdigest()[:16]
    version = lww_version(event.micros, event.id, digest)
    return [ReplaceSnapshot(keys.course(course.course_key), version, _json(course_document(course)), tuple(parts),
                            whole=(seq_key, blk_key))]


def on_catalog_info_changed(event: Event[CourseCatalogInfoChanged]) -> list[Op]:
    c = event.data.catalog_info
    value = {
        "name": c.name,
        "start": format_time(c.schedule_data.start),
        "end": format_time(c.schedule_data.end) if c.schedule_data.end else None,
        "enrollment_start": format_time(c.schedule_data.enrollment_start) if c.schedule_data.enrollment_start else None,
        "enrollment_end": format_time(c.schedule_data.enrollment_end) if c.schedule_data.enrollment_end else None,
        "pacing": c.schedule_data.pacing,
        "invitation_only": c.invitation_only,
        "hidden": c.hidden,
    }
    # Reference data: the exact version (compared with the course snapshot's, views.common).
    return [SetField(keys.course_catalog(c.course_key), fieldnames.CATALOG_INFO_FIELD, event.version, _json(value))]


def on_course_access_role(event: Event[CourseAccessRoleAdded]) -> list[Op]:
    r = event.data.course_access_role_data
    granted = not isinstance(event.data, CourseAccessRoleRemoved)
    op = _set(event, keys.user(r.user.id), fieldnames.f_role(r.org_key, r.course_key, r.role), granted)
    return [op, *_identity(event, r.user)]


# Catalog programs -------------------------------------------------------------------------------


def on_program_changed(event: Event[ProgramChanged]) -> list[Op]:
    program = event.data.program
    doc = _json(program_document(program))
    runs = sorted({run.key for course in program.courses for run in course.course_runs})
    parts = tuple((keys.run_programs(run), program.uuid, doc) for run in runs)
    return [ReplaceSnapshot(keys.program(program.uuid), event.version, doc, parts)]


def on_program_deleted(event: Event[ProgramDeleted]) -> list[Op]:
    return [ReplaceSnapshot(keys.program(event.data.program.uuid), event.version, "null", ())]


# Completion and activity ------------------------------------------------------------------------


def on_block_completion_changed(event: Event[BlockCompletionChanged]) -> list[Op]:
    c = event.data.completion
    user_id, course_key = c.user_id, c.course_key
    modified = to_micros(c.modified)
    # Per block, and for the resume point, the newest record by (modified, ce_time, ce_id[:13])
    # wins (readmodels/compact.py: ce_time is written as its difference from modified).
    record_version, resume = completion_versions(modified, event.micros, event.id)
    field = keys.completion_field(course_key, c.block_key)
    # The per-block record in its compact form (readmodels/compact.py: the same order, with the
    # ce_id tie-break cut to its first 13 characters); tens per learner-course, so bytes count.
    record = SetCompletion(keys.completions(user_id, course_key), keys.block_ids(course_key), field,
                           record_version, completion_value(c.completion))
    return [
        record,
        SetField(keys.user(user_id), fieldnames.f_resume(course_key), resume, _json(c.block_key)),
        _activity(user_id, "c", course_key, modified),
        _learner_of(user_id, course_key),
    ]


def on_courseware_visited(event: Event[CoursewareVisited]) -> list[Op]:
    v = event.data.visit
    return [_activity(v.user_id, "v", v.course_key, to_micros(v.visited_at))]


def on_celebration_acknowledged(event: Event[CelebrationAcknowledged]) -> list[Op]:
    c = event.data.celebration
    ops: list[Op] = []
    for flag in ("first_section", "weekly_goal"):
        value = getattr(c, flag)
        if value is not None:
            ops.append(_set(event, keys.user(c.user_id), fieldnames.f_celebration(flag, c.course_key), value))
    return ops


def on_goal_changed(event: Event[CourseGoalChanged]) -> list[Op]:
    g = event.data.goal
    # days_per_week 0 clears the goal: stored as null (a versioned tombstone, so an older goal
    # arriving later cannot bring it back), which readers see exactly like "no goal".
    value = (
        {"days_per_week": g.days_per_week, "subscribed_to_reminders": g.subscribed_to_reminders}
        if g.days_per_week > 0
        else None
    )
    return [_set(event, keys.user(g.user_id), fieldnames.f_goal(g.course_key), value)]


def on_preference_changed(event: Event[UserPreferenceChanged]) -> list[Op]:
    p = event.data.preference
    return [_set(event, keys.user(p.user_id), fieldnames.f_preference(p.key), p.value)]


def on_bookmark_changed(event: Event[BookmarkChanged]) -> list[Op]:
    b = event.data.bookmark
    return [_block_fact(event, b.user_id, keys.BOOKMARK_TAG, b.usage_key, b.bookmarked)]


def on_sequence_position_changed(event: Event[SequencePositionChanged]) -> list[Op]:
    p = event.data.position
    return [_block_fact(event, p.user_id, keys.POSITION_TAG, p.sequence_key, p.position)]


def on_integrity_signature_created(event: Event[IntegritySignatureCreated]) -> list[Op]:
    s = event.data.signature
    return [_set(event, keys.user(s.user_id), fieldnames.f_signature(s.course_key), True)]


_IDV_STATUS: dict[type[EventData], str] = {
    IdvAttemptCreated: "pending",
    IdvAttemptPending: "pending",
    IdvAttemptApproved: "approved",
    IdvAttemptDenied: "denied",
}


def on_idv_attempt(event: Event[IdvAttemptCreated]) -> list[Op]:
    a = event.data.idv_attempt
    value = {
        "status": _IDV_STATUS[type(event.data)],
        "expiration_date": format_time(a.expiration_date) if a.expiration_date else None,
    }
    return [_set(event, keys.user(a.user.id), fieldnames.F_IDV, value), *_identity(event, a.user)]


# The table: one projection per event type. ----------------------------------------------------

PROJECTIONS: dict[type[EventData], Projection] = {
    CourseEnrollmentCreated: on_enrollment_created,
    CourseEnrollmentChanged: on_enrollment_changed,
    CourseUnenrollmentCompleted: on_enrollment_changed,
    EnterpriseEnrollmentLinked: on_enterprise_link,
    EnterpriseEnrollmentUnlinked: on_enterprise_link,
    PersistentGradeSummaryChanged: on_grade_summary_changed,
    CoursePassingStatusUpdated: on_passing_status_updated,
    SubsectionGradeChanged: on_subsection_grade_changed,
    CertificateCreated: on_certificate_changed,
    CertificateChanged: on_certificate_changed,
    CertificateRevoked: on_certificate_changed,
    ProgramCertificateAwarded: on_program_certificate,
    ProgramCertificateRevoked: on_program_certificate,
    CoursePublished: on_course_published,
    CourseCatalogInfoChanged: on_catalog_info_changed,
    CourseAccessRoleAdded: on_course_access_role,
    CourseAccessRoleRemoved: on_course_access_role,
    ProgramChanged: on_program_changed,
    ProgramDeleted: on_program_deleted,
    BlockCompletionChanged: on_block_completion_changed,
    CoursewareVisited: on_courseware_visited,
    CelebrationAcknowledged: on_celebration_acknowledged,
    CourseGoalChanged: on_goal_changed,
    UserPreferenceChanged: on_preference_changed,
    BookmarkChanged: on_bookmark_changed,
    SequencePositionChanged: on_sequence_position_changed,
    IntegritySignatureCreated: on_integrity_signature_created,
    IdvAttemptCreated: on_idv_attempt,
    IdvAttemptPending: on_idv_attempt,
    IdvAttemptApproved: on_idv_attempt,
    IdvAttemptDenied: on_idv_attempt,
}


def project(event: Event[Any]) -> list[Op]:
    return PROJECTIONS[type(event.data)](event)
