"""Celebrations: the LMS's own `CourseEnrollmentCelebration` (common/djangoapps/student), written when a
learner dismisses a celebration in an MFE served by the LMS -> `ext.learning.celebration.acknowledged.v1`.

Only the flags a save changed are sent (EVENTS.md: only the keys given are set; false
acknowledges, true re-arms): the LMS's celebration view saves through `update_or_create`, whose
`update_fields` name them. A newly created row is not published: our projection arms the
celebrations from the enrollment itself. The backfill sends both stored flags.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from learner_projector_openedx import data, signals
from learner_projector_openedx.publisher import PUBLISHER, guarded

FLAGS = {"celebrate_first_section": "first_section", "celebrate_weekly_goal": "weekly_goal"}


def celebration_event(row: Any, fields: Collection[str] | None = None
                      ) -> tuple[dict[str, data.CelebrationData], datetime] | None:
    given = {ours: bool(getattr(row, theirs)) for theirs, ours in FLAGS.items() if fields is None or theirs in fields}
    if not given:
        return None
    enrollment = row.enrollment
    payload = data.CelebrationData(user_id=enrollment.user_id, course_key=enrollment.course_id, **given)
    return {"celebration": payload}, row.modified


@guarded
def on_celebration_saved(sender: Any, instance: Any, created: bool = False, raw: bool = False,
                         update_fields: Collection[str] | None = None, **kwargs: Any) -> None:
    if created or raw:
        return
    event = celebration_event(instance, update_fields)
    if event is not None:
        PUBLISHER.submit_on_commit(signals.CELEBRATION_ACKNOWLEDGED, *event)
