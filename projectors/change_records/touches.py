"""Which model keys an operation can change (the op-to-model map), and what the replay must read
and replay for them: the learner fields a model state depends on (`touches`), the learners a
reference snapshot reaches (`fanout`), the facts a batch needs (`plan`)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import orjson

from readmodels import keys
from readmodels.facts import value
from readmodels.memory import MemoryStore
from readmodels.ops import AddMember, Op, ReplaceSnapshot, SetField
from readmodels.views.learner_course import CELEBRATION_FLAGS
from readmodels.views.program_progress import program_runs

# (kind, user id, course key); kind one of "status", "resume", "cel", "prog" (states.py)
Touch = tuple[str, int, str]

_CELEBRATION_FIELDS = tuple(keys.f_celebration_prefix(flag) for flag in CELEBRATION_FLAGS)

# The learner field kinds (keys.field_kind) that feed a model state.
_FIELD_KINDS: dict[str, tuple[str, ...]] = {
    keys.KIND_ENROLLMENT: ("status", "prog"),
    keys.KIND_CERTIFICATE: ("status", "prog"),
    keys.KIND_GRADE: ("status",),
    keys.KIND_PASSING: ("status",),
    keys.KIND_RESUME: ("resume",),
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
    kind, rest = keys.field_kind(op.field)
    models = _FIELD_KINDS.get(kind)
    if models is not None:
        return [(m, uid, rest) for m in models]
    if kind == keys.KIND_CELEBRATION:
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
    return (keys.f_enrollment(ck), keys.f_grade(ck), keys.f_passing(ck), keys.f_certificate(ck), keys.f_resume(ck),
            *(keys.f_celebration(flag, ck) for flag in CELEBRATION_FLAGS))


# The keys the states read (hashes u:, cblk:, runprogs:; strings course:); snapshots are replayed
# whole since they own hash fields elsewhere; learner-course index members for the fan-out. Other
# ops (completions per block, activity zsets) cannot change a model state: the replay skips them.
_READ_PREFIXES = (keys.USER_PREFIX, keys.COURSE_BLOCKS_PREFIX, keys.RUN_PROGRAMS_PREFIX, keys.COURSE_PREFIX)


def replayed(op: Op) -> bool:
    """Learner-course index members are replayed too: a republish later in the batch reaches them."""
    return (isinstance(op, ReplaceSnapshot | AddMember)
            or (isinstance(op, SetField) and op.key.startswith(_READ_PREFIXES)))


def learner_fact(op: Op) -> bool:
    """A learner field (or index member): it changes only the states of the (user, course) keys it touches."""
    return isinstance(op, AddMember) or (isinstance(op, SetField) and op.key.startswith(keys.USER_PREFIX))


def reached(op: ReplaceSnapshot, store: MemoryStore) -> list[tuple[str, bool]]:
    """The courses whose learners' states a reference snapshot can change, before it is applied to
    `store`: (course key, False) for a course republish (the passing bar, the outline: status and
    resume point), (run, True) for every run of a program, as it was and as it becomes (progress)."""
    if op.key.startswith(keys.COURSE_PREFIX):
        return [(op.key[len(keys.COURSE_PREFIX) :], False)]
    if op.key.startswith(keys.PROGRAM_PREFIX):
        runs: set[str] = set()
        for doc in (value(store.strings.get(op.key)), orjson.loads(op.value)):
            if isinstance(doc, dict):
                runs |= program_runs(doc)
        return [(ck, True) for ck in sorted(runs)]
    return []


def fanout(op: Op, store: MemoryStore) -> list[Touch]:
    """The model keys of every learner a reference snapshot reaches (`keys.course_learners`)."""
    if not isinstance(op, ReplaceSnapshot):
        return []
    out: list[Touch] = []
    for ck, program in reached(op, store):
        for uid in sorted(map(int, store.sets.get(keys.course_learners(ck), ()))):
            if program:
                out.append(("prog", uid, ck))
            else:
                out += [("status", uid, ck), ("resume", uid, ck)]
    return out
