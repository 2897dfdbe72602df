"""The envelope and the base class of every event payload."""

from __future__ import annotations

import re
from binascii import b2a_base64
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from events.frozen import quick_init

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Record(BaseModel):
    """Immutable nested record. Unknown extra fields are ignored (forward compatible).

    The codec validates the wire JSON in strict mode (no `"42"` for an int, no `1` for a bool);
    Python callers (builders, tests) may use the lax `model_validate`.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=False, allow_inf_nan=False)


class EventData(Record):
    """The `data` of one event type. Subclasses set TYPE (the `ce_type`) and TOPIC (default topic)."""

    TYPE: ClassVar[str]
    TOPIC: ClassVar[str]

    def partition_key(self) -> str:
        """The Kafka key the producer uses; never relied on for correctness."""
        return ""


D = TypeVar("D", bound=EventData)


@quick_init  # one per message the projectors read
@dataclass(frozen=True, slots=True)
class Event(Generic[D]):
    """One CloudEvent: identity, time, type and the typed payload."""

    type: str
    id: str
    time: datetime
    data: D
    source: str | None = None
    minorversion: int = 0

    @property
    def micros(self) -> int:
        """Event time as integer microseconds since the epoch (parsed, never compared as text)."""
        return to_micros(self.time)

    @property
    def version(self) -> str:
        """Last-writer-wins order key: (ce_time, ce_id), as a string that sorts correctly."""
        return lww_version(self.micros, self.id)


def to_micros(t: datetime) -> int:
    delta = t - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


# Digits of the version text, in ASCII order (so byte order = numeric order digit by digit).
_DIGITS = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_MID = 32  # length marker of the integer encoding: _DIGITS[_MID + k] (k >= 0), _DIGITS[_MID - k] (k < 0)
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}", re.ASCII)
# A UUID's 32 digits, each ranked among the 22 characters a UUID may use in ASCII order
# (0-9 < A-F < a-f), read as one base-22 number: text order of UUIDs of any case = numeric order.
_HEX_RANK = str.maketrans("0123456789ABCDEFabcdef", "0123456789abcdefghijkl", "-")
_B64_STD = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_ORDERED = bytes.maketrans(_B64_STD, _DIGITS.encode())


def int_text(n: int) -> str:
    """Order-preserving, prefix-free text of any integer: a length marker, then base-64 digits.

    Longer positives sort after shorter ones (marker above the middle, growing with the length);
    a negative is written as 64**k + n under a marker below the middle (shrinking with k), so more
    digits mean smaller. 0..63 take 2 characters; microseconds of today, 10.
    """
    magnitude = -n if n < 0 else n
    k = max(1, (magnitude.bit_length() + 5) // 6)
    if k >= _MID:
        raise ValueError(f"integer too large for a version: {n}")
    rest = n + 64**k if n < 0 else n
    return (_DIGITS[_MID - k] if n < 0 else _DIGITS[_MID + k]) + base64_digits(rest, k)


def base64_digits(n: int, k: int) -> str:
    """n (0 <= n < 64**k) as k digits of the version alphabet (`_DIGITS`, in ASCII order), most
    significant first: through the C base64 codec, whole groups of 4 digits (3 bytes), then the
    leading zero digits cut off (binascii's codec itself: base64.b64encode is a Python wrapper
    around it that adds a call and a copy to every version)."""
    return b2a_base64(n.to_bytes((k + 3) // 4 * 3, "big"), newline=False).translate(_B64_ORDERED)[-k:].decode()


def _id_text(text: str) -> str:
    """A canonical UUID (either case) in 24 characters, order-preserving; any other id as it is."""
    if len(text) != 36 or _UUID.fullmatch(text) is None:
        return text
    packed = int(text.translate(_HEX_RANK), 22).to_bytes(18, "big")  # 22**32 < 2**144
    return b2a_base64(packed, newline=False).translate(_B64_ORDERED).decode()


@lru_cache(maxsize=16384)  # one event asks for its version once per operation it produces
def lww_version(*parts: int | str) -> str:
    """A compact text whose byte order is the tuple order of `parts` (the last-writer-wins key).

    Integers (microseconds since 1970, or differences of them) are order-preserving and
    prefix-free (`int_text`), so the next part always starts at a position where both texts
    still agree. A string part is an event id: a canonical UUID is packed into 24 characters in
    its text order (`_id_text`), which is fixed-width, so it is also prefix-free; any other string
    is kept as it is and must be the last part or have a fixed width among the versions compared
    (the course snapshot's digest suffix). Versions never contain a byte below `-` (none is a tab).
    """
    return "".join([int_text(p) if isinstance(p, int) else _id_text(p) for p in parts])


# RFC 3339 `date-time`: full date, `T`, full time with seconds, optional fraction, `Z` or offset.
# Stricter than datetime.fromisoformat, which also takes ISO 8601 basic forms and naive times.
_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


def parse_time(value: str) -> datetime:
    """Parse an RFC 3339 time (offset required); return it in UTC. Raise ValueError otherwise."""
    m = _RFC3339.fullmatch(value.strip())
    if m is None:
        raise ValueError(f"not an RFC 3339 time with offset: {value[:80]!r}")
    usual = (value[-1] == "Z" and len(value) <= 27) or (value.endswith("+00:00") and len(value) <= 32)
    if usual and value[10] == "T":
        # The usual forms on the wire (`...THH:MM:SS[.ffffff]Z`, and `+00:00` as Python's
        # isoformat() writes it in Open edX's Avro events; at most 6 fraction digits):
        # fromisoformat reads them as the lines below do, and gives UTC itself.
        try:
            return datetime.fromisoformat(value)
        except ValueError:  # Feb 30, hour 25
            raise ValueError(f"not a valid calendar time: {value[:80]!r}") from None
    date, clock, fraction, offset = m.groups()
    micros = f".{(fraction or '0')[:6]:0<6}"  # nanosecond precision is truncated, not rounded
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        return datetime.fromisoformat(f"{date}T{clock}{micros}{offset}").astimezone(UTC)
    except (ValueError, OverflowError):  # Feb 30, hour 25, or out of range once moved to UTC
        raise ValueError(f"not a valid calendar time: {value[:80]!r}") from None


def format_time(t: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ`, with `.ffffff` when there are microseconds (the API's date format)."""
    t = t.astimezone(UTC)
    base = t.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{t.microsecond:06d}Z" if t.microsecond else f"{base}Z"
