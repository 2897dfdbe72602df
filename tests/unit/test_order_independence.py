"""Property: the read models do not depend on the order, repetition or batching of events.

For random histories (tests/strategies.py: every event type, colliding times and ids), any
permutation, any duplication and any batch split applied to a MemoryStore dumps exactly like the
in-order oracle fold."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import Event
from projectors.oracle import compare, fold, report
from projectors.projections import project
from readmodels.memory import MemoryStore
from readmodels.ops import coalesce
from tests.strategies import colliding_histories, histories

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def deliveries(
    draw: st.DrawFn, histories: st.SearchStrategy[list[Event[Any]]] = histories
) -> tuple[list[Event[Any]], list[list[Event[Any]]]]:
    """A history, and one way of delivering it: shuffled, with repeats, cut into batches."""
    history = draw(histories)
    delivered = list(draw(st.permutations(history)))
    for _ in range(draw(st.integers(0, 5))):
        repeat = delivered[draw(st.integers(0, len(delivered) - 1))]
        delivered.insert(draw(st.integers(0, len(delivered))), repeat)
    cuts = sorted(draw(st.lists(st.integers(0, len(delivered)), max_size=6)))
    bounds = [0, *cuts, len(delivered)]
    return history, [delivered[a:z] for a, z in pairwise(bounds)]


def apply_batches(batches: list[list[Event[Any]]]) -> MemoryStore:
    store = MemoryStore()
    for batch in batches:
        store.apply([op for e in batch for op in project(e)])
    return store


@SETTINGS
@given(deliveries())
def test_any_order_repetition_and_batching_equals_the_oracle_fold(case: Any) -> None:
    history, batches = case
    diffs = compare(fold(history).dump(), apply_batches(batches).dump())
    assert not diffs, report(diffs)


@SETTINGS
@given(deliveries(colliding_histories))
def test_facts_sharing_time_and_id_resolve_the_same_in_any_order(case: Any) -> None:
    history, batches = case
    diffs = compare(fold(history).dump(), apply_batches(batches).dump())
    assert not diffs, report(diffs)


@SETTINGS
@given(histories, st.randoms(use_true_random=False))
def test_oracle_fold_does_not_depend_on_the_order_of_the_history(history: list[Event[Any]], rnd: Any) -> None:
    shuffled = list(history)
    rnd.shuffle(shuffled)
    assert fold(shuffled).dump() == fold(history).dump()


@SETTINGS
@given(histories)
def test_replaying_a_history_twice_changes_nothing(history: list[Event[Any]]) -> None:
    store = apply_batches([history])
    before = store.dump()
    assert store.apply([op for e in history for op in project(e)]) == []
    assert store.dump() == before


def apply_coalesced(batches: list[list[Event[Any]]]) -> MemoryStore:
    store = MemoryStore()
    for batch in batches:
        store.apply(coalesce([op for e in batch for op in project(e)]))
    return store


@SETTINGS
@given(deliveries(colliding_histories))
def test_coalesced_batches_leave_what_the_whole_batches_leave(case: Any) -> None:
    history, batches = case
    diffs = compare(apply_batches(batches).dump(), apply_coalesced(batches).dump())
    assert not diffs, report(diffs)
    diffs = compare(fold(history).dump(), apply_coalesced(batches).dump())
    assert not diffs, report(diffs)
