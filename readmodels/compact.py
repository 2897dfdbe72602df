"""Compact stored forms of the learner read models, which grow with every learner-course (the
reference data, courses and programs, are stored once and keep their exact versions).

Learner facts (hash u:<id>, usernames, positions and bookmarks): `<version>\\t<json>` as everywhere,
with version = `fact_version(ce_time, ce_id)`: events.base.lww_version(ce_time) then the first 13
characters of ce_id (ranked as below) in 9 base-64 digits of the same alphabet, 19 characters of
text for a time of today. The resume point: `resume_version(modified, ce_time, ce_id)`, the same
with `lww_version(modified, ce_time - modified)` first.

Completion records, one per block a learner touched (tens per learner-course), are stored as
field = the block's index in its course's block dictionary
(`keys.block_ids`, assigned by writer.lua on first sight; a small integer, which a Redis listpack
keeps as an integer of 1-2 bytes) and value = `<version><completion>`:

- version: 17 characters or more, all below 0x80 (they travel through JSON to the writer script),
  whose byte order is the order of `(modified, ce_time, ce_id[:13])`:
  * `modified` (microseconds since 1970, offset by 2**55, so any time within 1,142 years of 1970)
    as 8 base-128 digits, most significant first;
  * `ce_time - modified` as a length marker (`64 + k` for a positive difference of k base-128
    digits, `64` for 0, `64 - k` for a negative one written as `128**k + d`), then the k digits;
  * the first 13 characters of `ce_id` (a UUID, either case: 12 hex digits and a dash), each digit
    ranked among the 22 characters a UUID may hold in text order (`0-9 < A-F < a-f`), as one
    base-22 number in 8 base-128 digits.
- completion: the JSON number, empty for 1.0 (the usual value).

The version is prefix-free (fixed widths and a self-delimiting difference), so comparing the raw
`<version><completion>` byte-wise orders by the version and then by the value, like every other
last-writer-wins field (readmodels/ops.py).

Approximation (the only one; documented in docs/DESIGN.md): the contract breaks ties of ce_time
(or of `(modified, ce_time)` for completions and the resume point) by the whole ce_id compared as
text; these versions keep its first 13 characters. Two different writes of one learner field that
share those times to the microsecond and the first 13 characters of their event ids are ordered by
their stored value instead (deterministically, so the result still does not depend on arrival
order, repetition or batching). 13 characters are 48 bits: for uuid1 ids (what Open edX sends)
time_low and time_mid, distinct for every id one generator makes within ~326 days; for uuid4, a
collision chance of 2**-48 per pair of same-microsecond writes. (7 characters, tried first, left
same-microsecond uuid1 events of one producer tied.)
"""

from __future__ import annotations

import re
from functools import lru_cache

import orjson

from events.base import base64_digits, int_text

_OFFSET = 2**55  # modified + _OFFSET fits 8 base-128 digits for |modified| < 2**55 us (1,142 years)
_MODIFIED_DIGITS = 8
# The ce_id tie-break keeps the first 13 characters of the UUID text, `xxxxxxxx-xxxx`: 12 hex
# digits, 48 bits. For Open edX's uuid1 ids that is time_low and time_mid, which one generator
# never repeats within ~326 days (Python's uuid1 bumps a repeated timestamp); for uuid4, 48
# random bits. Fewer characters would make same-microsecond events of one producer tie.
_ID_CHARS = 13
_ID_HEX = 12
_ID_DIGITS = 8  # 22**12 < 128**8
_ID_TEXT_DIGITS = 9  # 22**12 < 64**9
_MID = 64
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}", re.ASCII)
ID_PREFIX_CHARS = _ID_CHARS


_CHR = [chr(i) for i in range(128)]
_SHIFTS = {k: tuple(range(7 * (k - 1), -1, -7)) for k in range(1, _MID)}
# Every pair of base-128 digits (14 bits) as its 2 characters: the 8-digit numbers of a completion
# version (`modified`, the ce_id prefix) in 4 lookups instead of 8 shifts of a 56-bit integer (the
# costliest step of a completion event's projection; 16,384 strings, ~1 MB per process).
_PAIRS = [_CHR[i >> 7] + _CHR[i & 127] for i in range(1 << 14)]
_PAIR_MASK = (1 << 14) - 1


def _digits(n: int, k: int) -> str:
    """n (0 <= n < 128**k) as k base-128 digits, most significant first."""
    if n < 0 or n >> (7 * k):
        raise ValueError("out of range for a compact completion version")
    if k == _MODIFIED_DIGITS:  # == _ID_DIGITS: two per completion event
        pairs, mask = _PAIRS, _PAIR_MASK
        return pairs[n >> 42] + pairs[(n >> 28) & mask] + pairs[(n >> 14) & mask] + pairs[n & mask]
    return "".join([_CHR[(n >> s) & 127] for s in _SHIFTS[k]])


def _number(text: str) -> int:
    n = 0
    for c in text:
        n = n * 128 + ord(c)
    return n


