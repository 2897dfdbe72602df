"""The answer memo's bookkeeping (api/answer_memo.py): what a read is sent and when its entry is
answered, windows, the hold, the bound, off at 0. That memoised answers equal fresh ones, with the
real read scripts and writer, is tests/integration/test_answer_memo.py."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from api.answer_memo import HOLD, AnswerMemo

NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
S = timedelta(seconds=1)


class Read:
    """A read script stand-in: answers nil when sent the stamps it last gave, else a reply whose last
    element is its stamps (`[]`: none, as a cluster's reads)."""

    def __init__(self, stamps: list[Any] | None = None) -> None:
        self.stamps = ["1", "u7", "3"] if stamps is None else stamps
        self.data = "facts"
        self.sent: list[tuple[Any, ...]] = []

    async def __call__(self, stamps: tuple[Any, ...]) -> Any:
        self.sent.append(tuple(stamps))
        if stamps and list(stamps) == self.stamps:
            return None
        return [self.data, list(self.stamps)]


def ask(memo: AnswerMemo, read: Read, now: datetime, until: datetime | None = None, key: str = "k") -> Any:
    return asyncio.run(memo.answer(key, now, read, lambda raw: (f"body of {raw[0]}", until or now + 5 * S)))


def test_the_kept_stamps_are_sent_and_a_nil_reply_answers_from_the_entry() -> None:
    memo, read = AnswerMemo(10), Read()
    assert ask(memo, read, NOW) == "body of facts"
    assert read.sent == [()]  # nothing kept yet: the full read
    assert ask(memo, read, NOW + S) == "body of facts"
    assert read.sent[-1] == ("1", "u7", "3")
    read.data, read.stamps = "new facts", ["1", "u7", "4"]  # a write bumped a stamp
    assert ask(memo, read, NOW + 2 * S) == "body of new facts"
    assert ask(memo, read, NOW + 3 * S) == "body of new facts"
    assert read.sent[-1] == ("1", "u7", "4")
    assert (memo.hits, memo.misses) == (2, 2)


def test_an_entry_is_answered_inside_its_window_only() -> None:
    memo, read = AnswerMemo(10), Read()
    ask(memo, read, NOW, NOW + 5 * S)
    ask(memo, read, NOW + 4 * S)
    assert read.sent[-1]  # inside: the stamps are sent
    ask(memo, read, NOW - S)  # before the now it was built at: a full read, and a new entry
    assert read.sent[-1] == ()
    memo, read = AnswerMemo(10), Read()
    ask(memo, read, NOW, NOW + 5 * S)
    ask(memo, read, NOW + 5 * S)  # its first change: a full read
    assert read.sent[-1] == ()
    assert (memo.hits, memo.misses) == (0, 2)


def test_replies_without_stamps_are_kept_by_the_exact_reply() -> None:
    memo, read = AnswerMemo(10), Read(stamps=[])
    ask(memo, read, NOW)
    assert ask(memo, read, NOW + S) == "body of facts"
    assert read.sent == [(), ()]  # always the full read
    read.data = "other facts"
    assert ask(memo, read, NOW + 2 * S) == "body of other facts"
    assert (memo.hits, memo.misses) == (1, 2)


def test_not_kept_without_a_window_and_never_past_the_hold() -> None:
    memo, read = AnswerMemo(10), Read()
    asyncio.run(memo.answer("none", NOW, read, lambda raw: ("x", None)))
    asyncio.run(memo.answer("none", NOW, read, lambda raw: ("x", None)))
    assert read.sent == [(), ()]
    ask(memo, read, NOW, NOW + 10 * HOLD, key="long")
    ask(memo, read, NOW + HOLD - S, key="long")
    assert read.sent[-1]
    ask(memo, read, NOW + HOLD, key="long")
    assert read.sent[-1] == ()


def test_bounded_the_oldest_goes_first_and_zero_keeps_nothing() -> None:
    memo, read = AnswerMemo(2), Read()
    for key in ("a", "b", "c"):
        ask(memo, read, NOW, key=key)
    read.sent.clear()
    for key in ("a", "b", "c"):
        ask(memo, read, NOW, key=key)
    assert read.sent[0] == ()  # "a" went
    off, read = AnswerMemo(0), Read()
    ask(off, read, NOW)
    ask(off, read, NOW)
    assert read.sent == [(), ()]
