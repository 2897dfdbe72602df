"""Hand-written test events: small, readable builders with sensible defaults."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from events import REGISTRY, Event

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
COURSE = "course-v1:edX+DemoX+Demo_Course"


def at(minutes: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes)


def event(type_: str, data: dict[str, Any], *, time: datetime | None = None, id: str | None = None) -> Event[Any]:
    cls = REGISTRY[type_]
    return Event(type=type_, id=id or str(uuid.uuid4()), time=time or T0, data=cls.model_validate(data))


def user(uid: int, username: str | None = None) -> dict[str, Any]:
    name = username or f"learner{uid}"
    return {"id": uid, "is_active": True, "pii": {"username": name, "email": f"{name}@example.com", "name": name}}


def block(course_key: str, block_type: str, name: str) -> str:
    return f"block-v1:{course_key.removeprefix('course-v1:')}+type@{block_type}+block@{name}"


FEATURES = ("celebrations", "streak_celebrations", "streak_discount", "course_goals", "notes", "learning_assistant",
            "integrity_signature", "content_type_gating", "course_duration_limits", "course_exit_page",
            "proctored_exams")
SEQUENCE_FLAGS = {"graded": False, "hide_after_due": False, "is_time_limited": False, "is_proctored": False,
                  "hide_from_toc": False}


def course_published(course_key: str = COURSE, *, time: datetime | None = None, **overrides: Any) -> Event[Any]:
    org, number, run = course_key.removeprefix("course-v1:").split("+")
    b = lambda t, n: block(course_key, t, n)  # noqa: E731
    data: dict[str, Any] = {
        "course_key": course_key, "org": org, "number": number, "run": run,
        "display_name": "Demonstration Course", "pacing": "instructor",
        "show_calculator": False, "invitation_only": False, "honor_certificates_enabled": False,
        "modes": [{"slug": "audit"}, {"slug": "verified", "min_price": 49, "currency": "usd"}],
        "features": {**dict.fromkeys(FEATURES, False), "celebrations": True, "course_goals": True, "notes": True},
        "outline": [
            {"block_key": b("chapter", "ch1"), "display_name": "Introduction", "sequences": [
                {"block_key": b("sequential", "s1"), "display_name": "Welcome", **SEQUENCE_FLAGS, "units": [
                    {"block_key": b("vertical", "u1"), "display_name": "Hello", "icon": "video", "graded": False,
                     "contains_gated_content": False, "blocks": [
                        {"block_key": b("video", "v1"), "block_type": "video", "completable": True},
                        {"block_key": b("html", "h1"), "block_type": "html", "completable": True},
                    ]},
                    {"block_key": b("vertical", "u2"), "display_name": "Quiz", "icon": "problem", "graded": True,
                     "contains_gated_content": False,
                     "blocks": [{"block_key": b("problem", "p1"), "block_type": "problem", "completable": True}]},
                ]},
            ]},
        ],
    }
    data.update(overrides)
    return event("ext.content.course.published.v1", {"course": data}, time=time)


def enrollment(kind: str, uid: int, course_key: str = COURSE, *, mode: str = "audit", is_active: bool = True,
               time: datetime | None = None, created: datetime | None = None) -> Event[Any]:
    type_ = {
        "created": "org.openedx.learning.course.enrollment.created.v1",
        "changed": "org.openedx.learning.course.enrollment.changed.v1",
        "unenrolled": "org.openedx.learning.course.unenrollment.completed.v1",
    }[kind]
    data = {"enrollment": {"user": user(uid), "course": {"course_key": course_key, "display_name": "Demo"},
                           "mode": mode, "is_active": is_active,
                           "creation_date": (created or T0).isoformat().replace("+00:00", "Z")}}
    return event(type_, data, time=time)


# Builders for every other event type (projection and oracle tests). Each takes `time` and `id`.

PROGRAM = "6e0c2f3a-0000-4000-8000-000000000001"
ENTERPRISE = "0f0e0d0c-0000-4000-8000-0000000000ee"
_E = "org.openedx.learning"


def retimed(e: Event[Any], *, time: datetime | None = None, id: str | None = None) -> Event[Any]:
    """The same event data under another ce_time and/or ce_id."""
    from dataclasses import replace

    return replace(e, time=time or e.time, id=id or e.id)


def _course(course_key: str) -> dict[str, Any]:
    return {"course_key": course_key, "display_name": "Demo"}


def grade_changed(uid: int, percent: float, course_key: str = COURSE, **meta: Any) -> Event[Any]:
    return event(f"{_E}.course.persistent_grade_summary.changed.v1", {"grade": {
        "user_id": uid, "course": _course(course_key), "course_edited_timestamp": None, "course_version": "",
        "grading_policy_hash": "",
        "percent_grade": percent, "letter_grade": "", "passed_timestamp": None}}, **meta)


def passing_status(uid: int, is_passing: bool, course_key: str = COURSE, **meta: Any) -> Event[Any]:
    return event(f"{_E}.course.passing.status.updated.v1", {"course_passing_status": {
        "is_passing": is_passing, "course": _course(course_key), "user": user(uid)}}, **meta)


def subsection_grade(uid: int, block_key: str, percent: float, course_key: str = COURSE, **meta: Any) -> Event[Any]:
    return event("ext.learning.subsection.grade.changed.v1", {"subsection_grade": {
        "user_id": uid, "course_key": course_key, "block_key": block_key, "percent": percent}}, **meta)


def certificate(kind: str, uid: int, status: str = "downloadable", *, mode: str = "verified",
                course_key: str = COURSE, download_url: str = "https://lms/cert/1", **meta: Any) -> Event[Any]:
    """kind: created, changed or revoked."""
    return event(f"{_E}.certificate.{kind}.v1", {"certificate": {
        "user": user(uid), "course": _course(course_key), "mode": mode, "grade": "0.9",
        "download_url": download_url, "name": f"learner{uid}", "current_status": status,
        "previous_status": ""}}, **meta)


def program_certificate(kind: str, uid: int, program_uuid: str = PROGRAM, **meta: Any) -> Event[Any]:
    """kind: awarded or revoked."""
    return event(f"{_E}.program.certificate.{kind}.v1", {"program_certificate": {
        "user": user(uid), "program": {"uuid": program_uuid, "title": "Program", "program_type": "MicroMasters"},
        "uuid": "c0ffee00-0000-4000-8000-000000000001", "status": kind, "url": "https://credentials/c/1",
        "certificate_available_date": None}}, **meta)


def catalog_info(course_key: str = COURSE, name: str = "Renamed", *, start: datetime | None = None,
                 pacing: str = "self", **meta: Any) -> Event[Any]:
    return event("org.openedx.content_authoring.course.catalog_info.changed.v1", {"catalog_info": {
        "course_key": course_key, "name": name, "hidden": False, "invitation_only": False,
        "schedule_data": {"start": (start or T0).isoformat(), "pacing": pacing}}}, **meta)


def access_role(kind: str, uid: int, *, org: str = "edX", course_key: str = COURSE, role: str = "staff",
                **meta: Any) -> Event[Any]:
    """kind: added or removed; course_key "" means the whole org."""
    return event(f"{_E}.user.course_access_role.{kind}.v1", {"course_access_role_data": {
        "user": user(uid), "org_key": org, "course_key": course_key, "role": role}}, **meta)


def program_changed(uuid: str = PROGRAM, runs: tuple[str, ...] = (COURSE,), *, title: str = "Program",
                    **meta: Any) -> Event[Any]:
    courses = [{"key": f"edX+C{i}", "uuid": f"00000000-0000-4000-8000-{i:012d}", "title": f"Course {i}",
                "course_runs": [{"key": run, "type": "verified", "pacing_type": "self_paced", "status": "published",
                                 "seats": [{"type": "verified"}]}]} for i, run in enumerate(runs)]
    return event("ext.catalog.program.changed.v1", {"program": {
        "uuid": uuid, "title": title, "type": "MicroMasters", "type_slug": "micromasters", "status": "active",
        "authoring_organizations": [{"key": "edX", "name": "edX"}], "courses": courses, "pathways": [],
        "applicable_seat_types": ["verified"], "is_program_eligible_for_one_click_purchase": False}}, **meta)


def program_deleted(uuid: str = PROGRAM, **meta: Any) -> Event[Any]:
    return event("ext.catalog.program.deleted.v1", {"program": {"uuid": uuid}}, **meta)


def completion(uid: int, block_key: str, value: float = 1.0, *, modified: datetime | None = None,
               course_key: str = COURSE, **meta: Any) -> Event[Any]:
    return event("ext.learning.block.completion.changed.v1", {"completion": {
        "user_id": uid, "course_key": course_key, "block_key": block_key, "completion": value,
        "modified": (modified or meta.get("time") or T0).isoformat()}}, **meta)


def visit(uid: int, visited_at: datetime | None = None, course_key: str = COURSE, **meta: Any) -> Event[Any]:
    return event("ext.learning.courseware.visited.v1", {"visit": {
        "user_id": uid, "course_key": course_key, "visited_at": (visited_at or meta.get("time") or T0).isoformat()}},
        **meta)


def celebration_ack(uid: int, course_key: str = COURSE, *, time: datetime | None = None, id: str | None = None,
                    **flags: bool) -> Event[Any]:
    """flags: first_section and/or weekly_goal (only the keys given are sent)."""
    return event("ext.learning.celebration.acknowledged.v1", {"celebration": {
        "user_id": uid, "course_key": course_key, **flags}}, time=time, id=id)


def goal(uid: int, days_per_week: int, subscribed: bool = False, course_key: str = COURSE, **meta: Any) -> Event[Any]:
    return event("ext.learning.course.goal.changed.v1", {"goal": {
        "user_id": uid, "course_key": course_key, "days_per_week": days_per_week,
        "subscribed_to_reminders": subscribed}}, **meta)


def preference(uid: int, key: str, value: str | None, **meta: Any) -> Event[Any]:
    return event("ext.learning.user.preference.changed.v1", {"preference": {
        "user_id": uid, "key": key, "value": value}}, **meta)


def bookmark(uid: int, usage_key: str, bookmarked: bool = True, course_key: str = COURSE, **meta: Any) -> Event[Any]:
    return event("ext.learning.bookmark.changed.v1", {"bookmark": {
        "user_id": uid, "course_key": course_key, "usage_key": usage_key, "bookmarked": bookmarked}}, **meta)


def position(uid: int, sequence_key: str, pos: int, **meta: Any) -> Event[Any]:
    return event("ext.learning.sequence.position.changed.v1", {"position": {
        "user_id": uid, "sequence_key": sequence_key, "position": pos}}, **meta)


def signature(uid: int, course_key: str = COURSE, **meta: Any) -> Event[Any]:
    return event("ext.learning.integrity.signature.created.v1", {"signature": {
        "user_id": uid, "course_key": course_key}}, **meta)


def idv(kind: str, uid: int, *, status: str | None = None, expiration: datetime | None = None,
        **meta: Any) -> Event[Any]:
    """kind: created, pending, approved or denied; `status` (the payload field) defaults to kind."""
    return event(f"{_E}.idv_attempt.{kind}.v1", {"idv_attempt": {
        "attempt_id": 1, "user": user(uid), "status": status or kind, "name": None,
        "expiration_date": expiration.isoformat() if expiration else None}}, **meta)


def enterprise_link(kind: str, uid: int, enterprise: str = ENTERPRISE, course_key: str = COURSE,
                    **meta: Any) -> Event[Any]:
    """kind: linked or unlinked."""
    return event(f"ext.enterprise.course.enrollment.{kind}.v1", {"enterprise_enrollment": {
        "enterprise_customer_uuid": enterprise, "user_id": uid, "course_key": course_key}}, **meta)
