"""The answer memo (api/answer_memo.py) never changes an answer: course, sequence and program-list
bodies answered through it equal the bodies built afresh, for learners and anonymous callers, at times on both sides
of every time the courses' documents and the learners' facts hold (starts, ends, deadlines,
certificate dates, enrollment dates), in increasing and in shuffled order, and after a write; and
while a history is written in chunks, after each of them (every kind of write the projections make
bumps the stamps the kept answers were read with: writer.lua, read_stamps.lua), while a replayed
chunk, which changes nothing, keeps them. Real Redis from the session stack, its own namespace."""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from api.answer_memo import AnswerMemo
from api.auth import Caller
from api.bus import EventBus
from api.errors import ApiError
from api.routes.courseware import course_answer, sequence_answer
from api.routes.programs import program_list
from bench.history import History, build
from events import Event
from events.base import parse_time
from events.completion import BlockCompletionChanged
from projectors.projections import project
from readmodels.program_readers import ProgramReaders
from readmodels.readers import Readers
from readmodels.views.common import ViewConfig
from readmodels.writer import RedisWriter
from tools.stack import Stack

pytestmark = pytest.mark.integration

GEN = 1
CONFIG = ViewConfig()
US = timedelta(microseconds=1)


@pytest.fixture(scope="module")
def history() -> History:
    return build(6000, 11)


async def write(writer: RedisWriter, events: list[Event[Any]]) -> None:
    for start in range(0, len(events), 1000):
        await writer.apply(GEN, [op for e in events[start : start + 1000] for op in project(e)])


@pytest.fixture
async def empty_store(stack: Stack) -> AsyncIterator[tuple[Readers, ProgramReaders, RedisWriter]]:
    client = Redis.from_url(stack.redis.url)
    ns = f"memo{uuid.uuid4().hex[:10]}"
    yield Readers(client, ns), ProgramReaders(client, ns), RedisWriter(client, ns, announce=False)
    await client.aclose()


@pytest.fixture
async def store(
    empty_store: tuple[Readers, ProgramReaders, RedisWriter], history: History
) -> tuple[Readers, ProgramReaders, RedisWriter]:
    await write(empty_store[2], history.events)
    return empty_store


def times_in(value: Any) -> Iterator[datetime]:
    """Every RFC 3339 time inside a parsed document or fact value."""
    if isinstance(value, dict):
        for v in value.values():
            yield from times_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from times_in(v)
    elif isinstance(value, str) and len(value) >= 20 and value[4:5] == "-" and value[10:11] == "T":
        with contextlib.suppress(ValueError):
            yield parse_time(value)


async def edges(readers: Readers, programs: ProgramReaders, course_key: str, user_id: int) -> list[datetime]:
    """The times the course's documents, the learner's facts and programs hold, each with its neighbours."""
    facts = await readers.course(course_key, user_id)
    listed = await programs.user_programs(user_id)
    found = set(times_in(facts.course)) | set(times_in([facts.user.get(name) for name in facts.user.raw]))
    found |= set(times_in(listed.programs)) | set(times_in([c[0] for c in listed.certificate_courses.values()]))
    return sorted({t + d for t in found for d in (-US, timedelta(0), US)})


async def answer(readers: Readers, programs: ProgramReaders, memo: AnswerMemo, bus: EventBus,
                 target: tuple[int | None, str, str], now: datetime) -> list[Any]:
    user, course_key, sequence_key = target
    caller = None if user is None else Caller(user, f"learner{user}", False)
    org = course_key.split(":", 1)[1].split("+", 1)[0]
    out: list[Any] = []
    try:
        out.append(await course_answer(readers, memo, bus, course_key, org, caller, "", now, CONFIG, None, None,
                                       visit=False))
    except ApiError as exc:
        out.append((exc.status_code, exc.message))
    try:
        out.append(await sequence_answer(readers, memo, sequence_key, course_key, org,
                                         sequence_key.rsplit("@", 1)[1], caller, "", now, CONFIG))
    except ApiError as exc:
        out.append((exc.status_code, exc.message))
    if caller is not None:
        out.append(await program_list(programs, memo, caller, now))
    return out


