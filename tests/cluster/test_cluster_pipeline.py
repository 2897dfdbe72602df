"""The live pipeline on a real 3-master Redis Cluster: two projector workers in one consumer group
apply a synthetic history through real Kafka; one is killed with kill -9 half way, the other takes
over its partitions, and the read models end equal to the oracle fold."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from events import Event
from tests.fault.faults import FAST_REJOIN, assert_equals_oracle, wait_progress
from tests.pipeline import Pipeline
from tools.redis_cluster_runner import RedisCluster
from tools.stack import Stack
from tools.synthetic import generate

pytestmark = pytest.mark.cluster

OPTIONS = {"seed": 11, "learners": 90, "courses": 5, "programs": 2, "days": 40}
PARTITIONS = 4


@pytest.fixture(scope="module")
def history() -> list[Event[Any]]:
    return list(generate(**OPTIONS))


@pytest.fixture
def pipeline(stack: Stack, redis_cluster: RedisCluster) -> Iterator[Pipeline]:
    p = Pipeline.create(stack, redis_url=redis_cluster.url, topic_partitions=PARTITIONS)
    yield p
    p.stop()


def _kill(stack: Stack, proc: subprocess.Popen[bytes]) -> None:
    """kill -9 the worker's whole process group: no shutdown, no commit, no leave-group."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    stack.children.remove(proc)


def test_two_workers_one_killed_leave_the_cluster_equal_to_the_oracle(
    pipeline: Pipeline, history: list[Event[Any]]
) -> None:
    pipeline.projector = pipeline.stack.start_projector(pipeline.settings, env=FAST_REJOIN)
    second_log = pipeline.stack.workdir / f"projector-{pipeline.settings.consumer_group}-b.log"
    doomed = pipeline.stack.start_projector(pipeline.settings, env=FAST_REJOIN, log=second_log)
    half = len(history) // 2
    pipeline.produce(history[:half])
    wait_progress(pipeline, half // 4, timeout=180)
    _kill(pipeline.stack, doomed)
    pipeline.produce(history[half:])
    pipeline.produce(history[: len(history) // 10])  # redelivered: harmless
    pipeline.wait_applied(timeout=240)
    assert_equals_oracle(pipeline, history, "cluster, two workers, one killed")
    log = (pipeline.stack.workdir / f"projector-{pipeline.settings.consumer_group}.log").read_text()
    ours = [line for line in log.splitlines() if '"level":"ERROR","logger":"projectors' in line or "Traceback" in line]
    assert not ours, ours[:3]  # e.g. change records that could not be made on the cluster
