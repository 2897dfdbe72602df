"""The backfill: a site's LMS tables walked in primary-key chunks and published as events with their
original times, so `lp rebuild` can build the read models of learners whose history predates the bus.

Each `Source` names a model (`edx_platform`'s paths), the field `--since` and `--course` filter
on, and the function (the same one the live receiver uses, where there is one) that turns a
chunk of rows into events. An event's `ce_time` is the row's own modified time; a row with no
time of its own (goals, preferences, roles) takes the time its chunk was read, which is never
later than a change the LMS makes after the read, so last-writer-wins keeps the newer fact.
Re-running sends the same facts again: the projections are last-writer-wins and set-like, so
it is idempotent. Events are sent synchronously, and the producer is flushed after each chunk
(back-pressure, and delivery errors are counted before the next chunk).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model

from learner_projector_openedx import edx_platform as edx
from learner_projector_openedx import official, signals
from learner_projector_openedx.official import Event
from learner_projector_openedx.receivers.bookmarks import bookmark_event
from learner_projector_openedx.receivers.celebrations import celebration_event
from learner_projector_openedx.receivers.completion import completion_event
from learner_projector_openedx.receivers.course_goals import goal_event
from learner_projector_openedx.receivers.course_published import course_event
from learner_projector_openedx.receivers.enterprise import link_event
from learner_projector_openedx.receivers.positions import SEQUENTIAL, position_event
from learner_projector_openedx.receivers.preferences import NOTES_FIELD, TIME_ZONE, notes_events, preference_event
from learner_projector_openedx.receivers.signatures import signature_event
from learner_projector_openedx.receivers.subsection_grades import subsection_grade_event
from learner_projector_openedx.times import now


@dataclass(frozen=True)
class Chunk:
    rows: list[Any]
    read_at: datetime
    overviews: dict[Any, Any]


@dataclass(frozen=True)
class Source:
    name: str
    model: str
    events: Callable[[Chunk], Iterable[Event | None]]
    time_field: str | None = None  # --since; None: every row (it has no time of its own)
    course_field: str | None = None  # --course
    related: tuple[str, ...] = ()
    where: dict[str, Any] = field(default_factory=dict)
    needs_overviews: bool = False


def _one(signal: Any, made: tuple[dict[str, Any], datetime] | None) -> Event | None:
    return None if made is None else (signal, made[0], made[1])


def _grades(chunk: Chunk) -> Iterator[Event]:
    users = get_user_model().objects.select_related("profile").in_bulk({r.user_id for r in chunk.rows})
    for row in chunk.rows:
        if row.user_id in users:
            yield official.grade_event(row, users[row.user_id], chunk.overviews)


SOURCES: tuple[Source, ...] = (
    Source("enrollments", edx.COURSE_ENROLLMENT, lambda c: (official.enrollment_event(r, c.overviews) for r in c.rows),
           time_field="created", course_field="course_id", related=("user", "user__profile"), needs_overviews=True),
    Source("celebrations", edx.CELEBRATION,
           lambda c: (_one(signals.CELEBRATION_ACKNOWLEDGED, celebration_event(r)) for r in c.rows),
           time_field="modified", course_field="enrollment__course_id", related=("enrollment",)),
    Source("completions", "completion.models.BlockCompletion",
           lambda c: (_one(signals.BLOCK_COMPLETION_CHANGED, completion_event(r)) for r in c.rows),
           time_field="modified", course_field="context_key"),
    Source("subsection grades", edx.PERSISTENT_SUBSECTION_GRADE,
           lambda c: (_one(signals.SUBSECTION_GRADE_CHANGED, subsection_grade_event(
               r.user_id, r.course_id, r.full_usage_key, r.earned_graded, r.possible_graded, r.modified))
               for r in c.rows),
           time_field="modified", course_field="course_id"),
    Source("course grades", edx.PERSISTENT_COURSE_GRADE, _grades,
           time_field="modified", course_field="course_id", needs_overviews=True),
    Source("certificates", edx.CERTIFICATE, lambda c: (official.certificate_event(r, c.overviews) for r in c.rows),
           time_field="modified_date", course_field="course_id", related=("user", "user__profile"),
           needs_overviews=True),
    Source("course access roles", edx.COURSE_ACCESS_ROLE, lambda c: (official.role_event(r, c.read_at) for r in c.rows),
           course_field="course_id", related=("user", "user__profile")),
    Source("course goals", edx.COURSE_GOAL,
           lambda c: (_one(signals.COURSE_GOAL_CHANGED, goal_event(r, c.read_at)) for r in c.rows),
           course_field="course_key"),
    Source("time zones", edx.USER_PREFERENCE,
           lambda c: (_one(signals.USER_PREFERENCE_CHANGED, preference_event(r.user_id, TIME_ZONE, r.value or None,
                                                                             c.read_at)) for r in c.rows),
           where={"key": TIME_ZONE}),
    Source("notes visibility", edx.STUDENT_INFO_FIELD,
           lambda c: (_one(signals.USER_PREFERENCE_CHANGED, e) for r in c.rows for e in notes_events(r)),
           time_field="modified", where={"field_name": NOTES_FIELD}),
    Source("bookmarks", edx.BOOKMARK,
           lambda c: (_one(signals.BOOKMARK_CHANGED, bookmark_event(r, True, r.modified)) for r in c.rows),
           time_field="modified", course_field="course_key"),
    Source("sequence positions", edx.STUDENT_MODULE,
           lambda c: (_one(signals.SEQUENCE_POSITION_CHANGED, position_event(r)) for r in c.rows),
           time_field="modified", course_field="course_id", where={"module_type": SEQUENTIAL}),
    Source("integrity signatures", edx.INTEGRITY_SIGNATURE,
           lambda c: (_one(signals.INTEGRITY_SIGNATURE_CREATED, signature_event(r)) for r in c.rows),
           time_field="created", course_field="course_key"),
    Source("enterprise enrollments", edx.ENTERPRISE_ENROLLMENT,
           lambda c: (link_event(r, r.modified) for r in c.rows),
           time_field="modified", course_field="course_id",
           related=("enterprise_customer_user", "enterprise_customer_user__enterprise_customer")),
)


@dataclass
class Report:
    rows: int = 0
    events: int = 0
    failed: int = 0


def source_names() -> list[str]:
    return ["courses", "programs", *(s.name for s in SOURCES)]


def chunks(source: Source, since: datetime | None, courses: Sequence[Any], size: int) -> Iterator[Chunk]:
    """The source's rows in primary-key order, `size` at a time (a keyset walk: no OFFSET)."""
    model = edx.load(source.model)
    query = model.objects.filter(**source.where)
    if since is not None and source.time_field:
        query = query.filter(**{f"{source.time_field}__gte": since})
    if courses and source.course_field:
        values = [str(c) for c in courses] if source.model == edx.ENTERPRISE_ENROLLMENT else list(courses)
        query = query.filter(**{f"{source.course_field}__in": values})
    if source.related:
        query = query.select_related(*source.related)
    last = None
    overview_model = edx.load(edx.COURSE_OVERVIEW) if source.needs_overviews else None
    while True:
        read_at = now()
        page = query.filter(pk__gt=last) if last is not None else query
        rows = list(page.order_by("pk")[:size])
        if not rows:
            return
        last = rows[-1].pk
        overviews: dict[Any, Any] = {}
        if overview_model is not None:
            keys = {getattr(r, "course_id", None) for r in rows}
            overviews = overview_model.objects.in_bulk([k for k in keys if k])
        yield Chunk(rows, read_at, overviews)


def course_events(courses: Sequence[Any]) -> Iterator[Event | None]:
    for key in courses or list(edx.course_keys()):
        yield _one(signals.COURSE_PUBLISHED, course_event(key))
