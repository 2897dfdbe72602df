"""Helpers of the fault suite: a projector that can be killed and restarted, progress read from
the Redis checkpoints, and the comparison of Redis with the oracle fold (printed)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Iterable
from typing import Any

from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError

from events import Event
from projectors.oracle import compare, fold, report
from tests.pipeline import Pipeline

# faust's own variables: a killed worker's group membership expires after 6 s instead of 60 s, so
# its successor gets the partitions quickly (the broker's minimum session timeout is 6 s).
FAST_REJOIN = {"BROKER_SESSION_TIMEOUT": "6", "BROKER_HEARTBEAT_INTERVAL": "1", "BROKER_REBALANCE_TIMEOUT": "10"}


def start_projector(p: Pipeline) -> None:
    p.projector = p.stack.start_projector(p.settings, env=FAST_REJOIN)


def kill_projector(p: Pipeline) -> None:
    """kill -9 the worker's whole process group: no shutdown, no commit, no leave-group."""
    assert p.projector is not None
    os.killpg(p.projector.pid, signal.SIGKILL)
    p.projector.wait(timeout=10)
    p.stack.children.remove(p.projector)
    p.projector = None


def checkpoints(p: Pipeline) -> dict[str, int]:
    """The serving generation's checkpoints; none while Redis is down or still loading."""
    try:
        return asyncio.run(p._checkpoints())
    except (RedisConnectionError, BusyLoadingError, OSError):
        return {}


def applied(p: Pipeline) -> int:
    """Events applied so far (sum of the checkpoints: next offsets, one per partition)."""
    return sum(checkpoints(p).values())


def wait_progress(p: Pipeline, at_least: int, timeout: float = 300.0) -> float:
    """Block until the checkpoints reach `at_least` applied offsets; return the seconds waited."""
    started = time.monotonic()
    while applied(p) < at_least:
        if p.projector is not None and p.projector.poll() is not None:
            raise AssertionError(f"projector exited with {p.projector.returncode} (log in {p.stack.workdir})")
        if time.monotonic() - started > timeout:
            raise AssertionError(f"projector stuck below {at_least} applied offsets")
        time.sleep(0.05)
    return time.monotonic() - started


def assert_equals_oracle(p: Pipeline, history: Iterable[Event[Any]], label: str) -> None:
    """Redis (serving generation) against the oracle fold of `history`, entity by entity."""
    expected = fold(history).dump()
    got = p.read_models()
    differences = compare(expected, got)
    print(
        f"compared [{label}]: {len(got)} Redis entities vs {len(expected)} oracle entities: "
        f"mismatches = {len(differences)}"
    )
    if differences:
        print(report(differences, limit=50))
    assert not differences, f"{len(differences)} entities differ from the oracle (see the captured output)"
    assert len(got) > 100  # the history really landed


def in_background(action: Callable[[], None]) -> Callable[[], None]:
    """Run `action` in a thread; the returned callable joins it (re-raising its error)."""
    import threading

    errors: list[BaseException] = []

    def run() -> None:
        try:
            action()
        except BaseException as exc:  # re-raised in the test's thread by join()
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join() -> None:
        thread.join()
        if errors:
            raise errors[0]

    return join
