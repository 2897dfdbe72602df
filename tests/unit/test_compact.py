"""The compact completion record keeps the order of (modified, ce_time, ce_id[:13]) byte for byte,
travels through JSON unchanged, and reads back exactly; learner fact and resume versions keep the
order of (ce_time, ce_id[:13]) and (modified, ce_time, ce_id[:13]) as text."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from itertools import pairwise

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from events.base import lww_version, to_micros
from readmodels.compact import (
    ID_PREFIX_CHARS,
    completion_value,
    completion_version,
    fact_version,
    parse_version,
    resume_version,
    split_completion,
)

MICROS = st.integers(
    min_value=to_micros(datetime(1, 1, 1, tzinfo=UTC)) // 10,  # any time within 1,142 years of 1970
    max_value=to_micros(datetime(2900, 12, 31, tzinfo=UTC)),
)
DELTA = st.one_of(st.integers(min_value=-(128**3), max_value=128**3), MICROS)
HEX = "0123456789abcdefABCDEF"
FRACTIONS = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@st.composite
def ce_ids(draw: st.DrawFn) -> str:
    """Canonical UUID text in any case, with many shared prefixes (ties on the first digits)."""
    digits = draw(st.text(alphabet=st.sampled_from("0aAfF9" if draw(st.booleans()) else HEX), min_size=32, max_size=32))
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _sign(a: object, b: object) -> int:
    return (a > b) - (a < b)  # type: ignore[operator]


@settings(max_examples=1500)
@given(MICROS, DELTA, ce_ids(), MICROS, DELTA, ce_ids())
def test_version_byte_order_is_the_order_of_modified_ce_time_and_the_ce_id_prefix(
    m1: int, d1: int, i1: str, m2: int, d2: int, i2: str
) -> None:
    v1, v2 = completion_version(m1, m1 + d1, i1), completion_version(m2, m2 + d2, i2)
    n = ID_PREFIX_CHARS
    assert _sign(v1.encode(), v2.encode()) == _sign((m1, m1 + d1, i1[:n]), (m2, m2 + d2, i2[:n]))


@settings(max_examples=1000)
@given(MICROS, DELTA, ce_ids(), FRACTIONS)
def test_record_reads_back_and_survives_json(modified: int, delta: int, ce_id: str, completion: float) -> None:
    version = completion_version(modified, modified + delta, ce_id)
    raw = version + completion_value(completion)
    assert all(ord(c) < 0x80 for c in raw)  # through orjson -> cjson byte for byte
    assert orjson.loads(orjson.dumps([raw])) == [raw]
    assert split_completion(raw) == (version, completion)
    assert parse_version(version)[:2] == (modified, modified + delta)


@settings(max_examples=500)
@given(MICROS, DELTA, ce_ids(), FRACTIONS, FRACTIONS)
def test_equal_versions_are_ordered_by_value_and_the_version_is_prefix_free(
    modified: int, delta: int, ce_id: str, a: float, b: float
) -> None:
    version = completion_version(modified, modified + delta, ce_id)
    ra, rb = version + completion_value(a), version + completion_value(b)
    assert (ra == rb) == (a == b)
    assert split_completion(ra)[0] == split_completion(rb)[0] == version


def test_record_of_today_with_a_full_completion_is_17_characters() -> None:
    now = to_micros(datetime(2026, 11, 23, tzinfo=UTC))
    raw = completion_version(now, now, str(uuid.uuid4())) + completion_value(1.0)
    assert len(raw) == 8 + 1 + 8


def test_ids_differing_only_after_thirteen_characters_tie_and_the_value_decides() -> None:
    now = to_micros(datetime(2026, 11, 23, tzinfo=UTC))
    a = completion_version(now, now, "01234567-89ab-4fff-8000-000000000000")
    b = completion_version(now, now, "01234567-89ab-1000-ffff-ffffffffffff")
    assert a == b
    assert (a + completion_value(0.5)).encode() > (b + completion_value(1.0)).encode()


@settings(max_examples=1500)
@given(MICROS, ce_ids(), MICROS, ce_ids())
def test_fact_version_byte_order_is_the_order_of_ce_time_and_the_ce_id_prefix(
    t1: int, i1: str, t2: int, i2: str
) -> None:
    n = ID_PREFIX_CHARS
    assert _sign(fact_version(t1, i1).encode(), fact_version(t2, i2).encode()) == _sign((t1, i1[:n]), (t2, i2[:n]))


@settings(max_examples=1500)
@given(MICROS, DELTA, ce_ids(), MICROS, DELTA, ce_ids())
def test_resume_version_byte_order_is_the_order_of_modified_ce_time_and_the_ce_id_prefix(
    m1: int, d1: int, i1: str, m2: int, d2: int, i2: str
) -> None:
    v1, v2 = resume_version(m1, m1 + d1, i1), resume_version(m2, m2 + d2, i2)
    n = ID_PREFIX_CHARS
    assert _sign(v1.encode(), v2.encode()) == _sign((m1, m1 + d1, i1[:n]), (m2, m2 + d2, i2[:n]))


def test_fact_version_of_today_is_19_characters_of_text_and_starts_with_the_exact_time() -> None:
    now = to_micros(datetime(2026, 11, 23, tzinfo=UTC))
    version = fact_version(now, str(uuid.uuid4()))
    assert len(version) == 10 + 9 and version.startswith(lww_version(now))
    assert all("-" <= c <= "z" for c in version)  # text, never a tab: `<version>\t<json>` still splits


def test_uuid1_ids_made_in_the_same_microsecond_do_not_tie() -> None:
    """Open edX sends uuid1 event ids: one generator's ids differ within their first 13 characters
    even when made back to back, so same-microsecond events keep the contract's ce_id order."""
    now = to_micros(datetime(2026, 11, 23, tzinfo=UTC))
    ids = [str(uuid.uuid1()) for _ in range(2_000)]
    versions = {completion_version(now, now, i) for i in ids}
    facts = {fact_version(now, i) for i in ids}
    assert len(versions) == len(facts) == len(ids)
    for a, b in pairwise(ids):
        assert (completion_version(now, now, a) < completion_version(now, now, b)) == (a < b)


