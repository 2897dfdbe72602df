"""User preferences -> `ext.learning.user.preference.changed.v1`, for the two keys the read models use.

- `time_zone`: edx-platform's `UserPreference` (openedx/core/djangoapps/user_api) rows with that
  key; other preferences are not published (they are not ours to copy). No timestamp on the row:
  a live change is stamped when seen; a deleted row clears the value (null).
- `notes_visibility:<course_key>`: the LMS keeps the "Show notes" switch as the course block's
  `edxnotes_visibility` field in user_info scope, i.e. one `XModuleStudentInfoField` row per user
  (not per course; lms/djangoapps/courseware), so one change is published for each course the
  learner is actively enrolled in, with the row's `modified` time.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from learner_projector_openedx import data, edx_platform, signals
from learner_projector_openedx.publisher import PUBLISHER, guarded
from learner_projector_openedx.times import now

TIME_ZONE = "time_zone"
NOTES_FIELD = "edxnotes_visibility"


def notes_key(course_key: object) -> str:
    return f"notes_visibility:{course_key}"


def preference_event(user_id: int, key: str, value: str | None,
                     time: datetime) -> tuple[dict[str, data.PreferenceData], datetime]:
    return {"preference": data.PreferenceData(user_id=user_id, key=key, value=value)}, time


def notes_value(raw: str) -> str:
    """`"true"`/`"false"`, from the JSON the field store writes (a missing or odd value: shown)."""
    try:
        return "false" if json.loads(raw) is False else "true"
    except (TypeError, ValueError):
        return "true"


def notes_events(row: Any) -> list[tuple[dict[str, data.PreferenceData], datetime]]:
    value = notes_value(row.value)
    return [preference_event(row.student_id, notes_key(course), value, row.modified)
            for course in edx_platform.active_course_keys(row.student_id)]


@guarded
def on_user_preference_saved(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if not raw and instance.key == TIME_ZONE:
        PUBLISHER.submit_on_commit(signals.USER_PREFERENCE_CHANGED,
                                   *preference_event(instance.user_id, TIME_ZONE, instance.value or None, now()))


@guarded
def on_user_preference_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.key == TIME_ZONE:
        PUBLISHER.submit_on_commit(signals.USER_PREFERENCE_CHANGED,
                                   *preference_event(instance.user_id, TIME_ZONE, None, now()))


@guarded
def on_student_info_field_saved(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if not raw and instance.field_name == NOTES_FIELD:
        for event in notes_events(instance):
            PUBLISHER.submit_on_commit(signals.USER_PREFERENCE_CHANGED, *event)
