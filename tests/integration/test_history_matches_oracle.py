"""A synthetic history of more than 50,000 events through real Kafka and the real faust projector
ends with Redis read models equal, entity by entity, to the oracle fold of the same history.

The history is produced out of time order (its chunks reversed) and part of it twice, so the
projector sees cross-partition reordering, within-partition reordering and redelivery."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from events import Event
from projectors.oracle import compare, fold, report
from tests.pipeline import Pipeline
from tools.stack import Stack
from tools.synthetic import generate

pytestmark = pytest.mark.integration

OPTIONS = {"seed": 7, "learners": 220, "courses": 8, "programs": 3, "days": 60}  # about 60,800 events
CHUNKS = 8
REPEATED = 3000


@pytest.fixture(scope="module")
def history() -> list[Event[Any]]:
    events = list(generate(**OPTIONS))
    assert len(events) >= 50_000
    return events


@pytest.fixture(scope="module")
def pipeline(stack: Stack) -> Iterator[Pipeline]:
    p = Pipeline.create(stack).start(api=False)
    yield p
    p.stop()


def delivery_order(history: list[Event[Any]]) -> list[Event[Any]]:
    size = -(-len(history) // CHUNKS)
    chunks = [history[i : i + size] for i in range(0, len(history), size)]
    return [e for chunk in reversed(chunks) for e in chunk] + history[:REPEATED]


def test_projected_history_equals_the_oracle_fold(pipeline: Pipeline, history: list[Event[Any]]) -> None:
    pipeline.produce(delivery_order(history))
    pipeline.wait_applied(timeout=240)
    expected = fold(history).dump()
    got = pipeline.read_models()
    differences = compare(expected, got)
    if differences:
        print(report(differences, limit=100))  # the entity-by-entity differences, in the test output
    assert not differences, f"{len(differences)} entities differ (see the captured output)"
    assert len(got) > 500  # sanity: the history really landed