@given(st.integers(min_value=0, max_value=128**8 - 1))
def test_eight_digit_numbers_read_back_as_base_128(n: int) -> None:
    # The 8-digit case goes through a table of digit pairs; every other length through shifts.
    from readmodels.compact import _digits

    text = _digits(n, 8)
    assert len(text) == 8
    assert sum(ord(c) << (7 * i) for i, c in enumerate(reversed(text))) == n
    assert _digits(n, 9) == "\x00" + text


# The versions as main 4add770 computed them (base64.b64encode, lww_version's memo, the ce_id's rank
# memoised per call): the faster spelling must give every version byte for byte.
def _old_base64_digits(n: int, k: int) -> str:
    import base64

    from events.base import _B64_ORDERED

    return base64.b64encode(n.to_bytes((k + 3) // 4 * 3, "big")).translate(_B64_ORDERED)[-k:].decode()


def _old_id_text(ce_id: str) -> str:
    ranked = (ce_id[:8] + ce_id[9:13]).translate(str.maketrans("0123456789ABCDEFabcdef", "0123456789abcdefghijkl"))
    return _old_base64_digits(int(ranked, 22), 9)


def _old_int_text(n: int) -> str:
    from events.base import _DIGITS, _MID

    k = max(1, ((-n if n < 0 else n).bit_length() + 5) // 6)
    return (_DIGITS[_MID - k] if n < 0 else _DIGITS[_MID + k]) + _old_base64_digits(n + 64**k if n < 0 else n, k)


@settings(max_examples=3000)
@given(MICROS, DELTA, ce_ids())
def test_versions_equal_those_of_the_previous_implementation(modified: int, delta: int, ce_id: str) -> None:
    from readmodels.compact import completion_versions

    ce_time = modified + delta
    assert fact_version(ce_time, ce_id) == _old_int_text(ce_time) + _old_id_text(ce_id)
    assert lww_version(modified, delta) == _old_int_text(modified) + _old_int_text(delta)
    resume = _old_int_text(modified) + _old_int_text(delta) + _old_id_text(ce_id)
    assert resume_version(modified, ce_time, ce_id) == resume
    assert completion_versions(modified, ce_time, ce_id) == (completion_version(modified, ce_time, ce_id), resume)
