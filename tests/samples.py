"""One valid wire payload (`data` as JSON-ready dicts) per registered event type, for codec tests.

Every field is filled, optional ones included, so a round trip exercises the whole record.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.builders import COURSE, block, course_published, user

PROGRAM_UUID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
ENTERPRISE_UUID = "11111111-2222-4333-8444-555555555555"
WHEN = "2026-03-01T12:00:00.123456Z"

_COURSE = {"course_key": COURSE, "display_name": "Demo", "start": "2026-01-01T00:00:00Z", "end": None}
_USER = user(7)


def _enrollment() -> dict[str, Any]:
    return {"enrollment": {"user": _USER, "course": _COURSE, "mode": "verified", "is_active": True,
                           "creation_date": WHEN, "created_by": user(1, "staff")}}


def _certificate() -> dict[str, Any]:
    return {"certificate": {"user": _USER, "course": _COURSE, "mode": "verified", "grade": "0.91",
                            "download_url": "https://lms.example.org/certificates/abc", "name": "Learner Seven",
                            "current_status": "downloadable", "previous_status": "notpassing"}}


def _program_certificate() -> dict[str, Any]:
    return {"program_certificate": {
        "user": _USER, "program": {"uuid": PROGRAM_UUID, "title": "Data Science", "program_type": "MicroMasters"},
        "uuid": "c0ffee00-0000-4000-8000-000000000001", "status": "awarded",
        "url": "https://credentials.example.org/credentials/c0ffee", "certificate_available_date": WHEN}}


def _role() -> dict[str, Any]:
    return {"course_access_role_data": {"user": _USER, "org_key": "edX", "course_key": COURSE, "role": "staff"}}


def _idv() -> dict[str, Any]:
    return {"idv_attempt": {"attempt_id": 3, "user": _USER, "status": "approved", "name": "Learner Seven",
                            "expiration_date": "2027-03-01T00:00:00Z"}}


def _enterprise() -> dict[str, Any]:
    return {"enterprise_enrollment": {"enterprise_customer_uuid": ENTERPRISE_UUID, "user_id": 7, "course_key": COURSE}}


def program_snapshot() -> dict[str, Any]:
    seat = {"type": "verified", "upgrade_deadline": "2026-06-01T00:00:00Z", "price": "49.00", "sku": "ABC"}
    run = {"key": COURSE, "title": "Demo", "type": "verified-audit", "pacing_type": "instructor_paced",
           "start": "2026-01-01T00:00:00Z", "end": "2026-12-31T00:00:00Z", "enrollment_start": None,
           "enrollment_end": None, "advertised_start": None, "status": "published", "seats": [seat]}
    return {
        "uuid": PROGRAM_UUID, "title": "Data Science", "subtitle": "Learn it", "type": "MicroMasters",
        "type_slug": "micromasters", "status": "active", "marketing_slug": "data-science",
        "marketing_url": "https://www.example.org/micromasters/data-science", "card_image_url": None,
        "banner_image": {"large": {"url": "https://img.example.org/l.png", "width": 1440, "height": 480}},
        "authoring_organizations": [{"key": "edX", "name": "edX", "logo_image_url": None,
                                     "certificate_logo_image_url": None}],
        "courses": [{"key": "edX+DemoX", "uuid": "a2c4e6f8-0000-4000-8000-000000000002", "title": "Demo",
                     "image": {"src": "https://img.example.org/c.png"}, "short_description": None,
                     "course_runs": [run]}],
        "pathways": [{"id": 1, "uuid": "b2c4e6f8-0000-4000-8000-000000000003", "name": "Credit", "org_name": "edX",
                      "email": "credit@example.org", "description": "", "destination_url": "https://x.example.org",
                      "pathway_type": "credit", "program_uuids": [PROGRAM_UUID]}],
        "applicable_seat_types": ["verified"], "is_program_eligible_for_one_click_purchase": True,
    }


def _course_snapshot() -> dict[str, Any]:
    data = course_published().data.model_dump(mode="json")
    course = data["course"]
    course["entrance_exam"] = {"chapter_key": block(COURSE, "chapter", "ch1"), "minimum_score_pct": 0.6}
    course["outline"][0]["sequences"][0]["prerequisite"] = {"block_key": block(COURSE, "sequential", "s0"),
                                                            "min_score": 0.8}
    course["outline"][0]["sequences"][0]["due"] = "2026-04-01T00:00:00Z"
    course["certificate_available_date"] = "2026-07-01T00:00:00Z"
    course["expected_duration_weeks"] = 6
    return data


_BY_TYPE: dict[str, Any] = {
    "org.openedx.learning.course.enrollment.created.v1": _enrollment,
    "org.openedx.learning.course.enrollment.changed.v1": _enrollment,
    "org.openedx.learning.course.unenrollment.completed.v1": _enrollment,
    "ext.enterprise.course.enrollment.linked.v1": _enterprise,
    "ext.enterprise.course.enrollment.unlinked.v1": _enterprise,
    "org.openedx.learning.course.persistent_grade_summary.changed.v1": lambda: {"grade": {
        "user_id": 7, "course": _COURSE, "course_edited_timestamp": WHEN, "course_version": "v1abc",
        "grading_policy_hash": "hash", "percent_grade": 0.91, "letter_grade": "A", "passed_timestamp": None}},
    "org.openedx.learning.course.passing.status.updated.v1": lambda: {"course_passing_status": {
        "is_passing": True, "course": _COURSE, "user": _USER}},
    "ext.learning.subsection.grade.changed.v1": lambda: {"subsection_grade": {
        "user_id": 7, "course_key": COURSE, "block_key": block(COURSE, "sequential", "s1"), "percent": 0.5}},
    "org.openedx.learning.certificate.created.v1": _certificate,
    "org.openedx.learning.certificate.changed.v1": _certificate,
    "org.openedx.learning.certificate.revoked.v1": _certificate,
    "org.openedx.learning.program.certificate.awarded.v1": _program_certificate,
    "org.openedx.learning.program.certificate.revoked.v1": _program_certificate,
    "ext.learning.block.completion.changed.v1": lambda: {"completion": {
        "user_id": 7, "course_key": COURSE, "block_key": block(COURSE, "video", "v1"), "completion": 1.0,
        "modified": WHEN}},
    "ext.learning.courseware.visited.v1": lambda: {"visit": {
        "user_id": 7, "course_key": COURSE, "visited_at": WHEN, "browser_timezone": "Europe/Paris"}},
    "ext.learning.celebration.acknowledged.v1": lambda: {"celebration": {
        "user_id": 7, "course_key": COURSE, "first_section": False, "weekly_goal": None}},
    "ext.learning.course.goal.changed.v1": lambda: {"goal": {
        "user_id": 7, "course_key": COURSE, "days_per_week": 3, "subscribed_to_reminders": True}},
    "ext.learning.user.preference.changed.v1": lambda: {"preference": {
        "user_id": 7, "key": "time_zone", "value": "America/New_York"}},
    "ext.learning.bookmark.changed.v1": lambda: {"bookmark": {
        "user_id": 7, "course_key": COURSE, "usage_key": block(COURSE, "vertical", "u1"), "bookmarked": True}},
    "ext.learning.sequence.position.changed.v1": lambda: {"position": {
        "user_id": 7, "sequence_key": block(COURSE, "sequential", "s1"), "position": 2}},
    "ext.learning.integrity.signature.created.v1": lambda: {"signature": {"user_id": 7, "course_key": COURSE}},
    "org.openedx.learning.idv_attempt.created.v1": _idv,
    "org.openedx.learning.idv_attempt.pending.v1": _idv,
    "org.openedx.learning.idv_attempt.approved.v1": _idv,
    "org.openedx.learning.idv_attempt.denied.v1": _idv,
    "ext.content.course.published.v1": _course_snapshot,
    "org.openedx.content_authoring.course.catalog_info.changed.v1": lambda: {"catalog_info": {
        "course_key": COURSE, "name": "Demo", "schedule_data": {
            "start": "2026-01-01T00:00:00Z", "pacing": "self", "end": None,
            "enrollment_start": "2025-12-01T00:00:00Z", "enrollment_end": None},
        "hidden": False, "invitation_only": False}},
    "org.openedx.learning.user.course_access_role.added.v1": _role,
    "org.openedx.learning.user.course_access_role.removed.v1": _role,
    "ext.catalog.program.changed.v1": lambda: {"program": program_snapshot()},
    "ext.catalog.program.deleted.v1": lambda: {"program": {"uuid": PROGRAM_UUID}},
}

SAMPLE_TYPES = tuple(sorted(_BY_TYPE))


def sample_data(type_: str) -> dict[str, Any]:
    """A fresh, deep-copied valid `data` for the event type."""
    return copy.deepcopy(_BY_TYPE[type_]())
