"""Celebrations at read time: flags, weekly goal and streaks by the learner's days (fixed now)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

from events.base import lww_version, to_micros
from readmodels import fieldnames, keys
from readmodels.facts import UserFacts
from readmodels.views.celebrations import celebrations, streak_to_celebrate

CK = "course-v1:edX+DemoX+Demo_Course"
NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)  # Wednesday
V = lww_version(1, "x")


def facts(uid: int | None = 7, **fields: Any) -> UserFacts:
    return UserFacts(uid, {k: f"{V}\t{orjson.dumps(v).decode()}" for k, v in fields.items()})


def enrolled(mode: str = "audit", **extra: Any) -> UserFacts:
    return facts(
        **{
            fieldnames.f_enrollment(CK): {"mode": mode, "is_active": True, "created": "2026-03-01T00:00:00Z"},
            fieldnames.f_celebration("first_section", CK): True,
            fieldnames.f_celebration("weekly_goal", CK): True,
            **extra,
        }
    )


def act(kind: str, at: str, course: str = CK) -> tuple[str, int]:
    micros = to_micros(datetime.fromisoformat(at.replace("Z", "+00:00")))
    return keys.activity_member(kind, course, micros), micros


COURSE = {
    "features": {"celebrations": True, "streak_celebrations": True, "streak_discount": True},
    "modes": [{"slug": "audit"}, {"slug": "verified"}],
    "end": None,
}


def test_streak_counts_consecutive_days_before_today() -> None:
    today = date(2026, 3, 11)
    days = {today - timedelta(days=1), today - timedelta(days=2)}
    assert streak_to_celebrate(days, today, [3]) == 3
    assert streak_to_celebrate(days | {today}, today, [3]) is None  # already visited today
    assert streak_to_celebrate(days | {today - timedelta(days=3)}, today, [3]) is None  # a 4-day streak
    assert streak_to_celebrate({today - timedelta(days=1)}, today, [2, 3]) == 2
    assert streak_to_celebrate(set(), today, [1]) is None


def test_celebrations_without_enrollment_are_all_false() -> None:
    assert celebrations(COURSE, CK, facts(), [], NOW) == {
        "first_section": False,
        "weekly_goal": False,
        "streak_length_to_celebrate": None,
        "streak_discount_enabled": False,
    }


def test_first_section_needs_the_course_feature_now() -> None:
    off = {**COURSE, "features": {"celebrations": False}}
    assert celebrations(COURSE, CK, enrolled(), [], NOW)["first_section"] is True
    assert celebrations(off, CK, enrolled(), [], NOW)["first_section"] is False


def test_weekly_goal_counts_distinct_days_since_monday_in_this_course() -> None:
    user = enrolled(**{fieldnames.f_goal(CK): {"days_per_week": 2, "subscribed_to_reminders": False}})
    mon_tue = [act("v", "2026-03-09T10:00:00Z"), act("c", "2026-03-10T10:00:00Z"), act("v", "2026-03-10T11:00:00Z")]
    assert celebrations(COURSE, CK, user, mon_tue, NOW)["weekly_goal"] is True
    last_week = [act("v", "2026-03-08T10:00:00Z"), act("v", "2026-03-09T10:00:00Z")]
    assert celebrations(COURSE, CK, user, last_week, NOW)["weekly_goal"] is False
    other_course = [act("v", "2026-03-09T10:00:00Z"), act("v", "2026-03-10T10:00:00Z", "course-v1:a+b+c")]
    assert celebrations(COURSE, CK, user, other_course, NOW)["weekly_goal"] is False


def test_weekly_goal_needs_a_goal_and_the_armed_flag() -> None:
    days = [act("v", "2026-03-09T10:00:00Z"), act("v", "2026-03-10T10:00:00Z")]
    no_goal = enrolled()
    assert celebrations(COURSE, CK, no_goal, days, NOW)["weekly_goal"] is False
    acked = enrolled(**{fieldnames.f_goal(CK): {"days_per_week": 2},
                        fieldnames.f_celebration("weekly_goal", CK): False})
    assert celebrations(COURSE, CK, acked, days, NOW)["weekly_goal"] is False


def test_streak_uses_time_zone_preference_then_browser_then_utc() -> None:
    # 02:00Z on Mon and Tue are Sun and Mon evenings in Los Angeles: yesterday (Tue) has no visit there.
    visits = [act("v", "2026-03-09T02:00:00Z"), act("v", "2026-03-10T02:00:00Z", "course-v1:a+b+c")]
    assert celebrations(COURSE, CK, enrolled(), visits, NOW)["streak_length_to_celebrate"] == 3
    la = celebrations(COURSE, CK, enrolled(), visits, NOW, browser_timezone="America/Los_Angeles")
    assert la["streak_length_to_celebrate"] is None
    pref = enrolled(**{fieldnames.f_preference("time_zone"): "America/Los_Angeles"})
    assert celebrations(COURSE, CK, pref, visits, NOW, browser_timezone="UTC")["streak_length_to_celebrate"] is None
    bogus = celebrations(COURSE, CK, enrolled(), visits, NOW, browser_timezone="Not/AZone")
    assert bogus["streak_length_to_celebrate"] == 3


def test_streak_is_null_while_masquerading_and_discount_follows_rules() -> None:
    visits = [act("v", "2026-03-09T12:00:00Z"), act("v", "2026-03-10T12:00:00Z")]
    got = celebrations(COURSE, CK, enrolled(), visits, NOW)
    assert (got["streak_length_to_celebrate"], got["streak_discount_enabled"]) == (3, True)
    assert celebrations(COURSE, CK, enrolled(), visits, NOW, masquerading=True)["streak_length_to_celebrate"] is None
    assert celebrations(COURSE, CK, enrolled("verified"), visits, NOW)["streak_discount_enabled"] is False
    ended = {**COURSE, "end": "2026-03-01T00:00:00Z"}
    assert celebrations(ended, CK, enrolled(), visits, NOW)["streak_discount_enabled"] is False
    expired = {**COURSE, "modes": [{"slug": "verified", "upgrade_deadline": "2026-03-10T00:00:00Z"}]}
    assert celebrations(expired, CK, enrolled(), visits, NOW)["streak_discount_enabled"] is False
    assert celebrations(COURSE, CK, enrolled(), visits, NOW, streak_lengths=[5])["streak_length_to_celebrate"] is None
