"""Sequence position: the `position` field of a sequential's `StudentModule` row (lms/djangoapps/courseware)
-> `ext.learning.sequence.position.changed.v1`.

The LMS stores a sequence's last opened unit (1-based) in the sequential's user state, a JSON
document in `StudentModule.state` (the Learning MFE's `goto_position` handler writes it). Other
module types, and states without a positive integer position, publish nothing.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from learner_projector_openedx import data, signals
from learner_projector_openedx.publisher import PUBLISHER, guarded

SEQUENTIAL = "sequential"


def position_of(state: str | None) -> int | None:
    try:
        position = json.loads(state or "{}").get("position")
    except (TypeError, ValueError, AttributeError):
        return None
    return position if isinstance(position, int) and not isinstance(position, bool) and position >= 1 else None


def position_event(row: Any) -> tuple[dict[str, data.PositionData], datetime] | None:
    if row.module_type != SEQUENTIAL:
        return None
    position = position_of(row.state)
    if position is None:
        return None
    key = row.module_state_key
    if getattr(key, "run", True) is None:  # old-mongo keys: fill the run in, as upstream does
        key = key.map_into_course(row.course_id)
    return {"position": data.PositionData(user_id=row.student_id, sequence_key=key, position=position)}, row.modified


@guarded
def on_student_module_saved(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    event = position_event(instance)
    if event is not None:
        PUBLISHER.submit_on_commit(signals.SEQUENCE_POSITION_CHANGED, *event)
