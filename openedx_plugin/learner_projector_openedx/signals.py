"""Our `ext.` event types as OpenEdxPublicSignals: one per type of EVENTS.md "Extension events".

openedx-events connects its event-bus handler to every type named in the LMS's
`EVENT_BUS_PRODUCER_CONFIG` when its app is ready, and raises for a type it does not know; this
module is imported by the plugin's apps.py at import time, before any app is ready, so our types
exist by then. `PRODUCER_DEFAULTS` holds each type's default topic (EVENTS.md "Topics") and
Kafka key field; settings/common.py offers them to the LMS and the operator's own
`EVENT_BUS_PRODUCER_CONFIG` overrides any of them.
"""

from __future__ import annotations

from openedx_events.tooling import OpenEdxPublicSignal

from learner_projector_openedx import data

BLOCK_COMPLETION_CHANGED = OpenEdxPublicSignal(
    event_type="ext.learning.block.completion.changed.v1", data={"completion": data.CompletionData})
SUBSECTION_GRADE_CHANGED = OpenEdxPublicSignal(
    event_type="ext.learning.subsection.grade.changed.v1", data={"subsection_grade": data.SubsectionGradeData})
COURSE_PUBLISHED = OpenEdxPublicSignal(
    event_type="ext.content.course.published.v1", data={"course": data.CoursePublishedData})
PROGRAM_CHANGED = OpenEdxPublicSignal(
    event_type="ext.catalog.program.changed.v1", data={"program": data.ProgramSnapshot})
PROGRAM_DELETED = OpenEdxPublicSignal(
    event_type="ext.catalog.program.deleted.v1", data={"program": data.ProgramRef})
ENTERPRISE_ENROLLMENT_LINKED = OpenEdxPublicSignal(
    event_type="ext.enterprise.course.enrollment.linked.v1",
    data={"enterprise_enrollment": data.EnterpriseEnrollmentData})
ENTERPRISE_ENROLLMENT_UNLINKED = OpenEdxPublicSignal(
    event_type="ext.enterprise.course.enrollment.unlinked.v1",
    data={"enterprise_enrollment": data.EnterpriseEnrollmentData})
COURSEWARE_VISITED = OpenEdxPublicSignal(
    event_type="ext.learning.courseware.visited.v1", data={"visit": data.VisitData})
CELEBRATION_ACKNOWLEDGED = OpenEdxPublicSignal(
    event_type="ext.learning.celebration.acknowledged.v1", data={"celebration": data.CelebrationData})
COURSE_GOAL_CHANGED = OpenEdxPublicSignal(
    event_type="ext.learning.course.goal.changed.v1", data={"goal": data.GoalData})
USER_PREFERENCE_CHANGED = OpenEdxPublicSignal(
    event_type="ext.learning.user.preference.changed.v1", data={"preference": data.PreferenceData})
BOOKMARK_CHANGED = OpenEdxPublicSignal(
    event_type="ext.learning.bookmark.changed.v1", data={"bookmark": data.BookmarkData})
SEQUENCE_POSITION_CHANGED = OpenEdxPublicSignal(
    event_type="ext.learning.sequence.position.changed.v1", data={"position": data.PositionData})
INTEGRITY_SIGNATURE_CREATED = OpenEdxPublicSignal(
    event_type="ext.learning.integrity.signature.created.v1", data={"signature": data.SignatureData})

EXT_SIGNALS: tuple[OpenEdxPublicSignal, ...] = (
    BLOCK_COMPLETION_CHANGED, SUBSECTION_GRADE_CHANGED, COURSE_PUBLISHED, PROGRAM_CHANGED, PROGRAM_DELETED,
    ENTERPRISE_ENROLLMENT_LINKED, ENTERPRISE_ENROLLMENT_UNLINKED, COURSEWARE_VISITED, CELEBRATION_ACKNOWLEDGED,
    COURSE_GOAL_CHANGED, USER_PREFERENCE_CHANGED, BOOKMARK_CHANGED, SEQUENCE_POSITION_CHANGED,
    INTEGRITY_SIGNATURE_CREATED,
)

# event type -> (default topic, event_key_field): EVENTS.md's topic table and its keys.
PRODUCER_DEFAULTS: dict[str, tuple[str, str]] = {
    BLOCK_COMPLETION_CHANGED.event_type: ("learning-completion", "completion.user_id"),
    SUBSECTION_GRADE_CHANGED.event_type: ("learning-course-grade-lifecycle", "subsection_grade.course_key"),
    COURSE_PUBLISHED.event_type: ("content-course-lifecycle", "course.course_key"),
    PROGRAM_CHANGED.event_type: ("catalog-program-lifecycle", "program.uuid"),
    PROGRAM_DELETED.event_type: ("catalog-program-lifecycle", "program.uuid"),
    ENTERPRISE_ENROLLMENT_LINKED.event_type: (
        "learning-course-enrollment-lifecycle", "enterprise_enrollment.course_key"),
    ENTERPRISE_ENROLLMENT_UNLINKED.event_type: (
        "learning-course-enrollment-lifecycle", "enterprise_enrollment.course_key"),
    COURSEWARE_VISITED.event_type: ("learning-learner-activity", "visit.user_id"),
    CELEBRATION_ACKNOWLEDGED.event_type: ("learning-learner-activity", "celebration.user_id"),
    COURSE_GOAL_CHANGED.event_type: ("learning-learner-activity", "goal.user_id"),
    USER_PREFERENCE_CHANGED.event_type: ("learning-learner-activity", "preference.user_id"),
    BOOKMARK_CHANGED.event_type: ("learning-learner-activity", "bookmark.user_id"),
    SEQUENCE_POSITION_CHANGED.event_type: ("learning-learner-activity", "position.user_id"),
    INTEGRITY_SIGNATURE_CREATED.event_type: ("learning-learner-activity", "signature.user_id"),
}
