"""The sequence-metadata body (API.md "GET /api/courseware/sequence"): gating, hidden-after-due,
completion, bookmarks and position, all resolved at read time from stored facts + now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from readmodels import fieldnames
from readmodels.facts import UserFacts
from readmodels.views.common import time_or_none

BANNER_DUE = "Because the due date has passed, this assignment is hidden from the learner."
BANNER_ENDED = "Because the course has ended, this assignment is hidden from the learner."
BANNER_PREREQUISITE = (
    "This section is a prerequisite. You must complete this section in order to unlock additional content."
)


def hidden_after_due(sequence: dict[str, Any], course: dict[str, Any], now: datetime) -> bool:
    """hide_after_due and past due (instructor-paced) or past course end (self-paced), for a learner."""
    if not sequence.get("hide_after_due"):
        return False
    if course.get("pacing") == "self":
        end = time_or_none(course.get("end"))
        return end is not None and end < now
    due = time_or_none(sequence.get("due"))
    return due is not None and due < now


def prerequisite_met(user: UserFacts, prerequisite_key: str, min_score: Any) -> bool:
    """The one gating rule (API.md): the effective user's subsection grade for the prerequisite (0
    when none is known; both 0..1) reaches `min_score`; an anonymous caller never meets one. Both
    sides of a gate use it: the gated sequence (`gated_content`) and the gate itself
    (`gate_fulfilled`)."""
    if user.user_id is None:
        return False
    score = user.get(fieldnames.f_subsection_grade(prerequisite_key))
    score = float(score) if isinstance(score, int | float) else 0.0
    return score >= float(min_score or 0.0)


def gate_fulfilled(sequence: dict[str, Any], user: UserFacts) -> bool:
    """Upstream's `_is_gate_fulfilled`: true unless this sequence is the prerequisite of another
    whose requirement the effective user has not met (`gates`: readmodels/documents.py)."""
    gates = sequence.get("gates") or ()
    return all(prerequisite_met(user, sequence["block_key"], gate.get("min_score")) for gate in gates)


def gated_content(sequence: dict[str, Any], user: UserFacts, lms_base_url: str) -> dict[str, Any]:
    prereq: dict[str, Any] = sequence.get("prerequisite") or {}
    gated = bool(prereq) and not prerequisite_met(user, prereq["block_key"], prereq.get("min_score"))
    if not gated:
        return {
            "prereq_id": None,
            "prereq_url": None,
            "prereq_section_name": None,
            "gated": False,
            "gated_section_name": sequence.get("display_name"),
        }
    return {
        "prereq_id": prereq["block_key"],
        "prereq_url": f"{lms_base_url}/courses/{sequence['course_key']}/jump_to/{prereq['block_key']}",
        "prereq_section_name": prereq.get("display_name"),
        "gated": True,
        "gated_section_name": sequence.get("display_name"),
    }


def _item(
    unit: dict[str, Any], sequence: dict[str, Any], user: UserFacts, completions: dict[str, float], type_gated: bool
) -> dict[str, Any]:
    chapter = (sequence.get("chapter") or {}).get("display_name") or ""
    item: dict[str, Any] = {
        "content": "",
        "page_title": unit.get("page_title") or unit.get("display_name"),
        "type": unit.get("icon") or "other",
        "id": unit["block_key"],
        "bookmarked": user.get(fieldnames.f_bookmark(unit["block_key"])) is True,
        "path": f"{chapter} > {sequence.get('display_name')} > {unit.get('display_name')}",
        "graded": bool(unit.get("graded")),
        "contains_content_type_gated_content": type_gated and bool(unit.get("contains_gated_content")),
        "href": "",
    }
    if user.user_id is not None:
        item["complete"] = all(completions.get(b, 0.0) >= 1.0 for b in unit.get("completable") or ())
    return item


def sequence_metadata(
    sequence: dict[str, Any],
    course: dict[str, Any],
    usage_key: str,
    element_id: str,
    user: UserFacts,
    completions: dict[str, float],
    now: datetime,
    *,
    lms_base_url: str,
    caller_is_staff: bool = False,
    masquerading: bool = False,
    learner_is_staff: bool = False,
) -> dict[str, Any]:
    """`course` is the effective course; `user` the effective user (anonymous: user_id None)."""
    anonymous = user.user_id is None
    features = course.get("features") or {}
    enrollment = None if anonymous else user.get(fieldnames.f_enrollment(sequence["course_key"]))
    mode = enrollment.get("mode") if enrollment else None
    type_gated = bool(features.get("content_type_gating")) and mode in (None, "audit")
    gating = gated_content(sequence, user, lms_base_url)
    units = sequence.get("units") or []
    if gating["gated"]:
        items = [
            {
                "id": u["block_key"],
                "type": "vertical",
                "display_name": u.get("display_name"),
                "is_gated": True,
                "content": "",
            }
            for u in units
        ]
    else:
        items = [_item(u, sequence, user, completions, type_gated) for u in units]
    past_due = hidden_after_due(sequence, course, now)
    banner = None
    if masquerading and past_due and not learner_is_staff:
        banner = BANNER_ENDED if course.get("pacing") == "self" else BANNER_DUE
    if not gating["gated"] and not gate_fulfilled(sequence, user):
        banner = BANNER_PREREQUISITE  # upstream sets it last: it replaces the hidden-after-due notice
    position = None if anonymous else user.get(fieldnames.f_position(usage_key))
    return {
        "items": items,
        "element_id": element_id,
        "item_id": usage_key,
        "is_time_limited": bool(sequence.get("is_time_limited")),
        "is_proctored": bool(sequence.get("is_proctored")),
        "position": position if isinstance(position, int) and position >= 1 else None,
        "tag": "sequential",
        "next_url": None,
        "prev_url": None,
        "banner_text": banner,
        "save_position": not anonymous,
        "show_completion": not anonymous,
        "gated_content": gating,
        "sequence_name": sequence.get("display_name"),
        "display_name": sequence.get("display_name"),
        "format": sequence.get("format"),
        "exclude_units": True,
        "gated_sequence_paywall": None,
        "is_hidden_after_due": past_due and not caller_is_staff and not learner_is_staff,
        "navigation_disabled": bool(sequence.get("hide_from_toc")),
    }
