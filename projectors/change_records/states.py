"""The four model states of a key, from the replay's facts (PROJECTED.md "`state` per model")."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson

from projectors.change_records.record import CELEBRATIONS, LEARNER_COURSE_STATUS, PROGRAM_PROGRESS, RESUME_POINT
from projectors.change_records.touches import Touch
from readmodels import keys
from readmodels.facts import UserFacts, value
from readmodels.memory import MemoryStore
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


def program_progress(store: MemoryStore, uid: int, program: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """The counts as the program routes count them; None while the learner has no enrollment or
    certificate in any run of the program (the key has no state)."""
    u = _facts(store, uid)
    if not any(u.raw.get(keys.f_enrollment(r)) or u.raw.get(keys.f_certificate(r)) for r in program_runs(program)):
        return None
    return progress_counted(program, u, now).counts()


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
