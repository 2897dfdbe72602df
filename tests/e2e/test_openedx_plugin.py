"""The Open edX plugin (openedx_plugin/, issue #14) against the real pipeline.

Both run the plugin side with the Open edX interpreter (tests/openedx/env.py: openedx-events
10.5.0, edx-event-bus-kafka 6.1.0, confluent-kafka, edx-completion 5.0.0, Django), never in this
process, pointed at the session stack's Kafka and schema registry:
- the plugin's own test suite (its Django test project: real edx-completion, stand-ins of the
  edx-platform interfaces; its `bus` tests write through the real producer to this Kafka);
- an LMS session: Studio publishes a course and a learner completes a problem through
  edx-completion's API; the projector reads the Avro the real producer wrote and the API's
  resume point is that problem.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import COURSE, block
from tests.openedx.env import ROOT, openedx_python
from tests.pipeline import Pipeline
from tools.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

PLUGIN = ROOT / "openedx_plugin"
LEARNER = 4242


def plugin_env(stack: Stack, topic_prefix: str, db: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "LP_TEST_KAFKA_BOOTSTRAP": stack.kafka.bootstrap,
           "LP_TEST_SCHEMA_REGISTRY_URL": stack.schema_registry_url, "LP_TEST_TOPIC_PREFIX": topic_prefix,
           "PYTHONDONTWRITEBYTECODE": "1"}
    if db is not None:
        env["LP_TEST_DB"] = str(db)
    return env


def run_plugin(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(openedx_python()), *args], cwd=PLUGIN, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_plugin_test_suite_passes_with_the_real_producer_on_this_kafka(stack: Stack) -> None:
    prefix = f"p{uuid.uuid4().hex[:8]}"
    stack.create_topics(stack.settings(event_bus_topic_prefix=prefix))  # the broker creates none by itself
    out = run_plugin(["-m", "pytest", "-q"], plugin_env(stack, prefix), timeout=900)

    summary = (out.stdout.strip().splitlines() or [""])[-1]
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-3000:]
    assert " passed" in summary and "skipped" not in summary, summary  # the bus tests ran too


@pytest.fixture(scope="module")
def pipeline(stack: Stack) -> Iterator[Pipeline]:
    # The LMS writes `<EVENT_BUS_TOPIC_PREFIX>-<topic>`; the projector reads the same with its
    # upstream-style prefix setting (joined with "-", as the operator copies it from the LMS).
    p = Pipeline.create(stack, event_bus_topic_prefix="lms").start()
    yield p
    p.stop()


def test_completion_saved_in_the_lms_is_the_resume_point(stack: Stack, pipeline: Pipeline, tmp_path: Path) -> None:
    env = plugin_env(stack, f"{pipeline.settings.topic_prefix}lms", db=tmp_path / "lms.sqlite3")
    out = run_plugin(["-m", "tests.lms_session", str(LEARNER)], env, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-6000:]

    expected = {"block_id": block(COURSE, "problem", "p1"), "section_id": block(COURSE, "sequential", "s1"),
                "unit_id": block(COURSE, "vertical", "u1")}
    deadline, body = time.monotonic() + 60, None
    while time.monotonic() < deadline:
        response = pipeline.get(f"/api/courseware/resume/{COURSE}", user=LEARNER)
        assert response.status_code == 200, response.text
        body = response.json()
        if body == expected:
            break
        time.sleep(0.2)
    assert body == expected

    sequence = pipeline.get(f"/api/courseware/sequence/{block(COURSE, 'sequential', 's1')}", user=LEARNER).json()
    assert [item["complete"] for item in sequence["items"]] == [False, False]  # u1 also has an html block
