"""The one pipelined read before a live batch: the facts its states need (learners, course
outlines and programs, with a cache of outlines per snapshot), the outbox fields and the serving
pointer; for a batch with a reference change, the fan-out's learners in more round trips; the
courses of learners' passing certificates the batch did not read (certificate dates), in one more."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from projectors.change_records.touches import plan, reached, state_fields
from readmodels import fieldnames, keys, learner_dictionary
from readmodels.facts import value
from readmodels.memory import MemoryStore
from readmodels.ops import Op
from readmodels.redis_client import is_cluster
from readmodels.replies import text, text_hash, text_or_none
from readmodels.views.certificates import is_passing_status


class BlockCache:
    """`cblk:<course>` hashes, parsed, per generation, valid while the course snapshot is unchanged
    (the snapshot owns every field of that hash, so equal snapshot text means equal fields). Saves
    reading and decoding a whole course outline on every batch."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._entries: dict[tuple[int, str], tuple[str | None, dict[str, str]]] = {}

    def get(self, generation: int, ck: str, snapshot: str | None) -> dict[str, str] | None:
        entry = self._entries.get((generation, ck))
        return entry[1] if entry is not None and entry[0] == snapshot else None

    def known(self, generation: int, ck: str) -> bool:
        return (generation, ck) in self._entries

    def put(self, generation: int, ck: str, snapshot: str | None, blocks: dict[str, str]) -> None:
        if len(self._entries) >= self._size:
            self._entries.pop(next(iter(self._entries)))
        self._entries[(generation, ck)] = (snapshot, blocks)


@dataclass
class Read:
    store: MemoryStore
    outbox: list[bytes | None]
    serving: int | None = None


def _ask_learner(pipe: Any, p: str, uid: int, want: Sequence[str] | None) -> None:
    """Queue the read of a learner's fields (`want`; None: every field). The whole hash is read
    either way: the fields naming a course are stored under the course's index in the learner's
    own dictionary (learner_dictionary.LEARNER_COURSES), which only the hash itself tells."""
    pipe.hgetall(p + keys.user(uid))


def _learner_fields(reply: Any, want: Sequence[str] | None) -> dict[str, str]:
    """The reply of `_ask_learner`, as canonical field -> raw value (absent fields left out)."""
    stored = text_hash(reply)
    if want is None:
        return learner_dictionary.learner_fields(stored)
    return learner_dictionary.learner_fields_wanted(stored, want)


def _ask_documents(pipe: Any, p: str, hashes: Sequence[str], strings: Sequence[str]) -> None:
    for h in hashes:
        pipe.hgetall(p + h)
    for s in strings:
        pipe.get(p + s)


def _load_documents(store: MemoryStore, replies: Iterator[Any], hashes: Sequence[str], strings: Sequence[str]) -> None:
    """The replies of `_ask_documents`, in order, into `store`."""
    for h in hashes:
        reply = next(replies)
        if reply:
            store.hashes[h] = text_hash(reply)
    for s in strings:
        reply = next(replies)
        if reply is not None:
            store.strings[s] = text(reply)


def _atomic(redis: Redis) -> bool:
    """MULTI/EXEC on one Redis; on a Redis Cluster a plain pipeline (redis-py splits it by node):
    a course's snapshot and outline share a slot and one writer.lua call replaces both, so a read
    can fall between them only when a republish lands in that instant; the outline cache is keyed
    by the snapshot it was read with and is re-read on the next snapshot it sees."""
    return not is_cluster(redis)


async def read(
    redis: Redis, ns: str, generation: int, ops: Sequence[Op], outbox_fields: Sequence[str], *,
    release: Sequence[str] = (), serving: bool = False, blocks: BlockCache | None = None,
) -> Read:
    """The facts the batch's states need, the outbox fields and the serving pointer, in one round
    trip (none when there is nothing to read). `release`: outbox fields to delete first."""
    users, courses, snapshots, fields = plan(ops)
    store = MemoryStore()
    cache = blocks or BlockCache(0)
    learners = sorted(users)
    block_reads = {ck for ck in courses if not cache.known(generation, ck)}
    hashes = [keys.run_programs(ck) for ck in sorted(courses)] + [keys.course_blocks(ck) for ck in sorted(block_reads)]
    strings = sorted({*(keys.course(ck) for ck in courses), *snapshots})
    # Every course document read comes with its catalog info (the certificate schedule).
    hashes += [keys.course_catalog(keys.course_of(s)) for s in strings if s.startswith(keys.COURSE_PREFIX)]
    strings += [keys.snapshot_parts(s) for s in strings]
    if not learners and not outbox_fields and not release and not serving:
        return Read(store, [])
    p = keys.prefix(ns, generation)
    # MULTI/EXEC: a course snapshot and its outline are read at one instant (they are cached together).
    # A cluster runs no transaction across slots (`_atomic`).
    async with redis.pipeline(transaction=_atomic(redis)) as pipe:
        if release:
            pipe.hdel(keys.outbox(ns), *release)
        if serving:
            pipe.get(keys.serving(ns))
        for uid in learners:
            _ask_learner(pipe, p, uid, fields.get(uid))
        _ask_documents(pipe, p, hashes, strings)
        if outbox_fields:
            pipe.hmget(keys.outbox(ns), list(outbox_fields))
        replies = iter(await pipe.execute())
    if release:
        next(replies)
    pointer = next(replies) if serving else None
    for uid in learners:
        got = _learner_fields(next(replies), fields.get(uid))
        if got:
            store.hashes[keys.user(uid)] = got
    _load_documents(store, replies, hashes, strings)
    held = next(replies) if outbox_fields else []
    # Course outlines: from the cache while their snapshot is unchanged, else read (rare: a
    # republish, or a course first seen), and remembered.
    stale = []
    for ck in sorted(courses):
        snapshot = store.strings.get(keys.course(ck))
        if ck in block_reads:
            cache.put(generation, ck, snapshot, store.hashes.get(keys.course_blocks(ck), {}))
            continue
        cached = cache.get(generation, ck, snapshot)
        if cached is None:
            stale.append(ck)
        elif cached:
            # The replay of a snapshot rewrites the hash in place: it gets a copy then.
            store.hashes[keys.course_blocks(ck)] = dict(cached) if snapshots else cached
    if stale:
        async with redis.pipeline(transaction=_atomic(redis)) as pipe:
            for ck in stale:
                pipe.get(p + keys.course(ck))
                pipe.hgetall(p + keys.course_blocks(ck))
            stale_replies = iter(await pipe.execute())
            for ck in stale:
                snapshot, reply = next(stale_replies), next(stale_replies)
                got = text_hash(reply)
                cache.put(generation, ck, text_or_none(snapshot), got)
                if got:
                    store.hashes[keys.course_blocks(ck)] = dict(got) if snapshots else got
    if snapshots:
        await _read_fanout(redis, p, store, ops, fields)
    await _read_certificate_courses(redis, p, store)
    return Read(store, held, int(pointer) if pointer is not None else None)


