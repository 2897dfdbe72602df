"""The answer memo's bookkeeping (api/answer_memo.py): windows, the hold, the bound, off at 0.
That memoised answers equal fresh ones is tests/integration/test_answer_memo.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.answer_memo import HOLD, AnswerMemo

NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def test_a_value_is_answered_inside_its_window_only() -> None:
    memo = AnswerMemo(10)
    memo.put("k", b"body", NOW, NOW + 5 * S)
    assert memo.get("k", NOW) == b"body"
    assert memo.get("k", NOW + 4 * S) == b"body"
    assert memo.get("k", NOW - S) is None  # before the now it was built at
    assert memo.get("k", NOW + 5 * S) is None  # the first change
    assert memo.get("k", NOW + 4 * S) is None  # and it is gone
    assert (memo.hits, memo.misses) == (2, 3)


def test_not_kept_without_a_window_and_never_past_the_hold() -> None:
    memo = AnswerMemo(10)
    memo.put("none", b"x", NOW, None)
    memo.put("empty", b"x", NOW, NOW)
    memo.put("long", b"x", NOW, NOW + 10 * HOLD)
    assert memo.get("none", NOW) is None and memo.get("empty", NOW) is None
    assert memo.get("long", NOW + HOLD - S) == b"x"
    assert memo.get("long", NOW + HOLD) is None


def test_bounded_the_oldest_goes_first_and_zero_keeps_nothing() -> None:
    memo = AnswerMemo(2)
    for key in ("a", "b", "c"):
        memo.put(key, key, NOW, NOW + S)
    assert [memo.get(k, NOW) for k in ("a", "b", "c")] == [None, "b", "c"]
    off = AnswerMemo(0)
    off.put("a", "a", NOW, NOW + S)
    assert off.get("a", NOW) is None
