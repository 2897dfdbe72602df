"""The read scripts' replies on a Redis Cluster, from pipelined reads instead of one Lua script.

A read script joins a learner's keys with a course's (or the program catalogue's) documents and
the serving pointer: different slots, usually different nodes, which one script cannot reach on a
cluster. Each `ClusterReadScript` answers exactly what its Lua script (readmodels/lua/<name>.lua)
answers, so readers.py and program_readers.py parse one reply format, from round trips:

1. the serving pointer (and, for a masquerade, the username -> id lookup in that generation);
2. everything else at once: redis-py's cluster pipeline sends each node its commands in parallel;
3. only for program counts: the courses of the learner's passing certificates.

Chosen over an in-process cache of reference documents: the cache would need every API process
to hold every course outline and program of the site (invalidated by change notifications, with a
window in which a process serves a stale outline after a republish), while the round trips cost
well under a millisecond each on a LAN and keep every read as fresh as the single-Redis scripts.
What differs from one script: the pointer is read before the documents, not atomically with them;
a switch in between serves that one request from the generation that was serving when it began
(kept for `delete_generation`'s grace period), as a request that started just before the switch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
from redis.asyncio import RedisCluster

from readmodels import fieldnames, keys, learner_dictionary
from readmodels.compact import split_completion
from readmodels.replies import text

Reply = list[Any]
# The stamps element of the memoised scripts' replies (read_stamps.lua), empty: reads made of
# several round trips are not atomic, so their answers are kept by the exact reply instead
# (api/answer_memo.py). Stamps sent back (never, then) are ignored.
NO_STAMPS: list[Any] = []


def _sequence_blocks(doc: Any, usage: str) -> list[tuple[str, str]]:
    """(block key, tag) of the per-block facts the sequence's body shows, in read_sequence.lua's
    order: the sequence's position, then per unit its bookmark and its completable blocks."""
    blocks = [(usage, keys.POSITION_TAG)]
    units = doc.get("units") if isinstance(doc, dict) else None
    for unit in units if isinstance(units, list) else ():
        if isinstance(unit, dict) and isinstance(unit.get("block_key"), str):
            blocks.append((unit["block_key"], keys.BOOKMARK_TAG))
            completable = unit.get("completable")
            if isinstance(completable, list):
                blocks += [(block, "") for block in completable if isinstance(block, str)]
    return blocks


def _flat(mapping: dict[Any, Any]) -> list[Any]:
    """HGETALL as a Lua script sees it: [field, value, ...]."""
    return [x for kv in mapping.items() for x in kv]


def _learner(mapping: dict[Any, Any]) -> tuple[list[Any], dict[str, str]]:
    """A learner hash as stored -> its canonical fields, flat, and its course dictionary (index ->
    course key): learner_courses.lua `learner_hash` (learner_dictionary.learner_fields)."""
    stored = {text(f): text(v) for f, v in mapping.items()}
    return _flat(learner_dictionary.learner_fields(stored)), learner_dictionary.learner_courses(stored)


def _activity(pairs: Sequence[tuple[Any, Any]], courses: dict[str, str]) -> list[Any]:
    """ZRANGE WITHSCORES of a learner's activity with canonical members (learner_courses.lua)."""
    return [x for m, s in pairs for x in (learner_dictionary.canonical_activity_member(text(m), courses), s)]


def _learner_field(mapping: dict[Any, Any], field: str) -> str | None:
    """One canonical field of a learner hash as stored (learner_courses.lua `learner_field`, which
    looks the course's index up first: here the hash came whole, in the request's one pipeline)."""
    stored = {text(f): text(v) for f, v in mapping.items()}
    return learner_dictionary.learner_fields_wanted(stored, (field,)).get(field)


def _roles(flat: Sequence[Any]) -> list[Any]:
    """The `role:*` fields of a flat learner hash (learner_prelude.lua `roles`)."""
    out: list[Any] = []
    for i in range(0, len(flat), 2):
        if text(flat[i]).startswith(fieldnames.F_ROLE_PREFIX):
            out += [flat[i], flat[i + 1]]
    return out


