"""Course goals: edx-platform's `CourseGoal` (lms/djangoapps/course_goals) -> `ext.learning.course.goal.changed.v1`.

The row has no timestamp of its own (its `history` table has one: the backfill uses it), so a
live save is stamped with the time it is seen. Deleting the goal clears it (`days_per_week` 0).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from learner_projector_openedx import data, signals
from learner_projector_openedx.publisher import PUBLISHER, guarded
from learner_projector_openedx.times import now


def goal_event(row: Any, time: datetime, deleted: bool = False) -> tuple[dict[str, data.GoalData], datetime]:
    payload = data.GoalData(
        user_id=row.user_id,
        course_key=row.course_key,
        days_per_week=0 if deleted else int(row.days_per_week),
        subscribed_to_reminders=False if deleted else bool(row.subscribed_to_reminders),
    )
    return {"goal": payload}, time


@guarded
def on_course_goal_saved(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        PUBLISHER.submit_on_commit(signals.COURSE_GOAL_CHANGED, *goal_event(instance, now()))


@guarded
def on_course_goal_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    PUBLISHER.submit_on_commit(signals.COURSE_GOAL_CHANGED, *goal_event(instance, now(), deleted=True))
