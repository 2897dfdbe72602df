"""The learner-course rules that both the API and the projected topics (PROJECTED.md) compute:
passing at the grade boundary, the course status, the resume point and the armed celebration flags.

Each rule is one function here; the course and celebration views, the resume reader and the change
records (projectors/change_records/states.py) call it, so the two sides cannot disagree (they did:
the projected `is_passing` rounded with float round(), the API half-up). Program buckets are the
same kind of rule: program_progress.py. Pure: stored facts in, values out.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from readmodels import fieldnames
from readmodels.facts import UserFacts

DEFAULT_PASSING_GRADE = 0.5  # a course document without `lowest_passing_grade` (events.content)
CELEBRATION_FLAGS = ("first_section", "weekly_goal")


def user_has_passing_grade(course: dict[str, Any] | None, course_key: str, user: UserFacts) -> bool:
    """API.md `user_has_passing_grade`: the percent grade, rounded half-up to two places, against the
    course's passing bar; without a percent grade (or, for the projected status only, without a
    published course to take the bar from), the stored passing status. Anonymous: False."""
    if user.user_id is None:
        return False
    percent = user.get(fieldnames.f_grade(course_key))
    if isinstance(percent, int | float) and course is not None:
        return passes(float(percent), float(course.get("lowest_passing_grade", DEFAULT_PASSING_GRADE)))
    return user.get(fieldnames.f_passing(course_key)) is True


@lru_cache(maxsize=4096)
def passes(percent: float, lowest: float) -> bool:
    """Half-up on the decimal text (0.495 -> 0.50), not binary float rounding (round(0.495, 2) == 0.49).
    Pure in its two floats; grades and thresholds repeat, the Decimal work is kept per pair."""
    rounded = Decimal(repr(percent)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return rounded >= Decimal(repr(lowest))


def enrollment_state(enrollment: dict[str, Any] | None) -> dict[str, Any]:
    """`{mode, is_active}` of the newest enrollment fact (mode also of an inactive one)."""
    return {
        "mode": enrollment.get("mode") if enrollment else None,
        "is_active": bool(enrollment and enrollment.get("is_active")),
    }


def course_status(course: dict[str, Any] | None, course_key: str, user: UserFacts) -> dict[str, Any] | None:
    """The learner-course status (projected-learner-course-status): the enrollment as the course
    body shows it, the percent grade, passing as `user_has_passing_grade`, the certificate's status;
    None while the learner has none of those facts in the course."""
    enrollment = user.get(fieldnames.f_enrollment(course_key))
    grade = user.get(fieldnames.f_grade(course_key))
    certificate = user.get(fieldnames.f_certificate(course_key))
    passing = user.get(fieldnames.f_passing(course_key))
    if enrollment is None and grade is None and certificate is None and passing is None:
        return None
    return {
        **enrollment_state(enrollment),
        "percent_grade": grade,
        "is_passing": user_has_passing_grade(course, course_key, user),
        "cert_status": certificate.get("status") if certificate else None,
    }


def resume_point(block: Any, place: str | None) -> dict[str, str | None] | None:
    """API.md resume: `block` the stored resume block (the newest completion's), `place` its entry in
    the newest outline (`keys.course_blocks`: "<type>\\t<unit key>\\t<sequence key>", empty parts
    when not inside one). None when there is no resume block or it is not in that outline: the API
    then answers all null, and the projected resume point has no state."""
    if not isinstance(block, str) or not place:
        return None
    _type, unit, sequence = [*place.split("\t"), "", ""][:3]
    return {"block_id": block, "unit_id": unit or None, "section_id": sequence or None}


def armed_celebrations(user: UserFacts, course_key: str) -> dict[str, bool] | None:
    """The stored celebration flags (projected-celebrations; the API's celebrations start from them
    and add the course's features and the learner's activity). None while neither flag is stored."""
    stored = [user.get(fieldnames.f_celebration(flag, course_key)) for flag in CELEBRATION_FLAGS]
    if all(v is None for v in stored):
        return None
    return {flag: v is True for flag, v in zip(CELEBRATION_FLAGS, stored, strict=True)}
