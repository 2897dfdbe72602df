"""The API through real outages of its own services: with Redis stopped every read answers 503 with
a request id, and answers again by itself once Redis is back (same client, no restart); with the
Kafka broker stopped course reads still answer 200 and the celebration POST answers 503, and the
POST succeeds again once the broker is back. The projector rides out both."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.builders import COURSE, course_published, enrollment, preference
from tests.fault.faults import start_projector
from tests.pipeline import Pipeline
from tools.stack import Stack

pytestmark = [pytest.mark.fault, pytest.mark.integration]

LEARNER = 42
COURSE_URL = f"/api/courseware/course/{COURSE}"
RESUME_URL = f"/api/courseware/resume/{COURSE}"
PROGRAMS_URL = "/api/dashboard/v1/programs/"
CELEBRATION_URL = f"/api/courseware/celebration/{COURSE}"


@pytest.fixture(scope="module")
def pipeline(fault_stack: Stack) -> Iterator[Pipeline]:
    p = Pipeline.create(fault_stack)
    start_projector(p)
    p.api, p.api_url = fault_stack.start_api(p.settings)
    p.produce([course_published(), enrollment("created", LEARNER), enrollment("created", 43)])
    p.wait_applied()
    yield p
    p.stop()


def _auth(p: Pipeline, uid: int = LEARNER) -> dict[str, str]:
    return {"Authorization": f"JWT {p.token(uid)}"}


def _get(p: Pipeline, path: str) -> httpx.Response:
    return httpx.get(p.api_url + path, headers=_auth(p), timeout=30)


def _until(answer: Callable[[], httpx.Response], status: int, timeout: float = 60.0) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    while True:
        r = answer()
        if r.status_code == status or time.monotonic() - started > timeout:
            return r, time.monotonic() - started
        time.sleep(0.2)


def test_api_with_redis_down_answers_503_with_request_id_and_recovers_by_itself(
    pipeline: Pipeline, fault_stack: Stack
) -> None:
    assert _get(pipeline, COURSE_URL).status_code == 200
    fault_stack.redis.stop()
    try:
        print("\ninjected: Redis stopped")
        for path, key in (
            (COURSE_URL, "developer_message"),
            (RESUME_URL, "developer_message"),
            (PROGRAMS_URL, "detail"),
        ):
            r = _get(pipeline, path)
            print(f"  GET {path} -> {r.status_code} {r.text}")
            assert r.status_code == 503, r.text
            body = r.json()
            assert set(body) == {key, "request_id"} and body["request_id"]
            assert r.headers["x-request-id"] == body["request_id"]
        assert pipeline.api is not None and pipeline.api.poll() is None
    finally:
        fault_stack.redis.restart()
    print("injected: Redis started again (same port, same append-only file)")
    r, waited = _until(lambda: _get(pipeline, COURSE_URL), 200)
    print(f"  GET {COURSE_URL} -> {r.status_code} after {waited:.1f}s, same API process")
    assert r.status_code == 200 and r.json()["enrollment"]["is_active"] is True
    assert _get(pipeline, PROGRAMS_URL).status_code == 200
    pipeline.produce([preference(LEARNER, "time_zone", "Europe/Paris")])  # the projector carries on too
    pipeline.wait_applied()
    assert _get(pipeline, COURSE_URL + "?requested_fields=user_timezone").json() == {"user_timezone": "Europe/Paris"}


def test_api_with_kafka_down_still_reads_and_answers_503_to_celebration_post(
    pipeline: Pipeline, fault_stack: Stack
) -> None:
    def celebrate() -> httpx.Response:
        return httpx.post(
            pipeline.api_url + CELEBRATION_URL, json={"first_section": False}, headers=_auth(pipeline), timeout=60
        )

    assert celebrate().status_code == 202
    fault_stack.kafka.stop()
    try:
        print("\ninjected: Kafka broker stopped")
        r = _get(pipeline, COURSE_URL)
        print(f"  GET {COURSE_URL} -> {r.status_code}")
        assert r.status_code == 200 and r.json()["enrollment"]["is_active"] is True
        r = celebrate()
        print(f"  POST {CELEBRATION_URL} -> {r.status_code} {r.text}")
        assert r.status_code == 503 and "developer_message" in r.json()
    finally:
        fault_stack.kafka.restart()
    print("injected: Kafka broker started again (same ports, same data)")
    r, waited = _until(celebrate, 202, timeout=120)
    print(f"  POST {CELEBRATION_URL} -> {r.status_code} after {waited:.1f}s, same API process")
    assert r.status_code == 202
    pipeline.wait_applied(timeout=120)  # the projector is still there and applies the acknowledgement
    assert pipeline.projector is not None and pipeline.projector.poll() is None
