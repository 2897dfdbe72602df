"""Rebuild beside the serving generation, switch once, verify, survive a kill -9 (real Kafka and Redis)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from readmodels import fieldnames, keys
from readmodels.settings import Settings
from tests.builders import COURSE, at, course_published, enrollment
from tests.integration.lp import children, generation_keys, lp, lp_background, read_topics, redis, serving
from tests.pipeline import Pipeline
from tools.stack import Stack
from tools.synthetic import generate

pytestmark = [pytest.mark.integration]


@pytest.fixture(scope="module")
def pipeline(stack: Stack) -> Iterator[Pipeline]:
    p = Pipeline.create(stack).start()
    p.produce([course_published(), enrollment("created", 42)])
    p.produce(generate(seed=11, learners=50, courses=3))
    p.wait_applied()
    yield p
    p.stop()


class Reader(threading.Thread):
    """Reads the course route in a loop, as a client would, and counts pointer switches."""

    def __init__(self, pipeline: Pipeline) -> None:
        super().__init__(daemon=True)
        self.pipeline = pipeline
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.reads = 0

    def run(self) -> None:
        with httpx.Client(base_url=self.pipeline.api_url, timeout=10) as client:
            headers = {"Authorization": f"JWT {self.pipeline.token(42)}"}
            while not self.stop.is_set():
                r = client.get(f"/api/courseware/course/{COURSE}", headers=headers)
                self.reads += 1
                if r.status_code != 200 or r.json().get("enrollment") != {"mode": "audit", "is_active": True}:
                    self.failures.append(f"{r.status_code} {r.text[:200]}")


class Switches(threading.Thread):
    def __init__(self, pipeline: Pipeline) -> None:
        super().__init__(daemon=True)
        self.pubsub = redis(pipeline.settings).pubsub()
        self.pubsub.subscribe(keys.generation_channel(pipeline.settings.redis_namespace))
        self.seen: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            m = self.pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if m is not None:
                self.seen.append(m["data"])


def wait_outbox_empty(settings: Settings, timeout: float = 30.0) -> None:
    """Checkpoints are written before the change records are published: wait until the live
    projector has published (and released) every held record, so the topics can be counted."""
    deadline = time.monotonic() + timeout
    with redis(settings) as r:
        while r.hlen(keys.outbox(settings.redis_namespace)) and time.monotonic() < deadline:
            time.sleep(0.05)


def test_rebuild_while_reading_serves_every_read_and_switches_once(pipeline: Pipeline) -> None:
    settings = pipeline.settings
    before = serving(settings)
    wait_outbox_empty(settings)
    projected_before = len(read_topics(settings, list(settings.projected_topics)))
    reader, switches = Reader(pipeline), Switches(pipeline)
    switches.start()
    reader.start()
    try:
        result = lp(settings, "rebuild", "--keep-old", LP_BATCH_SIZE="200")
    finally:
        reader.stop.set()
        switches.stop.set()
        reader.join()
        switches.join()
    assert result.returncode == 0, result.stdout + result.stderr
    after = serving(settings)
    assert after == before + 1
    assert switches.seen == [str(after)]
    assert reader.reads > 0
    assert reader.failures == []
    # the shadow generation published nothing
    assert len(read_topics(settings, list(settings.projected_topics))) == projected_before

    verified = lp(settings, "verify", str(before), str(after))
    assert verified.returncode == 0, verified.stdout
    assert "0 entities differ" in verified.stdout
    against_oracle = lp(settings, "verify", str(after), "--oracle")
    assert against_oracle.returncode == 0, against_oracle.stdout

    with redis(settings) as r:
        # corrupt the retired generation, not the serving one: the next test reads through the API
        retired = keys.prefix(settings.redis_namespace, before) + keys.user(42)
        r.hset(retired, fieldnames.f_enrollment(COURSE), "corrupt")
    corrupted = lp(settings, "verify", str(before), str(after))
    assert corrupted.returncode == 1
    assert keys.user(42) in corrupted.stdout
    assert fieldnames.f_enrollment(COURSE) in corrupted.stdout
    assert "1 entities differ" in corrupted.stdout


def test_rebuild_killed_midway_leaves_serving_untouched_then_completes(pipeline: Pipeline) -> None:
    settings = pipeline.settings
    old = serving(settings)
    proc = lp_background(settings, "rebuild", LP_BATCH_SIZE="5")
    ns = settings.redis_namespace
    shadow = None
    deadline = time.monotonic() + 60
    with redis(settings) as r:
        while time.monotonic() < deadline and proc.poll() is None:
            state = r.hgetall(keys.rebuild_state(ns))
            if state and r.hlen(keys.prefix(ns, int(state["generation"])) + keys.CHECKPOINTS):
                shadow = int(state["generation"])
                # paused at once, with its workers: the check below takes seconds, in which a
                # running rebuild of this small history could finish (then it is not midway)
                for pid in (proc.pid, *children(proc.pid)):
                    os.kill(pid, signal.SIGSTOP)
                break
            time.sleep(0.02)
        second = lp(settings, "rebuild")  # while the first one holds the lock
        assert second.returncode == 1, second.stdout + second.stderr
        assert "another rebuild is running" in second.stdout
        proc.kill()  # SIGKILL: no cleanup at all (its lock is taken over by the next run: its pid is gone;
        # its workers die with it: PR_SET_PDEATHSIG, SIGKILL, which a paused process gets too)
        proc.wait()
        assert shadow is not None, "the rebuild never wrote a checkpoint"
        partial = r.hgetall(keys.prefix(ns, shadow) + keys.CHECKPOINTS)
    assert serving(settings) == old
    assert pipeline.get(f"/api/courseware/course/{COURSE}", user=42).json()["enrollment"]["mode"] == "audit"
    complete = {f"{t}:{p}": o for (t, p), o in pipeline.offsets.items()}
    assert any(int(partial.get(f, 0)) < o for f, o in complete.items()), "killed too late to be midway"

    resumed = lp(settings, "rebuild")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"resuming generation {shadow}" in resumed.stdout
    assert serving(settings) == shadow
    assert generation_keys(settings, old) == 0  # the old generation was deleted

    # live projection was handed over: a new event lands in the new generation and is served
    pipeline.produce([enrollment("changed", 42, mode="verified", time=at(60))])
    pipeline.wait_applied()
    r = pipeline.get(f"/api/courseware/course/{COURSE}", user=42)
    assert r.json()["enrollment"] == {"mode": "verified", "is_active": True}


def test_rebuild_while_events_keep_arriving_loses_nothing(pipeline: Pipeline) -> None:
    settings = pipeline.settings
    before = serving(settings)
    more = list(generate(seed=12, learners=30, courses=2))
    stop = threading.Event()

    def keep_producing() -> None:
        for i in range(0, len(more), 100):
            pipeline.produce(more[i : i + 100])
            if stop.is_set():
                break
        pipeline.produce(more[i + 100 :])  # whatever is left, after the switch

    producer = threading.Thread(target=keep_producing, daemon=True)
    producer.start()
    try:
        result = lp(settings, "rebuild", LP_BATCH_SIZE="100")
    finally:
        stop.set()
        producer.join()
    assert result.returncode == 0, result.stdout + result.stderr
    assert serving(settings) == before + 1
    pipeline.wait_applied()
    # the new generation equals the oracle fold of exactly the history it applied: nothing lost
    against_oracle = lp(settings, "verify", "--oracle")
    assert against_oracle.returncode == 0, against_oracle.stdout
