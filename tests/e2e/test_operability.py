"""Operability through HTTP on a real pipeline: liveness, readiness (caught up, behind, Redis
unreachable), the API's and the projector's Prometheus metrics, the status page and its JSON,
request ids echoed and present in the JSON logs."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from readmodels import keys
from readmodels.redis_client import make_redis
from tests.builders import COURSE, course_published, enrollment, grade_changed
from tests.pipeline import Pipeline
from tools.procs import free_port
from tools.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

MAX_LAG = 3
ENROLLMENTS = "learning-course-enrollment-lifecycle"


def history() -> list[Any]:
    return [
        course_published(),
        *(enrollment("created", uid) for uid in range(1, 7)),
        *(grade_changed(uid, 0.5) for uid in range(1, 3)),
    ]


async def produce_poison(p: Pipeline) -> None:
    """One undecodable message, counted in p.offsets so wait_applied covers it."""
    producer = AIOKafkaProducer(bootstrap_servers=p.settings.kafka_bootstrap)
    await producer.start()
    try:
        topic = p.settings.topic(ENROLLMENTS)
        meta = await producer.send_and_wait(topic, b"{not json", key=b"poison", partition=0)
    finally:
        await producer.stop()
    p.offsets[(topic, 0)] = max(p.offsets.get((topic, 0), 0), meta.offset + 1)


def eventually(check: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def pipeline(stack: Stack) -> Iterator[Pipeline]:
    p = Pipeline.create(stack, ready_max_lag=MAX_LAG, projector_metrics_port=free_port()).start()
    asyncio.run(produce_poison(p))
    p.produce(history())
    p.wait_applied()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def dead_redis_api(stack: Stack, pipeline: Pipeline) -> Iterator[tuple[str, Path]]:
    """A second API whose Redis is a port nobody listens on (debug logs: one access line per request)."""
    settings = pipeline.settings.model_copy(
        update={"redis_url": f"redis://127.0.0.1:{free_port()}/0", "log_level": "DEBUG"}
    )
    log = stack.workdir / f"api-dead-redis-{uuid.uuid4().hex[:6]}.log"
    proc, url = stack.start_api(settings, log=log)
    yield url, log
    stack.stop_child(proc)


def ready(p: Pipeline) -> httpx.Response | None:
    r = p.get("/readyz")
    return r if r.status_code == 200 else None


def json_lines(log: Path) -> list[dict[str, Any]]:
    out = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            out.append(orjson.loads(line))
    return out


def test_healthz_answers_ok_without_checking_anything(pipeline: Pipeline, dead_redis_api: tuple[str, Path]) -> None:
    assert pipeline.get("/healthz").json() == {"status": "ok"}
    r = httpx.get(dead_redis_api[0] + "/healthz", timeout=10)
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_readyz_is_ready_once_the_projector_caught_up(pipeline: Pipeline) -> None:
    r = eventually(lambda: ready(pipeline), what="/readyz 200")
    assert r.json() == {"status": "ready", "lag": 0, "max_lag": MAX_LAG, "generation": 1}


async def _set_serving(p: Pipeline, generation: int) -> None:
    redis = make_redis(p.settings.redis_url)
    try:
        await redis.set(keys.serving(p.settings.redis_namespace), generation)
    finally:
        await redis.aclose()


def test_readyz_answers_503_when_the_serving_generation_is_behind(pipeline: Pipeline) -> None:
    produced = sum(pipeline.offsets.values())

    def reported_every_end() -> bool:
        ends = sum(p["end"] for p in pipeline.get("/status.json").json()["partitions"])
        return ends == produced and ready(pipeline) is not None

    eventually(reported_every_end, what="a report of every end offset")
    asyncio.run(_set_serving(pipeline, 99))  # a generation that applied nothing yet
    try:
        r = pipeline.get("/readyz")
    finally:
        asyncio.run(_set_serving(pipeline, 1))
    body = r.json()
    assert r.status_code == 503 and body["status"] == "unavailable"
    assert body["reason"] == f"projector lag {produced} is over LP_READY_MAX_LAG={MAX_LAG}"
    assert body["lag"] == produced and body["generation"] == 99 and sum(body["partitions"].values()) == produced
    assert ready(pipeline) is not None


def test_readyz_answers_503_when_redis_is_unreachable(dead_redis_api: tuple[str, Path]) -> None:
    url, _ = dead_redis_api
    r = httpx.get(url + "/readyz", timeout=10)
    assert r.status_code == 503
    assert r.json()["status"] == "unavailable" and r.json()["reason"].startswith("Redis unreachable")


def test_request_id_is_echoed_and_in_every_log_line_of_the_request(dead_redis_api: tuple[str, Path]) -> None:
    url, log = dead_redis_api
    rid = "ops-test-" + uuid.uuid4().hex[:8]
    r = httpx.get(f"{url}/api/courseware/course/{COURSE}", headers={"X-Request-ID": rid}, timeout=10)
    assert r.status_code == 503 and r.headers["x-request-id"] == rid and r.json()["request_id"] == rid

    def logged() -> list[dict[str, Any]]:
        lines = [e for e in json_lines(log) if e.get("request_id") == rid]
        return lines if {e["logger"] for e in lines} >= {"api.platform", "api.access"} else []

    lines = eventually(logged, timeout=10, what="the request's log lines")
    assert all(e["service"] == "api" for e in lines)
    access = next(e for e in lines if e["logger"] == "api.access")
    assert access["status"] == 503 and access["route"] == "/api/courseware/course/{course_key}"
    generated = httpx.get(url + "/healthz", timeout=10).headers["x-request-id"]
    assert len(generated) == 32 and generated != rid


def test_metrics_count_api_requests_by_route_template_and_status(pipeline: Pipeline) -> None:
    for _ in range(3):
        pipeline.get(f"/api/courseware/course/{COURSE}", user=1)
    pipeline.get("/api/courseware/course/course-v1:edX+Nope+2020", user=1)
    text = pipeline.get("/metrics").text
    route = 'route="/api/courseware/course/{course_key}"'
    assert f'lp_api_request_duration_seconds_count{{method="GET",{route},status="200"}} 3.0' in text
    assert f'lp_api_request_duration_seconds_count{{method="GET",{route},status="404"}} 1.0' in text
    assert 'lp_api_request_duration_seconds_bucket{le="0.1",method="GET",' in text
    assert "lp_api_requests_in_flight 1.0" in text
    assert "# TYPE lp_api_redis_errors_total counter" in text


def test_projector_serves_metrics_of_events_dead_letters_lag_and_batches(pipeline: Pipeline) -> None:
    url = f"http://127.0.0.1:{pipeline.settings.projector_metrics_port}/metrics"
    text = httpx.get(url, timeout=10).text
    assert 'lp_projector_events_total{type="org.openedx.learning.course.enrollment.created.v1"} 6.0' in text
    assert f'lp_projector_dead_letters_total{{topic="{pipeline.settings.topic(ENROLLMENTS)}"}} 1.0' in text
    assert "lp_projector_batch_size_count" in text and "lp_projector_batch_apply_seconds_bucket" in text

    def lag_gauges() -> list[str]:
        lines = httpx.get(url, timeout=10).text.splitlines()
        return [line for line in lines if line.startswith("lp_projector_lag{")]

    def caught_up() -> bool:
        gauges = lag_gauges()  # one per partition, all 0 once the next report after the last batch ran
        return len(gauges) == 2 * 7 and all(line.endswith(" 0.0") for line in gauges)

    eventually(caught_up, what="a lag gauge of 0 per partition")


def test_projector_logs_are_json_lines(pipeline: Pipeline) -> None:
    log = pipeline.stack.workdir / f"projector-{pipeline.settings.consumer_group}.log"
    entries = json_lines(log)
    assert any(e["logger"] == "projectors.app" and e["msg"].startswith("projecting into generation") for e in entries)
    assert all(e["service"] == "projector" and {"ts", "level", "msg"} <= set(e) for e in entries)
    assert any("dead-lettered" in e["msg"] for e in entries)


def test_status_json_shows_lag_rates_and_dead_letters(pipeline: Pipeline) -> None:
    def two_samples() -> dict[str, Any] | None:
        body = pipeline.get("/status.json").json()
        caught_up = body["lag"] == 0 and all(p["lag"] == 0 for p in body["partitions"])
        return body if len(body["samples"]) >= 2 and caught_up else None

    body = eventually(two_samples, what="two status samples")
    assert body["ready_max_lag"] == MAX_LAG and body["serving_generation"] == 1 and body["interval_s"] > 0
    assert len(body["partitions"]) == 2 * 7
    assert body["events_by_type"]["org.openedx.learning.course.enrollment.created.v1"] == 6
    assert body["dead_letters_by_topic"] == {pipeline.settings.topic(ENROLLMENTS): 1}
    newest = body["samples"][-1]
    assert set(newest) == {
        "at",
        "worker",
        "lag",
        "lag_total",
        "events_per_s",
        "dead_letters_per_s",
        "events_total",
        "dead_letters_total",
    }
    # The courseware reads of an earlier test emitted visit events: at least the history was projected.
    assert newest["events_total"] >= len(history()) and newest["dead_letters_total"] == 1
    assert newest["events_per_s"] is not None and newest["events_per_s"] >= 0
    assert [w["worker"] for w in body["workers"]] == [newest["worker"]]


def test_status_page_is_self_contained_html_polling_status_json(pipeline: Pipeline) -> None:
    r = pipeline.get("/status")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "status.json" in r.text and "<svg" in r.text
    assert 'src="http' not in r.text and 'href="http' not in r.text and "@import" not in r.text
