"""Observability without services: the JSON log formatter, the metrics each side registers, the
status arithmetic (lag, rates), and the API's request ids and metrics in process (Redis at a dead
port, so the outage paths are real)."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import orjson
import pytest
from prometheus_client import generate_latest

from api.app import create_app
from api.metrics import ApiMetrics
from events import decode, encode
from projectors.metrics import ProjectorMetrics, ProjectorMonitor
from projectors.pipeline import BatchResult, DeadLetter, Projected, RawMessage
from readmodels.logs import REQUEST_ID, JsonFormatter, configure_logging, logging_config
from readmodels.settings import load_settings
from readmodels.status import Offsets, lag_of, summarize
from tests.builders import enrollment

TOPIC = "learning-course-enrollment-lifecycle"


def record(msg: str, *args: Any, level: int = logging.INFO, **extra: Any) -> logging.LogRecord:
    r = logging.LogRecord("lp.test", level, __file__, 1, msg, args, None)
    for k, v in extra.items():
        setattr(r, k, v)
    return r


def test_format_log_record_is_one_json_line_with_level_logger_and_message() -> None:
    line = JsonFormatter("api").format(record("applied %d ops\nsecond line", 3))
    entry = orjson.loads(line)
    assert "\n" not in line
    assert entry["level"] == "INFO" and entry["logger"] == "lp.test" and entry["service"] == "api"
    assert entry["msg"] == "applied 3 ops\nsecond line"
    assert entry["ts"].endswith("Z") and "T" in entry["ts"]
    assert "request_id" not in entry


def test_format_log_record_carries_the_current_request_id_and_extra_fields() -> None:
    token = REQUEST_ID.set("req-123")
    try:
        entry = orjson.loads(JsonFormatter().format(record("x", route="/healthz", status=200, obj=object())))
    finally:
        REQUEST_ID.reset(token)
    assert entry["request_id"] == "req-123"
    assert entry["route"] == "/healthz" and entry["status"] == 200
    assert entry["obj"].startswith("<object object")  # not JSON: its repr, never an exception


def test_format_log_record_includes_the_traceback_of_an_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        r = logging.LogRecord("lp.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = orjson.loads(JsonFormatter().format(r))
    assert entry["level"] == "ERROR" and "ValueError: boom" in entry["exc"]


@contextmanager
def bare_root() -> Iterator[logging.Logger]:
    """The root logger without handlers (pytest adds its own per test phase), restored after."""
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    root.handlers.clear()
    try:
        yield root
    finally:
        root.handlers[:] = saved
        root.setLevel(level)


def test_configure_logging_installs_one_json_handler_once() -> None:
    with bare_root() as root:
        assert configure_logging("warning", "api")
        assert not configure_logging("info", "api")  # already configured: like logging.basicConfig
        assert len(root.handlers) == 1 and isinstance(root.handlers[0].formatter, JsonFormatter)
        assert root.level == logging.WARNING


def test_configure_logging_leaves_a_configured_root_alone() -> None:
    # pytest's capture handlers are on the root logger here.
    assert logging.getLogger().handlers and not configure_logging("INFO", "api")


def test_logging_config_for_the_projector_names_the_json_formatter() -> None:
    config = logging_config("info", "projector")
    assert config["root"] == {"level": "INFO", "handlers": ["stderr"]}
    assert config["formatters"]["json"]["()"] is JsonFormatter and not config["disable_existing_loggers"]


def batch_result() -> tuple[list[RawMessage], BatchResult]:
    headers, value = encode(enrollment("created", 42))
    good = RawMessage(TOPIC, 0, 5, b"k", value, tuple(headers))
    bad = RawMessage(TOPIC, 1, 9, b"k", b"{not json", tuple(headers))
    event = decode(good.headers, good.value)
    return [good, bad], BatchResult([Projected(good, event, 0, 1)], [], [], [DeadLetter(bad, "bad json")])


def test_projector_monitor_counts_events_by_type_dead_letters_and_batches() -> None:
    monitor = ProjectorMonitor(worker="w1")
    batch, result = batch_result()
    monitor.observe(len(batch), result, 0.004)
    monitor.set_lag({f"{TOPIC}:0": 0, f"{TOPIC}:1": 7})
    text = generate_latest(monitor.metrics.registry).decode()
    assert 'lp_projector_events_total{type="org.openedx.learning.course.enrollment.created.v1"} 1.0' in text
    assert f'lp_projector_dead_letters_total{{topic="{TOPIC}"}} 1.0' in text
    assert "lp_projector_batch_size_count 1.0" in text and "lp_projector_batch_size_sum 2.0" in text
    assert "lp_projector_batch_apply_seconds_count 1.0" in text
    assert f'lp_projector_lag{{partition="1",topic="{TOPIC}"}} 7.0' in text
    assert "lp_projector_status_report_errors_total 0.0" in text

    monitor.set_lag({f"{TOPIC}:1": 3})  # partition 0 was revoked: its gauge goes away
    text = generate_latest(monitor.metrics.registry).decode()
    assert f'lp_projector_lag{{partition="0",topic="{TOPIC}"}}' not in text
    sample = monitor.sample(2, {f"{TOPIC}:1": {"end": 10, "next": 7, "lag": 3}})
    assert sample["worker"] == "w1" and sample["generation"] == 2
    assert (sample["events"], sample["dead_letters"], sample["batches"]) == (1, 1, 1)
    assert sample["dead_letters_by_topic"] == {TOPIC: 1}


def test_metrics_register_in_their_own_registry_so_two_apps_never_collide() -> None:
    a, b = ProjectorMetrics(), ProjectorMetrics()
    assert a.registry is not b.registry
    c, d = ApiMetrics(), ApiMetrics()
    names = {m.name for m in c.registry.collect()}
    assert names == {
        "lp_api_request_duration_seconds",
        "lp_api_requests_in_flight",
        "lp_api_redis_errors",
        "lp_api_fast_path_answers",
    }
    assert d.registry is not c.registry


def test_lag_counts_from_the_checkpoint_or_the_log_start_and_never_below_zero() -> None:
    ends = {"t:0": Offsets(0, 100), "t:1": Offsets(40, 50), "t:2": Offsets(0, 5)}
    assert lag_of(ends, {"t:0": 90, "t:2": 7}) == {"t:0": 10, "t:1": 10, "t:2": 0}


def sample(at: float, events: int, dead: int, worker: str = "w1", lag: int = 0) -> dict[str, Any]:
    return {
        "at": at,
        "worker": worker,
        "generation": 1,
        "events": events,
        "dead_letters": dead,
        "events_by_type": {"a": events},
        "dead_letters_by_topic": {"t": dead} if dead else {},
        "partitions": {"t:0": {"end": 100, "next": 100 - lag, "lag": lag}},
    }


def test_summarize_samples_gives_rates_per_worker_and_the_newest_figures() -> None:
    out = summarize([sample(0, 0, 0), sample(2, 100, 1, lag=4), sample(2.5, 10, 0, worker="w2"), sample(4, 300, 1)])
    rates = [(s["worker"], s["events_per_s"], s["dead_letters_per_s"]) for s in out["samples"]]
    assert rates == [("w1", None, None), ("w1", 50.0, 0.5), ("w2", None, None), ("w1", 100.0, 0.0)]
    assert out["samples"][1]["lag"] == {"t:0": 4} and out["samples"][1]["lag_total"] == 4
    assert out["events_by_type"] == {"a": 310}  # newest of each worker, added
    assert out["dead_letters_by_topic"] == {"t": 1}
    assert [w["worker"] for w in out["workers"]] == ["w1", "w2"]
    assert out["partitions"] == [{"partition": "t:0", "end": 100, "next": 100, "lag": 0}]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(load_settings(redis_url="redis://127.0.0.1:1/0", kafka_bootstrap="127.0.0.1:1"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


async def test_request_id_from_the_client_is_echoed_and_a_bad_one_replaced(client: httpx.AsyncClient) -> None:
    ok = await client.get("/healthz", headers={"X-Request-ID": "abc-123.x"})
    assert ok.status_code == 200 and ok.json() == {"status": "ok"}
    assert ok.headers["x-request-id"] == "abc-123.x"
    bad = await client.get("/healthz", headers={"X-Request-ID": "no spaces\tor tabs"})
    assert len(bad.headers["x-request-id"]) == 32 and bad.headers["x-request-id"] != "no spaces\tor tabs"


async def test_metrics_count_requests_by_route_template_and_redis_errors(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    await client.head("/healthz")
    missing = await client.get("/no/such/route")
    down = await client.get("/api/courseware/course/course-v1:edX+DemoX+Demo_Course", headers={"X-Request-ID": "r1"})
    assert missing.status_code == 404
    assert down.status_code == 503 and down.json()["request_id"] == "r1"
    text = (await client.get("/metrics")).text
    assert 'lp_api_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 1.0' in text
    assert 'lp_api_request_duration_seconds_count{method="HEAD",route="/healthz",status="200"} 1.0' in text
    assert 'lp_api_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 1.0' in text
    assert 'route="/api/courseware/course/{course_key}",status="503"} 1.0' in text
    assert 'lp_api_redis_errors_total{source="request"} 1.0' in text
    assert "lp_api_requests_in_flight 1.0" in text  # the /metrics request itself


async def test_readyz_without_redis_answers_503_naming_redis(client: httpx.AsyncClient) -> None:
    r = await client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["status"] == "unavailable" and r.json()["reason"].startswith("Redis unreachable")
    assert 'lp_api_redis_errors_total{source="readyz"} 1.0' in (await client.get("/metrics")).text


async def test_ops_routes_stay_out_of_the_openapi_schema(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not {"/healthz", "/readyz", "/metrics", "/status", "/status.json"} & set(paths)
