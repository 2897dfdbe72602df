"""The rebuild's partitions shared among workers: every partition with events left in exactly one
share, shares of about equal work, no empty share."""

from __future__ import annotations

from projectors.rebuild_workers import shares


def test_shares_cover_each_partition_with_events_left_once() -> None:
    remaining = {("a", 0): 500, ("a", 1): 400, ("b", 0): 300, ("b", 1): 200, ("c", 0): 0, ("c", 1): -3}
    groups = shares(remaining, 2)
    flat = [tp for g in groups for tp in g]
    assert sorted(flat) == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    loads = sorted(sum(remaining[tp] for tp in g) for g in groups)
    assert loads == [700, 700]


def test_shares_are_never_empty_and_never_more_than_the_workers() -> None:
    assert shares({("a", 0): 10}, 4) == [[("a", 0)]]
    assert shares({("a", 0): 0}, 2) == []
    many = {("t", p): 100 + p for p in range(28)}
    groups = shares(many, 3)
    assert len(groups) == 3
    loads = [sum(many[tp] for tp in g) for g in groups]
    assert max(loads) - min(loads) <= max(many.values())
