"""The `ext.content.course.published.v1` snapshot of a course, built from its published blocks.

Input is the course block as Studio's modulestore gives it (course fields, `get_children()` down
to the components) plus the facts that live beside it in edx-platform (course modes, schedule &
details, gating prerequisites, feature toggles), read through `edx_platform`. The outline keeps
chapters -> sequentials -> verticals -> components in course order; the rules that the LMS
applies when it renders the same blocks are followed where EVENTS.md has a field for them:
- a unit's icon is `problem` if any component's icon class is problem, else `video` if any is
  video, else `other` (the sequence block's class priority);
- a component is completable when XBlock's completion mode says COMPLETABLE (`xblock.completable`);
- a unit contains gated content when content type gating is on for the course and the unit has a
  scored component in a graded subsection (what the gating partition hides from audit learners);
- the lowest passing grade is the smallest grade cutoff (as CourseOverview computes it);
- an entrance exam's minimum score is stored by Studio as a fraction (values above 1 are percents).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import UsageKey
from xblock.completable import XBlockCompletionMode

from learner_projector_openedx import data, edx_platform

YOUTUBE = "https://www.youtube.com/watch?v={}"


def children(block: Any) -> list[Any]:
    return list(block.get_children()) if getattr(block, "has_children", True) else []


def block_type(block: Any) -> str:
    return str(block.location.block_type)


def completable(block: Any) -> bool:
    return XBlockCompletionMode.get_mode(block) == XBlockCompletionMode.COMPLETABLE


def icon(components: list[Any]) -> str:
    classes = {getattr(c, "get_icon_class", lambda: "other")() for c in components}
    return "problem" if "problem" in classes else "video" if "video" in classes else "other"


def fraction(value: Any, default: float) -> float:
    if value is None:
        return default
    ratio = float(value)
    return min(max(ratio / 100 if ratio > 1 else ratio, 0.0), 1.0)


def build_unit(unit: Any, graded: bool, gating: bool) -> data.Unit:
    components = children(unit)
    scored = any(getattr(c, "has_score", False) for c in components)
    return data.Unit(
        block_key=unit.location,
        display_name=unit.display_name or "",
        page_title=unit.display_name or None,
        icon=icon(components),
        graded=bool(graded),
        contains_gated_content=bool(gating and graded and scored),
        blocks=[data.Block(block_key=c.location, block_type=block_type(c), completable=completable(c))
                for c in components],
    )


def prerequisite(course_key: Any, sequence: Any) -> data.Prerequisite | None:
    prereq, min_score = edx_platform.required_content(course_key, sequence.location)
    if not prereq:
        return None
    try:
        key = UsageKey.from_string(str(prereq))
    except InvalidKeyError:
        return None
    return data.Prerequisite(block_key=key, min_score=fraction(min_score, 0.0))


def build_sequence(course_key: Any, sequence: Any, gating: bool) -> data.Sequence:
    graded = bool(getattr(sequence, "graded", False))
    return data.Sequence(
        block_key=sequence.location,
        display_name=sequence.display_name or "",
        format=getattr(sequence, "format", None) or None,
        graded=graded,
        due=getattr(sequence, "due", None),
        hide_after_due=bool(getattr(sequence, "hide_after_due", False)),
        is_time_limited=bool(getattr(sequence, "is_time_limited", False)),
        is_proctored=bool(getattr(sequence, "is_proctored_exam", False)),
        hide_from_toc=bool(getattr(sequence, "hide_from_toc", False)),
        prerequisite=prerequisite(course_key, sequence),
        units=[build_unit(u, graded, gating) for u in children(sequence)],
    )


def build_outline(course: Any, gating: bool) -> list[data.Chapter]:
    return [
        data.Chapter(block_key=chapter.location, display_name=chapter.display_name or "",
                     sequences=[build_sequence(course.id, s, gating) for s in children(chapter)])
        for chapter in children(course)
    ]


def build_modes(rows: list[Any]) -> list[data.Mode]:
    return [data.Mode(slug=row.mode_slug,
                      min_price=float(row.min_price) if row.min_price is not None else None,
                      currency=row.currency or None, sku=getattr(row, "sku", None) or None,
                      upgrade_deadline=getattr(row, "expiration_datetime", None))
            for row in rows]


def entrance_exam(course: Any) -> data.EntranceExam | None:
    exam_id = getattr(course, "entrance_exam_id", None)
    if not getattr(course, "entrance_exam_enabled", False) or not exam_id:
        return None
    try:
        key = UsageKey.from_string(str(exam_id))
    except InvalidKeyError:
        return None
    return data.EntranceExam(chapter_key=key,
                             minimum_score_pct=fraction(getattr(course, "entrance_exam_minimum_score_pct", None), 0.5))


def lowest_passing_grade(course: Any) -> float:
    cutoffs = [float(v) for v in (getattr(course, "grade_cutoffs", None) or {}).values()]
    return min(cutoffs) if cutoffs else 0.5


def build_course(course: Any) -> data.CoursePublishedData:
    """The snapshot of one published course block (with `edx_platform` for what lives beside it)."""
    key = course.id
    details = edx_platform.course_details(key)
    features = edx_platform.course_features(course)
    video = getattr(details, "intro_video", None)
    return data.CoursePublishedData(
        course_key=key,
        org=key.org,
        number=key.course,
        run=key.run,
        display_name=course.display_name or "",
        short_description=getattr(details, "short_description", None) or None,
        overview=getattr(details, "overview", None) or None,
        effort=getattr(details, "effort", None) or None,
        language=getattr(course, "language", None) or getattr(details, "language", None) or None,
        license=getattr(course, "license", None) or None,
        start=getattr(course, "start", None),
        end=getattr(course, "end", None),
        enrollment_start=getattr(course, "enrollment_start", None),
        enrollment_end=getattr(course, "enrollment_end", None),
        advertised_start=getattr(course, "advertised_start", None) or None,
        pacing="self" if getattr(course, "self_paced", False) else "instructor",
        course_image_url=edx_platform.course_image_url(course),
        course_video_url=YOUTUBE.format(video) if video else None,
        marketing_url=getattr(course, "marketing_url", None) or None,
        show_calculator=bool(getattr(course, "show_calculator", False)),
        invitation_only=bool(getattr(course, "invitation_only", False)),
        lowest_passing_grade=lowest_passing_grade(course),
        modes=build_modes(edx_platform.course_modes(key)),
        expected_duration_weeks=None,  # a course-discovery fact; the LMS does not keep it
        certificate_available_date=getattr(course, "certificate_available_date", None),
        honor_certificates_enabled=edx_platform.honor_certificates_enabled(),
        entrance_exam=entrance_exam(course),
        features=data.Features(**features),
        outline=build_outline(course, features["content_type_gating"]),
    )


def published_time(course: Any, default: datetime) -> datetime:
    """The snapshot's `ce_time`: when the course was published (split modulestore), else `default`."""
    return getattr(course, "published_on", None) or default
