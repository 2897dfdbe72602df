"""Official openedx-events payloads (enrollments, grades, certificates, roles) built from LMS rows, for the backfill.

The live LMS sends these itself (when the operator enables them in `EVENT_BUS_PRODUCER_CONFIG`);
the backfill sends the same types for the rows that were written before, with openedx-events' own
data classes so the Avro schemas are upstream's. Two upstream limits apply (contract reference
real-event-bus.md): a grade event needs `passed_timestamp` (and `course_edited_timestamp`), so a
grade that has not passed goes out as `COURSE_PASSING_STATUS_UPDATED` (is_passing false) instead;
a course access role needs a course key, so org-wide roles (empty course) cannot be sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from openedx_events.learning import data as oe
from openedx_events.learning import signals as oe_signals
from openedx_events.tooling import OpenEdxPublicSignal

Event = tuple[OpenEdxPublicSignal, dict[str, Any], datetime]


def user_data(user: Any) -> oe.UserData:
    profile = getattr(user, "profile", None)
    name = getattr(profile, "name", None) or user.get_full_name() or ""
    return oe.UserData(id=user.id, is_active=bool(user.is_active),
                       pii=oe.UserPersonalData(username=user.username, email=user.email or "", name=name))


def course_data(course_key: Any, overviews: dict[Any, Any]) -> oe.CourseData:
    overview = overviews.get(course_key)
    return oe.CourseData(course_key=course_key, display_name=getattr(overview, "display_name", None) or str(course_key),
                         start=getattr(overview, "start", None), end=getattr(overview, "end", None))


def enrollment_event(row: Any, overviews: dict[Any, Any]) -> Event:
    """`COURSE_ENROLLMENT_CHANGED` (not CREATED: that arms a new learner's celebrations; a backfilled
    enrollment's celebrations come from its celebration row)."""
    enrollment = oe.CourseEnrollmentData(user=user_data(row.user), course=course_data(row.course_id, overviews),
                                         mode=row.mode, is_active=bool(row.is_active), creation_date=row.created)
    return oe_signals.COURSE_ENROLLMENT_CHANGED, {"enrollment": enrollment}, row.created


def grade_event(row: Any, user: Any, overviews: dict[Any, Any]) -> Event:
    course = course_data(row.course_id, overviews)
    if row.passed_timestamp is not None and row.course_edited_timestamp is not None:
        grade = oe.PersistentCourseGradeData(
            user_id=row.user_id, course=course, course_edited_timestamp=row.course_edited_timestamp,
            course_version=row.course_version or "", grading_policy_hash=row.grading_policy_hash or "",
            percent_grade=float(row.percent_grade), letter_grade=row.letter_grade or "",
            passed_timestamp=row.passed_timestamp)
        return oe_signals.PERSISTENT_GRADE_SUMMARY_CHANGED, {"grade": grade}, row.modified
    status = oe.CoursePassingStatusData(is_passing=False, course=course, user=user_data(user))
    return oe_signals.COURSE_PASSING_STATUS_UPDATED, {"course_passing_status": status}, row.modified


def certificate_event(row: Any, overviews: dict[Any, Any]) -> Event:
    certificate = oe.CertificateData(
        user=user_data(row.user), course=course_data(row.course_id, overviews), mode=row.mode or "",
        grade=row.grade or "", download_url=row.download_url or "", name=row.name or "",
        current_status=row.status, previous_status="")
    return oe_signals.CERTIFICATE_CHANGED, {"certificate": certificate}, row.modified_date


def role_event(row: Any, read_at: datetime) -> Event | None:
    if not row.course_id:  # org-wide role: no course key to send (see module docstring)
        return None
    role = oe.CourseAccessRoleData(user=user_data(row.user), org_key=row.org or row.course_id.org,
                                   course_key=row.course_id, role=row.role)
    return oe_signals.COURSE_ACCESS_ROLE_ADDED, {"course_access_role_data": role}, read_at
