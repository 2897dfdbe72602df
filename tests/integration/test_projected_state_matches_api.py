"""The projected topics say what the API shows: over random histories (grades at the passing
boundaries, republished courses with a new bar or outline, programs changed and deleted), the live
projector's change records, applied to a real Redis in random batches, end with the state the API
then serves for every learner, course and program.

Compared where the API shows the same value: the enrollment, `user_has_passing_grade` (course
body), the resume point (resume route), the armed first-section celebration (course body; the
API's weekly goal also needs goals and activity, and streaks are read-time only), and the program
counts (list, progress_details and the course body's related programs).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from api.app import create_app
from api.auth import make_token
from events import Event
from readmodels.generations import serving_generation
from readmodels.settings import load_settings
from tests import builders as b
from tests.integration.test_change_outbox import Collect, live
from tests.unit.test_change_records import raw
from tools.stack import Stack

pytestmark = [pytest.mark.integration]

OTHER = "course-v1:edX+Other+2026"
COURSES = (b.COURSE, OTHER)
USERS = (1, 2, 3, 4)
PROGRAMS = (b.PROGRAM, "6e0c2f3a-0000-4000-8000-000000000002")
# Passing bars and grades around them: 0.495 rounds half-up to 0.50 (float round() gives 0.49).
BARS = (0.5, 0.35, 0.45, 0.6, 0.7)
GRADES = (0.495, 0.4949, 0.5, 0.505, 0.345, 0.3449, 0.35, 0.445, 0.45, 0.595, 0.6, 0.695, 0.7, 0.0, 0.005, 1.0)
NOT_ARMED = {"first_section": False, "weekly_goal": False}
NULL_RESUME = {"block_id": None, "section_id": None, "unit_id": None}


def _outline(ck: str, variant: int) -> list[dict[str, Any]] | None:
    """None: the builder's outline (v1 and h1 in u1 of s1, p1 in u2); 1: v1 moved to u9 of s9;
    2: v1 gone (a resume point on it is then not in the newest outline)."""
    if variant == 0:
        return None
    blk = lambda t, n: b.block(ck, t, n)  # noqa: E731
    unit = lambda n, *blocks: {  # noqa: E731
        "block_key": blk("vertical", n), "display_name": n, "icon": "video", "graded": False,
        "contains_gated_content": False,
        "blocks": [{"block_key": blk(t, x), "block_type": t, "completable": True} for t, x in blocks]}
    units = [unit("u1", ("html", "h1")), unit("u2", ("problem", "p1"))]
    sequences = [{"block_key": blk("sequential", "s1"), "display_name": "S1", **b.SEQUENCE_FLAGS, "units": units}]
    if variant == 1:
        sequences.append({"block_key": blk("sequential", "s9"), "display_name": "S9", **b.SEQUENCE_FLAGS,
                          "units": [unit("u9", ("video", "v1"))]})
    return [{"block_key": blk("chapter", "ch1"), "display_name": "Ch", "sequences": sequences}]


def _published(ck: str, bar: float, variant: int, minute: int) -> Event[Any]:
    outline = _outline(ck, variant)
    extra: dict[str, Any] = {} if outline is None else {"outline": outline}
    return b.course_published(ck, time=b.at(minute), lowest_passing_grade=bar, **extra)


@st.composite
def histories(draw: st.DrawFn) -> list[Event[Any]]:
    """Both courses published first (the API shows course bodies only for published courses), then
    a random mix; event times from a few minutes, so ties (broken by ce_id) are common."""
    out = [_published(ck, draw(st.sampled_from(BARS)), draw(st.integers(0, 2)), 0) for ck in COURSES]
    minutes = st.integers(1, 6)
    for _ in range(draw(st.integers(1, 30))):
        ck, uid = draw(st.sampled_from(COURSES)), draw(st.sampled_from(USERS))
        t = {"time": b.at(draw(minutes))}
        kind = draw(st.integers(0, 9))
        if kind == 0:
            out.append(_published(ck, draw(st.sampled_from(BARS)), draw(st.integers(0, 2)), draw(minutes)))
        elif kind == 1:
            out.append(b.enrollment(draw(st.sampled_from(("created", "changed", "unenrolled"))), uid, ck,
                                    mode=draw(st.sampled_from(("audit", "verified", "honor"))),
                                    is_active=draw(st.booleans()), **t))
        elif kind in (2, 3):
            out.append(b.grade_changed(uid, draw(st.sampled_from(GRADES)), ck, **t))
        elif kind == 4:
            out.append(b.passing_status(uid, draw(st.booleans()), ck, **t))
        elif kind == 5:
            out.append(b.certificate(draw(st.sampled_from(("created", "changed"))), uid,
                                     draw(st.sampled_from(("downloadable", "notpassing", "unavailable"))),
                                     mode=draw(st.sampled_from(("verified", "audit"))), course_key=ck, **t))
        elif kind == 6:
            name = draw(st.sampled_from((("video", "v1"), ("html", "h1"), ("problem", "p1"))))
            out.append(b.completion(uid, b.block(ck, *name), draw(st.sampled_from((0.0, 1.0))),
                                    modified=b.at(draw(minutes)), course_key=ck, **t))
        elif kind == 7:
            flags = draw(st.fixed_dictionaries({}, optional={"first_section": st.booleans(),
                                                             "weekly_goal": st.booleans()}))
            out.append(b.celebration_ack(uid, ck, **flags, **t))
        elif kind == 8:
            runs = draw(st.lists(st.sampled_from(COURSES), min_size=1, max_size=2, unique=True))
            out.append(b.program_changed(draw(st.sampled_from(PROGRAMS)), tuple(runs), **t))
        else:
            out.append(b.program_deleted(draw(st.sampled_from(PROGRAMS)), **t))
    return out


PROPERTY = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@PROPERTY
@given(history=histories(), batch=st.integers(1, 8))
def test_projected_states_are_what_the_api_shows(stack: Stack, history: list[Event[Any]], batch: int) -> None:
    asyncio.run(_compare(stack, history, batch))


async def _compare(stack: Stack, history: Sequence[Event[Any]], batch: int) -> None:
    ns = f"t{uuid.uuid4().hex[:8]}"
    redis = Redis.from_url(stack.redis.url)
    try:
        gen = await serving_generation(redis, ns)
        sink = Collect()
        projector = live(redis, ns, gen, sink)
        messages = raw(history)
        for i in range(0, len(messages), batch):
            await projector.handle(messages[i : i + batch])
        await projector.flush()
    finally:
        await redis.aclose()
    state: dict[tuple[str, str], Any] = {}
    for r in sink.sent:  # per key, the last record's state is the current one
        state[(r.model, r.key)] = r.state
    # The API evaluates "now" after every event (program counts here do not depend on the clock).
    api_settings = load_settings(redis_url=stack.redis.url, redis_namespace=ns, kafka_bootstrap="127.0.0.1:1",
                                 fake_now=b.at(60 * 24) + timedelta(days=1))
    app = create_app(api_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            for uid in USERS:
                token = {"Authorization": f"JWT {make_token(api_settings, uid, f'learner{uid}')}"}
                for ck in COURSES:
                    await _compare_course(client, token, state, uid, ck)
                await _compare_programs(client, token, state, uid)


async def _get(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> Any:
    r = await client.get(path, headers=headers)
    assert r.status_code == 200, (path, r.status_code, r.text)
    return r.json()


async def _compare_course(client: httpx.AsyncClient, token: dict[str, str], state: dict[tuple[str, str], Any],
                          uid: int, ck: str) -> None:
    key = f"{uid}:{ck}"
    body = await _get(client, f"/api/courseware/course/{ck}", token)
    status = state.get(("learner-course-status", key))
    enrolled = {"mode": status["mode"], "is_active": status["is_active"]} if status else {"mode": None,
                                                                                          "is_active": False}
    assert body["enrollment"] == enrolled, key
    assert body["user_has_passing_grade"] == (status["is_passing"] if status else False), (key, status)

    if status is not None and status["mode"] is not None:  # the API's celebrations need an enrollment
        armed = state.get(("celebrations", key)) or NOT_ARMED
        assert body["celebrations"]["first_section"] == armed["first_section"], key

    for related in body["related_programs"] or ():
        counts = state.get(("program-progress", f"{uid}:{related['uuid']}"))
        assert counts is not None, (key, related)
        assert related["progress"] == {k: counts[k] for k in ("completed", "in_progress", "not_started")}, key

    resume = await _get(client, f"/api/courseware/resume/{ck}", token)
    assert resume == (state.get(("resume-point", key)) or NULL_RESUME), key


async def _compare_programs(client: httpx.AsyncClient, token: dict[str, str], state: dict[tuple[str, str], Any],
                            uid: int) -> None:
    listed = {e["uuid"]: e["progress"] for e in await _get(client, "/api/dashboard/v1/programs/", token)}
    for program in PROGRAMS:
        counts = state.get(("program-progress", f"{uid}:{program}"))
        if program in listed:
            assert counts is not None, (uid, program)
            assert listed[program] == {"uuid": program, **counts}, (uid, program)
        if counts is None:
            continue
        details = await _get(client, f"/api/dashboard/v1/programs/{program}/progress_details/", token)
        shown = {k: len(details["course_data"][k]) for k in ("completed", "in_progress", "not_started")}
        assert {**shown, "all_unenrolled": details["course_data"]["all_unenrolled"]} == counts, (uid, program)
