"""The learner's course dictionary: how a learner hash and activity zset store the course keys in
their field names and members (readmodels/keys.py names the keys and the canonical fields).

Written by writer.lua (`course_index`), read back by readmodels/lua/learner_courses.lua in the read
scripts and by the functions here in Python (dumps, change records, the cluster's reads); every
reader above them sees only the canonical fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from readmodels.fieldnames import (
    KIND_CELEBRATION,
    KIND_CERTIFICATE,
    KIND_ENROLLMENT,
    KIND_ENTERPRISE,
    KIND_GOAL,
    KIND_GRADE,
    KIND_PASSING,
    KIND_RESUME,
    KIND_SIGNATURE,
    KIND_SUBSECTION,
)
from readmodels.keys import MEMO_SIZE

_COURSE_V1 = "course-v1:"
_STORED_SUBSECTION = "|"
_SEQUENTIAL = "sequential|"

# The learner's course dictionary. The course key inside a learner field (`enr:<course key>`, ...)
# and an activity member is stored as the course's index in a dictionary kept in the learner hash
# itself (so every key of one learner stays in one hash slot of a Redis Cluster):
#   `#<course key>` -> index (0, 1, ... in order of first sight, assigned by writer.lua; never
#                      reassigned), `#` -> how many indexes are assigned;
#   a field `<prefix><course key>` (`learner_field_course`) is stored as `<index><tail>`, the tail
#   one letter for the usual prefixes (STORED_TAILS), else the prefix itself; a short subsection
#   grade field `sub:<org>+<course>+<run>|<type>|<id>` as `<index>|<type>|<id>`, or `<index>|<id>`
#   when the type is `sequential` (a subsection).
# Canonical fields never start with `#` or a digit (kind names and `username`, `idv`), so the
# three forms cannot collide; the in-memory stores and every dump keep the canonical fields
# (`learner_fields`), as for the block dictionary.
LEARNER_COURSES = "#"
# Kinds whose fields end with a course key; the two-part ones have one more `:` part first
# (`cel:<flag>:<course key>`, `ent:<enterprise uuid>:<course key>`).
_COURSE_FIELD_KINDS = frozenset({KIND_ENROLLMENT, KIND_GRADE, KIND_PASSING, KIND_CERTIFICATE, KIND_GOAL, KIND_RESUME,
                                 KIND_SIGNATURE})
_TWO_PART_COURSE_FIELD_KINDS = frozenset({KIND_CELEBRATION, KIND_ENTERPRISE})


# The one-letter stored tails of the usual prefixes (readmodels/lua/learner_courses.lua has the same
# table; a unit test keeps them equal). Other tails are whole prefixes, which end with `:`.
STORED_TAILS = {
    f"{KIND_ENROLLMENT}:": "e", f"{KIND_GRADE}:": "g", f"{KIND_PASSING}:": "p", f"{KIND_CERTIFICATE}:": "c",
    f"{KIND_GOAL}:": "o", f"{KIND_RESUME}:": "r", f"{KIND_SIGNATURE}:": "s",
    f"{KIND_CELEBRATION}:first_section:": "f", f"{KIND_CELEBRATION}:weekly_goal:": "w",
}
_CANONICAL_PREFIXES = {tail: prefix for prefix, tail in STORED_TAILS.items()}


def learner_course_id(course_key: str) -> str:
    """The field of a course's index in the learner's course dictionary."""
    return f"{LEARNER_COURSES}{course_key}"


@lru_cache(maxsize=MEMO_SIZE)
def learner_field_course(field: str) -> tuple[str, str] | None:
    """(stored tail, course key) of a learner field that names a course, stored as `<index><tail>`:
    the tail is the field's prefix when the field ends with the course key, and for a short
    subsection grade field (`f_subsection_grade`: `sub:<org>+<course>+<run>|<type>|<id>`, the
    course key `course-v1:<org>+<course>+<run>`) `sub:|<type>|<id>`. None for the other fields
    (username, preferences, roles, program certificates, subsection grades of other keys, ...).
    The tail of a usual prefix is one letter (STORED_TAILS)."""
    kind, sep, rest = field.partition(":")
    if not sep:
        return None
    if kind == KIND_SUBSECTION:
        part, bar, tail = rest.partition("|")
        if not (bar and part) or ":" in rest:  # a full usage key (always has a `:`)
            return None
        # `|<id>` for the usual block type, `|<type>|<id>` for another (a type never has a `|`).
        tail = tail.removeprefix(_SEQUENTIAL)
        return f"{_STORED_SUBSECTION}{tail}", f"{_COURSE_V1}{part}"
    if kind in _COURSE_FIELD_KINDS:
        prefix, course_key = field[: len(kind) + 1], rest
    elif kind in _TWO_PART_COURSE_FIELD_KINDS:
        _, sep, course_key = rest.partition(":")
        if not sep:
            return None
        prefix = field[: len(field) - len(course_key)]
    else:
        return None
    return (STORED_TAILS.get(prefix, prefix), course_key) if course_key else None


def learner_courses(stored: dict[str, str]) -> dict[str, str]:
    """index -> course key, from a learner hash as stored."""
    return {index: f[1:] for f, index in stored.items() if f[:1] == LEARNER_COURSES and len(f) > 1}


def learner_fields(stored: dict[str, str]) -> dict[str, str]:
    """A learner hash as stored -> its canonical fields (the course dictionary left out).
    readmodels/lua/learner_courses.lua does the same in the read scripts."""
    courses = learner_courses(stored)
    out: dict[str, str] = {}
    plain: list[tuple[str, str]] = []
    for f, v in stored.items():
        head = f[:1]
        if head == LEARNER_COURSES:
            continue
        if not head.isdigit():
            plain.append((f, v))
            continue
        rest = f.lstrip("0123456789")
        index = f[: len(f) - len(rest)]
        course_key = courses.get(index, f"<unknown course index {index}>")
        if rest.startswith(_STORED_SUBSECTION):
            block = rest[1:] if "|" in rest[1:] else _SEQUENTIAL + rest[1:]
            f = f"{KIND_SUBSECTION}:{course_key.removeprefix(_COURSE_V1)}|{block}"
        else:
            f = _CANONICAL_PREFIXES.get(rest, rest) + course_key
        out[f] = v
    # A field naming a course found under its canonical name (never written so: a hand-made or
    # corrupted one) wins, so that comparisons show it.
    out.update(plain)
    return out


def learner_fields_wanted(stored: dict[str, str], want: Iterable[str]) -> dict[str, str]:
    """`learner_fields(stored)` restricted to the canonical fields `want`, without translating the
    others (the change-record reader asks for a few fields of many learners)."""
    out: dict[str, str] = {}
    for f in want:
        raw = stored.get(f)  # a canonical name wins, as in learner_fields
        if raw is None:
            scoped = learner_field_course(f)
            index = stored.get(learner_course_id(scoped[1])) if scoped is not None else None
            raw = stored.get(index + scoped[0]) if index is not None and scoped is not None else None
        if raw is not None:
            out[f] = raw
    return out


def stored_activity_member(member: str, index: str) -> str:
    """The stored form of an `activity_member`: its course key replaced by the course's index in
    the learner's course dictionary (writer.lua does the same). Course keys are never all digits."""
    kind, _, rest = member.partition("\t")
    _, _, bucket = rest.partition("\t")
    return f"{kind}\t{index}\t{bucket}"


def canonical_activity_member(stored: str, courses: dict[str, str]) -> str:
    """An activity member as stored -> `activity_member` (`courses`: index -> course key, from
    `learner_courses`). Inverse of `stored_activity_member`; readmodels/lua/learner_courses.lua
    does the same in the read scripts."""
    kind, sep, rest = stored.partition("\t")
    index, sep2, bucket = rest.partition("\t")
    if not (sep and sep2 and index.isdigit()):
        return stored
    return f"{kind}\t{courses.get(index, f'<unknown course index {index}>')}\t{bucket}"
