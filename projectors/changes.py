"""Change records for the projected topics (contract PROJECTED.md).

How a batch yields its records, without a second source of truth:
1. before the batch is written, one pipelined read fetches the facts the four models need for the
   learners and courses the batch touches (`ChangeRecorder.prefetch`);
2. the batch's operations are replayed per event on those facts in memory, with exactly the
   writer's semantics (readmodels/memory.py), giving each model's state before and after every
   event (`ChangeRecorder.records`);
3. a record is made for every model key whose state differs; no-op events make none.

Clock-dependent values (program counts) are computed as of the causing event's `ce_time`, so a
replay of the same history gives the same records; `ce_id` is a UUIDv5 of (event id, model, key).

Reference data fans out: a course republish (a new passing bar, a new outline) can change the
status and resume point of every learner of the course, a program change (or deletion) the
progress of every learner of its runs, old and new. The projections keep an index of the
learners of each course (`keys.course_learners`, an intset); a batch with such a snapshot reads
it, and those learners' facts in pipelines of 1,000, in more round trips; the replay computes
every reached key before and after the snapshot, so only real changes become records, in order.

Program progress waits for certificate dates (API.md counting rule 1, readmodels/views/certificates.py):
its state reads the published course and catalog info of the learner's passing certificates, as
of the event's `ce_time`. Those courses are read with the batch's courses, or in one more round
trip when a learner's certificates name others; a republish or a catalog-info change that moves a
course's certificate schedule (pacing, end, date) also reaches the program progress of its learners.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
from redis.asyncio import Redis

from events.base import format_time, parse_time
from projectors.pipeline import Projected, RawMessage
from readmodels import keys
from readmodels.facts import UserFacts, value, versioned
from readmodels.generations import FIRST_GENERATION
from readmodels.memory import MemoryStore
from readmodels.ops import AddMember, Op, ReplaceSnapshot, SetField, raw_value
from readmodels.views.certificates import effective_courses, is_passing_status
from readmodels.views.common import effective_course
from readmodels.views.programs import progress

log = logging.getLogger(__name__)

# Fixed namespace for the record ids: never change it, subscribers deduplicate by these ids.
RECORD_NAMESPACE = uuid.UUID("5b0e7c2e-8d0f-4a52-9a55-3c1f0b6f7a21")

LEARNER_COURSE_STATUS = "learner-course-status"
RESUME_POINT = "resume-point"
CELEBRATIONS = "celebrations"
PROGRAM_PROGRESS = "program-progress"
MODELS = (LEARNER_COURSE_STATUS, RESUME_POINT, CELEBRATIONS, PROGRAM_PROGRESS)

_USER_PREFIX = keys.user(0)[:-1]  # "u:"
_COURSE_PREFIX = keys.course("")
_CATALOG_PREFIX = keys.course_catalog("")
_STATUS_FIELDS = (keys.f_enrollment(""), keys.f_grade(""), keys.f_passing(""), keys.f_certificate(""))
_PROGRAM_FIELDS = (keys.f_enrollment(""), keys.f_certificate(""))
_RESUME_FIELD = keys.f_resume("")
_CELEBRATION_FIELDS = (keys.f_celebration("first_section", ""), keys.f_celebration("weekly_goal", ""))


# One batch formats the same few times many times (several records per event, one send time).
_format_time = lru_cache(maxsize=4096)(format_time)


def topic_of(model: str) -> str:
    """The projected topic name of a model (before the deployment's topic prefix)."""
    return f"projected-{model}"


def record_id(event_id: str, model: str, key: str) -> str:
    return str(uuid.uuid5(RECORD_NAMESPACE, f"{event_id}\n{model}\n{key}"))


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    model: str
    key: str
    state: dict[str, Any] | None
    previous: dict[str, Any] | None
    message: RawMessage
    event_id: str
    event_type: str
    event_time: datetime
    generation: int

    @property
    def id(self) -> str:
        return record_id(self.event_id, self.model, self.key)

    @property
    def type(self) -> str:
        return f"ext.projected.{self.model}.changed.v1"

    def value(self, projected_at: datetime) -> bytes:
        m = self.message
        return orjson.dumps({
            "model": self.model,
            "key": self.key,
            "state": self.state,
            "previous": self.previous,
            "caused_by": {"event_id": self.event_id, "event_type": self.event_type, "topic": m.topic,
                          "partition": m.partition, "offset": m.offset},
            "generation": self.generation,
            "projected_at": _format_time(projected_at),
        })

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            ("ce_type", self.type.encode()),
            ("ce_id", self.id.encode()),
            ("ce_time", _format_time(self.event_time).encode()),
            ("ce_source", b"learner-projector"),
            ("ce_specversion", b"1.0"),
            ("content-type", b"application/json"),
        ]


