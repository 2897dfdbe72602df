"""The four model states of a key, from the replay's facts (PROJECTED.md "`state` per model").

Every state is the API's rule applied to the same stored facts (readmodels/views/learner_course.py,
program_progress.py): only reading the facts out of the replay store is done here. Program progress
reads the published course and catalog info of the learner's passing certificates (the
certificate-date rule), as the API's read scripts return them as `certificate_courses`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson

from projectors.change_records.record import CELEBRATIONS, LEARNER_COURSE_STATUS, PROGRAM_PROGRESS, RESUME_POINT
from projectors.change_records.touches import Touch, document
from readmodels import fieldnames, keys
from readmodels.facts import UserFacts, value
from readmodels.memory import MemoryStore
from readmodels.views import learner_course
from readmodels.views.certificates import effective_courses, is_passing_status
from readmodels.views.program_progress import program_runs, progress_counted

_NO_FIELDS: dict[str, str] = {}

# The model of each touch kind but "prog" (one course reaches the progress of several programs).
MODEL_OF = {"status": LEARNER_COURSE_STATUS, "resume": RESUME_POINT, "cel": CELEBRATIONS}


def _hash(store: MemoryStore, key: str) -> dict[str, str]:
    """A hash of the replay store, read in place (`MemoryStore.hgetall` copies it; the states only read)."""
    return store.hashes.get(key) or _NO_FIELDS


def _facts(store: MemoryStore, uid: int) -> UserFacts:
    return UserFacts(uid, _hash(store, keys.user(uid)))


def course_status(store: MemoryStore, uid: int, ck: str) -> dict[str, Any] | None:
    course = value(store.get(keys.course(ck)))
    return learner_course.course_status(course if isinstance(course, dict) else None, ck, _facts(store, uid))


def resume_point(store: MemoryStore, uid: int, ck: str) -> dict[str, Any] | None:
    block = _facts(store, uid).get(fieldnames.f_resume(ck))
    place = _hash(store, keys.course_blocks(ck)).get(block) if isinstance(block, str) else None
    return learner_course.resume_point(block, place)


def celebrations(store: MemoryStore, uid: int, ck: str) -> dict[str, Any] | None:
    return learner_course.armed_celebrations(_facts(store, uid), ck)


def program_progress(store: MemoryStore, uid: int, program: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """The counts as every program route counts them; None while the learner has no enrollment or
    certificate in any run of the program (the key has no state)."""
    u = _facts(store, uid)
    runs = program_runs(program)
    if not any(u.raw.get(fieldnames.f_enrollment(r)) or u.raw.get(fieldnames.f_certificate(r)) for r in runs):
        return None
    return progress_counted(program, u, now, courses=_certificate_courses(store, u, runs)).counts()


def _certificate_courses(store: MemoryStore, u: UserFacts, runs: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The effective published courses of the runs where the learner holds a passing certificate
    (what the API's read scripts return as `certificate_courses`)."""
    found = {}
    for run in runs:
        cert = u.get(fieldnames.f_certificate(run))
        if not isinstance(cert, dict) or not is_passing_status(cert.get("status")):
            continue
        course = document(store.strings.get(keys.course(run)))
        if course is not None and isinstance(course[1], dict):
            info = document(_hash(store, keys.course_catalog(run)).get(fieldnames.CATALOG_INFO_FIELD))
            found[run] = (course[1], course[0], info)
    return effective_courses(found, shared=False)


def _programs_of(store: MemoryStore, ck: str) -> dict[str, dict[str, Any]]:
    return {uuid_: _program(doc) for uuid_, doc in _hash(store, keys.run_programs(ck)).items()}


@lru_cache(maxsize=256)
def _program(doc: str) -> dict[str, Any]:
    """A program document, parsed once per text (the states only read it)."""
    program: dict[str, Any] = orjson.loads(doc)
    return program


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
