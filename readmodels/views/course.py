"""The course-metadata body (API.md "GET /api/courseware/course"): pure, from stored facts + now."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from readmodels import fieldnames
from readmodels.facts import UserFacts
from readmodels.views.celebrations import celebrations
from readmodels.views.common import VERIFIED_TYPE_MODES, ViewConfig, api_time, fmt, time_or_none, zone
from readmodels.views.learner_course import enrollment_state, user_has_passing_grade

INTEGRITY_MODES = frozenset({"verified", "professional", "no-id-professional", "credit", "executive-education"})
CERT_STATUSES = frozenset({"downloadable", "generating", "unverified", "unavailable"})
MIN_DURATION = timedelta(weeks=4)
MAX_DURATION = timedelta(weeks=18)

ProgressFn = Callable[..., Any]


def start_display(course: dict[str, Any]) -> tuple[str | None, str]:
    if course.get("advertised_start"):
        return course["advertised_start"], "string"
    start = time_or_none(course.get("start"))
    if start is not None:
        months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
        return f"{months[start.month - 1]} {start.day:02d}, {start.year}", "timestamp"
    return None, "empty"


def _verified_mode(course: dict[str, Any]) -> dict[str, Any] | None:
    return next((m for m in course.get("modes") or () if m.get("slug") == "verified"), None)


def access_expiration(
    course: dict[str, Any],
    enrollment: dict[str, Any] | None,
    now: datetime,
    config: ViewConfig,
    *,
    staff_masquerading: bool = False,
) -> dict[str, Any] | None:
    verified = _verified_mode(course)
    features = course.get("features") or {}
    if not enrollment or enrollment.get("mode") != "audit" or verified is None:
        return None
    if not features.get("course_duration_limits"):
        return None
    start = time_or_none(course.get("start"))
    end = time_or_none(course.get("end"))
    created = time_or_none(enrollment.get("created")) or now
    weeks = course.get("expected_duration_weeks")
    if weeks:
        duration = timedelta(weeks=weeks)
    elif start is not None and end is not None:
        duration = end - start
    else:
        duration = MIN_DURATION
    duration = min(max(duration, MIN_DURATION), MAX_DURATION)
    expiration = max(created, start) + duration if start is not None else created + duration
    deadline = time_or_none(verified.get("upgrade_deadline"))
    if deadline is not None and deadline <= now:
        deadline = None
    upgrade_url = None
    if deadline is not None:
        sku = verified.get("sku")
        upgrade_url = (
            f"{config.ecommerce_url}/basket/add/?{urlencode({'sku': sku})}"
            if sku
            else (f"{config.lms_base_url}/dashboard")
        )
    return {
        "expiration_date": fmt(expiration),
        "masquerading_expired_course": staff_masquerading and expiration < now,
        "upgrade_deadline": fmt(deadline),
        "upgrade_url": upgrade_url,
    }


def certificate_data(
    course: dict[str, Any],
    enrollment: dict[str, Any] | None,
    certificate: dict[str, Any] | None,
    passing: bool,
    now: datetime,
) -> dict[str, Any] | None:
    """API.md "certificate_data": the first matching rule; null when never enrolled."""
    if not enrollment:
        return None
    status = (certificate or {}).get("status")
    if status not in CERT_STATUSES:
        status = None
    mode = enrollment.get("mode")
    available = time_or_none(course.get("certificate_available_date"))
    future_date = available if available is not None and available > now else None
    honor_certs = bool(course.get("honor_certificates_enabled"))

    def shape(cert_status: str, *, date: datetime | None = None, url: str | None = None) -> dict[str, Any]:
        return {
            "cert_status": cert_status,
            "cert_web_view_url": url,
            "download_url": url,
            "certificate_available_date": fmt(date),
        }

    if status == "unavailable":
        return shape("invalidated")
    if status == "downloadable" and future_date is not None:
        return shape("earned_but_not_available", date=future_date)
    if status != "downloadable" and future_date is not None:
        return shape("not_earned_but_available_date", date=future_date)
    if status in ("generating", "unverified"):
        return shape(status)
    if status == "downloadable":
        if mode == "audit":
            return shape("audit_passing")
        if mode == "honor" and not honor_certs:
            return shape("honor_passing")
        return shape("downloadable", url=(certificate or {}).get("download_url"))
    if passing:
        if mode == "audit":
            return shape("audit_passing")
        if mode == "honor" and not honor_certs:
            return shape("honor_passing")
        return shape("requesting")
    return None


def verification_status(mode: str | None, idv: dict[str, Any] | None, now: datetime) -> str:
    if mode not in VERIFIED_TYPE_MODES or not idv:
        return "none"
    status = idv.get("status")
    if status == "approved":
        expires = time_or_none(idv.get("expiration_date"))
        return "expired" if expires is not None and expires < now else "approved"
    return status if status in ("pending", "denied") else "none"


def entrance_exam_data(course: dict[str, Any], user: UserFacts) -> dict[str, Any]:
    exam = course.get("entrance_exam")
    if not exam:
        return {
            "entrance_exam_enabled": False,
            "entrance_exam_id": "",
            "entrance_exam_minimum_score_pct": 0.0,
            "entrance_exam_current_score": 0.0,
            "entrance_exam_passed": True,
        }
    minimum = float(exam.get("minimum_score_pct") or 0.0)
    score = user.get(fieldnames.f_subsection_grade(exam["chapter_key"])) if user.user_id is not None else None
    score = float(score) if isinstance(score, int | float) else 0.0
    return {
        "entrance_exam_enabled": True,
        "entrance_exam_id": exam["chapter_key"],
        "entrance_exam_minimum_score_pct": minimum,
        "entrance_exam_current_score": score,
        "entrance_exam_passed": score >= minimum,
    }


def linkedin_url(
    course: dict[str, Any], certificate: dict[str, Any] | None, mode: str | None, config: ViewConfig
) -> str | None:
    if not config.linkedin_org_id or not certificate or certificate.get("status") != "downloadable":
        return None
    cert_url = certificate.get("download_url") or ""
    if cert_url.startswith("/"):
        cert_url = config.lms_base_url + cert_url
    mode_name = (mode or "").replace("-", " ").title()
    name = f"{config.platform_name} {mode_name} Certificate for {course.get('display_name')}"
    params = {
        "startTask": "CERTIFICATION_NAME",
        "name": name,
        "certUrl": cert_url,
        "organizationId": config.linkedin_org_id,
    }
    return "https://www.linkedin.com/profile/add?" + urlencode(params)


def related_programs(
    run_programs: dict[str, dict[str, Any]],
    course_key: str,
    user: UserFacts,
    enrollment: dict[str, Any] | None,
    now: datetime,
    config: ViewConfig,
    progress: ProgressFn,
) -> list[dict[str, Any]] | None:
    if user.user_id is None or not enrollment or not enrollment.get("is_active"):
        return None
    out = []
    for uuid, program in run_programs.items():
        if not program:
            continue
        counts = progress(program, user, now).counts()
        out.append(
            {
                "progress": {k: counts[k] for k in ("completed", "in_progress", "not_started")},
                "slug": program.get("type_slug"),
                "title": program.get("title"),
                "url": f"{config.lms_base_url}/dashboard/programs/{uuid}/",
                "uuid": uuid,
            }
        )
    out.sort(key=lambda p: (p["title"] or "", p["uuid"]))
    return out or None


def course_metadata(
    course: dict[str, Any],
    course_key: str,
    user: UserFacts,
    *,
    activity: Iterable[tuple[str, int]],
    run_programs: dict[str, dict[str, Any]],
    now: datetime,
    config: ViewConfig,
    progress: ProgressFn,
    browser_timezone: str | None = None,
    masquerading: bool = False,
    shared_document: bool = False,
) -> dict[str, Any]:
    """`course` is the effective course (catalog info applied, see views.common.effective_course).
    `shared_document`: `course` is a parsed document shared between requests and never changed
    (readmodels/parsed.py), so the course-only head of the body is built once per document."""
    features = course.get("features") or {}
    anonymous = user.user_id is None
    enrollment = None if anonymous else user.get(fieldnames.f_enrollment(course_key))
    enrolled = enrollment_state(enrollment)
    mode, active = enrolled["mode"], enrolled["is_active"]
    certificate = None if anonymous else user.get(fieldnames.f_certificate(course_key))
    passing = user_has_passing_grade(course, course_key, user)
    goal = None if anonymous else user.get(fieldnames.f_goal(course_key))
    visible = None if anonymous else user.get(fieldnames.f_preference(f"notes_visibility:{course_key}"))
    tz_pref = None if anonymous else user.get(fieldnames.f_preference("time_zone"))
    honor_ok = bool(course.get("honor_certificates_enabled"))
    body = dict(_course_head(course, course_key) if shared_document else _make_head(course, course_key))
    body.update(
        {
            "enrollment": enrolled,
            "access_expiration": access_expiration(course, enrollment, now, config, staff_masquerading=masquerading),
            "offer": None,
            "content_type_gating_enabled": bool(features.get("content_type_gating")) and mode == "audit",
            "course_goals": {
                "selected_goal": {
                    "days_per_week": goal["days_per_week"],
                    "subscribed_to_reminders": bool(goal.get("subscribed_to_reminders")),
                }
                if goal and goal.get("days_per_week") and features.get("course_goals")
                else None,
                "weekly_learning_goal_enabled": active and bool(features.get("course_goals")),
            },
            "celebrations": celebrations(
                course,
                course_key,
                user,
                activity,
                now,
                browser_timezone=browser_timezone,
                streak_lengths=config.streak_lengths,
                masquerading=masquerading,
            ),
            "user_has_passing_grade": passing,
            "entrance_exam_data": entrance_exam_data(course, user),
            "certificate_data": certificate_data(course, enrollment, certificate, passing, now),
            "related_programs": related_programs(run_programs, course_key, user, enrollment, now, config, progress),
            "user_timezone": tz_pref if zone(tz_pref) is not None else None,
            "notes": {"enabled": bool(features.get("notes")), "visible": visible != "false"},
            "verification_status": verification_status(mode, None if anonymous else user.get(fieldnames.F_IDV), now),
            "verify_identity_url": f"{config.account_mfe_url}/id-verification?course_id={quote(course_key, safe='')}"
            if mode in VERIFIED_TYPE_MODES
            else None,
            "linkedin_add_to_profile_url": linkedin_url(course, certificate, mode, config),
            "can_access_proctored_exams": active
            and mode is not None
            and mode != "audit"
            and (mode != "honor" or honor_ok),
            "is_integrity_signature_enabled": bool(features.get("integrity_signature")),
            "learning_assistant_enabled": bool(features.get("learning_assistant")),
            "course_exit_page_is_active": bool(features.get("course_exit_page")),
            "user_needs_integrity_signature": bool(features.get("integrity_signature"))
            and active
            and mode in INTEGRITY_MODES
            and user.get(fieldnames.f_signature(course_key)) is None,
        }
    )
    return body


# The course-only head of the body (id .. media), per parsed course document: the documents are
# shared between requests (readmodels/parsed.py) and never changed, so neither is their head.
_HEADS: dict[int, tuple[dict[str, Any], str, dict[str, Any]]] = {}
MAX_HEADS = 512


def _course_head(course: dict[str, Any], course_key: str) -> dict[str, Any]:
    """The first fields of the body, which depend only on the course and its key (read-only)."""
    hit = _HEADS.get(id(course))
    if hit is not None and hit[0] is course and hit[1] == course_key:
        return hit[2]
    head = _make_head(course, course_key)
    if len(_HEADS) >= MAX_HEADS:
        _HEADS.clear()
    _HEADS[id(course)] = (course, course_key, head)  # holds `course`: its id is not reused meanwhile
    return head


def _make_head(course: dict[str, Any], course_key: str) -> dict[str, Any]:
    display, display_type = start_display(course)
    return {
        "id": course_key,
        "name": course.get("display_name"),
        "org": course.get("org"),
        "number": course.get("number"),
        "short_description": course.get("short_description"),
        "effort": course.get("effort"),
        "language": course.get("language"),
        "license": course.get("license"),
        "start": api_time(course.get("start")),
        "end": api_time(course.get("end")),
        "enrollment_start": api_time(course.get("enrollment_start")),
        "enrollment_end": api_time(course.get("enrollment_end")),
        "pacing": course.get("pacing"),
        "marketing_url": course.get("marketing_url"),
        "show_calculator": bool(course.get("show_calculator")),
        "start_display": display,
        "start_type": display_type,
        "media": {
            "course_image": {"uri": course.get("course_image_url")},
            "course_video": {"uri": course.get("course_video_url")},
        },
    }