# Which model keys an operation can change -------------------------------------------------------

Touch = tuple[str, int, str]  # (kind, user id, course key); kind one of "status", "resume", "cel", "prog"


def _user_id(key: str) -> int | None:
    if not key.startswith(_USER_PREFIX):
        return None
    rest = key[len(_USER_PREFIX):]
    return int(rest) if rest.isdigit() else None


# The learner field kinds (text before the first ':') that feed a model state.
_FIELD_KINDS: dict[str, tuple[str, ...]] = {
    keys.f_enrollment("").rstrip(":"): ("status", "prog"),
    keys.f_certificate("").rstrip(":"): ("status", "prog"),
    keys.f_grade("").rstrip(":"): ("status",),
    keys.f_passing("").rstrip(":"): ("status",),
    keys.f_resume("").rstrip(":"): ("resume",),
}
_CELEBRATION_KIND = keys.f_celebration("", "").split(":")[0]
_NO_TOUCH: list[Touch] = []


def touches(op: Op) -> list[Touch]:
    """The model keys an operation can change (called for every op of every live batch: a dict
    lookup on the field's kind instead of a scan of prefixes)."""
    if not isinstance(op, SetField) or not op.key.startswith(_USER_PREFIX):
        return _NO_TOUCH
    uid = _user_id(op.key)
    if uid is None:
        return _NO_TOUCH
    kind, _, rest = op.field.partition(":")
    models = _FIELD_KINDS.get(kind)
    if models is not None:
        return [(m, uid, rest) for m in models]
    if kind == _CELEBRATION_KIND:
        for prefix in _CELEBRATION_FIELDS:
            if op.field.startswith(prefix):
                return [("cel", uid, op.field[len(prefix):])]
    return _NO_TOUCH


# Model states from facts ------------------------------------------------------------------------


_NO_FIELDS: dict[str, str] = {}


def _hash(store: MemoryStore, key: str) -> dict[str, str]:
    """A hash of the replay store, read in place (`MemoryStore.hgetall` copies it; the states only read)."""
    return store.hashes.get(key) or _NO_FIELDS


def _facts(store: MemoryStore, uid: int) -> UserFacts:
    return UserFacts(uid, _hash(store, keys.user(uid)))


def course_status(store: MemoryStore, uid: int, ck: str) -> dict[str, Any] | None:
    u = _facts(store, uid)
    enr = u.get(keys.f_enrollment(ck))
    grade = u.get(keys.f_grade(ck))
    passing = u.get(keys.f_passing(ck))
    cert = u.get(keys.f_certificate(ck))
    if enr is None and grade is None and passing is None and cert is None:
        return None
    course = value(store.get(keys.course(ck)))
    lowest = course.get("lowest_passing_grade") if isinstance(course, dict) else None
    # API.md user_has_passing_grade: the percent grade against the course's bar, else the status
    is_passing = bool(passing) if grade is None or lowest is None else round(float(grade), 2) >= float(lowest)
    return {
        "mode": enr.get("mode") if enr else None,
        "is_active": bool(enr.get("is_active")) if enr else False,
        "percent_grade": grade,
        "is_passing": is_passing,
        "cert_status": cert.get("status") if cert else None,
    }


def resume_point(store: MemoryStore, uid: int, ck: str) -> dict[str, Any] | None:
    block = _facts(store, uid).get(keys.f_resume(ck))
    if block is None:
        return None
    where = _hash(store, keys.course_blocks(ck)).get(block)
    unit, section = (where.split("\t")[1:3] if where else ("", ""))
    return {"block_id": block, "unit_id": unit or None, "section_id": section or None}


