"""kill -9 of the projector at three seeded random points of a 200,000-event history: each time a
new worker takes over (same consumer group), and the final read models equal the oracle fold, so
nothing was lost and nothing counted twice."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

from tests.fault.faults import (
    applied,
    assert_equals_oracle,
    in_background,
    kill_projector,
    start_projector,
    wait_progress,
)
from tests.pipeline import Pipeline
from tools.stack import Stack
from tools.synthetic import generate

pytestmark = [pytest.mark.fault, pytest.mark.integration]

HISTORY: dict[str, Any] = {"seed": 11, "learners": 900, "courses": 8, "programs": 3, "days": 60}  # 207,073 events
SEED = 20261123
# One kill in each third of the run, at a seeded point, plus a seeded pause after that point is
# reached, so the kill lands anywhere in a batch (decode, read facts, write, publish, commit).
WINDOWS = ((0.10, 0.33), (0.40, 0.63), (0.70, 0.93))


def test_projector_killed_three_times_ends_equal_to_the_oracle(fault_stack: Stack) -> None:
    history = list(generate(**HISTORY))
    assert len(history) >= 200_000
    rng = random.Random(SEED)
    plan = [(int(rng.uniform(lo, hi) * len(history)), rng.uniform(0.0, 0.5)) for lo, hi in WINDOWS]
    p = Pipeline.create(fault_stack)
    started = time.monotonic()
    try:
        start_projector(p)
        produced = in_background(lambda: p.produce(history))  # kills happen while events still arrive
        print(
            f"\ninjected: {len(history)} events (seed {HISTORY['seed']}), kill -9 plan (seed {SEED}): "
            + ", ".join(f"after {at} applied + {pause:.2f}s" for at, pause in plan)
        )
        for n, (at, pause) in enumerate(plan, 1):
            wait_progress(p, at)
            time.sleep(pause)
            before = applied(p)
            kill_projector(p)
            print(f"  kill {n}: t={time.monotonic() - started:6.1f}s, checkpoints at kill = {before} offsets")
            start_projector(p)
            resumed = wait_progress(p, before + 1)
            print(f"  restart {n}: new worker applying again after {resumed:.1f}s")
        produced()
        p.wait_applied(timeout=600)
        print(
            f"  all {sum(p.offsets.values())} offsets applied at t={time.monotonic() - started:.1f}s; "
            f"kills = {len(plan)}"
        )
        assert_equals_oracle(p, history, f"{len(history)} events, {len(plan)} kills")
    finally:
        p.stop()
