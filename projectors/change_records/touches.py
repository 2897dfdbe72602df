"""Which model keys an operation can change (the op-to-model map), and what the replay must read
and replay for them: the learner fields a model state depends on (`touches`), the learners a
reference change reaches (`fanout`), the facts a batch needs (`plan`).

Program progress waits for certificate dates (API.md counting rule 1, readmodels/views/certificates.py):
a republish or a catalog-info change that moves a course's certificate schedule (pacing, end, date)
also reaches the program progress of its learners (`reached`)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import orjson

from readmodels import fieldnames, keys
from readmodels.facts import value, versioned
from readmodels.memory import MemoryStore
from readmodels.ops import AddMember, Op, ReplaceSnapshot, SetField, raw_value
from readmodels.views.common import effective_course
from readmodels.views.learner_course import CELEBRATION_FLAGS
from readmodels.views.program_progress import program_runs

# (kind, user id, course key); kind one of "status", "resume", "cel", "prog" (states.py)
Touch = tuple[str, int, str]

_CELEBRATION_FIELDS = tuple(fieldnames.f_celebration_prefix(flag) for flag in CELEBRATION_FLAGS)

# The learner field kinds (fieldnames.field_kind) that feed a model state.
_FIELD_KINDS: dict[str, tuple[str, ...]] = {
    fieldnames.KIND_ENROLLMENT: ("status", "prog"),
    fieldnames.KIND_CERTIFICATE: ("status", "prog"),
    fieldnames.KIND_GRADE: ("status",),
    fieldnames.KIND_PASSING: ("status",),
    fieldnames.KIND_RESUME: ("resume",),
}
_NO_TOUCH: list[Touch] = []


def touches(op: Op) -> list[Touch]:
    """The model keys an operation can change (called for every op of every live batch: a dict
    lookup on the field's kind instead of a scan of prefixes)."""
    if not isinstance(op, SetField) or not op.key.startswith(keys.USER_PREFIX):
        return _NO_TOUCH
    uid = keys.user_id_of(op.key)
    if uid is None:
        return _NO_TOUCH
    kind, rest = fieldnames.field_kind(op.field)
    models = _FIELD_KINDS.get(kind)
    if models is not None:
        return [(m, uid, rest) for m in models]
    if kind == fieldnames.KIND_CELEBRATION:
        for prefix in _CELEBRATION_FIELDS:
            if op.field.startswith(prefix):
                return [("cel", uid, op.field[len(prefix):])]
    return _NO_TOUCH


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
        if catalog_info(op):
            snapshots.add(keys.course(keys.course_of(op.key)))  # its course, and its learners
            continue
        for kind, uid, ck in touches(op):
            courses.add(ck)
            if kind == "prog":
                wanted[uid] = None
                continue
            fields = wanted.setdefault(uid, set())
            if fields is not None:
                fields.update(state_fields(ck))
    fields_of = {uid: sorted(f) if f is not None else None for uid, f in wanted.items()}
    return set(wanted), courses, snapshots, fields_of


@lru_cache(maxsize=4096)
def state_fields(ck: str) -> tuple[str, ...]:
    """The learner fields the status, resume and celebration states of one course read."""
    return (fieldnames.f_enrollment(ck), fieldnames.f_grade(ck), fieldnames.f_passing(ck),
            fieldnames.f_certificate(ck), fieldnames.f_resume(ck),
            *(fieldnames.f_celebration(flag, ck) for flag in CELEBRATION_FLAGS))


# The keys the states read (hashes u:, cblk:, runprogs:, ccat:; strings course:); snapshots are replayed
# whole since they own hash fields elsewhere; learner-course index members for the fan-out. Other
# ops (completions per block, activity zsets) cannot change a model state: the replay skips them.
_READ_PREFIXES = (
    keys.USER_PREFIX,
    keys.COURSE_BLOCKS_PREFIX,
    keys.RUN_PROGRAMS_PREFIX,
    keys.COURSE_PREFIX,
    keys.COURSE_CATALOG_PREFIX,
)


def replayed(op: Op) -> bool:
    """Learner-course index members are replayed too: a republish later in the batch reaches them."""
    return (isinstance(op, ReplaceSnapshot | AddMember)
            or (isinstance(op, SetField) and op.key.startswith(_READ_PREFIXES)))


def learner_fact(op: Op) -> bool:
    """A learner field (or index member): it changes only the states of the (user, course) keys it touches."""
    return isinstance(op, AddMember) or (isinstance(op, SetField) and op.key.startswith(keys.USER_PREFIX))


@lru_cache(maxsize=1024)
def document(raw: str | None) -> tuple[str, Any] | None:
    """A stored `<version>\t<json>` document, parsed once per text (the states only read it)."""
    return versioned(raw)


def certificate_schedule(course_raw: str | None, catalog_raw: str | None) -> tuple[Any, ...] | None:
    """What of a course decides whether its certificates are viewable (pacing, end, date), with the
    catalog info applied as the read side does: a change reaches its learners' program progress."""
    course, catalog = document(course_raw), document(catalog_raw)
    if course is None or not isinstance(course[1], dict):
        return None
    eff = effective_course(course[1], course[0], catalog)
    return eff.get("pacing"), eff.get("end"), eff.get("certificate_available_date")


def catalog_info(op: Op) -> bool:
    """A course's catalog-info field (its certificate schedule may move)."""
    return (isinstance(op, SetField) and op.key.startswith(keys.COURSE_CATALOG_PREFIX)
            and op.field == fieldnames.CATALOG_INFO_FIELD)


def _catalog_raw(store: MemoryStore, ck: str) -> str | None:
    return (store.hashes.get(keys.course_catalog(ck)) or {}).get(fieldnames.CATALOG_INFO_FIELD)


def reached(op: Op, store: MemoryStore) -> list[tuple[str, bool]]:
    """The courses whose learners' states a reference change can change, before it is applied to
    `store`: (course key, False) for a course republish (the passing bar, the outline: status and
    resume point), (run, True) for every run of a program, as it was and as it becomes (progress);
    and (course key, True) for a republish or catalog-info change that moves the course's
    certificate schedule (the progress of the programs of that run)."""
    if catalog_info(op):
        assert isinstance(op, SetField)
        ck = keys.course_of(op.key)
        course = store.strings.get(keys.course(ck))
        new = certificate_schedule(course, raw_value(op.version, op.value))
        return [(ck, True)] if certificate_schedule(course, _catalog_raw(store, ck)) != new else []
    if not isinstance(op, ReplaceSnapshot):
        return []
    if op.key.startswith(keys.COURSE_PREFIX):
        ck = keys.course_of(op.key)
        info = _catalog_raw(store, ck)
        moved = certificate_schedule(store.strings.get(op.key), info) != certificate_schedule(
            raw_value(op.version, op.value), info
        )
        return [(ck, False), (ck, True)] if moved else [(ck, False)]
    if op.key.startswith(keys.PROGRAM_PREFIX):
        runs: set[str] = set()
        for doc in (value(store.strings.get(op.key)), orjson.loads(op.value)):
            if isinstance(doc, dict):
                runs |= program_runs(doc)
        return [(ck, True) for ck in sorted(runs)]
    return []


def fanout(op: Op, store: MemoryStore) -> list[Touch]:
    """The model keys of every learner a reference change reaches (`keys.course_learners`)."""
    if not isinstance(op, ReplaceSnapshot | SetField):
        return []
    out: list[Touch] = []
    for ck, program in reached(op, store):
        for uid in sorted(map(int, store.sets.get(keys.course_learners(ck), ()))):
            if program:
                out.append(("prog", uid, ck))
            else:
                out += [("status", uid, ck), ("resume", uid, ck)]
    return out
