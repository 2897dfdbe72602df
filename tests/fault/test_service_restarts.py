"""Redis (append-only file on) and, separately, the Kafka broker are restarted in the middle of a
run, on the same port and data; the projector (the same process, never restarted) carries on by
itself and the read models equal the oracle fold."""

from __future__ import annotations

import time
from typing import Any, Protocol

import pytest

from tests.fault.faults import assert_equals_oracle, in_background, start_projector, wait_progress
from tests.pipeline import Pipeline
from tools.stack import Stack
from tools.synthetic import generate

pytestmark = [pytest.mark.fault, pytest.mark.integration]

HISTORY: dict[str, Any] = {"courses": 6, "programs": 2, "learners": 120, "days": 45}  # about 20,000 events
DOWN_S = 3.0  # how long the service stays stopped


class Service(Protocol):
    def stop(self) -> None: ...

    def restart(self) -> object: ...


def _retries(p: Pipeline) -> int:
    log = p.stack.workdir / f"projector-{p.settings.consumer_group}.log"
    return sum("failed (attempt" in line for line in log.read_text(errors="replace").splitlines())


def _restart_mid_run(stack: Stack, seed: int, what: str, service: Service) -> None:
    history = list(generate(seed=seed, **HISTORY))
    p = Pipeline.create(stack)
    try:
        start_projector(p)
        worker = p.projector
        assert worker is not None
        produced = in_background(lambda: p.produce(history))
        wait_progress(p, len(history) * 2 // 5)
        began = time.monotonic()
        service.stop()
        time.sleep(DOWN_S)
        service.restart()
        print(
            f"\ninjected: {what} stopped after 40% of {len(history)} events, started again on the same "
            f"port and data {time.monotonic() - began:.1f}s later"
        )
        produced()
        p.wait_applied(timeout=300)
        assert p.projector is worker and worker.poll() is None, "the projector had to be restarted"
        print(
            f"  the same projector (pid {worker.pid}) applied all {sum(p.offsets.values())} offsets "
            f"({_retries(p)} retried operations in its log)"
        )
        assert_equals_oracle(p, history, f"{len(history)} events, 1 {what} restart")
    finally:
        p.stop()


def test_projector_survives_a_redis_restart_and_equals_the_oracle(fault_stack: Stack) -> None:
    _restart_mid_run(fault_stack, 21, "Redis", fault_stack.redis)


def test_projector_survives_a_kafka_restart_and_equals_the_oracle(fault_stack: Stack) -> None:
    _restart_mid_run(fault_stack, 22, "Kafka broker", fault_stack.kafka)
