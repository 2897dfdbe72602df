"""Field names inside the read models' hashes: the learner hash `u:{u<user_id>}` (per-course facts
`<kind>:<course key>`, a celebration flag `cel:<flag>:<course key>`, learner-wide facts), the
learner's facts as the sequence read shows them (positions, bookmarks), and the catalog hash's
one field. Key names are readmodels/keys.py; how the learner hash stores the fields that name a
course (its course dictionary) is readmodels/learner_dictionary.py."""

from __future__ import annotations

import base64
import re

# Fields of the learner hash u:<user_id>. Per-course facts are `<kind>:<course key>` (a
# celebration flag `cel:<flag>:<course key>`); `field_kind` splits a field at its kind.
F_USERNAME = "username"
F_IDV = "idv"
CATALOG_INFO_FIELD = "info"
KIND_ENROLLMENT = "enr"
KIND_GRADE = "grade"
KIND_PASSING = "pass"
KIND_CERTIFICATE = "cert"
KIND_RESUME = "resume"
KIND_CELEBRATION = "cel"
F_ENROLLMENT_PREFIX = f"{KIND_ENROLLMENT}:"
F_CERTIFICATE_PREFIX = f"{KIND_CERTIFICATE}:"
F_ROLE_PREFIX = "role:"
KIND_GOAL = "goal"
KIND_SIGNATURE = "sig"
KIND_ENTERPRISE = "ent"
KIND_SUBSECTION = "sub"


def field_kind(field: str) -> tuple[str, str]:
    """(kind, the rest) of a learner field: `enr:<course key>` -> ("enr", "<course key>")."""
    kind, _, rest = field.partition(":")
    return kind, rest


def f_enrollment(course_key: str) -> str:
    return f"{F_ENROLLMENT_PREFIX}{course_key}"


def f_grade(course_key: str) -> str:
    return f"{KIND_GRADE}:{course_key}"


def f_passing(course_key: str) -> str:
    return f"{KIND_PASSING}:{course_key}"


def f_certificate(course_key: str) -> str:
    return f"{F_CERTIFICATE_PREFIX}{course_key}"


def f_goal(course_key: str) -> str:
    return f"{KIND_GOAL}:{course_key}"


def f_celebration(flag: str, course_key: str) -> str:
    """flag: "first_section" or "weekly_goal"."""
    return f"{f_celebration_prefix(flag)}{course_key}"


def f_celebration_prefix(flag: str) -> str:
    """What every course's field of one celebration flag starts with."""
    return f"{KIND_CELEBRATION}:{flag}:"


def f_signature(course_key: str) -> str:
    return f"{KIND_SIGNATURE}:{course_key}"


def f_enterprise(enterprise_uuid: str, course_key: str) -> str:
    return f"{f_enterprise_prefix(enterprise_uuid)}{course_key}"


def f_enterprise_prefix(enterprise_uuid: str) -> str:
    """What the fields of every course linked to one enterprise start with."""
    return f"{KIND_ENTERPRISE}:{enterprise_uuid}:"


def f_resume(course_key: str) -> str:
    return f"{KIND_RESUME}:{course_key}"


def f_subsection_grade(block_key: str) -> str:
    """`sub:` and the block key, shortened when it is a `block-v1:<course>+type@<type>+block@<32 hex>`
    key (`short_block_key`): the learner hash holds several per course."""
    return f"{KIND_SUBSECTION}:{short_block_key(block_key)}"


_BLOCK_V1 = re.compile(r"block-v1:([^:|]+)\+type@([^+@:|]+)\+block@([0-9a-f]{32})")


def short_block_key(block_key: str) -> str:
    """`<course>|<type>|<id as 22 base64url characters>` for a `block-v1:` key with a 32-hex-digit
    id, the key itself otherwise. One-to-one: a short form has no `:` and every usage key has one
    (after its scheme), and the short forms split back at their two `|`."""
    m = _BLOCK_V1.fullmatch(block_key)
    if m is None:
        return block_key
    block_id = base64.urlsafe_b64encode(bytes.fromhex(m.group(3))).decode().rstrip("=")
    return f"{m.group(1)}|{m.group(2)}|{block_id}"


def f_bookmark(usage_key: str) -> str:
    """As the sequence read script shows a bookmark among the learner's facts (stored beside the
    completion records of the block's course: `completions`, BOOKMARK_TAG)."""
    return f"bm:{usage_key}"


def f_position(sequence_key: str) -> str:
    """As the sequence read script shows a position among the learner's facts (stored beside the
    completion records of the sequence's course: `completions`, POSITION_TAG)."""
    return f"pos:{sequence_key}"


def f_preference(key: str) -> str:
    return f"pref:{key}"


def f_program_certificate(program_uuid: str) -> str:
    return f"pcert:{program_uuid}"


def f_role(org: str, course_key: str, role: str) -> str:
    """A course access role; an empty course key means every course of the org."""
    return f"{F_ROLE_PREFIX}{org}\t{course_key}\t{role}"
