"""The tracked "now" of the views (readmodels/views/moment.py): which times it notes, which uses end
its window, and that everything it hands on is a plain datetime."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readmodels.views.moment import FOREVER, Moment, as_plain, local_date, window

NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
LATER, LATEST, EARLIER = NOW + timedelta(hours=2), NOW + timedelta(days=3), NOW - timedelta(hours=1)


def test_comparisons_on_either_side_note_the_first_time_after_now() -> None:
    m = Moment.of(NOW)
    # the time on the left on purpose: Python then asks the Moment's reflected method
    assert (LATEST > m, m < LATER, EARLIER < m, m >= EARLIER, m != LATER) == (True,) * 5  # noqa: SIM300
    assert window(m) == LATER
    assert not (m == LATEST)  # noqa: SIM201
    assert window(m) == LATER


def test_only_past_times_compared_keep_it_forever() -> None:
    m = Moment.of(NOW)
    assert m > EARLIER and not m <= EARLIER
    assert window(m) == FOREVER


def test_a_time_equal_to_now_ends_the_window_at_once() -> None:
    m = Moment.of(NOW)
    assert m <= NOW
    assert window(m) is None


def test_values_that_are_not_times_are_not_noted() -> None:
    m = Moment.of(NOW)
    assert m != "2026-03-12T00:00:00Z" and m is not None
    assert window(m) == FOREVER


@pytest.mark.parametrize(
    "use",
    [
        lambda m: m + timedelta(days=1),
        lambda m: timedelta(days=1) + m,
        lambda m: m - timedelta(days=1),
        lambda m: LATER - m,
        lambda m: m.astimezone(UTC),
        lambda m: m.isoformat(),
        lambda m: m.year,
        lambda m: m.date(),
        lambda m: str(m),
        lambda m: f"{m:%Y}",
        lambda m: hash(m),
        lambda m: m < Moment.of(LATER),
    ],
)
def test_any_other_use_means_not_to_be_kept_and_hands_on_plain_values(use: object) -> None:
    m = Moment.of(NOW)
    got = use(m)  # type: ignore[operator]
    assert window(m) is None
    assert not isinstance(got, Moment)


def test_arithmetic_gives_what_the_plain_now_gives() -> None:
    m = Moment.of(NOW)
    assert m + timedelta(days=1) == NOW + timedelta(days=1)
    assert type(m + timedelta(days=1)) is datetime
    assert LATER - m == LATER - NOW
    assert max(Moment.of(NOW), EARLIER) == NOW


def test_a_moment_in_a_body_is_written_as_the_plain_now_and_not_kept() -> None:
    m = Moment.of(NOW)
    assert orjson.dumps({"t": m}, default=as_plain) == orjson.dumps({"t": NOW})
    assert window(m) is None
    with pytest.raises(TypeError):
        orjson.dumps({"x": object()}, default=as_plain)


def test_local_date_notes_the_next_local_midnight() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")  # 15:00 UTC is 00:00 the next day in Tokyo
    m = Moment.of(NOW)
    assert local_date(m, tokyo) == date(2026, 3, 12)
    assert window(m) == datetime(2026, 3, 12, 15, 0, tzinfo=UTC)
    m = Moment.of(NOW)
    assert local_date(m, ZoneInfo("America/New_York")) == date(2026, 3, 11)
    assert window(m) == datetime(2026, 3, 12, 4, 0, tzinfo=UTC)  # EDT from March 8
    assert local_date(NOW, tokyo) == date(2026, 3, 12)  # a plain datetime: just the date


ZONES = ["UTC", "Asia/Tokyo", "America/New_York", "America/Santiago", "America/Havana", "Asia/Gaza",
         "Pacific/Apia", "Australia/Lord_Howe", "Europe/London", "America/St_Johns", "Asia/Kathmandu"]


@settings(max_examples=400, deadline=None)
@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)),
    st.sampled_from(ZONES),
    st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
)
def test_local_date_holds_until_its_window_and_not_past_the_real_change(now: datetime, name: str,
                                                                        part: float) -> None:
    tz = ZoneInfo(name)
    m = Moment.of(now)
    today = local_date(m, tz)
    until = window(m)
    if until is None:
        return
    assert now < until
    inside = min(now + (until - now) * part, until - timedelta(microseconds=1))  # timedelta * float rounds
    for t in (now, inside, until - timedelta(microseconds=1)):
        assert t.astimezone(tz).date() == today
    # the window ends at the day's change, to the minute at the latest
    assert (until + timedelta(minutes=1)).astimezone(tz).date() != today or until.astimezone(tz).date() != today
