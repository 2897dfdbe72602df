"""Hypothesis strategies for random histories: a few users, courses and blocks, every event type,
with colliding event times and colliding event ids (so every tie-break is exercised)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from events import Event
from tests import builders as b

USERS = (1, 2, 3)
COURSES = (b.COURSE, "course-v1:edX+Other+2026")
PROGRAMS = (b.PROGRAM, "6e0c2f3a-0000-4000-8000-000000000002")
IDS = tuple(f"00000000-0000-4000-8000-{n:012d}" for n in range(1, 4))
DAY = 24 * 60


def blocks(course_key: str) -> list[str]:
    return [b.block(course_key, t, n) for t, n in
            (("video", "v1"), ("html", "h1"), ("problem", "p1"), ("vertical", "u1"), ("sequential", "s1"))]


# Minutes after T0: a handful of values, so equal times are common; some far apart (the activity
# window is 15 days).
times = st.sampled_from((0, 0, 0, 0, 1, 1, 2, 15, 16 * DAY, 31 * DAY)).map(b.at)
ids = st.sampled_from(IDS)
users = st.sampled_from(USERS)
courses = st.sampled_from(COURSES)
flags = st.booleans()


def _outline(course_key: str, variant: int) -> list[dict[str, Any]]:
    if variant == 0:
        return []
    seq = {"block_key": b.block(course_key, "sequential", f"s{variant}"), "display_name": f"Seq {variant}",
           **b.SEQUENCE_FLAGS, "units": [
               {"block_key": b.block(course_key, "vertical", "u1"), "display_name": "U", "icon": "other",
                "graded": False, "contains_gated_content": False, "blocks": [
                    {"block_key": b.block(course_key, "html", "h1"), "block_type": "html", "completable": True}]}]}
    return [{"block_key": b.block(course_key, "chapter", "ch1"), "display_name": "Ch", "sequences": [seq]}]


@st.composite
def course_published(draw: st.DrawFn) -> Event[Any]:
    ck = draw(courses)
    variant = draw(st.integers(0, 3))
    if variant == 3:
        return b.course_published(ck, display_name=draw(st.sampled_from(("A", "B"))))
    return b.course_published(ck, outline=_outline(ck, variant), display_name=draw(st.sampled_from(("A", "B"))))


@st.composite
def completion(draw: st.DrawFn) -> Event[Any]:
    ck = draw(courses)
    return b.completion(draw(users), draw(st.sampled_from(blocks(ck))), draw(st.sampled_from((0.0, 0.5, 1.0))),
                        modified=draw(times), course_key=ck)


@st.composite
def any_event(
    draw: st.DrawFn, times: st.SearchStrategy[Any] = times, ids: st.SearchStrategy[str] = ids
) -> Event[Any]:
    """One event of any type (payload drawn), then re-timed and re-identified from small pools."""
    kind = draw(st.integers(0, 23))
    u, ck = draw(users), draw(courses)
    mode = draw(st.sampled_from(("audit", "verified")))
    if kind == 0:
        e = b.enrollment("created", u, ck, mode=mode)
    elif kind == 1:
        e = b.enrollment("changed", u, ck, mode=mode, is_active=draw(flags))
    elif kind == 2:
        e = b.enrollment("unenrolled", u, ck, mode=mode, is_active=False)
    elif kind == 3:
        e = b.enterprise_link(draw(st.sampled_from(("linked", "unlinked"))), u, course_key=ck)
    elif kind == 4:
        e = b.grade_changed(u, draw(st.sampled_from((0.0, 0.4, 0.75))), ck)
    elif kind == 5:
        e = b.passing_status(u, draw(flags), ck)
    elif kind == 6:
        e = b.subsection_grade(u, draw(st.sampled_from(blocks(ck))), draw(st.sampled_from((0.1, 0.9))), ck)
    elif kind == 7:
        e = b.certificate(draw(st.sampled_from(("created", "changed", "revoked"))), u,
                          draw(st.sampled_from(("downloadable", "generating", "notpassing"))), mode=mode, course_key=ck)
    elif kind == 8:
        e = b.program_certificate(draw(st.sampled_from(("awarded", "revoked"))), u, draw(st.sampled_from(PROGRAMS)))
    elif kind == 9:
        e = draw(course_published())
    elif kind == 10:
        e = b.catalog_info(ck, draw(st.sampled_from(("X", "Y"))))
    elif kind == 11:
        e = b.access_role(draw(st.sampled_from(("added", "removed"))), u,
                          course_key=draw(st.sampled_from(("", *COURSES))))
    elif kind == 12:
        runs = tuple(draw(st.lists(courses, max_size=2, unique=True)))
        e = b.program_changed(draw(st.sampled_from(PROGRAMS)), runs, title=draw(st.sampled_from(("P", "Q"))))
    elif kind == 13:
        e = b.program_deleted(draw(st.sampled_from(PROGRAMS)))
    elif kind == 14:
        e = draw(completion())
    elif kind == 15:
        e = b.visit(u, draw(times), ck)
    elif kind == 16:
        given = draw(st.dictionaries(st.sampled_from(("first_section", "weekly_goal")), flags))
        e = b.celebration_ack(u, ck, **given)
    elif kind == 17:
        e = b.goal(u, draw(st.sampled_from((0, 1, 3))), draw(flags), ck)
    elif kind == 18:
        e = b.preference(u, draw(st.sampled_from(("time_zone", f"notes_visibility:{ck}"))),
                         draw(st.sampled_from((None, "UTC", "true"))))
    elif kind == 19:
        e = b.bookmark(u, draw(st.sampled_from(blocks(ck))), draw(flags), ck)
    elif kind == 20:
        e = b.position(u, b.block(ck, "sequential", "s1"), draw(st.integers(1, 3)))
    elif kind == 21:
        e = b.signature(u, ck)
    elif kind == 22:
        e = b.idv(draw(st.sampled_from(("created", "pending", "approved", "denied"))), u,
                  expiration=draw(st.none() | times))
    else:
        e = b.celebration_ack(u, ck, first_section=draw(flags))
    return b.retimed(e, time=draw(times), id=draw(ids))


histories = st.lists(any_event(), min_size=1, max_size=40)
# Every event at one time under one of two ids: distinct facts with equal versions everywhere.
colliding_histories = st.lists(any_event(st.just(b.T0), st.sampled_from(IDS[:2])), min_size=2, max_size=40)
