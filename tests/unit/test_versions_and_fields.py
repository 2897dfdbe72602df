"""The compact last-writer-wins version keeps the tuple order byte for byte, and the short
completion field maps back to the exact block key."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from events.base import lww_version, to_micros
from readmodels import fieldnames, keys
from readmodels import learner_dictionary as ld
from readmodels.scripts import lua

MICROS = st.integers(
    min_value=to_micros(datetime(1, 1, 1, tzinfo=UTC)),
    max_value=to_micros(datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
)
# Small differences as well, since completions store ce_time - modified (often 0 or a few seconds).
DELTA = st.one_of(st.integers(min_value=-(64**3), max_value=64**3), MICROS)
HEX = "0123456789abcdefABCDEF"


@st.composite
def ce_ids(draw: st.DrawFn) -> str:
    """Canonical UUID text in any case, with many shared prefixes (ties on the first digits)."""
    digits = draw(st.text(alphabet=st.sampled_from("0aAfF9" if draw(st.booleans()) else HEX), min_size=32, max_size=32))
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _b(version: str) -> bytes:
    return version.encode()


def _sign(a: object, b: object) -> int:
    return (a > b) - (a < b)  # type: ignore[operator]


@settings(max_examples=2000)
@given(MICROS, ce_ids(), MICROS, ce_ids())
def test_version_byte_order_is_the_order_of_time_then_ce_id_as_text(t1: int, i1: str, t2: int, i2: str) -> None:
    assert _sign(_b(lww_version(t1, i1)), _b(lww_version(t2, i2))) == _sign((t1, i1), (t2, i2))


@settings(max_examples=2000)
@given(MICROS, DELTA, ce_ids(), MICROS, DELTA, ce_ids())
def test_completion_version_byte_order_is_the_order_of_modified_ce_time_ce_id(
    m1: int, d1: int, i1: str, m2: int, d2: int, i2: str
) -> None:
    v1, v2 = lww_version(m1, d1, i1), lww_version(m2, d2, i2)
    assert _sign(_b(v1), _b(v2)) == _sign((m1, m1 + d1, i1), (m2, m2 + d2, i2))


@settings(max_examples=1000)
@given(MICROS, ce_ids(), st.text(alphabet="0123456789abcdef", min_size=16, max_size=16), MICROS, ce_ids())
def test_catalog_version_compares_with_course_snapshot_version_by_time_then_ce_id(
    t1: int, i1: str, digest: str, t2: int, i2: str
) -> None:
    course, catalog = lww_version(t1, i1, digest), lww_version(t2, i2)
    # The catalog info applies when its (ce_time, ce_id) is newer than the snapshot's (views.common).
    assert (catalog > course) == ((t2, i2) > (t1, i1))


@given(st.integers(min_value=-(2**150), max_value=2**150), st.integers(min_value=-(2**150), max_value=2**150))
def test_integer_encoding_keeps_order_for_any_sign_and_size(a: int, b: int) -> None:
    assert _sign(_b(lww_version(a)), _b(lww_version(b))) == _sign(a, b)


def test_version_of_today_is_compact_and_never_contains_a_tab() -> None:
    now = to_micros(datetime(2026, 11, 23, tzinfo=UTC))
    version = lww_version(now, 0, str(uuid.uuid4()))
    assert len(version) == 10 + 2 + 24
    assert all(c > "\t" for c in version)


BLOCK_PART = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789_-.~:@+", min_size=1, max_size=12)


@given(BLOCK_PART, BLOCK_PART)
def test_completion_field_maps_back_to_the_exact_block_key(block_type: str, block_id: str) -> None:
    course = "course-v1:edX+DemoX+Demo_Course"
    for block in (
        f"block-v1:edX+DemoX+Demo_Course+type@{block_type}+block@{block_id}",
        f"block-v1:edX+Other+Run+type@{block_type}+block@{block_id}",
        f"i4x://edX/DemoX/{block_type}/{block_id}",
    ):
        field = keys.completion_field(course, block)
        assert keys.completion_block(course, field) == block


def test_completion_field_of_a_course_block_is_type_at_id() -> None:
    course = "course-v1:edX+DemoX+Demo_Course"
    block = "block-v1:edX+DemoX+Demo_Course+type@problem+block@32fe1f3642a55162bcf1fcb54109d8d6"
    assert keys.completion_field(course, block) == "problem@32fe1f3642a55162bcf1fcb54109d8d6"
    assert keys.completion_field("edX/DemoX/2025", block) == block


def _long_block_key(short: str) -> str:
    """The inverse of fieldnames.short_block_key, written here from its documented form."""
    if ":" in short:
        return short
    course, block_type, block_id = short.split("|")
    return f"block-v1:{course}+type@{block_type}+block@{base64.urlsafe_b64decode(block_id + '==').hex()}"


HEX_ID = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
COURSE_PART = st.text(alphabet="abcXYZ019_-.~+|:", min_size=1, max_size=12)


@given(COURSE_PART, BLOCK_PART, st.one_of(HEX_ID, BLOCK_PART))
def test_short_block_key_is_one_to_one(course: str, block_type: str, block_id: str) -> None:
    for block in (f"block-v1:{course}+type@{block_type}+block@{block_id}", f"i4x://{course}/{block_type}/{block_id}"):
        short = fieldnames.short_block_key(block)
        assert _long_block_key(short) == block
        assert fieldnames.f_subsection_grade(block) == f"sub:{short}"


def test_subsection_field_of_a_course_block_is_shorter() -> None:
    block = "block-v1:HarvardX+DS101x+2026_T1e+type@sequential+block@0ce66f731e84fb363b9edacb4b2e7245"
    assert fieldnames.f_subsection_grade(block) == "sub:HarvardX+DS101x+2026_T1e|sequential|DOZvcx6E-zY7ntrLSy5yRQ"


COURSE_FIELDS = [
    fieldnames.f_enrollment, fieldnames.f_grade, fieldnames.f_passing, fieldnames.f_certificate, fieldnames.f_goal,
    fieldnames.f_resume,
    fieldnames.f_signature, lambda ck: fieldnames.f_celebration("first_section", ck),
    lambda ck: fieldnames.f_celebration("weekly_goal", ck), lambda ck: fieldnames.f_enterprise("0f1e2d3c-aaaa", ck),
]


def _stored(fields: dict[str, str]) -> dict[str, str]:
    """A learner hash as writer.lua stores it (indexes in order of first sight)."""
    out: dict[str, str] = {}
    for f, v in fields.items():
        scoped = ld.learner_field_course(f)
        if scoped is None:
            out[f] = v
            continue
        prefix, ck = scoped
        if ld.learner_course_id(ck) not in out:
            count = int(out.get(ld.LEARNER_COURSES, "0"))
            out[ld.learner_course_id(ck)], out[ld.LEARNER_COURSES] = str(count), str(count + 1)
        out[out[ld.learner_course_id(ck)] + prefix] = v
    return out


def test_learner_fields_naming_a_course_are_stored_by_index_and_read_back_exactly() -> None:
    courses = ["course-v1:HarvardX+DS101x+2026_T1e", "course-v1:IBM+CS100x+2025_T3d", "edX/Demo/2013"]
    canonical = {make(ck): f"v{i}-{j}" for i, ck in enumerate(courses) for j, make in enumerate(COURSE_FIELDS)}
    canonical |= {fieldnames.F_USERNAME: "u", fieldnames.f_preference(f"notes_visibility:{courses[0]}"): "p",
                  fieldnames.f_preference("x#12"): "q", fieldnames.f_role("IBM", courses[1], "staff"): "r",
                  fieldnames.f_subsection_grade("block-v1:IBM+CS100x+2025_T3d+type@sequential+block@" + "a" * 32): "s",
                  fieldnames.f_program_certificate("9a8b"): "c"}
    stored = _stored(canonical)
    assert ld.learner_fields(stored) == canonical
    assert ld.learner_courses(stored) == {str(i): ck for i, ck in enumerate(courses)}
    want = [*list(canonical)[::3], fieldnames.f_enrollment("course-v1:Never+Seen+Run"), "nothing"]
    assert ld.learner_fields_wanted(stored, want) == {f: canonical[f] for f in want if f in canonical}
    assert "0e" in stored and "2w" in stored and "1ent:0f1e2d3c-aaaa:" in stored
    assert any(f.startswith("1|") and f.count("|") == 1 for f in stored)  # a sequential: its type left out
    vertical = fieldnames.f_subsection_grade("block-v1:IBM+CS100x+2025_T3d+type@vertical+block@" + "b" * 32)
    assert ld.learner_fields(_stored({vertical: "v"})) == {vertical: "v"}
    # a field naming a course found under its canonical name (hand-made, corrupted) shows as it is
    canonical = fieldnames.f_enrollment(courses[0])
    assert ld.learner_fields({**stored, canonical: "x"})[canonical] == "x"
    assert ld.learner_field_course(fieldnames.f_enrollment(courses[0])) == ("e", courses[0])
    assert ld.learner_field_course(fieldnames.f_enterprise("0f1e", courses[0])) == ("ent:0f1e:", courses[0])
    assert ld.learner_field_course(fieldnames.f_preference(f"notes_visibility:{courses[0]}")) is None


def test_activity_members_are_stored_with_the_course_index_and_read_back_exactly() -> None:
    member = keys.activity_member("v", "course-v1:HarvardX+DS101x+2026_T1e", 1967510)
    stored = ld.stored_activity_member(member, "3")
    assert stored == "v\t3\t" + member.rsplit("\t", 1)[1]
    assert ld.canonical_activity_member(stored, {"3": "course-v1:HarvardX+DS101x+2026_T1e"}) == member
    assert ld.canonical_activity_member("m1", {}) == "m1"  # not an activity member: as it is


def test_the_read_scripts_know_the_same_stored_tails() -> None:
    text = lua("learner_courses")
    found = dict(re.findall(r'\["([^"]+)"\] = "([^"]+)"', text[text.index("STORED_TAILS = {") :]))
    assert found == ld.STORED_TAILS
