"""Studio's course publish (`xmodule.modulestore.django.COURSE_PUBLISHED`, in the CMS)
-> `ext.content.course.published.v1`, a complete snapshot of the published course.

Reading and walking a whole course is too slow for the publishing request, so the receiver only
queues a job; the sending thread reads the published branch and builds the snapshot
(snapshots/course.py). The backfill builds the same snapshot for every course (`course_event`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from learner_projector_openedx import data, edx_platform, signals
from learner_projector_openedx.publisher import PUBLISHER, Event, guarded
from learner_projector_openedx.snapshots.course import build_course, published_time
from learner_projector_openedx.times import now

log = logging.getLogger(__name__)


def course_event(course_key: Any) -> tuple[dict[str, data.CoursePublishedData], datetime] | None:
    course = edx_platform.published_course(course_key)
    if course is None:
        log.info("learner-projector: no published course %s", course_key)
        return None
    return {"course": build_course(course)}, published_time(course, now())


def course_events(course_key: Any) -> list[Event]:
    event = course_event(course_key)
    return [] if event is None else [(signals.COURSE_PUBLISHED, *event)]


@guarded
def on_course_published(sender: Any, course_key: Any = None, **kwargs: Any) -> None:
    if course_key is not None and getattr(course_key, "is_course", True):
        PUBLISHER.submit_job(f"{signals.COURSE_PUBLISHED.event_type} {course_key}", lambda: course_events(course_key))