async def test_memoised_answers_equal_fresh_ones_across_time_and_writes(
    stack: Stack, store: tuple[Readers, ProgramReaders, RedisWriter], history: History
) -> None:
    readers, programs, writer = store
    rng = random.Random(5)
    bus = EventBus(stack.settings())  # never started: visit=False, nothing is sent
    memo, fresh = AnswerMemo(100_000), AnswerMemo(0)
    with_programs = set(history.learners_with_programs)
    pairs = rng.sample([p for p in history.enrollments if p[0] in with_programs], 8)
    pairs += rng.sample(history.enrollments, 6)
    targets: list[tuple[int | None, str, str]] = [(u, ck, rng.choice(history.sequences[ck])) for u, ck in pairs]
    targets += [(None, ck, seq) for _, ck, seq in targets[:3]]  # anonymous callers
    checked = 0
    for target in targets:
        times = await edges(readers, programs, target[1], target[0] or pairs[0][0])
        times += [times[0] + timedelta(days=d) for d in range(0, 900, 29)]
        for order in (sorted(times), rng.sample(times, len(times))):
            for now in order:
                kept = await answer(readers, programs, memo, bus, target, now)
                assert kept == await answer(readers, programs, fresh, bus, target, now)
                checked += 1
    assert memo.hits > checked // 4  # the memo did answer (most times fall between two edges)
    assert fresh.hits == 0

    # a write changes the reply: the next answers are built again, and are the new ones
    user, course_key, sequence_key = targets[0]
    assert user is not None
    later = max(e.time for e in history.events) + timedelta(days=1)
    await answer(readers, programs, memo, bus, targets[0], later)
    sequence = (await readers.sequence(course_key, sequence_key, user)).sequence
    blocks = [b for unit in (sequence or {}).get("units", []) for b in unit.get("completable", [])]
    assert blocks
    events = [Event(type=BlockCompletionChanged.TYPE, id=str(uuid.uuid4()), time=later, source="test",
                    data=BlockCompletionChanged.model_validate({"completion": {
                        "user_id": user, "course_key": course_key, "block_key": block, "completion": 0.5,
                        "modified": later.isoformat()}}))
              for block in blocks]
    await writer.apply(GEN, [op for e in events for op in project(e)])
    misses = memo.misses
    after = await answer(readers, programs, memo, bus, targets[0], later + US)
    assert memo.misses >= misses + 2  # the course and sequence replies changed
    assert after == await answer(readers, programs, fresh, bus, targets[0], later + US)


async def test_every_write_of_a_history_is_seen_and_a_replay_keeps_the_answers(
    stack: Stack, empty_store: tuple[Readers, ProgramReaders, RedisWriter], history: History
) -> None:
    readers, programs, writer = empty_store
    rng = random.Random(9)
    bus = EventBus(stack.settings())
    memo, fresh = AnswerMemo(100_000), AnswerMemo(0)
    with_programs = set(history.learners_with_programs)
    pairs = rng.sample([p for p in history.enrollments if p[0] in with_programs], 10)
    pairs += rng.sample(history.enrollments, 10)
    targets: list[tuple[int | None, str, str]] = [(u, ck, rng.choice(history.sequences[ck])) for u, ck in pairs]
    targets += [(None, ck, seq) for _, ck, seq in targets[:3]]
    events = history.events
    cut = len(events) // 3
    await write(writer, events[:cut])
    hits = 0
    for start in range(cut, len(events) + 1, 200):
        now = max(e.time for e in events[: max(start, 1)]) + timedelta(hours=1)
        for _ in range(2):  # the second round is answered from the memo where nothing changed
            for target in targets:
                assert await answer(readers, programs, memo, bus, target, now) == await answer(
                    readers, programs, fresh, bus, target, now)
        if start == cut:
            hits = memo.hits
            await write(writer, events[:cut])  # a replay: nothing changes, no stamp moves
            for target in targets:
                await answer(readers, programs, memo, bus, target, now)
            assert memo.hits - hits == sum(3 if t[0] is not None else 2 for t in targets)
        await write(writer, events[start : start + 200])
    assert memo.hits > hits
