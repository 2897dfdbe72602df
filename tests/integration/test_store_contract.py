"""Contract: the real Redis writer (writer.lua) and the in-memory store give the same read models
for the same operations, and shuffled / duplicated / batch-split histories written to Redis equal
the oracle fold. Real Redis from the session stack; one namespace per test."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from itertools import pairwise
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from events import Event
from projectors.oracle import compare, fold, report
from projectors.projections import project
from readmodels import fieldnames, keys
from readmodels.compact import completion_value, completion_version
from readmodels.facts import pairs
from readmodels.memory import MemoryStore, dump_redis
from readmodels.ops import AddActivity, Checkpoint, Op, ReplaceSnapshot, SetBlockField, SetCompletion, SetField
from readmodels.replies import text
from readmodels.scripts import lua
from readmodels.writer import RedisWriter
from tests import builders as b
from tests.strategies import colliding_histories, histories
from tools.stack import Stack

pytestmark = pytest.mark.integration

GEN = 1
W = keys.ACTIVITY_WINDOW_US


@pytest.fixture
async def redis(stack: Stack) -> AsyncIterator[Redis]:
    client = Redis.from_url(stack.redis.url)
    yield client
    await client.aclose()


def namespace() -> str:
    return f"sc{uuid.uuid4().hex[:10]}"


async def both(redis: Redis, batches: Sequence[tuple[Sequence[Op], Sequence[Checkpoint]]], **writer: Any) -> None:
    """Apply the same batches to Redis and to memory: equal dumps and equal 'applied' reports."""
    ns = namespace()
    w = RedisWriter(redis, ns, announce=False, **writer)
    mem = MemoryStore()
    for ops, ckpts in batches:
        applied = await w.apply(GEN, ops, ckpts)
        expected = mem.apply(ops, ckpts)
        assert [(a.index, a.previous) for a in applied] == expected
    got = await dump_redis(redis, keys.prefix(ns, GEN), include_checkpoints=True)
    diffs = compare(mem.dump(include_checkpoints=True), got)
    assert not diffs, report(diffs)


def h(key: str, field: str, version: str, value: Any) -> SetField:
    return SetField(key, field, version, orjson.dumps(value).decode())


# Hand-written op sequences ----------------------------------------------------------------------


async def test_lww_fields_keep_the_larger_version_and_break_ties_by_value(redis: Redis) -> None:
    await both(redis, [
        ([h("u:1", "a", "0002|x", 1), h("u:1", "a", "0001|x", 2), h("u:1", "b", "0001|y", "z")], []),
        ([h("u:1", "a", "0002|x", 0), h("u:1", "b", "0001|y", "zz"), h("u:1", "b", "0001|y", "a")], []),
        ([h("u:1", "a", "0002|x", 1), h("u:1", "c", "0001|xa", None), h("u:1", "c", "0001|x", True)], []),
    ])


async def test_snapshots_replace_their_owned_fields_and_ignore_older_versions(redis: Redis) -> None:
    legacy = "edX/Demo/2014"  # a legacy course key: "/" must be stored byte-for-byte like memory does
    s1 = ReplaceSnapshot(f"course:{legacy}", "0002|a", '{"v":1}',
                         ((f"cblk:{legacy}", "i4x://edX/Demo/html/x", "html\tu\ts"), (f"cseq:{legacy}", "s", "{}")))
    s2 = ReplaceSnapshot(f"course:{legacy}", "0003|a", '{"v":2}', ((f"cblk:{legacy}", "other", "t\t\t"),))
    s0 = ReplaceSnapshot(f"course:{legacy}", "0001|a", '{"v":0}', ((f"cseq:{legacy}", "old", "{}"),))
    tomb = ReplaceSnapshot(f"course:{legacy}", "0004|a", "null", ())
    await both(redis, [([s1, s0], []), ([s2, s1], []), ([tomb, s2], [])])


async def test_activity_window_and_max_score_match_for_exact_microsecond_scores(redis: Redis) -> None:
    t = 1_772_366_400_123_457  # not a bucket: every digit must survive the trip through Lua
    ops = [AddActivity("ua:1", "m1", t, W), AddActivity("ua:1", "m0", t - W - 1, W),
           AddActivity("ua:1", "m2", t - W, W), AddActivity("ua:1", "m1", t - 5, W),
           AddActivity("ua:1", "m3", t + W + 1, W), AddActivity("ua:1", "m4", t + 3, W)]
    await both(redis, [(ops[:3], []), (ops[3:], [])])


def c(user: int, block: str, modified: int, ce_time: int, ce_id: str, completion: float) -> SetCompletion:
    ck = b.COURSE
    return SetCompletion(keys.completions(user, ck), keys.block_ids(ck), keys.completion_field(ck, block),
                         completion_version(modified, ce_time, ce_id), completion_value(completion))


async def test_completion_records_keep_the_newest_and_read_back_through_the_block_dictionary(redis: Redis) -> None:
    v, h1, p1 = (b.block(b.COURSE, t, n) for t, n in (("video", "v"), ("html", "h"), ("problem", "p")))
    other = "block-v1:edX+Other+2026+type@html+block@x"  # not the course's own: a full-key field
    i1, i2 = "0aaaaaa0-0000-4000-8000-000000000001", "0aaaaab0-0000-4000-8000-000000000001"
    ops = [c(1, v, 5, 5, i1, 0.5), c(1, v, 5, 9, i1, 1.0), c(2, h1, 7, 7, i1, 1.0), c(1, v, 4, 99, i2, 0.0),
           c(1, p1, 5, 5, i2, 1.0), c(1, p1, 5, 5, i1, 0.25), c(2, other, 1, 1, i1, 0.5), c(1, h1, 3, 3, i1, 1.0)]
    await both(redis, [(ops[:3], []), (ops[3:], []), (ops, [])])
    # the same records in the opposite order assign other indexes, and dump the same
    ns_a, ns_b = namespace(), namespace()
    await RedisWriter(redis, ns_a, announce=False).apply(GEN, ops)
    await RedisWriter(redis, ns_b, announce=False).apply(GEN, ops[::-1])
    assert await redis.hget(keys.prefix(ns_a, GEN) + keys.block_ids(b.COURSE), "0") != await redis.hget(
        keys.prefix(ns_b, GEN) + keys.block_ids(b.COURSE), "0")
    dump_a = await dump_redis(redis, keys.prefix(ns_a, GEN))
    assert dump_a == await dump_redis(redis, keys.prefix(ns_b, GEN))
    sizes = {k: len(v) for k, v in dump_a.items()}
    assert sizes == {keys.completions(1, b.COURSE): 3, keys.completions(2, b.COURSE): 2}


async def test_positions_and_bookmarks_share_the_block_dictionary_with_completions(redis: Redis) -> None:
    seq, unit = b.block(b.COURSE, "sequential", "s"), b.block(b.COURSE, "vertical", "u")
    legacy = "i4x://edX/Demo/vertical/u"  # a usage key that is not the course's own: a full-key field

    def f(tag: str, block: str, version: str, value: Any) -> SetBlockField:
        ck = b.COURSE
        return SetBlockField(keys.completions(1, ck), keys.block_ids(ck), tag, keys.completion_field(ck, block),
                             version, orjson.dumps(value).decode())

    i1 = "0aaaaaa0-0000-4000-8000-000000000001"
    ops = [f(keys.POSITION_TAG, seq, "b", 2), c(1, seq, 5, 5, i1, 1.0), f(keys.POSITION_TAG, seq, "a", 3),
           f(keys.BOOKMARK_TAG, unit, "a", True), f(keys.BOOKMARK_TAG, legacy, "a", True),
           f(keys.BOOKMARK_TAG, unit, "c", False), f(keys.POSITION_TAG, unit, "a", 1)]
    await both(redis, [(ops[:2], []), (ops[2:], []), (ops[::-1], [])])
    ns = namespace()
    await RedisWriter(redis, ns, announce=False).apply(GEN, ops)
    stored = await redis.hgetall(keys.prefix(ns, GEN) + keys.completions(1, b.COURSE))
    assert sorted(stored) == [b"0", b"b1", b"b2", b"p0", b"p1"]  # tag + index: 5 fields, 3 blocks
    dump = await dump_redis(redis, keys.prefix(ns, GEN))
    assert sorted(dump[keys.completions(1, b.COURSE)]) == sorted([
        keys.completion_field(b.COURSE, seq), "pos:" + keys.completion_field(b.COURSE, seq),
        "pos:" + keys.completion_field(b.COURSE, unit), "bm:" + keys.completion_field(b.COURSE, unit),
        "bm:" + legacy])


async def test_learner_fields_and_activity_read_back_through_the_learners_course_dictionary(redis: Redis) -> None:
    courses = [f"course-v1:Org+C{i}+2026" for i in range(12)]  # indexes 10 and 11 have two digits
    uid = 7
    u = keys.user(uid)
    ops: list[Op] = []
    for n, ck in enumerate(courses):
        sub = f"block-v1:{ck.removeprefix('course-v1:')}+type@sequential+block@{n:032x}"
        vertical = f"block-v1:{ck.removeprefix('course-v1:')}+type@vertical+block@{n:032x}"
        ops += [h(u, fieldnames.f_enrollment(ck), "b", {"mode": "audit", "is_active": True}),
                h(u, fieldnames.f_grade(ck), "b", 0.5),
                h(u, fieldnames.f_celebration("weekly_goal", ck), "b", True),
                h(u, fieldnames.f_enterprise("e1", ck), "b", True),
                h(u, fieldnames.f_subsection_grade(sub), "b", 0.7),
                h(u, fieldnames.f_subsection_grade(vertical), "b", 0.1),
                h(u, fieldnames.f_enrollment(ck), "a", {"mode": "verified", "is_active": True}),
                AddActivity(keys.activity(uid), keys.activity_member("v", ck, 100 + n), 100 + n, 1000, u, ck)]
    ops += [h(u, fieldnames.f_preference("time_zone"), "b", "UTC"), h(u, fieldnames.F_USERNAME, "b", "learner7")]
    await both(redis, [(ops[::2], []), (ops[1::2], []), (ops[::-1], [])])
    ns = namespace()
    await RedisWriter(redis, ns, announce=False).apply(GEN, ops)
    p = keys.prefix(ns, GEN)
    stored = {f.decode() for f in await redis.hkeys(p + u)}
    assert "11e" in stored and fieldnames.f_enrollment(courses[11]) not in stored  # the index, not the course key
    mem = MemoryStore()
    mem.apply(ops)
    expected = mem.hgetall(u)
    # every read script sees the canonical fields and members
    reply = await redis.eval(lua("read_programs_progress"), 0, ns, "no-such-program", str(uid))
    assert reply[2] == []  # (no program: no user read)
    await redis.set(p + keys.program("p1"), "v\tnull")
    reply = await redis.eval(lua("read_programs_progress"), 0, ns, "p1", str(uid))
    assert pairs(reply[2]) == expected
    await redis.set(p + keys.course(courses[10]), "v\t{}")
    reply = await redis.eval(lua("read_course"), 0, ns, courses[10], str(uid), "")
    assert pairs(reply[3]) == expected
    assert {text(m) for m in reply[5][::2]} == set(mem.zsets[keys.activity(uid)])
    reply = await redis.eval(lua("read_celebration"), 0, ns, courses[11], str(uid), "")
    assert text(reply[2]) == expected[fieldnames.f_enrollment(courses[11])]
    reply = await redis.eval(lua("read_celebration"), 0, ns, "course-v1:Org+Never+2026", str(uid), "")
    assert reply[2] is None


async def test_checkpoints_only_move_forward(redis: Redis) -> None:
    await both(redis, [([], [Checkpoint("t", 0, 10), Checkpoint("t", 1, 3)]), ([], [Checkpoint("t", 0, 4)]),
                       ([h("u:1", "a", "1", 1)], [Checkpoint("t", 1, 2**40)])])


async def test_malformed_op_rejects_the_whole_batch_and_writes_nothing(redis: Redis) -> None:
    class Broken:
        def encode(self) -> list[object]:
            return ["X", "u:1"]

    ns = namespace()
    w = RedisWriter(redis, ns, announce=False)
    with pytest.raises(ResponseError, match="malformed op #2"):
        await w.apply(GEN, [h("u:1", "a", "1", 1), Broken()], [Checkpoint("t", 0, 5)])  # type: ignore[list-item]
    assert await dump_redis(redis, keys.prefix(ns, GEN), include_checkpoints=True) == {}


# Large batches ----------------------------------------------------------------------------------


def big_course(blocks: int) -> Event[Any]:
    ck = b.COURSE
    units = [{"block_key": b.block(ck, "vertical", f"u{i}"), "display_name": f"Unit {i}", "icon": "other",
              "graded": False, "contains_gated_content": False,
              "blocks": [{"block_key": b.block(ck, "html", f"h{i}_{j}"), "block_type": "html", "completable": True}
                         for j in range(10)]} for i in range(blocks // 10)]
    seqs = [{"block_key": b.block(ck, "sequential", f"s{k}"), "display_name": f"S{k}", **b.SEQUENCE_FLAGS,
             "units": units[k::20]} for k in range(20)]
    return b.course_published(ck, outline=[{"block_key": b.block(ck, "chapter", "c"), "display_name": "C",
                                            "sequences": seqs}])


def big_history(n: int) -> list[Event[Any]]:
    out: list[Event[Any]] = [big_course(5000)]
    for i in range(n):
        uid = i % 97
        k = i % 5
        if k == 0:
            out.append(b.enrollment("created", uid, time=b.at(i)))
        elif k == 1:
            out.append(b.completion(uid, b.block(b.COURSE, "html", f"h{i % 300}_1"), modified=b.at(i)))
        elif k == 2:
            out.append(b.visit(uid, b.at(i)))
        elif k == 3:
            out.append(b.goal(uid, i % 4, time=b.at(i)))
        else:
            out.append(b.bookmark(uid, b.block(b.COURSE, "vertical", f"u{i % 50}"), bool(i % 2), time=b.at(i)))
    out.append(big_course(3000))  # a second, different snapshot in the same batch
    return out


async def test_a_batch_of_5000_events_with_a_5000_block_course_is_one_script_call(redis: Redis) -> None:
    ops = [op for e in big_history(5000) for op in project(e)]
    await both(redis, [(ops, [Checkpoint("t", 0, 5002)])])


async def test_a_batch_over_the_size_limit_is_split_and_still_equals_memory(redis: Redis) -> None:
    ops = [op for e in big_history(2000) for op in project(e)]
    # 64 KiB: the snapshots go alone in oversized calls, the rest in many small ones.
    await both(redis, [(ops[: len(ops) // 2], [Checkpoint("t", 0, 1)]), (ops[len(ops) // 2:], [Checkpoint("t", 0, 2)])],
               max_script_bytes=64 * 1024)


# Random histories against Redis (fewer examples than the unit property) ---------------------------


@st.composite
def deliveries(draw: st.DrawFn, source: st.SearchStrategy[list[Event[Any]]]) -> tuple[list[Any], list[list[Any]]]:
    history = draw(source)
    delivered = list(draw(st.permutations(history)))
    for _ in range(draw(st.integers(0, 4))):
        delivered.insert(draw(st.integers(0, len(delivered))), delivered[draw(st.integers(0, len(delivered) - 1))])
    cuts = sorted(draw(st.lists(st.integers(0, len(delivered)), max_size=4)))
    return history, [delivered[a:z] for a, z in pairwise([0, *cuts, len(delivered)])]


async def _redis_against_memory_and_oracle(url: str, history: list[Event[Any]], batches: list[list[Any]]) -> None:
    client = Redis.from_url(url)
    try:
        ns = namespace()
        w = RedisWriter(client, ns, announce=False)
        mem = MemoryStore()
        for batch in batches:
            ops = [op for e in batch for op in project(e)]
            applied = await w.apply(GEN, ops)
            assert [(a.index, a.previous) for a in applied] == mem.apply(ops)
        got = await dump_redis(client, keys.prefix(ns, GEN))
        diffs = compare(mem.dump(), got)
        assert not diffs, "memory vs redis\n" + report(diffs)
        diffs = compare(fold(history).dump(), got)
        assert not diffs, "oracle vs redis\n" + report(diffs)
    finally:
        await client.aclose()


PROPERTY = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@PROPERTY
@given(case=deliveries(histories))
def test_random_histories_in_any_delivery_give_redis_equal_to_memory_and_oracle(stack: Stack, case: Any) -> None:
    asyncio.run(_redis_against_memory_and_oracle(stack.redis.url, *case))


@PROPERTY
@given(case=deliveries(colliding_histories))
def test_colliding_histories_in_any_delivery_give_redis_equal_to_the_oracle(stack: Stack, case: Any) -> None:
    asyncio.run(_redis_against_memory_and_oracle(stack.redis.url, *case))


async def _unreported_against_the_oracle(url: str, history: list[Event[Any]], batches: list[list[Any]]) -> None:
    """The projectors' writer (`report=False`: coalesced ops, no per-op reply) leaves the oracle fold."""
    client = Redis.from_url(url)
    try:
        ns = namespace()
        w = RedisWriter(client, ns, announce=False, report=False)
        for batch in batches:
            assert await w.apply(GEN, [op for e in batch for op in project(e)]) == []
        diffs = compare(fold(history).dump(), await dump_redis(client, keys.prefix(ns, GEN)))
        assert not diffs, "oracle vs redis (unreported)\n" + report(diffs)
    finally:
        await client.aclose()


@PROPERTY
@given(case=deliveries(colliding_histories))
def test_colliding_histories_through_the_unreporting_writer_equal_the_oracle(stack: Stack, case: Any) -> None:
    asyncio.run(_unreported_against_the_oracle(stack.redis.url, *case))