def _difference(d: int) -> str:
    """Order-preserving, prefix-free text of a signed difference (see the module docstring)."""
    if d == 0:
        return chr(_MID)
    magnitude = -d if d < 0 else d
    k = (magnitude.bit_length() + 6) // 7
    if k >= _MID:
        raise ValueError(f"difference too large for a compact completion version: {d}")
    if d > 0:
        return chr(_MID + k) + _digits(d, k)
    return chr(_MID - k) + _digits(d + 128**k, k)


# Each of the 22 characters as its rank, written as a base-22 digit for int(..., 22) (C speed).
_RANK_DIGITS = str.maketrans("0123456789ABCDEFabcdef", "0123456789abcdefghijkl")


def _id_rank(ce_id: str) -> int:
    """The first 13 characters of a UUID (either case; 12 hex digits and the dash, which every UUID
    has there) as one base-22 number in text order. Not memoised: an event asks once (its fact
    versions are memoised by `fact_version`, a completion's two by `completion_versions`), and
    event ids never repeat, so a memo only missed."""
    if _UUID.fullmatch(ce_id) is None:
        raise ValueError(f"a learner fact's ce_id must be a UUID: {ce_id[:80]!r}")
    return int((ce_id[:8] + ce_id[9:_ID_CHARS]).translate(_RANK_DIGITS), 22)


def _id_text(ce_id: str) -> str:
    """`_id_rank` in 9 base-64 digits of events.base's alphabet (22**12 < 64**9): text, never a tab."""
    return base64_digits(_id_rank(ce_id), _ID_TEXT_DIGITS)


@lru_cache(maxsize=16384)  # one event asks once per operation it produces
def fact_version(ce_time: int, ce_id: str) -> str:
    """The version of a learner fact (hash u:<id>, usernames): `lww_version(ce_time)` and the first
    13 characters of ce_id, 19 characters for a time of today (the whole ce_id took 15 more). Byte
    order = order of (ce_time, ce_id[:13]). Not for reference data: the course snapshot and catalog
    info versions are compared with each other and keep the whole ce_id."""
    return int_text(ce_time) + _id_text(ce_id)  # = lww_version(ce_time) + ..., past its memo (this one's covers it)


def resume_version(modified: int, ce_time: int, ce_id: str) -> str:
    """The version of a resume point: order of (modified, ce_time, ce_id[:13]). Not memoised, and
    `lww_version`'s memo bypassed (its two integer parts written as it writes them): one call per
    completion event, whose times no other event shares, so a memo would only miss (and push out
    the entries that do repeat)."""
    return _resume_version(modified, ce_time - modified, _id_rank(ce_id))


def completion_version(modified: int, ce_time: int, ce_id: str) -> str:
    """The compact version of a completion record: byte order = order of (modified, ce_time, ce_id[:13])."""
    return _completion_version(modified, ce_time - modified, _id_rank(ce_id))


def completion_versions(modified: int, ce_time: int, ce_id: str) -> tuple[str, str]:
    """(`completion_version`, `resume_version`) of one completion event: the id's rank and the
    difference of the times computed once for both."""
    rank, d = _id_rank(ce_id), ce_time - modified
    return _completion_version(modified, d, rank), _resume_version(modified, d, rank)


def _resume_version(modified: int, d: int, rank: int) -> str:
    return int_text(modified) + int_text(d) + base64_digits(rank, _ID_TEXT_DIGITS)


def _completion_version(modified: int, d: int, rank: int) -> str:
    return _digits(modified + _OFFSET, _MODIFIED_DIGITS) + _difference(d) + _digits(rank, _ID_DIGITS)


def completion_value(completion: float) -> str:
    """The stored completion after the version: empty for 1.0, else its JSON number."""
    return "" if completion == 1.0 else orjson.dumps(completion).decode()


def _version_length(raw: str) -> int:
    k = abs(ord(raw[_MODIFIED_DIGITS]) - _MID)
    return _MODIFIED_DIGITS + 1 + k + _ID_DIGITS


def split_completion(raw: str) -> tuple[str, float]:
    """A stored `<version><completion>` -> (version, completion)."""
    n = _version_length(raw)
    text = raw[n:]
    return raw[:n], (1.0 if text == "" else float(orjson.loads(text)))


def parse_version(version: str) -> tuple[int, int, str]:
    """(modified, ce_time, the ce_id prefix as its 8 stored digits) of a compact version: for tests
    and reports."""
    modified = _number(version[:_MODIFIED_DIGITS]) - _OFFSET
    marker = ord(version[_MODIFIED_DIGITS]) - _MID
    k = abs(marker)
    digits = _number(version[_MODIFIED_DIGITS + 1 : _MODIFIED_DIGITS + 1 + k])
    d = 0 if marker == 0 else digits if marker > 0 else digits - 128**k
    return modified, modified + d, version[_MODIFIED_DIGITS + 1 + k :]
