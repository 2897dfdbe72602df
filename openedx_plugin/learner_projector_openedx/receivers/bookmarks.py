"""Bookmarks: edx-platform's `Bookmark` (openedx/core/djangoapps/bookmarks) -> `ext.learning.bookmark.changed.v1`.

A saved row is a bookmark (its `modified` time); a deleted row is an unbookmark, seen now.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from learner_projector_openedx import data, signals
from learner_projector_openedx.publisher import PUBLISHER, guarded
from learner_projector_openedx.times import now


def bookmark_event(row: Any, bookmarked: bool, time: datetime) -> tuple[dict[str, data.BookmarkData], datetime]:
    usage_key = row.usage_key
    if getattr(usage_key, "run", True) is None:  # old-mongo keys: fill the run in, as upstream does
        usage_key = usage_key.replace(course_key=row.course_key)
    payload = data.BookmarkData(user_id=row.user_id, course_key=row.course_key, usage_key=usage_key,
                                bookmarked=bookmarked)
    return {"bookmark": payload}, time


@guarded
def on_bookmark_saved(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        PUBLISHER.submit_on_commit(signals.BOOKMARK_CHANGED, *bookmark_event(instance, True, instance.modified))


@guarded
def on_bookmark_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    PUBLISHER.submit_on_commit(signals.BOOKMARK_CHANGED, *bookmark_event(instance, False, now()))