async def _read_certificate_courses(redis: Redis, p: str, store: MemoryStore) -> None:
    """The course documents and catalog info of the learners' passing certificates that the reads
    so far did not bring (one more round trip, only then): program progress waits for their dates."""
    missing: set[str] = set()
    for key, fields in store.hashes.items():
        if not key.startswith(keys.USER_PREFIX):
            continue
        for name, raw in fields.items():
            kind, ck = fieldnames.field_kind(name)
            if kind == fieldnames.KIND_CERTIFICATE and keys.course(ck) not in store.strings:
                cert = value(raw)
                if isinstance(cert, dict) and is_passing_status(cert.get("status")):
                    missing.add(ck)
    if not missing:
        return
    ordered = sorted(missing)
    hashes, strings = [keys.course_catalog(ck) for ck in ordered], [keys.course(ck) for ck in ordered]
    async with redis.pipeline(transaction=False) as pipe:
        _ask_documents(pipe, p, hashes, strings)
        replies = iter(await pipe.execute())
    _load_documents(store, replies, hashes, strings)


FANOUT_CHUNK = 1_000  # learners per pipeline when a reference change fans out


async def _read_fanout(redis: Redis, p: str, store: MemoryStore, ops: Sequence[Op],
                       fields: dict[int, list[str] | None]) -> None:
    """For a batch with a course republish or a program change: the learners of the courses it
    reaches (`keys.course_learners`), then their facts and those courses' outlines and programs,
    into `store` (more round trips, only for such batches)."""
    courses: dict[str, bool] = {}  # course -> whether program progress is reached (else status, resume)
    for op in ops:
        for ck, program in reached(op, store):
            courses[ck] = courses.get(ck, False) or program
    if not courses:
        return
    ordered = sorted(courses)
    hashes = [h for ck in ordered for h in (keys.course_blocks(ck), keys.run_programs(ck), keys.course_catalog(ck))]
    strings = [s for ck in ordered for s in (keys.course(ck), keys.snapshot_parts(keys.course(ck)))
               if s not in store.strings]
    async with redis.pipeline(transaction=_atomic(redis)) as pipe:
        for ck in ordered:
            pipe.smembers(p + keys.course_learners(ck))
        _ask_documents(pipe, p, hashes, strings)
        replies = iter(await pipe.execute())
    wanted: dict[int, set[str] | None] = {}
    for ck in ordered:
        learners = {text(m) for m in next(replies)}
        store.sets[keys.course_learners(ck)] = learners
        for uid in map(int, learners):
            if courses[ck] or fields.get(uid, []) is None:
                wanted[uid] = None
            elif (have := wanted.setdefault(uid, set())) is not None:
                have.update(state_fields(ck))
    _load_documents(store, replies, hashes, strings)
    want_of = {uid: None if want is None else sorted(want) for uid, want in wanted.items()}
    users = sorted(want_of)
    # The learners in chunks, each its own pipeline (not one MULTI: a course with a million
    # learners must not hold Redis, and the API's reads, for seconds).
    for start in range(0, len(users), FANOUT_CHUNK):
        chunk = users[start : start + FANOUT_CHUNK]
        async with redis.pipeline(transaction=False) as pipe:
            for uid in chunk:
                _ask_learner(pipe, p, uid, want_of[uid])
            facts = await pipe.execute()
        for uid, reply in zip(chunk, facts, strict=True):
            got = _learner_fields(reply, want_of[uid])
            # Ops of this batch replayed on the learner are applied on top: keep what is already here.
            store.hashes[keys.user(uid)] = {**got, **store.hashes.get(keys.user(uid), {})}
