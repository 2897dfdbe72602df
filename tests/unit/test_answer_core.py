"""The answer core (api/answer.py) both ways into the API finish with, and the fast path's use of
Starlette's CORS hook (api/fastpath.CorsHeaders)."""

from __future__ import annotations

import asyncio

import orjson
from redis.exceptions import ConnectionError as RedisConnectionError
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message

from api.answer import EXPOSE, RequestFacts, etag_of, failed, json_answer, plain_answer
from api.fastpath import CorsHeaders
from api.platform import cors_options
from readmodels.settings import load_settings

BODY = orjson.dumps({"block_id": None})


def test_json_answer_has_etag_cache_control_length_request_id_and_exposed_headers_in_order() -> None:
    answer = json_answer(RequestFacts("GET", "/api/courseware/resume/x", "rid"), 200, BODY)
    assert answer.status == 200 and answer.body == BODY
    assert answer.headers == [
        (b"content-type", b"application/json"), (b"cache-control", b"private, no-cache"),
        (b"etag", etag_of(BODY).encode()), (b"content-length", str(len(BODY)).encode()), (b"x-request-id", b"rid"),
        EXPOSE,
    ]


def test_json_answer_is_304_without_body_when_if_none_match_names_its_etag() -> None:
    answer = json_answer(RequestFacts("GET", "/p", "rid", f'"x", W/{etag_of(BODY)}'), 200, BODY)
    assert (answer.status, answer.body) == (304, b"")
    assert [k for k, _ in answer.headers] == [b"cache-control", b"etag", b"x-request-id", EXPOSE[0]]
    not_2xx = json_answer(RequestFacts("GET", "/p", "rid", etag_of(BODY)), 404, BODY)
    assert not_2xx.status == 404


def test_head_answers_carry_the_get_headers_without_the_body() -> None:
    get = plain_answer(RequestFacts("GET", "/p", "rid"), 200, b"abc", [(b"content-type", b"text/plain")])
    head = plain_answer(RequestFacts("HEAD", "/p", "rid"), 200, b"abc", [(b"content-type", b"text/plain")])
    assert head.headers == get.headers and (head.body, get.body) == (b"", b"abc")


def test_failures_are_503_with_the_routes_error_key_and_the_request_id() -> None:
    down = failed(RequestFacts("GET", "/api/courseware/course/x", "rid"), RedisConnectionError("gone"))
    assert down.status == 503
    assert orjson.loads(down.body) == {"developer_message": "Read models are unavailable (Redis unreachable).",
                                       "request_id": "rid"}
    bug = failed(RequestFacts("GET", "/api/dashboard/v1/programs/", "rid"), ValueError("bug"))
    assert orjson.loads(bug.body) == {"detail": "Temporarily unable to answer.", "request_id": "rid"}


def test_cors_headers_are_what_the_cors_middleware_adds_to_a_core_answer() -> None:
    options = cors_options(load_settings(cors_origins=["http://allowed.example"]))
    middleware = CORSMiddleware(None, **options)  # type: ignore[arg-type]
    table = CorsHeaders(options)
    for origin in (None, "http://allowed.example", "http://other.example"):
        answer = json_answer(RequestFacts("GET", "/p", "rid"), 200, BODY)
        start: Message = {"type": "http.response.start", "status": 200, "headers": list(answer.headers)}
        raw = [] if origin is None else [(b"origin", origin.encode())]

        async def keep(message: Message) -> None:
            return None

        asyncio.run(middleware.send(start, keep, Headers(raw=raw)))
        assert start["headers"] == answer.headers + table.of(origin), origin
