"""Test session: real Kafka and Redis are started once, lazily, for the tests that ask for them."""

from __future__ import annotations

import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

from tools.redis_cluster_runner import RedisCluster
from tools.stack import Stack


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    # SIGTERM (e.g. `timeout`, a CI cancel) would end pytest without fixture teardown, leaving our
    # Kafka and Redis children running; as KeyboardInterrupt, teardown stops them like Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    workdir = Path(tempfile.mkdtemp(prefix="lp-test-"))
    s = Stack(workdir).start()
    try:
        yield s
    finally:
        s.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisCluster]:
    """Three redis-server masters in cluster mode, started once, only when a `cluster` test asks."""
    workdir = Path(tempfile.mkdtemp(prefix="lp-cluster-"))
    cluster = RedisCluster(workdir).start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
