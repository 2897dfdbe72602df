"""POST /api/courseware/celebration/{course_key}, and the HTTP platform every route shares (auth,
CORS, ETag/304, HEAD/OPTIONS/405, 413, 503 when Redis or Kafka is down), through the real projector,
Kafka, Redis and HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import jwt
import pytest

from readmodels.tokens import Position, decode_token, encode_token
from tests.builders import COURSE, access_role, course_published, enrollment, preference
from tests.pipeline import Pipeline
from tools.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

ADMIN = 1
COURSE_URL = f"/api/courseware/course/{COURSE}"
CELEBRATION_URL = f"/api/courseware/celebration/{COURSE}"
ORIGIN = "http://localhost:2000"


@pytest.fixture(scope="module")
def pipeline(stack: Stack) -> Iterator[Pipeline]:
    p = Pipeline.create(stack).start()
    p.produce(
        [
            course_published(),
            enrollment("created", 42),
            enrollment("created", 43),
            enrollment("created", 44),
            enrollment("created", 45),
            access_role("added", 900),
        ]
    )
    p.wait_applied()
    yield p
    p.stop()


def _auth(p: Pipeline, uid: int, *, admin: bool = False) -> dict[str, str]:
    return {"Authorization": f"JWT {p.token(uid, administrator=admin)}"}


def post(
    p: Pipeline,
    body: Any = None,
    *,
    user: int | None = None,
    url: str = CELEBRATION_URL,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
) -> httpx.Response:
    h = {**(_auth(p, user) if user is not None else {}), **(headers or {})}
    if content is None:
        return httpx.post(p.api_url + url, json=body, headers=h, timeout=15)
    return httpx.post(p.api_url + url, content=content, headers={**h, "Content-Type": "application/json"}, timeout=15)


def _celebrations(p: Pipeline, uid: int) -> dict[str, Any]:
    r = p.get(COURSE_URL + "?requested_fields=celebrations", user=uid)
    assert r.status_code == 200, r.text
    return r.json()["celebrations"]  # type: ignore[no-any-return]


# Celebration ------------------------------------------------------------------------------------


def test_post_celebration_acknowledges_and_returns_a_kafka_position_token(pipeline: Pipeline) -> None:
    assert _celebrations(pipeline, 42)["first_section"] is True
    r = post(pipeline, {"first_section": False}, user=42)
    assert r.status_code == 202, r.text
    position = decode_token(r.headers["X-Read-Model-Token"])
    assert position.topic == pipeline.settings.topic("learning-learner-activity") and position.offset >= 0
    pipeline.offsets[(position.topic, position.partition)] = max(
        pipeline.offsets.get((position.topic, position.partition), 0), position.offset + 1
    )
    pipeline.wait_applied()
    assert _celebrations(pipeline, 42)["first_section"] is False


def test_post_celebration_true_rearms(pipeline: Pipeline) -> None:
    r = post(pipeline, {"first_section": True}, user=42)
    assert r.status_code == 202
    deadline = time.monotonic() + 20
    while not _celebrations(pipeline, 42)["first_section"]:
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_read_with_min_token_sees_its_own_write(pipeline: Pipeline) -> None:
    r = post(pipeline, {"first_section": False}, user=43)
    assert r.status_code == 202
    token = r.headers["X-Read-Model-Token"]
    read = pipeline.get(
        COURSE_URL + "?requested_fields=celebrations", user=43, headers={"X-Read-Model-Min-Token": token}
    )
    assert read.headers["X-Read-Model-Fresh"] == "true"
    assert read.json()["celebrations"]["first_section"] is False


def test_read_with_unreachable_min_token_answers_not_fresh(pipeline: Pipeline) -> None:
    far = encode_token(Position(pipeline.settings.topic("learning-learner-activity"), 0, 10**9))
    for token in (far, "not-a-token"):
        r = pipeline.get(COURSE_URL, headers={"X-Read-Model-Min-Token": token})
        assert r.status_code == 200 and r.headers["X-Read-Model-Fresh"] == "false"


def test_post_celebration_empty_object_is_200(pipeline: Pipeline) -> None:
    r = post(pipeline, {}, user=43)
    assert r.status_code == 200 and "X-Read-Model-Token" not in r.headers


@pytest.mark.parametrize(
    "content",
    [b"[]", b'"x"', b'{"streak": false}', b'{"first_section": "no"}', b'{"first_section": 0}', b"not json", b""],
)
def test_post_celebration_invalid_body_is_400(pipeline: Pipeline, content: bytes) -> None:
    r = post(pipeline, user=42, content=content)
    assert r.status_code == 400 and "developer_message" in r.json()


@pytest.mark.parametrize("url", [CELEBRATION_URL, "/api/courseware/celebration/course-v1:edX+Nope+X"])
def test_post_celebration_never_enrolled_or_unknown_course_is_404(pipeline: Pipeline, url: str) -> None:
    r = post(pipeline, {"first_section": False}, user=47 if url == CELEBRATION_URL else 42, url=url)
    assert r.status_code == 404 and "developer_message" in r.json()


def test_post_celebration_anonymous_is_401(pipeline: Pipeline) -> None:
    assert post(pipeline, {"first_section": False}).status_code == 401


def test_post_celebration_bad_course_key_is_400(pipeline: Pipeline) -> None:
    r = post(pipeline, {"first_section": False}, user=42, url="/api/courseware/celebration/nope")
    assert r.status_code == 400


def test_post_celebration_staff_masquerading_is_202_and_writes_nothing(pipeline: Pipeline) -> None:
    for headers in (_auth(pipeline, ADMIN, admin=True), _auth(pipeline, 900)):
        r = post(pipeline, {"first_section": False}, url=CELEBRATION_URL + "?username=learner44", headers=headers)
        assert r.status_code == 202 and "X-Read-Model-Token" not in r.headers
    time.sleep(0.5)
    pipeline.produce([preference(44, "time_zone", "UTC")])  # same partition as any write for 44
    pipeline.wait_applied()
    assert _celebrations(pipeline, 44)["first_section"] is True


def test_post_celebration_masquerade_without_right_is_403(pipeline: Pipeline) -> None:
    r = post(pipeline, {"first_section": False}, user=43, url=CELEBRATION_URL + "?username=learner44")
    assert r.status_code == 403


def test_post_celebration_body_over_limit_is_413(pipeline: Pipeline) -> None:
    big = b'{"first_section": false, "x": "' + b"a" * 70_000 + b'"}'
    assert post(pipeline, user=42, content=big).status_code == 413


# Auth -------------------------------------------------------------------------------------------


def test_auth_bearer_header_and_cookie_pair_are_accepted(pipeline: Pipeline) -> None:
    token = pipeline.token(42)
    url = f"/api/courseware/resume/{COURSE}"
    assert pipeline.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    head, payload, sig = token.split(".")
    cookies = {"edx-jwt-cookie-header-payload": f"{head}.{payload}", "edx-jwt-cookie-signature": sig}
    r = httpx.get(pipeline.api_url + url, cookies=cookies, headers={"USE-JWT-COOKIE": "true"}, timeout=10)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("claims", [{"exp": 1}, {"iss": "https://evil"}, {"aud": "other"}])
def test_auth_expired_or_foreign_token_is_401(pipeline: Pipeline, claims: dict[str, Any]) -> None:
    s = pipeline.settings
    base = {
        "user_id": 42,
        "preferred_username": "learner42",
        "iss": s.jwt_issuer,
        "aud": s.jwt_audience,
        "exp": int(time.time()) + 600,
    }
    token = jwt.encode({**base, **claims}, s.jwt_secret, algorithm="HS256")
    r = pipeline.get(COURSE_URL, headers={"Authorization": f"JWT {token}"})
    assert r.status_code == 401 and "developer_message" in r.json()


def test_auth_wrong_secret_is_401(pipeline: Pipeline) -> None:
    s = pipeline.settings
    token = jwt.encode(
        {"user_id": 42, "iss": s.jwt_issuer, "aud": s.jwt_audience, "exp": int(time.time()) + 60},
        "another-secret-of-enough-length-for-hs256",
        algorithm="HS256",
    )
    assert pipeline.get(COURSE_URL, headers={"Authorization": f"Bearer {token}"}).status_code == 401


# Common headers ---------------------------------------------------------------------------------


def test_get_json_has_etag_cache_control_date_and_304_on_match(pipeline: Pipeline) -> None:
    r = pipeline.get(COURSE_URL)
    assert r.headers["content-type"] == "application/json"
    assert r.headers["cache-control"] == "private, no-cache"
    assert r.headers["date"] and r.headers["etag"].startswith('"')
    again = pipeline.get(COURSE_URL, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == r.headers["etag"]
    assert pipeline.get(COURSE_URL, headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        COURSE_URL,
        "/api/courseware/course/course-v1:edX+Nope+X",
        "/api/courseware/course/x",
        f"/api/courseware/resume/{COURSE}",
    ],
)
@pytest.mark.parametrize("origin", [None, ORIGIN])
def test_every_response_exposes_date_with_or_without_origin(pipeline: Pipeline, path: str, origin: str | None) -> None:
    r = pipeline.get(path, headers={"Origin": origin} if origin else {})
    exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
    assert {"date", "etag", "x-read-model-token"} <= exposed
    if origin:
        assert r.headers["access-control-allow-origin"] == ORIGIN
        assert r.headers["access-control-allow-credentials"] == "true"


def test_cors_preflight_allows_the_headers_the_mfes_send(pipeline: Pipeline) -> None:
    r = httpx.options(
        pipeline.api_url + CELEBRATION_URL,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "use-jwt-cookie, x-csrftoken, content-type, authorization, "
            "if-none-match, prefer, x-read-model-min-token",
        },
        timeout=10,
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert r.headers["access-control-allow-credentials"] == "true"
    allowed = {h.strip().lower() for h in r.headers["access-control-allow-headers"].split(",")}
    assert {"use-jwt-cookie", "x-csrftoken", "content-type", "x-read-model-min-token"} <= allowed


def test_head_and_options_are_answered_and_other_methods_are_405(pipeline: Pipeline) -> None:
    head = httpx.head(pipeline.api_url + COURSE_URL, timeout=10)
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"]
    opts = httpx.options(pipeline.api_url + COURSE_URL, timeout=10)
    assert opts.status_code == 200 and "GET" in opts.headers["allow"]
    for method in ("PUT", "DELETE", "PATCH"):
        r = httpx.request(method, pipeline.api_url + COURSE_URL, timeout=10)
        assert r.status_code == 405 and "developer_message" in r.json()
    assert httpx.get(pipeline.api_url + CELEBRATION_URL, timeout=10).status_code == 405


def test_openapi_has_a_response_model_for_every_courseware_route(pipeline: Pipeline) -> None:
    paths = pipeline.get("/openapi.json").json()["paths"]
    for path, method in [
        ("/api/courseware/course/{course_key}", "get"),
        ("/api/courseware/resume/{course_key}", "get"),
        ("/api/courseware/celebration/{course_key}", "post"),
        ("/api/courseware/sequence/{usage_key}", "get"),
    ]:
        responses = paths[path][method]["responses"]
        ok = responses.get("200") or responses["202"]
        assert "$ref" in ok["content"]["application/json"]["schema"], path


# Outages ----------------------------------------------------------------------------------------


def test_redis_unreachable_is_503_with_request_id(pipeline: Pipeline, stack: Stack) -> None:
    settings = pipeline.settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    proc, url = stack.start_api(settings)
    try:
        for path in (COURSE_URL, "/api/courseware/sequence/block-v1:edX+DemoX+Demo_Course+type@sequential+block@s1"):
            r = httpx.get(url + path, timeout=30)
            assert r.status_code == 503, r.text
            assert r.json()["request_id"] and "developer_message" in r.json()
            assert "date" in r.headers["access-control-expose-headers"].lower()
    finally:
        stack.stop_child(proc)


def test_kafka_unavailable_never_fails_reads_and_fails_celebration_with_503(pipeline: Pipeline, stack: Stack) -> None:
    settings = pipeline.settings.model_copy(update={"kafka_bootstrap": "127.0.0.1:1"})
    proc, url = stack.start_api(settings)  # startup does not wait for Kafka
    try:
        headers = _auth(pipeline, 42)
        r = httpx.get(url + COURSE_URL, headers=headers, timeout=30)
        assert r.status_code == 200 and r.json()["enrollment"]["is_active"] is True
        r = httpx.post(url + CELEBRATION_URL, json={"weekly_goal": False}, headers=headers, timeout=30)
        assert r.status_code == 503 and "developer_message" in r.json()
    finally:
        stack.stop_child(proc)


# Long polling -----------------------------------------------------------------------------------


def test_long_poll_answers_when_the_body_changes(pipeline: Pipeline) -> None:
    url = COURSE_URL + "?requested_fields=user_timezone"
    first = pipeline.get(url, user=45)
    assert first.status_code == 200 and first.json() == {"user_timezone": None}
    headers = {"If-None-Match": first.headers["etag"], "Prefer": "wait=25"}
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(pipeline.get, url, user=45, headers=headers)
        time.sleep(0.5)
        # 45's own visit (emitted by the first read) changes the model but not this body: still held.
        pipeline.produce([preference(45, "time_zone", "Europe/Paris")])
        r = held.result(timeout=40)
    assert r.status_code == 200 and r.json() == {"user_timezone": "Europe/Paris"}
    assert r.headers["etag"] != first.headers["etag"]


def test_long_poll_without_change_ends_with_304(pipeline: Pipeline) -> None:
    first = pipeline.get(COURSE_URL)
    r = pipeline.get(COURSE_URL, headers={"If-None-Match": first.headers["etag"], "Prefer": "wait=1"})
    assert r.status_code == 304 and r.content == b""
