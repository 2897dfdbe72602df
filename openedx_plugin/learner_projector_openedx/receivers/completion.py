"""Block completion: edx-completion's `BlockCompletion` saves -> `ext.learning.block.completion.changed.v1`.

edx-completion writes a row per (user, course, block) through `submit_completion` (create, or a
save with `update_fields={'completion', 'modified'}`), so `post_save` sees every change with the
row's own `modified` time, which becomes both the payload's `modified` and the event's `ce_time`.
"""

from __future__ import annotations

from typing import Any

from learner_projector_openedx import data, signals
from learner_projector_openedx.publisher import PUBLISHER, guarded


def completion_event(row: Any) -> tuple[dict[str, data.CompletionData], Any] | None:
    """The event payload and time of one `BlockCompletion` row (also used by the backfill); None for
    a learning context that is not a course run (a content library): our read models are per course."""
    if not getattr(row.context_key, "is_course", False):
        return None
    payload = data.CompletionData(
        user_id=row.user_id,
        course_key=row.context_key,
        block_key=row.full_block_key,  # old-mongo keys get their run filled in
        completion=float(row.completion),
        modified=row.modified,
    )
    return {"completion": payload}, row.modified


@guarded
def on_block_completion_saved(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw:  # fixture loading
        return
    event = completion_event(instance)
    if event is not None:
        PUBLISHER.submit_on_commit(signals.BLOCK_COMPLETION_CHANGED, *event)