class ClusterReadScript:
    """Called like scripts.ReadScript: `await script(keys=[], args=[...])`."""

    def __init__(self, redis: RedisCluster, name: str) -> None:
        self._redis = redis
        self._run: Callable[[Sequence[Any]], Awaitable[Reply]] = getattr(self, f"_{name}")

    async def __call__(self, keys: Sequence[str] = (), args: Sequence[Any] = ()) -> Any:
        return await self._run([text(a) if isinstance(a, bytes) else str(a) for a in args])

    # learner_prelude.lua ------------------------------------------------------------------------

    async def _generation(self, ns: str) -> tuple[bytes | str, str]:
        gen = await self._redis.get(keys.serving(ns)) or b"1"
        return gen, keys.prefix(ns, int(gen))

    async def _prelude(self, ns: str, caller: str, uname: str) -> tuple[bytes | str, str, str, int]:
        """(generation, key prefix, effective user id or "", username unknown 0/1)."""
        gen, p = await self._generation(ns)
        if not uname:
            return gen, p, caller, 0
        v = await self._redis.hget(p + keys.USERNAMES, uname)
        if v is None:
            return gen, p, "", 1
        return gen, p, text(v).partition("\t")[2], 0

    async def _certificate_courses(self, p: str, user: Sequence[Any]) -> list[Any]:
        """certificate_courses.lua: course key, snapshot, catalog info of each passing certificate."""
        courses = []
        for i in range(0, len(user), 2):
            kind, ck = fieldnames.field_kind(text(user[i]))
            if kind != fieldnames.KIND_CERTIFICATE:
                continue
            try:
                cert = orjson.loads(text(user[i + 1]).partition("\t")[2])
            except orjson.JSONDecodeError:
                continue
            if isinstance(cert, dict) and cert.get("status") in ("downloadable", "generating"):
                courses.append(ck)
        if not courses:
            return []
        async with self._redis.pipeline() as pipe:
            for ck in courses:
                pipe.get(p + keys.course(ck))
                pipe.hget(p + keys.course_catalog(ck), fieldnames.CATALOG_INFO_FIELD)
            got = iter(await pipe.execute())
        out: list[Any] = []
        for ck in courses:
            out += [ck, next(got), next(got)]
        return out

    # one per read script ------------------------------------------------------------------------

    async def _read_course(self, args: Sequence[str]) -> Reply:
        ns, ck, caller, uname = args[:4]
        gen, p, uid, unknown = await self._prelude(ns, caller, uname)
        async with self._redis.pipeline() as pipe:
            pipe.get(p + keys.course(ck))
            pipe.hget(p + keys.course_catalog(ck), fieldnames.CATALOG_INFO_FIELD)
            pipe.hgetall(p + keys.run_programs(ck))
            if uid:
                pipe.hgetall(p + keys.user(int(uid)))
                pipe.zrange(p + keys.activity(int(uid)), 0, -1, withscores=True)
            if uname and caller:
                pipe.hgetall(p + keys.user(int(caller)))
            got = iter(await pipe.execute())
        course, cat, progs = next(got), next(got), _flat(next(got))
        user: list[Any] = []
        act: list[Any] = []
        if uid:
            user, courses = _learner(next(got))
            act = _activity(next(got), courses)
        roles = _roles(_flat(next(got))) if uname and caller else []
        if course is None:
            return [gen, None, None, [], [], [], roles, uid, unknown, [], NO_STAMPS]
        certs = await self._certificate_courses(p, user) if progs else []
        return [gen, course, cat, user, progs, act, roles, uid, unknown, certs, NO_STAMPS]

    async def _read_sequence(self, args: Sequence[str]) -> Reply:
        ns, ck, usage, caller, uname = args[:5]
        gen, p, uid, unknown = await self._prelude(ns, caller, uname)
        async with self._redis.pipeline() as pipe:
            pipe.get(p + keys.course(ck))
            pipe.hget(p + keys.course_catalog(ck), fieldnames.CATALOG_INFO_FIELD)
            pipe.hget(p + keys.course_blocks(ck), usage)
            pipe.hget(p + keys.course_sequences(ck), usage)
            if uid:
                pipe.hgetall(p + keys.user(int(uid)))
                pipe.hgetall(p + keys.completions(int(uid), ck))
            if caller and caller != uid:
                pipe.hgetall(p + keys.user(int(caller)))
            got = iter(await pipe.execute())
        course, cat, blk, seq = next(got), next(got), next(got), next(got)
        user, done = (_learner(next(got))[0], next(got)) if uid else ([], {})
        caller_hash = _flat(next(got)) if caller and caller != uid else user
        if course is None:
            return [gen, None, None, None, [], [], [], uid, unknown, None, NO_STAMPS]
        if seq is None or not uid:
            user, done = [], {}
        records: list[Any] = []
        if done:
            # As read_sequence.lua: only the facts of the sequence's own blocks, by their fields'
            # indexes in the course's dictionary (writer.lua stores `<tag><index>` fields).
            stored = {text(f): v for f, v in done.items()}
            blocks = _sequence_blocks(orjson.loads(seq), usage)
            fields = [keys.completion_field(ck, block) for block, _ in blocks]
            indexes = await self._redis.hmget(p + keys.block_ids(ck), fields)
            user = list(user)
            for (block, tag), field, index in zip(blocks, fields, indexes, strict=True):
                raw = stored.get(tag + text(index)) if index is not None else None
                if raw is None:
                    continue
                if tag == "":
                    records += [field, "\t" + orjson.dumps(split_completion(text(raw))[1]).decode()]
                else:
                    shown = fieldnames.f_position(block) if tag == keys.POSITION_TAG else fieldnames.f_bookmark(block)
                    user += [shown, raw]
        croles = _roles(caller_hash if caller else [])
        return [gen, course, blk, seq, user, records, croles, uid, unknown, cat, NO_STAMPS]

    async def _read_resume(self, args: Sequence[str]) -> Reply:
        ns, ck, caller, uname = args[:4]
        gen, p, uid, unknown = await self._prelude(ns, caller, uname)
        resume = blk = None
        if uid:
            resume = _learner_field(await self._redis.hgetall(p + keys.user(int(uid))), fieldnames.f_resume(ck))
            if resume is not None:
                block = orjson.loads(text(resume).partition("\t")[2])
                if isinstance(block, str):
                    blk = await self._redis.hget(p + keys.course_blocks(ck), block)
        roles = _roles(_flat(await self._redis.hgetall(p + keys.user(int(caller))))) if uname and caller else []
        return [gen, resume, blk, roles, uid, unknown]

    async def _read_celebration(self, args: Sequence[str]) -> Reply:
        ns, ck, caller, uname = args[:4]
        gen, p, uid, unknown = await self._prelude(ns, caller, uname)
        async with self._redis.pipeline() as pipe:
            pipe.exists(p + keys.course(ck))
            if uid:
                pipe.hgetall(p + keys.user(int(uid)))
            if uname and caller:
                pipe.hgetall(p + keys.user(int(caller)))
            got = iter(await pipe.execute())
        exists = next(got)
        enr = _learner_field(next(got), fieldnames.f_enrollment(ck)) if uid else None
        roles = _roles(_flat(next(got))) if uname and caller else []
        return [gen, exists, enr, roles, uid, unknown]

    async def _read_applied(self, args: Sequence[str]) -> Reply | int:
        _, p = await self._generation(args[0])
        got = await self._redis.hget(p + keys.CHECKPOINTS, args[1])
        return int(got) if got is not None else -1

    async def _read_programs(self, args: Sequence[str]) -> Reply:
        ns, uid = args[:2]
        gen, p = await self._generation(ns)
        user = _learner(await self._redis.hgetall(p + keys.user(int(uid))))[0]
        runs = []
        for i in range(0, len(user), 2):
            kind, ck = fieldnames.field_kind(text(user[i]))
            if kind == fieldnames.KIND_ENROLLMENT:
                try:
                    enr = orjson.loads(text(user[i + 1]).partition("\t")[2])
                except orjson.JSONDecodeError:
                    continue
                if isinstance(enr, dict) and enr.get("is_active") is True:
                    runs.append(ck)
        progs: list[Any] = []
        if runs:
            async with self._redis.pipeline() as pipe:
                for ck in runs:
                    pipe.hgetall(p + keys.run_programs(ck))
                seen: set[Any] = set()
                for rp in await pipe.execute():
                    for uuid, doc in rp.items():
                        if uuid not in seen:
                            seen.add(uuid)
                            progs += [uuid, doc]
        return [gen, user, progs, await self._certificate_courses(p, user) if progs else [], NO_STAMPS]

    async def _read_programs_progress(self, args: Sequence[str]) -> Reply:
        ns, uuid, uid = args[:3]
        gen, p = await self._generation(ns)
        async with self._redis.pipeline() as pipe:
            pipe.get(p + keys.program(uuid))
            pipe.hgetall(p + keys.user(int(uid)))
            prog, user_hash = await pipe.execute()
        if prog is None:
            return [gen, None, [], []]
        user = _learner(user_hash)[0]
        return [gen, prog, user, await self._certificate_courses(p, user)]
