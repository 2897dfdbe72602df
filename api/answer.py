"""The answer core both ways into the API share: request facts in, status + headers + body out.

The FastAPI app's platform middleware (api/platform.py) and the fast path (api/fastpath.py) both
finish every answer here, so the rules below exist once (API.md "Errors and common headers"):
- a JSON body gets its `ETag` and `Cache-Control: private, no-cache`; a 2xx JSON answer whose
  ETag the request's `If-None-Match` names is a 304 without a body;
- every answer carries `Content-Length` (but a 304), the request id (`X-Request-ID`) and
  `Access-Control-Expose-Headers`; a HEAD answer has the headers of the GET and no body;
- a request that fails before it is answered is logged with its request id and answered 503 with
  the route's error key and the request id: Redis unreachable, or anything unexpected (never a 500).

Pure but for the failure log line: no framework objects, no I/O. CORS stays Starlette's
CORSMiddleware (both paths use its response hook, see api/platform.cors_options).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import NamedTuple

import orjson
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from api.errors import error_body

log = logging.getLogger("api.platform")

Headers = list[tuple[bytes, bytes]]

EXPOSE_HEADERS = ("Date", "ETag", "X-Read-Model-Token", "X-Read-Model-Fresh", "X-Request-ID")
EXPOSE = (b"access-control-expose-headers", ", ".join(EXPOSE_HEADERS).encode())
JSON_TYPE = (b"content-type", b"application/json")
CACHE_CONTROL = (b"cache-control", b"private, no-cache")
KEPT_BY_304 = frozenset({b"etag", b"cache-control", b"date", b"vary"})
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, BusyLoadingError)
REDIS_DOWN_MESSAGE = "Read models are unavailable (Redis unreachable)."
FAILED_MESSAGE = "Temporarily unable to answer."


class RequestFacts(NamedTuple):
    """What of a request its answer depends on (the method as the client sent it: HEAD stays HEAD)."""

    method: str
    path: str
    request_id: str
    if_none_match: str | None = None


class Answer(NamedTuple):
    status: int
    headers: Headers
    body: bytes


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def etag_matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    tags = (t.strip().removeprefix("W/") for t in if_none_match.split(","))
    return etag in tags


def not_modified(if_none_match: str | None, status: int, etag: str) -> bool:
    """A 2xx JSON answer whose ETag the request's If-None-Match already names: 304."""
    return if_none_match is not None and 200 <= status < 300 and etag_matches(if_none_match, etag)


def json_answer(
    request: RequestFacts, status: int, body: bytes, headers: Sequence[tuple[bytes, bytes]] = (JSON_TYPE,),
    after: Sequence[tuple[bytes, bytes]] = (),
) -> Answer:
    """A JSON body. `headers`: the route's own (lower-case names, no Content-Length; a Cache-Control
    is replaced); `after`: the platform's own (X-Read-Model-Fresh), before the request id."""
    tag = etag_of(body)
    own = [h for h in headers if h[0] != b"cache-control"]
    own += (CACHE_CONTROL, (b"etag", tag.encode()))
    if not_modified(request.if_none_match, status, tag):
        return Answer(304, [*(h for h in own if h[0] in KEPT_BY_304), *after, *_ours(request)], b"")
    return plain_answer(request, status, body, own, after)


def plain_answer(
    request: RequestFacts, status: int, body: bytes, headers: Sequence[tuple[bytes, bytes]] = (),
    after: Sequence[tuple[bytes, bytes]] = (),
) -> Answer:
    """Any other body (`headers` as for json_answer): Content-Length, then ours."""
    length = (b"content-length", str(len(body)).encode())
    return Answer(status, [*headers, length, *after, *_ours(request)], b"" if request.method == "HEAD" else body)


def _ours(request: RequestFacts) -> tuple[tuple[bytes, bytes], tuple[bytes, bytes]]:
    return (b"x-request-id", request.request_id.encode()), EXPOSE


def error_answer(request: RequestFacts, status: int, message: str, *, with_request_id: bool = False) -> Answer:
    """The route's error body (`developer_message` or `detail`, api/errors.py) as a JSON answer."""
    content = error_body(request.path, message, request.request_id if with_request_id else None)
    return json_answer(request, status, orjson.dumps(content))


def failed(request: RequestFacts, exc: BaseException) -> Answer:
    """The 503 of a request that raised before it was answered, logged here with its request id."""
    if isinstance(exc, REDIS_DOWN):
        log.warning("request %s %s %s: Redis unavailable: %r", request.request_id, request.method, request.path, exc)
        return error_answer(request, 503, REDIS_DOWN_MESSAGE, with_request_id=True)
    log.error("request %s %s %s failed", request.request_id, request.method, request.path, exc_info=exc)
    return error_answer(request, 503, FAILED_MESSAGE, with_request_id=True)
