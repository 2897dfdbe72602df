"""Courseware routes: course metadata, resume, celebration, sequence metadata.

Each route parses its key, makes one Redis round trip (readmodels.readers), authorises a
masquerade, and shapes the body with the pure views (readmodels.views) at "now".
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from api.answer_memo import AnswerMemo, render
from api.auth import Caller
from api.bus import EVENT_SOURCE, BusUnavailableError, EventBus
from api.deps import (
    BusDep,
    CallerDep,
    NowDep,
    ReadersDep,
    RequiredCallerDep,
    bus_of,
    memo_of,
    now_of,
    readers_of,
    view_config_of,
)
from api.errors import ApiError, shown
from api.ids import uuid4_text
from api.masquerade import Effective, authorize, requested_username
from api.path_keys import parse_course_key, parse_usage_key
from api.responses import JSON
from events import Event
from events.activity import CelebrationAcknowledged
from readmodels import models
from readmodels.readers import CourseFacts, Readers, ResumeFacts, SequenceFacts
from readmodels.tokens import encode_token
from readmodels.views.certificates import effective_courses
from readmodels.views.common import ViewConfig, effective_course, is_course_staff, shared_effective_course
from readmodels.views.course import course_metadata
from readmodels.views.program_progress import progress_counted
from readmodels.views.sequence import sequence_metadata

router = APIRouter(prefix="/api/courseware", tags=["courseware"])

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": models.CoursewareError} for code in (400, 401, 403, 404, 413, 503)
}
CELEBRATION_FLAGS = ("first_section", "weekly_goal")
COURSE_MEMO, SEQUENCE_MEMO = "course", "sequence"  # what a memo key starts with (api/answer_memo.py)


@router.get("/course/{course_key:key}", response_model=models.CourseMetadata, responses=ERRORS)
async def get_course_metadata(
    course_key: str,
    request: Request,
    caller: CallerDep,
    requested_fields: str | None = None,
    browser_timezone: str | None = None,
) -> Response:
    key, parsed = parse_course_key(course_key)
    masquerade = requested_username(request, caller)
    # A long-poll re-run (api/change_feed.py) is the same read again: it emits no second visit.
    visit = not getattr(request.state, "replay", False)
    body = await course_answer(readers_of(request), memo_of(request), bus_of(request), key, parsed.org, caller,
                               masquerade, now_of(request), view_config_of(request), requested_fields,
                               browser_timezone, visit=visit)
    return JSON(body)


@router.get("/resume/{course_key:key}", response_model=models.ResumePoint, responses=ERRORS)
async def get_resume(course_key: str, request: Request, caller: RequiredCallerDep) -> Response:
    key, parsed = parse_course_key(course_key)
    masquerade = requested_username(request, caller)
    return JSON(await resume_answer(readers_of(request), key, parsed.org, caller, masquerade))


@router.post(
    "/celebration/{course_key:key}",
    status_code=202,
    response_model=models.CelebrationAck,
    responses={**ERRORS, 200: {"model": models.CelebrationAck, "description": "Nothing to acknowledge"}},
)
async def post_celebration(
    course_key: str,
    request: Request,
    readers: ReadersDep,
    caller: RequiredCallerDep,
    bus: BusDep,
    now: NowDep,
) -> Response:
    key, parsed = parse_course_key(course_key)
    flags = _celebration_body(await request.body())
    masquerade = requested_username(request, caller)
    facts = await readers.celebration(key, caller.user_id, masquerade)
    effective = authorize(caller, masquerade, facts.who, key, parsed.org)
    if not facts.course_exists or facts.enrollment is None:
        raise ApiError(404, f"No enrollment in course '{shown(key)}'.")
    if effective.masquerading:
        return JSON(flags, status_code=202)
    if not flags:
        return JSON({}, status_code=200)
    event = _event(
        CelebrationAcknowledged, {"celebration": {"user_id": caller.user_id, "course_key": key, **flags}}, now
    )
    try:
        position = await bus.send(event)
    except BusUnavailableError as exc:
        raise ApiError(503, f"Event bus unavailable: {exc}") from None
    return JSON(flags, status_code=202, headers={"X-Read-Model-Token": encode_token(position)})


@router.get(
    "/sequence/{usage_key:key}",
    response_model=models.SequenceMetadata,
    responses={**ERRORS, 422: {"description": "The block is not a sequence (empty body)"}},
)
async def get_sequence_metadata(usage_key: str, request: Request, caller: CallerDep) -> Response:
    key, parsed = parse_usage_key(usage_key)
    course_key, org = str(parsed.course_key), parsed.course_key.org or ""
    masquerade = requested_username(request, caller)
    body = await sequence_answer(readers_of(request), memo_of(request), key, course_key, org, parsed.block_id,
                                 caller, masquerade, now_of(request), view_config_of(request))
    if body is None:
        return Response(status_code=422)
    return JSON(body)


# What the routes answer, shared with the fast path (api/fastpath.py): the read, the masquerade's
# authorisation and the body, from parsed input. A 4xx is an ApiError (the fast path hands those
# requests to the routes above). ------------------------------------------------------------------


async def course_answer(
    readers: Readers,
    memo: AnswerMemo,
    bus: EventBus,
    key: str,
    org: str | None,
    caller: Caller | None,
    masquerade: str,
    now: datetime,
    config: ViewConfig,
    requested_fields: str | None,
    browser_timezone: str | None,
    *,
    visit: bool = True,
) -> bytes:
    """The course-metadata body, as JSON; the caller's own read of it (`visit`) emits a courseware
    visit. A body already built for the same parameters is answered from `memo` while nothing its
    read read has changed and "now" cannot change it (api/answer_memo.py)."""
    user_id = caller.user_id if caller else None

    def build(raw: Any) -> tuple[tuple[bytes, bool], datetime | None]:
        facts = readers.course_facts(raw)
        effective = authorize(caller, masquerade, facts.who, key, org)
        built, until = render(now, lambda at: course_body(facts, key, effective, at, config, requested_fields,
                                                          browser_timezone))
        if built is None:
            raise ApiError(404, f"Course not found: '{shown(key)}'.")
        return (built, effective.masquerading), until

    body, masquerading = await memo.answer(
        (COURSE_MEMO, key, org, caller, masquerade, requested_fields, browser_timezone), now,
        lambda stamps: readers.course_reply(key, user_id, masquerade, stamps), build,
    )
    if visit and caller is not None and not masquerading:
        bus.emit_visit(caller.user_id, key, now, browser_timezone)
    return body


async def resume_answer(readers: Readers, key: str, org: str | None, caller: Caller, masquerade: str) -> dict[str, Any]:
    facts = await readers.resume(key, caller.user_id, masquerade)
    authorize(caller, masquerade, facts.who, key, org)
    return resume_body(facts)


async def sequence_answer(
    readers: Readers,
    memo: AnswerMemo,
    key: str,
    course_key: str,
    org: str,
    block_id: str,
    caller: Caller | None,
    masquerade: str,
    now: datetime,
    config: ViewConfig,
) -> bytes | None:
    """The sequence-metadata body, as JSON (from `memo` as the course body is); None for a block of
    the outline that is not a sequential (422)."""
    user_id = caller.user_id if caller else None

    def build(raw: Any) -> tuple[bytes | None, datetime | None]:
        facts = readers.sequence_facts(course_key, raw)
        effective = authorize(caller, masquerade, facts.who, course_key, org)
        if facts.course is None or facts.block_type is None:
            raise ApiError(404, f"Block not found: '{shown(key)}'.")
        return render(now, lambda at: sequence_body(facts, key, course_key, org, block_id, effective, at, config))

    body: bytes | None = await memo.answer(
        (SEQUENCE_MEMO, key, course_key, org, block_id, caller, masquerade), now,
        lambda stamps: readers.sequence_reply(course_key, key, user_id, masquerade, stamps), build,
    )
    return body


# Bodies --------------------------------------------------------------------------------------------


def course_body(
    facts: CourseFacts,
    key: str,
    effective: Effective,
    now: datetime,
    config: ViewConfig,
    requested_fields: str | None,
    browser_timezone: str | None,
) -> dict[str, Any] | None:
    """The course-metadata body; None when the course was never published (404)."""
    if facts.course is None:
        return None
    course = shared_effective_course(facts.course, facts.course_version, facts.catalog)
    body = course_metadata(
        course,
        key,
        facts.user,
        activity=facts.activity,
        run_programs=facts.run_programs,
        now=now,
        config=config,
        # related programs need only the counts; certificate dates from the certificates' courses
        progress=partial(progress_counted, courses=effective_courses(facts.certificate_courses)),
        browser_timezone=browser_timezone,
        masquerading=effective.masquerading,
        shared_document=True,  # the reader's parsed documents, or their merge kept per pair
    )
    if requested_fields:
        wanted = [f.strip() for f in requested_fields.split(",") if f.strip()]
        body = {name: body[name] for name in wanted if name in body}
    return body


def resume_body(facts: ResumeFacts) -> dict[str, Any]:
    return {"block_id": facts.block_id, "section_id": facts.section_id, "unit_id": facts.unit_id}


def sequence_body(
    facts: SequenceFacts,
    key: str,
    course_key: str,
    org: str,
    block_id: str,
    effective: Effective,
    now: datetime,
    config: ViewConfig,
) -> dict[str, Any] | None:
    """The sequence-metadata body of a block in the outline; None when it is not a sequential (422)."""
    if facts.block_type != "sequential" or facts.sequence is None or facts.course is None:
        return None
    course = effective_course(facts.course, facts.course_version, facts.catalog)
    return sequence_metadata(
        facts.sequence,
        course,
        key,
        block_id,
        facts.user,
        facts.completions,
        now,
        lms_base_url=config.lms_base_url,
        caller_is_staff=effective.caller_is_staff,
        masquerading=effective.masquerading,
        learner_is_staff=effective.masquerading and is_course_staff(facts.user, course_key, org),
    )


def _celebration_body(raw: bytes) -> dict[str, bool]:
    try:
        body = orjson.loads(raw) if raw.strip() else None
    except orjson.JSONDecodeError:
        raise ApiError(400, "Request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object.")
    unknown = sorted(set(body) - set(CELEBRATION_FLAGS))
    if unknown:
        raise ApiError(400, f"Unknown celebration keys: {', '.join(shown(k, 40) for k in unknown[:5])}.")
    if any(not isinstance(v, bool) for v in body.values()):
        raise ApiError(400, "Celebration values must be booleans.")
    return {k: body[k] for k in CELEBRATION_FLAGS if k in body}


def _event(cls: Any, data: dict[str, Any], now: Any) -> Event[Any]:
    return Event(type=cls.TYPE, id=uuid4_text(), time=now, data=cls.model_validate(data), source=EVENT_SOURCE)
