"""Course-metadata rules at a fixed now: certificate_data, access_expiration, verification,
passing grade, entrance exam, catalog overrides, and the full body against its response model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from events.base import lww_version
from readmodels import fieldnames
from readmodels.facts import UserFacts
from readmodels.models import CourseMetadata
from readmodels.views.common import ViewConfig, effective_course, is_course_staff
from readmodels.views.course import (
    access_expiration,
    certificate_data,
    course_metadata,
    start_display,
    user_has_passing_grade,
    verification_status,
)
from readmodels.views.program_progress import ProgramProgress

CK = "course-v1:edX+DemoX+Demo_Course"
NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
V = lww_version(1, "x")
CONFIG = ViewConfig()
FUTURE, PAST = "2026-04-01T00:00:00Z", "2026-03-01T00:00:00Z"


def facts(uid: int | None = 7, **fields: Any) -> UserFacts:
    return UserFacts(uid, {k: f"{V}\t{orjson.dumps(v).decode()}" for k, v in fields.items()})


def enr(mode: str = "audit", active: bool = True, created: str = "2026-03-01T12:00:00Z") -> dict[str, Any]:
    return {"mode": mode, "is_active": active, "created": created}


def cert(status: str, url: str | None = "https://lms/c/1") -> dict[str, Any]:
    return {"status": status, "mode": "verified", "download_url": url, "grade": "0.9"}


@pytest.mark.parametrize(
    ("status", "mode", "available", "passing", "expected"),
    [
        ("unavailable", "verified", FUTURE, True, "invalidated"),
        ("downloadable", "verified", FUTURE, True, "earned_but_not_available"),
        (None, "verified", FUTURE, False, "not_earned_but_available_date"),
        ("notpassing", "audit", FUTURE, False, "not_earned_but_available_date"),
        ("generating", "verified", None, False, "generating"),
        ("unverified", "verified", PAST, False, "unverified"),
        ("downloadable", "audit", None, True, "audit_passing"),
        ("downloadable", "honor", None, True, "honor_passing"),
        ("downloadable", "verified", PAST, True, "downloadable"),
        (None, "audit", None, True, "audit_passing"),
        (None, "honor", None, True, "honor_passing"),
        (None, "verified", None, True, "requesting"),
        ("notpassing", "verified", None, False, None),
        (None, "verified", None, False, None),
    ],
)
def test_certificate_data_first_matching_rule(
    status: str | None, mode: str, available: str | None, passing: bool, expected: str | None
) -> None:
    course = {"certificate_available_date": available, "honor_certificates_enabled": False}
    got = certificate_data(course, enr(mode), cert(status) if status else None, passing, NOW)
    assert (got or {}).get("cert_status") == expected
    if expected == "downloadable":
        assert got == {
            "cert_status": "downloadable",
            "cert_web_view_url": "https://lms/c/1",
            "download_url": "https://lms/c/1",
            "certificate_available_date": None,
        }
    if expected in ("earned_but_not_available", "not_earned_but_available_date"):
        assert got is not None and got["certificate_available_date"] == FUTURE


def test_certificate_data_null_when_never_enrolled_and_honor_certificates_enabled() -> None:
    assert certificate_data({}, None, cert("downloadable"), True, NOW) is None
    honor = certificate_data({"honor_certificates_enabled": True}, enr("honor"), cert("downloadable"), True, NOW)
    assert honor is not None and honor["cert_status"] == "downloadable"


COURSE = {
    "start": "2026-03-01T00:00:00Z",
    "end": "2026-05-01T00:00:00Z",
    "features": {"course_duration_limits": True},
    "modes": [{"slug": "audit"}, {"slug": "verified", "upgrade_deadline": FUTURE, "sku": "S1"}],
}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"expected_duration_weeks": 6}, "2026-04-12T12:00:00Z"),  # max(created, start) + 6 weeks
        ({}, "2026-05-01T12:00:00Z"),  # end - start = 61 days after created 03-01 12:00
        ({"end": None}, "2026-03-29T12:00:00Z"),  # no duration known: 4 weeks
        ({"expected_duration_weeks": 1}, "2026-03-29T12:00:00Z"),  # clamped up to 4 weeks
        ({"expected_duration_weeks": 52}, "2026-07-05T12:00:00Z"),  # clamped down to 18 weeks
    ],
)
def test_access_expiration_duration_rules(overrides: dict[str, Any], expected: str) -> None:
    course = {**COURSE, **overrides}
    got = access_expiration(course, enr(), NOW, CONFIG)
    assert got is not None and got["expiration_date"] == expected
    assert got["upgrade_deadline"] == FUTURE and got["upgrade_url"] == "http://localhost:18130/basket/add/?sku=S1"


def test_access_expiration_only_for_audit_with_limits_and_verified_mode() -> None:
    assert access_expiration(COURSE, enr("verified"), NOW, CONFIG) is None
    assert access_expiration(COURSE, None, NOW, CONFIG) is None
    assert access_expiration({**COURSE, "features": {}}, enr(), NOW, CONFIG) is None
    assert access_expiration({**COURSE, "modes": [{"slug": "audit"}]}, enr(), NOW, CONFIG) is None
    past = {
        **COURSE,
        "start": "2026-01-01T00:00:00Z",
        "end": None,
        "modes": [{"slug": "verified", "upgrade_deadline": PAST}],
    }
    got = access_expiration(
        past, enr(active=False, created="2025-01-01T00:00:00Z"), NOW, CONFIG, staff_masquerading=True
    )
    assert got is not None and (got["upgrade_deadline"], got["upgrade_url"]) == (None, None)
    assert got["expiration_date"] == "2026-01-29T00:00:00Z" and got["masquerading_expired_course"] is True


@pytest.mark.parametrize(
    ("mode", "idv", "expected"),
    [
        ("audit", {"status": "approved"}, "none"),
        ("verified", None, "none"),
        ("verified", {"status": "pending"}, "pending"),
        ("professional", {"status": "denied"}, "denied"),
        ("credit", {"status": "approved", "expiration_date": None}, "approved"),
        ("masters", {"status": "approved", "expiration_date": "2027-01-01T00:00:00Z"}, "approved"),
        ("verified", {"status": "approved", "expiration_date": PAST}, "expired"),
    ],
)
def test_verification_status(mode: str, idv: dict[str, Any] | None, expected: str) -> None:
    assert verification_status(mode, idv, NOW) == expected


def test_passing_grade_prefers_rounded_percent_then_status() -> None:
    course = {"lowest_passing_grade": 0.5}
    assert user_has_passing_grade(course, CK, facts(**{fieldnames.f_grade(CK): 0.495, fieldnames.f_passing(CK): False}))
    assert not user_has_passing_grade(course, CK,
                                      facts(**{fieldnames.f_grade(CK): 0.49, fieldnames.f_passing(CK): True}))
    assert user_has_passing_grade(course, CK, facts(**{fieldnames.f_passing(CK): True}))
    assert not user_has_passing_grade(course, CK, facts(None))


def test_start_display() -> None:
    assert start_display({"advertised_start": "Fall", "start": PAST}) == ("Fall", "string")
    assert start_display({"start": "2026-03-01T23:30:00-05:00"}) == ("Mar 02, 2026", "timestamp")
    assert start_display({}) == (None, "empty")


def test_effective_course_applies_newer_catalog_info_only() -> None:
    course = {"display_name": "Old", "pacing": "instructor", "start": PAST}
    newer = (lww_version(2, "a"), {"name": "New", "pacing": "self", "start": FUTURE})
    older = (lww_version(0, "a"), {"name": "New", "pacing": "self", "start": FUTURE})
    assert effective_course(course, lww_version(1, "a"), newer)["display_name"] == "New"
    assert effective_course(course, lww_version(1, "a"), newer)["pacing"] == "self"
    assert effective_course(course, lww_version(1, "a"), older) is course


def test_course_staff_by_course_or_whole_org() -> None:
    assert is_course_staff(facts(**{fieldnames.f_role("edX", CK, "staff"): True}), CK, "edX")
    assert is_course_staff(facts(**{fieldnames.f_role("edX", "", "instructor"): True}), CK, "edX")
    assert not is_course_staff(facts(**{fieldnames.f_role("MITx", "", "staff"): True}), CK, "edX")
    assert not is_course_staff(facts(**{fieldnames.f_role("edX", CK, "staff"): False}), CK, "edX")
    assert not is_course_staff(facts(**{fieldnames.f_role("edX", CK, "beta_tester"): True}), CK, "edX")


def _progress(program: dict[str, Any], user: UserFacts, now: datetime, **_: Any) -> ProgramProgress:
    return ProgramProgress(completed=[{}], in_progress=[], not_started=[{}, {}], all_unenrolled=False)


@pytest.mark.parametrize(
    "user",
    [
        facts(None),
        facts(8),
        facts(
            9,
            **{
                fieldnames.f_enrollment(CK): enr("verified"),
                fieldnames.F_IDV: {"status": "approved"},
                fieldnames.f_certificate(CK): cert("downloadable"),
                fieldnames.f_goal(CK): {"days_per_week": 3},
                fieldnames.f_preference("time_zone"): "Europe/Kiev",
            },
        ),
    ],
)
def test_course_metadata_body_matches_response_model(user: UserFacts) -> None:
    course = {
        **COURSE,
        "display_name": "Demo",
        "org": "edX",
        "number": "DemoX",
        "pacing": "instructor",
        "features": {"notes": True, "course_goals": True, "celebrations": True},
    }
    programs = {"b-uuid": {"title": "B", "type_slug": "xseries"}, "a-uuid": {"title": "B", "type_slug": "xseries"}}
    body = course_metadata(
        course,
        CK,
        user,
        activity=[],
        run_programs=programs,
        now=NOW,
        config=ViewConfig(linkedin_org_id="1"),
        progress=_progress,
    )
    CourseMetadata.model_validate(body)
    assert body["notes"]["visible"] is True
    if user.user_id == 9:
        assert [p["uuid"] for p in body["related_programs"]] == ["a-uuid", "b-uuid"]
        assert body["related_programs"][0]["progress"] == {"completed": 1, "in_progress": 0, "not_started": 2}
        assert body["verification_status"] == "approved"
        assert body["linkedin_add_to_profile_url"].startswith("https://www.linkedin.com/profile/add?")
        assert body["user_timezone"] == "Europe/Kiev"
        assert body["course_goals"]["selected_goal"] == {"days_per_week": 3, "subscribed_to_reminders": False}
    else:
        assert body["related_programs"] is None and body["enrollment"] == {"mode": None, "is_active": False}


@pytest.mark.parametrize("start", ["2026-02-01T00:00:00Z", None])
def test_course_metadata_of_a_shared_document_is_the_same_body(start: str | None) -> None:
    """The course-only head kept per shared document gives the same body, in the same order, for
    every learner and key, as building it each time."""
    course = {**COURSE, "display_name": "Demo", "start": start, "features": {"notes": True}}
    verified = "v1\t" + orjson.dumps(enr("verified")).decode()
    users = [UserFacts(None), UserFacts(9, {fieldnames.f_enrollment(CK): verified})]
    for key in (CK, "course-v1:other+X+1"):
        for user in users:
            bodies = [
                course_metadata(
                    course,
                    key,
                    user,
                    activity=[],
                    run_programs={},
                    now=NOW,
                    config=CONFIG,
                    progress=_progress,
                    shared_document=shared,
                )
                for shared in (False, True, True)
            ]
            assert orjson.dumps(bodies[1]) == orjson.dumps(bodies[0]) == orjson.dumps(bodies[2])
            assert bodies[1]["id"] == key


def test_shared_effective_course_is_effective_course_made_once_per_pair() -> None:
    from readmodels.views.common import shared_effective_course

    course = {**COURSE, "display_name": "Old"}
    newer = ("9999", {"name": "New", "start": "2026-04-01T00:00:00Z"})
    older = ("0000", {"name": "Older"})
    merged = shared_effective_course(course, "5000", newer)
    assert merged == effective_course(course, "5000", newer)
    assert merged["display_name"] == "New" and course["display_name"] == "Old"
    assert shared_effective_course(course, "5000", newer) is merged
    assert shared_effective_course(course, "5000", older) is course
    assert shared_effective_course(course, "5000", None) is course
    other = ("9999", {"name": "Other"})
    assert shared_effective_course(course, "5000", other)["display_name"] == "Other"