def celebrations(store: MemoryStore, uid: int, ck: str) -> dict[str, Any] | None:
    u = _facts(store, uid)
    first = u.get(keys.f_celebration("first_section", ck))
    weekly = u.get(keys.f_celebration("weekly_goal", ck))
    if first is None and weekly is None:
        return None
    return {"first_section": bool(first), "weekly_goal": bool(weekly)}


def _program_runs(program: dict[str, Any]) -> set[str]:
    return {run["key"] for course in program.get("courses", ()) for run in course.get("course_runs", ())}


def program_progress(store: MemoryStore, uid: int, program: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    u = _facts(store, uid)
    runs = _program_runs(program)
    if not any(u.raw.get(keys.f_enrollment(r)) or u.raw.get(keys.f_certificate(r)) for r in runs):
        return None  # the learner has nothing to do with this program
    return progress(program, u, now, courses=_certificate_courses(store, u, runs)).counts()


def _certificate_courses(store: MemoryStore, u: UserFacts, runs: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The effective published courses of the runs where the learner holds a passing certificate
    (what the API's read scripts return as `certificate_courses`)."""
    found = {}
    for run in runs:
        cert = u.get(keys.f_certificate(run))
        if not isinstance(cert, dict) or not is_passing_status(cert.get("status")):
            continue
        course = _document(store.strings.get(keys.course(run)))
        if course is not None and isinstance(course[1], dict):
            info = _document(_hash(store, keys.course_catalog(run)).get(keys.CATALOG_INFO_FIELD))
            found[run] = (course[1], course[0], info)
    return effective_courses(found, shared=False)


@lru_cache(maxsize=1024)
def _document(raw: str | None) -> tuple[str, Any] | None:
    """A stored `<version>\t<json>` document, parsed once per text (the states only read it)."""
    return versioned(raw)


def certificate_schedule(course_raw: str | None, catalog_raw: str | None) -> tuple[Any, ...] | None:
    """What of a course decides whether its certificates are viewable (pacing, end, date), with the
    catalog info applied as the read side does: a change reaches its learners' program progress."""
    course, catalog = _document(course_raw), _document(catalog_raw)
    if course is None or not isinstance(course[1], dict):
        return None
    eff = effective_course(course[1], course[0], catalog)
    return eff.get("pacing"), eff.get("end"), eff.get("certificate_available_date")


def _programs_of(store: MemoryStore, ck: str) -> dict[str, dict[str, Any]]:
    return {uuid_: _program(doc) for uuid_, doc in _hash(store, keys.run_programs(ck)).items()}


@lru_cache(maxsize=256)
def _program(doc: str) -> dict[str, Any]:
    """A program document, parsed once per text (the states only read it)."""
    program: dict[str, Any] = orjson.loads(doc)
    return program


_MODEL_OF = {"status": LEARNER_COURSE_STATUS, "resume": RESUME_POINT, "cel": CELEBRATIONS}


def states(store: MemoryStore, touched: Iterable[Touch], now: datetime) -> dict[tuple[str, str], Any]:
    """(model, record key) -> state, for every model key the touches reach."""
    out: dict[tuple[str, str], Any] = {}
    for kind, uid, ck in touched:
        if kind == "status":
            out[(LEARNER_COURSE_STATUS, f"{uid}:{ck}")] = course_status(store, uid, ck)
        elif kind == "resume":
            out[(RESUME_POINT, f"{uid}:{ck}")] = resume_point(store, uid, ck)
        elif kind == "cel":
            out[(CELEBRATIONS, f"{uid}:{ck}")] = celebrations(store, uid, ck)
        else:
            for program_uuid, program in _programs_of(store, ck).items():
                out[(PROGRAM_PROGRESS, f"{uid}:{program_uuid}")] = program_progress(store, uid, program, now)
    return out


# Prefetch and replay ----------------------------------------------------------------------------


def plan(ops: Sequence[Op]) -> tuple[set[int], set[str], set[str], dict[int, list[str] | None]]:
    """(user ids, course keys, snapshot keys) whose current facts the replay needs, and per user
    the learner fields the states of the touched keys read (None: the whole hash, as program
    progress reads the enrollments and certificates of every run of a program)."""
    courses: set[str] = set()
    snapshots: set[str] = set()
    wanted: dict[int, set[str] | None] = {}
    for op in ops:
        if isinstance(op, ReplaceSnapshot):
            snapshots.add(op.key)
            continue
        if _catalog_info(op):
            snapshots.add(keys.course(op.key[len(_CATALOG_PREFIX) :]))  # its course, and its learners
            continue
        for kind, uid, ck in touches(op):
            courses.add(ck)
            if kind == "prog":
                wanted[uid] = None
                continue
            fields = wanted.setdefault(uid, set())
            if fields is not None:
                fields.update(_state_fields(ck))
    fields_of = {uid: sorted(f) if f is not None else None for uid, f in wanted.items()}
    return set(wanted), courses, snapshots, fields_of


@lru_cache(maxsize=4096)
def _state_fields(ck: str) -> tuple[str, ...]:
    """The learner fields the status, resume and celebration states of one course read."""
    return (keys.f_enrollment(ck), keys.f_grade(ck), keys.f_passing(ck), keys.f_certificate(ck), keys.f_resume(ck),
            keys.f_celebration("first_section", ck), keys.f_celebration("weekly_goal", ck))


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
class _Read:
    store: MemoryStore
    outbox: list[bytes | None]
    serving: int | None = None


def _text(v: bytes | str) -> str:
    return v.decode() if isinstance(v, bytes) else v


def _ask_learner(pipe: Any, p: str, uid: int, want: Sequence[str] | None) -> None:
    """Queue the read of a learner's fields (`want`; None: the whole hash)."""
    if want is None:
        pipe.hgetall(p + keys.user(uid))
    else:
        pipe.hmget(p + keys.user(uid), want)


def _learner_fields(reply: Any, want: Sequence[str] | None) -> dict[str, str]:
    """The reply of `_ask_learner`, as field -> raw value (absent fields left out)."""
    if want is None:
        return {_text(k): _text(v) for k, v in reply.items()}
    return {f: _text(v) for f, v in zip(want, reply, strict=True) if v is not None}


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
            store.hashes[h] = {_text(k): _text(v) for k, v in reply.items()}
    for s in strings:
        reply = next(replies)
        if reply is not None:
            store.strings[s] = _text(reply)


async def _read(
    redis: Redis, ns: str, generation: int, ops: Sequence[Op], outbox_fields: Sequence[str], *,
    release: Sequence[str] = (), serving: bool = False, blocks: BlockCache | None = None,
) -> _Read:
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
    hashes += [keys.course_catalog(s[len(_COURSE_PREFIX) :]) for s in strings if s.startswith(_COURSE_PREFIX)]
    strings += [keys.snapshot_parts(s) for s in strings]
    if not learners and not outbox_fields and not release and not serving:
        return _Read(store, [])
    p = keys.prefix(ns, generation)
    # MULTI/EXEC: a course snapshot and its outline are read at one instant (they are cached together).
    async with redis.pipeline(transaction=True) as pipe:
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
        async with redis.pipeline(transaction=True) as pipe:
            for ck in stale:
                pipe.get(p + keys.course(ck))
                pipe.hgetall(p + keys.course_blocks(ck))
            stale_replies = iter(await pipe.execute())
            for ck in stale:
                snapshot, reply = next(stale_replies), next(stale_replies)
                got = {_text(k): _text(v) for k, v in reply.items()}
                cache.put(generation, ck, _text(snapshot) if snapshot is not None else None, got)
                if got:
                    store.hashes[keys.course_blocks(ck)] = dict(got) if snapshots else got
    if snapshots:
        await _read_fanout(redis, p, store, ops, fields)
    await _read_certificate_courses(redis, p, store)
    return _Read(store, held, int(pointer) if pointer is not None else None)


_CERT_PREFIX = keys.f_certificate("")


async def _read_certificate_courses(redis: Redis, p: str, store: MemoryStore) -> None:
    """The course documents and catalog info of the learners' passing certificates that the reads
    so far did not bring (one more round trip, only then): program progress waits for their dates."""
    missing: set[str] = set()
    for key, fields in store.hashes.items():
        if not key.startswith(_USER_PREFIX):
            continue
        for name, raw in fields.items():
            if name.startswith(_CERT_PREFIX) and keys.course(name[len(_CERT_PREFIX) :]) not in store.strings:
                cert = value(raw)
                if isinstance(cert, dict) and is_passing_status(cert.get("status")):
                    missing.add(name[len(_CERT_PREFIX) :])
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
        for ck, program in _reached(op, store):
            courses[ck] = courses.get(ck, False) or program
    if not courses:
        return
    ordered = sorted(courses)
    hashes = [h for ck in ordered for h in (keys.course_blocks(ck), keys.run_programs(ck), keys.course_catalog(ck))]
    strings = [s for ck in ordered for s in (keys.course(ck), keys.snapshot_parts(keys.course(ck)))
               if s not in store.strings]
    async with redis.pipeline(transaction=True) as pipe:
        for ck in ordered:
            pipe.smembers(p + keys.course_learners(ck))
        _ask_documents(pipe, p, hashes, strings)
        replies = iter(await pipe.execute())
    wanted: dict[int, set[str] | None] = {}
    for ck in ordered:
        learners = {_text(m) for m in next(replies)}
        store.sets[keys.course_learners(ck)] = learners
        for uid in map(int, learners):
            if courses[ck] or fields.get(uid, []) is None:
                wanted[uid] = None
            elif (have := wanted.setdefault(uid, set())) is not None:
                have.update(_state_fields(ck))
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


# The keys `states` reads (hashes u:, cblk:, runprogs:; strings course:); snapshots are replayed
# whole since they own hash fields elsewhere; learner-course index members for the fan-out. Other
# ops (completions per block, activity zsets) cannot change a model state: the replay skips them.
_READ_PREFIXES = (
    _USER_PREFIX,
    keys.course_blocks(""),
    keys.run_programs(""),
    keys.course(""),
    keys.course_catalog(""),
)


def _replayed(op: Op) -> bool:
    """Learner-course index members are replayed too: a republish later in the batch reaches them."""
    return (isinstance(op, ReplaceSnapshot | AddMember)
            or (isinstance(op, SetField) and op.key.startswith(_READ_PREFIXES)))


_PROGRAM_PREFIX = keys.program("")


def _catalog_info(op: Op) -> bool:
    return isinstance(op, SetField) and op.key.startswith(_CATALOG_PREFIX) and op.field == keys.CATALOG_INFO_FIELD


def _reached(op: Op, store: MemoryStore) -> list[tuple[str, bool]]:
    """The courses whose learners' states a reference change can change, before it is applied to
    `store`: (course key, False) for a course republish (the passing bar, the outline: status and
    resume point), (run, True) for every run of a program, as it was and as it becomes (progress);
    and (course key, True) for a republish or catalog-info change that moves the course's
    certificate schedule (the progress of the programs of that run)."""
    if _catalog_info(op):
        assert isinstance(op, SetField)
        ck = op.key[len(_CATALOG_PREFIX) :]
        info = _hash(store, op.key).get(op.field)
        course = store.strings.get(keys.course(ck))
        moved = certificate_schedule(course, info) != certificate_schedule(course, raw_value(op.version, op.value))
        return [(ck, True)] if moved else []
    if not isinstance(op, ReplaceSnapshot):
        return []
    if op.key.startswith(_COURSE_PREFIX):
        ck = op.key[len(_COURSE_PREFIX) :]
        info = _hash(store, keys.course_catalog(ck)).get(keys.CATALOG_INFO_FIELD)
        new = certificate_schedule(raw_value(op.version, op.value), info)
        moved = certificate_schedule(store.strings.get(op.key), info) != new
        return [(ck, False), (ck, True)] if moved else [(ck, False)]
    if op.key.startswith(_PROGRAM_PREFIX):
        runs: set[str] = set()
        for doc in (value(store.strings.get(op.key)), orjson.loads(op.value)):
            if isinstance(doc, dict):
                runs |= _program_runs(doc)
        return [(ck, True) for ck in sorted(runs)]
    return []


def fanout(op: Op, store: MemoryStore) -> list[Touch]:
    """The model keys of every learner a reference change reaches (`keys.course_learners`)."""
    if not isinstance(op, ReplaceSnapshot | SetField):
        return []
    out: list[Touch] = []
    for ck, program in _reached(op, store):
        for uid in sorted(map(int, store.sets.get(keys.course_learners(ck), ()))):
            if program:
                out.append(("prog", uid, ck))
            else:
                out += [("status", uid, ck), ("resume", uid, ck)]
    return out


def _learner_fact(op: Op) -> bool:
    """A learner field (or index member): it changes only the states of the (user, course) keys it touches."""
    return isinstance(op, AddMember) or (isinstance(op, SetField) and op.key.startswith(_USER_PREFIX))


def records(
    store: MemoryStore, projected: Sequence[Projected], ops: Sequence[Op], generation: int
) -> list[ChangeRecord]:
    """Replay the batch per event on `store` (mutated) and return the records of real changes.

    A state computed after one event is the state before the next event that touches the same
    key, as long as only learner fields changed in between (a course, its blocks or its programs
    change other inputs, and program progress depends on the event's time): those are reused.
    A course republish or a program change reaches every learner of the courses concerned
    (`fanout`, over the `keys.course_learners` sets in `store`)."""
    out: list[ChangeRecord] = []
    known: dict[tuple[str, str], Any] = {}  # states of status, resume and celebrations keys, current
    for p in projected:
        event_ops = [op for op in ops[p.first_op : p.first_op + p.op_count] if _replayed(op)]
        touched = [t for op in event_ops for t in (*touches(op), *fanout(op, store))]
        if not all(_learner_fact(op) for op in event_ops):
            known.clear()
        if not touched:
            store.apply(event_ops)
            continue
        now = p.event.time
        missing = [t for t in touched if t[0] == "prog" or (_MODEL_OF[t[0]], f"{t[1]}:{t[2]}") not in known]
        before = states(store, missing, now) if missing else {}
        store.apply(event_ops)
        after = states(store, touched, now)
        for (model, key), state in after.items():
            previous = before[(model, key)] if (model, key) in before else known.get((model, key))
            if state != previous:
                out.append(ChangeRecord(model, key, state, previous, p.message, p.event.id, p.event.type,
                                        p.event.time, generation))
            if model != PROGRAM_PROGRESS:
                known[(model, key)] = state
        for (model, key), previous in before.items():  # a program deleted, or no longer of that run
            if model == PROGRAM_PROGRESS and (model, key) not in after and previous is not None:
                out.append(ChangeRecord(model, key, None, previous, p.message, p.event.id, p.event.type,
                                        p.event.time, generation))
    return out


def _to_json(r: ChangeRecord) -> dict[str, Any]:
    m = r.message
    return {"model": r.model, "key": r.key, "state": r.state, "previous": r.previous,
            "topic": m.topic, "partition": m.partition, "offset": m.offset, "event_id": r.event_id,
            "event_type": r.event_type, "event_time": _format_time(r.event_time), "generation": r.generation}


def _from_json(d: dict[str, Any]) -> ChangeRecord:
    return ChangeRecord(d["model"], d["key"], d["state"], d["previous"],
                        RawMessage(d["topic"], d["partition"], d["offset"], None, None), d["event_id"],
                        d["event_type"], parse_time(d["event_time"]), d["generation"])


@dataclass
class BatchFacts:
    """What a live batch needs besides its messages: the pre-batch facts, and the records an
    earlier attempt at these offsets computed but may not have published (the outbox)."""

    store: MemoryStore
    ends: dict[str, int]  # "<topic>:<partition>" -> next offset after this batch
    held: dict[str, list[ChangeRecord]]  # outbox field -> records held there
    later: dict[str, list[ChangeRecord]] = field(default_factory=dict)  # held, beyond this batch
    serving: int = 0  # the serving generation, read in the same round trip as the facts


class ChangeRecorder:
    """Prefetch, replay and the outbox for one namespace; the Projector calls it around every live batch.

    At-least-once across a crash between the Redis write and the publish: the records are computed
    before the write (they only need the pre-batch facts) and held in `<ns>:outbox` (one field per
    source partition) atomically with the write (`held`, passed to RedisWriter.apply); after the
    publish they are released in the background (before the next batch's read). A redelivered batch
    finds its effects already applied (so the replay yields nothing new) but publishes what the
    outbox still holds for its offsets, with the same ids (a running projector has released what
    it published before it reads the outbox again, so it does not publish anything twice).

    Round trips per live batch: one read (facts, outbox, serving pointer), the write (with the
    hold); the publish (projectors/pipeline.py) and the release follow in the background.
    """

    def __init__(self, redis: Redis, ns: str, *, assigned: Callable[[], Iterable[str]] | None = None) -> None:
        """`assigned`: the "<topic>:<partition>" fields of the source partitions this worker owns
        now (faust's assignment). The first read after they change also reads their outbox fields,
        so records a crashed owner held after its batch was committed go out without waiting for
        the next event of their partition."""
        self._redis = redis
        self._ns = ns
        self._assigned = assigned
        self._swept: frozenset[str] = frozenset()  # owned partitions whose outbox fields were read
        self._blocks = BlockCache()
        self._unreleased: set[str] = set()  # outbox fields whose records are published, not yet released
        self._releasing: asyncio.Task[None] | None = None

    async def settle(self) -> None:
        """Wait for the release in flight (a failed one is folded into the next read)."""
        if self._releasing is not None:
            task, self._releasing = self._releasing, None
            await asyncio.gather(task, return_exceptions=True)

    async def prefetch(self, generation: int, ops: Sequence[Op], batch: Sequence[RawMessage] = ()) -> BatchFacts:
        ends: dict[str, int] = {}
        for m in batch:
            f = f"{m.topic}:{m.partition}"
            ends[f] = max(ends.get(f, 0), m.offset + 1)
        owned = frozenset(self._assigned()) if self._assigned is not None else frozenset()
        fields = sorted(ends) + sorted(owned - self._swept - ends.keys())
        await self.settle()
        release = sorted(self._unreleased)
        read = await _read(self._redis, self._ns, generation, ops, fields, release=release, serving=True,
                           blocks=self._blocks)
        self._unreleased.clear()
        self._swept = owned
        held = {f: [_from_json(d) for d in orjson.loads(v)] for f, v in zip(fields, read.outbox, strict=True) if v}
        serving = read.serving if read.serving is not None else FIRST_GENERATION
        return BatchFacts(read.store, ends, held, serving=serving)

    def records(self, facts: BatchFacts, projected: Sequence[Projected], ops: Sequence[Op],
                generation: int) -> list[ChangeRecord]:
        """Held records of this batch's offsets (an earlier attempt) and every record held for an
        owned partition this batch does not touch (their batch was written), then the new ones, by
        id once."""
        fresh = records(facts.store, projected, ops, generation)
        out: list[ChangeRecord] = []
        for f, held in facts.held.items():
            end = facts.ends.get(f)
            if end is None:
                out += held
                continue
            out += [r for r in held if r.message.offset < end]
            facts.later[f] = [r for r in held if r.message.offset >= end]
        if not out:  # nothing held for these offsets (the usual case): no ids to compare
            return fresh
        seen = {r.id for r in out}
        return out + [r for r in fresh if r.id not in seen]

    def held(self, facts: BatchFacts, pending: Sequence[ChangeRecord]) -> dict[str, bytes]:
        """The outbox fields to write with the batch: its records, and held ones beyond it."""
        by_field: dict[str, list[dict[str, Any]]] = {}
        for r in pending:
            by_field.setdefault(f"{r.message.topic}:{r.message.partition}", []).append(_to_json(r))
        for f, later in facts.later.items():
            by_field.setdefault(f, []).extend(_to_json(r) for r in later)
        return {f: orjson.dumps(v) for f, v in by_field.items()}

    def published(self, facts: BatchFacts, records: Sequence[ChangeRecord]) -> None:
        """The records are out: release their outbox fields in the background (off the batch's
        path; the next prefetch waits for it, and re-does it in its own round trip if it failed)."""
        for r in records:
            f = f"{r.message.topic}:{r.message.partition}"
            if not facts.later.get(f):
                self._unreleased.add(f)
        if self._unreleased and self._releasing is None:
            self._releasing = asyncio.create_task(self._release())

    async def _release(self) -> None:
        fields = sorted(self._unreleased)
        try:
            await self._redis.hdel(keys.outbox(self._ns), *fields)
        except Exception as exc:  # kept: the next batch's read releases them in its round trip
            log.warning("releasing published change records failed (retried with the next read): %r", exc)
            return
        self._unreleased.difference_update(fields)


def utcnow() -> datetime:
    return datetime.now(UTC)
