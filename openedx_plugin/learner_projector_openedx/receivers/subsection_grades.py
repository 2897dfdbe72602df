"""Subsection grades: the LMS's `SUBSECTION_SCORE_CHANGED` signal (lms/djangoapps/grades), sent after each
recomputed subsection grade -> `ext.learning.subsection.grade.changed.v1` (graded earned / possible).

Not `PersistentSubsectionGrade`'s `post_save`: the grades app writes those rows with
`bulk_create` too, which sends no signal. The backfill reads the rows (`subsection_grade_event`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from learner_projector_openedx import data, signals
from learner_projector_openedx.publisher import PUBLISHER, guarded
from learner_projector_openedx.times import now


def ratio(earned: float | None, possible: float | None) -> float:
    if not possible or earned is None:
        return 0.0
    return min(max(float(earned) / float(possible), 0.0), 1.0)


def subsection_grade_event(user_id: int, course_key: Any, block_key: Any, earned: float | None,
                           possible: float | None, time: datetime
                           ) -> tuple[dict[str, data.SubsectionGradeData], datetime]:
    payload = data.SubsectionGradeData(user_id=user_id, course_key=course_key, block_key=block_key,
                                       percent=ratio(earned, possible))
    return {"subsection_grade": payload}, time


@guarded
def on_subsection_score_changed(sender: Any, course: Any = None, user: Any = None, subsection_grade: Any = None,
                                **kwargs: Any) -> None:
    if course is None or user is None or subsection_grade is None:
        return
    total = subsection_grade.graded_total
    PUBLISHER.submit_on_commit(signals.SUBSECTION_GRADE_CHANGED, *subsection_grade_event(
        user.id, course.id, subsection_grade.location, total.earned, total.possible, now()))
