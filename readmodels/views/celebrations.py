"""Celebrations (API.md "celebrations"): stored flags joined with the course features, goals and the
learner's activity, grouped into days in the learner's time zone at read time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from readmodels import fieldnames
from readmodels.facts import UserFacts
from readmodels.views.common import time_or_none, zone
from readmodels.views.learner_course import armed_celebrations
from readmodels.views.moment import local_date

NOT_ARMED = {"first_section": False, "weekly_goal": False}


def day_zone(user: UserFacts, browser_timezone: str | None) -> tzinfo:
    """The user's `time_zone` preference, else the request's `browser_timezone`, else UTC."""
    return zone(user.get(fieldnames.f_preference("time_zone"))) or zone(browser_timezone) or UTC


def activity_days(activity: Iterable[tuple[str, int]], tz: tzinfo, *, kinds: str, course_key: str | None) -> set[date]:
    """Local days with an activity bucket of one of `kinds` ("v" visit, "c" completion), in one
    course or (course_key None) in any."""
    days: set[date] = set()
    for member, micros in activity:
        kind, _, rest = member.partition("\t")
        ck = rest.rpartition("\t")[0]
        if kind not in kinds or (course_key is not None and ck != course_key):
            continue
        days.add(_local_day(micros, tz))
    return days


@lru_cache(maxsize=65_536)
def _local_day(micros: int, tz: tzinfo) -> date:
    """The local day of an activity bucket's start: buckets are few (15 minutes each, 15 days kept)
    and recur on every read of every learner active at the time; dates are immutable."""
    return datetime.fromtimestamp(micros / 1_000_000, UTC).astimezone(tz).date()


def streak_to_celebrate(visit_days: set[date], today: date, lengths: Iterable[int]) -> int | None:
    """L when today has no visit yet, the L-1 days before today each have one, the day L days
    before today has none, and L is a celebrated length."""
    if today in visit_days:
        return None
    run = 0
    while today - timedelta(days=run + 1) in visit_days:
        run += 1
    length = run + 1
    return length if run > 0 and length in set(lengths) else None


def _verified_upgradable(course: dict[str, Any], now: datetime) -> bool:
    for mode in course.get("modes") or ():
        if mode.get("slug") == "verified":
            deadline = time_or_none(mode.get("upgrade_deadline"))
            if deadline is None or deadline > now:
                return True
    return False


def celebrations(
    course: dict[str, Any],
    course_key: str,
    user: UserFacts,
    activity: Iterable[tuple[str, int]],
    now: datetime,
    *,
    browser_timezone: str | None = None,
    streak_lengths: Iterable[int] = (3,),
    masquerading: bool = False,
) -> dict[str, Any]:
    enrollment = user.get(fieldnames.f_enrollment(course_key)) if user.user_id is not None else None
    if not enrollment:
        return {
            "first_section": False,
            "weekly_goal": False,
            "streak_length_to_celebrate": None,
            "streak_discount_enabled": False,
        }
    features = course.get("features") or {}
    on = bool(features.get("celebrations"))
    activity = list(activity)
    tz = day_zone(user, browser_timezone)
    today = local_date(now, tz)

    armed = armed_celebrations(user, course_key) or NOT_ARMED
    weekly = False
    goal = user.get(fieldnames.f_goal(course_key)) or {}
    days_per_week = int(goal.get("days_per_week") or 0)
    if on and armed["weekly_goal"] and days_per_week > 0:
        monday = today - timedelta(days=today.weekday())
        days = activity_days(activity, tz, kinds="vc", course_key=course_key)
        weekly = sum(1 for d in days if monday <= d <= today) == days_per_week

    streak = None
    if features.get("streak_celebrations") and not masquerading:
        streak = streak_to_celebrate(activity_days(activity, tz, kinds="v", course_key=None), today, streak_lengths)

    end = time_or_none(course.get("end"))
    discount = (
        streak is not None
        and bool(features.get("streak_discount"))
        and enrollment.get("mode") == "audit"
        and _verified_upgradable(course, now)
        and (end is None or end > now)
    )
    return {
        "first_section": on and armed["first_section"],
        "weekly_goal": weekly,
        "streak_length_to_celebrate": streak,
        "streak_discount_enabled": discount,
    }
