"""GET /api/courseware/course/{course_key}: every field rule, the masquerade rules and the visit
event, through the real projector, Redis and HTTP. "Now" is fixed with LP_FAKE_NOW."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from readmodels.models import CourseMetadata
from tests.builders import (
    COURSE,
    FEATURES,
    PROGRAM,
    T0,
    access_role,
    block,
    catalog_info,
    certificate,
    course_published,
    enrollment,
    goal,
    grade_changed,
    idv,
    passing_status,
    preference,
    program_changed,
    signature,
    subsection_grade,
    visit,
)
from tests.pipeline import Pipeline
from tools.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)  # a Wednesday
COURSE2 = "course-v1:edX+Cert+2026"
URL = f"/api/courseware/course/{COURSE}"
URL2 = f"/api/courseware/course/{COURSE2}"
ADMIN = 1


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _world() -> list[Any]:
    ch1 = block(COURSE, "chapter", "ch1")
    return [
        course_published(
            COURSE,
            start="2026-03-01T00:00:00Z",
            end="2026-06-01T00:00:00Z",
            expected_duration_weeks=6,
            course_image_url="/img.png",
            marketing_url="https://mkt/demo",
            show_calculator=True,
            language="en",
            modes=[{"slug": "audit"}, {"slug": "verified", "sku": "SKU1", "upgrade_deadline": "2026-04-01T00:00:00Z"}],
            features=dict.fromkeys(FEATURES, True),
            entrance_exam={"chapter_key": ch1, "minimum_score_pct": 0.6},
        ),
        course_published(
            COURSE2,
            display_name="Cert course",
            start="2026-01-01T00:00:00Z",
            advertised_start="Spring 2026",
            certificate_available_date="2026-04-01T00:00:00Z",
            modes=[{"slug": "audit"}, {"slug": "verified", "upgrade_deadline": "2026-02-01T00:00:00Z"}],
            features={**dict.fromkeys(FEATURES, False), "course_duration_limits": True},
            time=_t("2026-01-15T00:00:00Z"),
        ),
        catalog_info(
            COURSE2,
            "Renamed cert course",
            start=_t("2026-01-01T00:00:00Z"),
            pacing="instructor",
            time=_t("2026-02-01T00:00:00Z"),
        ),
        program_changed(PROGRAM, (COURSE,), title="Data Program"),
        # 42: audit, passing by percent, goal of 2 days met Mon+Tue (New York), streak of 3 due today
        enrollment("created", 42, created=T0),
        grade_changed(42, 0.555),
        subsection_grade(42, ch1, 0.7),
        goal(42, 2, True),
        preference(42, "time_zone", "America/New_York"),
        preference(42, f"notes_visibility:{COURSE}", "false"),
        visit(42, _t("2026-03-09T15:00:00Z")),
        visit(42, _t("2026-03-10T15:00:00Z")),
        # 43: verified, downloadable certificate, expired IDV, passing only by status
        enrollment("created", 43, mode="verified"),
        passing_status(43, True),
        certificate("created", 43, download_url="https://lms/cert/43"),
        idv("approved", 43, expiration=_t("2026-03-05T00:00:00Z")),
        # 44: verified, signed, pending IDV, revoked certificate
        enrollment("created", 44, mode="verified"),
        signature(44),
        idv("pending", 44),
        certificate("revoked", 44),
        # 45: unenrolled audit; 46: honor with a passing grade and no certificate
        enrollment("created", 45, time=T0),
        enrollment("unenrolled", 45, is_active=False, time=_t("2026-03-02T00:00:00Z")),
        enrollment("created", 46, mode="honor"),
        grade_changed(46, 0.9),
        preference(46, "time_zone", "Europe/Kiev"),
        preference(45, "time_zone", "Mars/Olympus_Mons"),
        # 50/51/52 in COURSE2: certificate date in the future; 52's audit access has expired
        enrollment("created", 50, COURSE2, mode="verified"),
        certificate("created", 50, course_key=COURSE2),
        enrollment("created", 51, COURSE2, mode="verified"),
        enrollment("created", 52, COURSE2, created=_t("2026-01-01T00:00:00Z")),
        # 53/54: visits on the two previous UTC days; in Los Angeles yesterday had none
        enrollment("created", 53),
        visit(53, _t("2026-03-09T02:00:00Z")),
        visit(53, _t("2026-03-10T02:00:00Z")),
        enrollment("created", 54),
        visit(54, _t("2026-03-09T02:00:00Z")),
        visit(54, _t("2026-03-10T02:00:00Z")),
        # 56: a streak due today, read by staff masquerading first
        enrollment("created", 56),
        visit(56, _t("2026-03-09T12:00:00Z")),
        visit(56, _t("2026-03-10T12:00:00Z")),
        # staff: 900 course staff, 901 org-wide instructor, 902 staff of another course only
        access_role("added", 900),
        access_role("added", 901, course_key="", role="instructor"),
        access_role("added", 902, course_key=COURSE2),
    ]


@pytest.fixture(scope="module")
def pipeline(stack: Stack) -> Iterator[Pipeline]:
    p = Pipeline.create(stack, fake_now=NOW, linkedin_org_id="1337").start()
    p.produce(_world())
    p.wait_applied()
    yield p
    p.stop()


def _as(p: Pipeline, uid: int, *, admin: bool = False, username: str | None = None) -> dict[str, str]:
    return {"Authorization": f"JWT {p.token(uid, username, administrator=admin)}"}


def _body(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


# Shape ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [None, 46, 43, 47])
def test_get_course_metadata_has_every_field_real_clients_need(pipeline: Pipeline, who: int | None) -> None:
    body = _body(pipeline.get(URL, user=who))
    CourseMetadata.model_validate(body)  # every key, right types and nullability
    assert body["id"] == COURSE
    assert isinstance(body["enrollment"], dict) and set(body["enrollment"]) == {"mode", "is_active"}
    assert set(body["notes"]) == {"enabled", "visible"}
    assert set(body["entrance_exam_data"]) == {
        "entrance_exam_enabled",
        "entrance_exam_id",
        "entrance_exam_minimum_score_pct",
        "entrance_exam_current_score",
        "entrance_exam_passed",
    }
    assert set(body["celebrations"]) == {
        "first_section",
        "weekly_goal",
        "streak_length_to_celebrate",
        "streak_discount_enabled",
    }
    assert body["verification_status"] in {"none", "pending", "denied", "approved", "expired"}
    assert body["related_programs"] is None or isinstance(body["related_programs"], list)
    assert body["offer"] is None


def test_get_course_metadata_requested_fields_returns_exactly_those(pipeline: Pipeline) -> None:
    body = _body(pipeline.get(URL + "?requested_fields=name,enrollment,nope", user=47))
    assert body == {"name": "Demonstration Course", "enrollment": {"mode": None, "is_active": False}}


# Course fields ----------------------------------------------------------------------------------


def test_get_course_metadata_course_fields_come_from_published_course(pipeline: Pipeline) -> None:
    body = _body(pipeline.get(URL))
    assert body["name"] == "Demonstration Course"
    assert (body["org"], body["number"], body["pacing"], body["language"]) == ("edX", "DemoX", "instructor", "en")
    assert (body["start"], body["end"]) == ("2026-03-01T00:00:00Z", "2026-06-01T00:00:00Z")
    assert (body["start_display"], body["start_type"]) == ("Mar 01, 2026", "timestamp")
    assert body["media"] == {"course_image": {"uri": "/img.png"}, "course_video": {"uri": None}}
    assert body["marketing_url"] == "https://mkt/demo" and body["show_calculator"] is True
    assert body["is_integrity_signature_enabled"] and body["learning_assistant_enabled"]
    assert body["course_exit_page_is_active"] is True


def test_get_course_metadata_catalog_info_overrides_name_and_advertised_start_displays(pipeline: Pipeline) -> None:
    body = _body(pipeline.get(URL2))
    assert body["name"] == "Renamed cert course"
    assert (body["start_display"], body["start_type"]) == ("Spring 2026", "string")


def test_get_course_metadata_anonymous_gets_empty_user_fields(pipeline: Pipeline) -> None:
    body = _body(pipeline.get(URL))
    assert body["enrollment"] == {"mode": None, "is_active": False}
    assert body["celebrations"] == {
        "first_section": False,
        "weekly_goal": False,
        "streak_length_to_celebrate": None,
        "streak_discount_enabled": False,
    }
    assert body["certificate_data"] is None and body["related_programs"] is None
    assert body["user_has_passing_grade"] is False and body["user_timezone"] is None
    assert body["notes"] == {"enabled": True, "visible": True}
    assert body["entrance_exam_data"]["entrance_exam_current_score"] == 0.0
    assert body["entrance_exam_data"]["entrance_exam_passed"] is False
    assert body["access_expiration"] is None


def test_get_course_metadata_unenrolled_learner_gets_200_with_empty_enrollment(pipeline: Pipeline) -> None:
    body = _body(pipeline.get(URL, user=47))
    assert body["enrollment"] == {"mode": None, "is_active": False}
    assert body["certificate_data"] is None
    assert body["celebrations"]["first_section"] is False
    assert body["course_goals"] == {"selected_goal": None, "weekly_learning_goal_enabled": False}


def test_get_course_metadata_audit_learner_fields(pipeline: Pipeline) -> None:
    body = _body(pipeline.get(URL + "?browser_timezone=Europe%2FKiev", user=42))
    assert body["enrollment"] == {"mode": "audit", "is_active": True}
    # max(created 03-01 12:00, start 03-01 00:00) + 6 weeks
    assert body["access_expiration"] == {
        "expiration_date": "2026-04-12T12:00:00Z",
        "masquerading_expired_course": False,
        "upgrade_deadline": "2026-04-01T00:00:00Z",
        "upgrade_url": "http://localhost:18130/basket/add/?sku=SKU1",
    }
    assert body["content_type_gating_enabled"] is True
    assert body["course_goals"] == {
        "selected_goal": {"days_per_week": 2, "subscribed_to_reminders": True},
        "weekly_learning_goal_enabled": True,
    }
    assert body["user_has_passing_grade"] is True  # 0.555 rounds to 0.56
    assert body["certificate_data"] == {
        "cert_status": "audit_passing",
        "cert_web_view_url": None,
        "download_url": None,
        "certificate_available_date": None,
    }
    assert body["entrance_exam_data"] == {
        "entrance_exam_enabled": True,
        "entrance_exam_id": block(COURSE, "chapter", "ch1"),
        "entrance_exam_minimum_score_pct": 0.6,
        "entrance_exam_current_score": 0.7,
        "entrance_exam_passed": True,
    }
    assert body["user_timezone"] == "America/New_York"
    assert body["notes"] == {"enabled": True, "visible": False}
    assert (body["verification_status"], body["verify_identity_url"]) == ("none", None)
    assert body["can_access_proctored_exams"] is False and body["user_needs_integrity_signature"] is False
    # Streak and weekly goal by New York days (the preference wins over browser_timezone).
    assert body["celebrations"] == {
        "first_section": True,
        "weekly_goal": True,
        "streak_length_to_celebrate": 3,
        "streak_discount_enabled": True,
    }
    assert body["related_programs"] == [
        {
            "progress": {"completed": 0, "in_progress": 1, "not_started": 0},
            "slug": "micromasters",
            "title": "Data Program",
            "url": f"http://localhost:18000/dashboard/programs/{PROGRAM}/",
            "uuid": PROGRAM,
        }
    ]


def test_get_course_metadata_read_emits_visit_that_closes_the_streak(pipeline: Pipeline) -> None:
    # 42's first read (test above) celebrated; its own visit event lands and the streak is closed.
    deadline = time.monotonic() + 20
    while True:
        body = _body(pipeline.get(URL, user=42))
        if body["celebrations"]["streak_length_to_celebrate"] is None:
            break
        assert time.monotonic() < deadline, "the read's visit event never reached the read model"
        time.sleep(0.2)
    assert body["celebrations"]["weekly_goal"] is False  # 3 days now, goal is 2


def test_get_course_metadata_verified_learner_fields(pipeline: Pipeline) -> None:
    body = _body(pipeline.get(URL, user=43))
    assert body["enrollment"] == {"mode": "verified", "is_active": True}
    assert body["access_expiration"] is None and body["content_type_gating_enabled"] is False
    assert body["user_has_passing_grade"] is True  # passing status, no percent
    assert body["certificate_data"] == {
        "cert_status": "downloadable",
        "cert_web_view_url": "https://lms/cert/43",
        "download_url": "https://lms/cert/43",
        "certificate_available_date": None,
    }
    assert body["verification_status"] == "expired"
    assert body["verify_identity_url"] == (
        "http://localhost:1997/id-verification?course_id=course-v1%3AedX%2BDemoX%2BDemo_Course"
    )
    assert body["linkedin_add_to_profile_url"].startswith("https://www.linkedin.com/profile/add?")
    assert "organizationId=1337" in body["linkedin_add_to_profile_url"]
    assert body["can_access_proctored_exams"] is True and body["user_needs_integrity_signature"] is True
    assert body["celebrations"]["streak_length_to_celebrate"] is None


def test_get_course_metadata_revoked_certificate_is_invalidated(pipeline: Pipeline) -> None:
    body = _body(pipeline.get(URL, user=44))
    assert body["certificate_data"]["cert_status"] == "invalidated"
    assert body["verification_status"] == "pending"
    assert body["user_needs_integrity_signature"] is False
    assert body["linkedin_add_to_profile_url"] is None


def test_get_course_metadata_inactive_enrollment_keeps_mode(pipeline: Pipeline) -> None:
    body = _body(pipeline.get(URL, user=45))
    assert body["enrollment"] == {"mode": "audit", "is_active": False}
    assert body["related_programs"] is None
    assert body["course_goals"]["weekly_learning_goal_enabled"] is False
    assert body["content_type_gating_enabled"] is True
    assert body["user_timezone"] is None  # not a valid IANA zone


def test_get_course_metadata_honor_passing_without_honor_certificates(pipeline: Pipeline) -> None:
    body = _body(pipeline.get(URL, user=46))
    assert body["certificate_data"]["cert_status"] == "honor_passing"
    assert body["can_access_proctored_exams"] is False
    assert body["user_timezone"] == "Europe/Kiev"  # a legacy alias is still a valid zone


def test_get_course_metadata_certificate_dates_in_the_future(pipeline: Pipeline) -> None:
    earned = _body(pipeline.get(URL2, user=50))["certificate_data"]
    assert earned == {
        "cert_status": "earned_but_not_available",
        "cert_web_view_url": None,
        "download_url": None,
        "certificate_available_date": "2026-04-01T00:00:00Z",
    }
    assert _body(pipeline.get(URL2, user=51))["certificate_data"]["cert_status"] == "not_earned_but_available_date"


def test_get_course_metadata_expired_audit_access(pipeline: Pipeline) -> None:
    body = _body(pipeline.get(URL2, user=52))
    assert body["access_expiration"] == {
        "expiration_date": "2026-01-29T00:00:00Z",
        "masquerading_expired_course": False,
        "upgrade_deadline": None,
        "upgrade_url": None,
    }
    staff = _body(pipeline.get(URL2 + "?username=learner52", headers=_as(pipeline, ADMIN, admin=True)))
    assert staff["access_expiration"]["masquerading_expired_course"] is True


def test_get_course_metadata_days_use_browser_timezone_without_preference(pipeline: Pipeline) -> None:
    la = _body(pipeline.get(URL + "?browser_timezone=America%2FLos_Angeles", user=53))
    utc = _body(pipeline.get(URL, user=54))
    assert la["celebrations"]["streak_length_to_celebrate"] is None
    assert utc["celebrations"]["streak_length_to_celebrate"] == 3


# Masquerade -------------------------------------------------------------------------------------


def test_get_course_metadata_global_staff_masquerades_without_streak_or_visit(pipeline: Pipeline) -> None:
    staff = _body(pipeline.get(URL + "?username=learner56", headers=_as(pipeline, ADMIN, admin=True)))
    assert staff["enrollment"] == {"mode": "audit", "is_active": True}
    assert staff["celebrations"]["streak_length_to_celebrate"] is None
    # No visit was emitted for 56: after a later event of 56 is applied, 56 still has the streak due.
    time.sleep(0.5)
    pipeline.produce([preference(56, "time_zone", None)])
    pipeline.wait_applied()
    assert _body(pipeline.get(URL, user=56))["celebrations"]["streak_length_to_celebrate"] == 3


@pytest.mark.parametrize("staff", [900, 901])
def test_get_course_metadata_course_staff_may_masquerade(pipeline: Pipeline, staff: int) -> None:
    body = _body(pipeline.get(URL + "?username=learner43", headers=_as(pipeline, staff)))
    assert body["enrollment"] == {"mode": "verified", "is_active": True}


@pytest.mark.parametrize("caller", [43, 902])
def test_get_course_metadata_masquerade_without_right_is_403(pipeline: Pipeline, caller: int) -> None:
    r = pipeline.get(URL + "?username=learner42", headers=_as(pipeline, caller))
    assert r.status_code == 403 and "developer_message" in r.json()


def test_get_course_metadata_masquerade_anonymous_is_401(pipeline: Pipeline) -> None:
    r = pipeline.get(URL + "?username=learner42")
    assert r.status_code == 401 and "developer_message" in r.json()


def test_get_course_metadata_masquerade_unknown_username_is_404(pipeline: Pipeline) -> None:
    r = pipeline.get(URL + "?username=nobody*", headers=_as(pipeline, ADMIN, admin=True))
    assert r.status_code == 404 and "developer_message" in r.json()


def test_get_course_metadata_naming_oneself_is_no_masquerade(pipeline: Pipeline) -> None:
    body = _body(pipeline.get(URL + "?username=learner43", user=43))
    assert body["enrollment"]["mode"] == "verified"


# Status codes -----------------------------------------------------------------------------------


def test_get_course_metadata_unknown_course_is_404(pipeline: Pipeline) -> None:
    r = pipeline.get("/api/courseware/course/course-v1:edX+Nope+Never", user=42)
    assert r.status_code == 404 and "course-v1:edX+Nope+Never" in r.json()["developer_message"]


def test_get_course_metadata_legacy_key_parses_and_is_404_when_unknown(pipeline: Pipeline) -> None:
    assert pipeline.get("/api/courseware/course/edX/DemoX/Demo_Course").status_code == 404


def test_get_course_metadata_trailing_slash_is_tolerated(pipeline: Pipeline) -> None:
    assert _body(pipeline.get(URL + "/"))["id"] == COURSE


@pytest.mark.parametrize(
    "bad",
    [
        "not-a-key",
        "course-v1:edX+Demo*+X",
        "course-v1:edX+Demo%3F+X",
        "course-v1:edX+[a]+X",
        "course-v1:edX+a%0A+X",
        "course-v1:edX+..+X",
        "course-v1:edX+" + "a" * 5000 + "+X",
        "course-v1:edX+Demo X+Y",
    ],
)
def test_get_course_metadata_bad_course_key_is_400_naming_it(pipeline: Pipeline, bad: str) -> None:
    r = pipeline.get(f"/api/courseware/course/{bad}")
    assert r.status_code == 400, r.text
    assert r.json()["developer_message"].startswith("Invalid course key")


def test_get_course_metadata_invalid_token_is_401_even_when_optional(pipeline: Pipeline) -> None:
    r = pipeline.get(URL, headers={"Authorization": "JWT not.a.token"})
    assert r.status_code == 401 and "developer_message" in r.json()
