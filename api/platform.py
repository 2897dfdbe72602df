"""The HTTP platform every route shares (courseware and program routers alike):

- a request id on every response (`X-Request-ID`), and never a 500: Redis unreachable or any
  unexpected error is logged with the request id and answered 503 with the route's error key;
- request bodies over `max_body_bytes`: 413;
- HEAD is served as GET without the body;
- JSON responses get an `ETag` of the body, `Cache-Control: private, no-cache`, and 304 on a
  matching `If-None-Match`; HEAD answers carry the headers without the body;
- `X-Read-Model-Min-Token` on a read: wait (bounded) for the projector, answer `X-Read-Model-Fresh`;
- `If-None-Match` + `Prefer: wait=<s>`: held until the body would change (api/changes.py);
- `OPTIONS` without a CORS preflight is answered with the route's `Allow` list;
- `Access-Control-Expose-Headers` (Date, ETag, the X-Read-Model-* headers) on every response,
  with or without an `Origin` (CORS itself is Starlette's middleware, outside this one).

A pure ASGI middleware (not BaseHTTPMiddleware) so streaming, HEAD and errors stay under control.
The hot reads are answered by api/fastpath.py, which sends the same headers itself: a change here
needs the same change there (tests/e2e/test_fast_path.py fails on any difference).
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import orjson
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.changes import ChangeFeed, Watch, prefer_wait, read_key
from api.errors import error_body
from api.freshness import wait_fresh

log = logging.getLogger(__name__)

EXPOSE_HEADERS = ("Date", "ETag", "X-Read-Model-Token", "X-Read-Model-Fresh", "X-Request-ID")
EXPOSE_LINE = ", ".join(EXPOSE_HEADERS).encode()
ALLOW_HEADERS = (
    "USE-JWT-COOKIE",
    "X-CSRFToken",
    "Content-Type",
    "Authorization",
    "If-None-Match",
    "Prefer",
    "X-Read-Model-Min-Token",
)
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, BusyLoadingError)


class BodyTooLargeError(Exception):
    pass


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def etag_matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    tags = (t.strip().removeprefix("W/") for t in if_none_match.split(","))
    return etag in tags


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers") or ():
        if k.lower() == name:
            return v.decode("latin-1")
    return None


def _not_modified(scope: Scope, start: Message, body: bytes) -> bool:
    """A 2xx JSON answer whose ETag the request's If-None-Match already names."""
    inm = _header(scope, b"if-none-match")
    if inm is None or not 200 <= start["status"] < 300:
        return False
    content_type = next((v for k, v in start.get("headers", ()) if k.lower() == b"content-type"), b"")
    return content_type.startswith(b"application/json") and etag_matches(inm, etag_of(body))


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _drop(message: Message) -> None:
    return None


class PlatformMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int = 65536) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        # api/observability.py sets it first (setdefault alone would draw a uuid4 on every request)
        request_id = state.get("request_id") or state.setdefault("request_id", uuid.uuid4().hex)
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        started = False
        extra_headers: list[tuple[bytes, bytes]] = []

        async def send_final(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
            headers = [
                *headers,
                *extra_headers,
                (b"x-request-id", request_id.encode()),
                (b"access-control-expose-headers", EXPOSE_LINE),
            ]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})

        async def send_json(status: int, content: Any) -> None:
            body = orjson.dumps(content)
            await send_final(
                status,
                [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"private, no-cache"),
                    (b"etag", etag_of(body).encode()),
                ],
                body,
            )

        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            await send_json(413, error_body(path, f"Request body larger than {self.max_body_bytes} bytes."))
            return

        if method == "HEAD":
            # HEAD is GET without the body, for every route of every router.
            scope = {**scope, "method": "GET"}

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLargeError
            return message

        try:
            min_token = _header(scope, b"x-read-model-min-token")
            if min_token is not None and method in ("GET", "HEAD"):
                fresh = await self._wait_fresh(scope, min_token)
                extra_headers.append((b"x-read-model-fresh", b"true" if fresh else b"false"))
            wait_s = prefer_wait(_header(scope, b"prefer")) if method in ("GET", "HEAD") else 0.0
            with self._holding(scope, wait_s) as watch:  # before the first read: no change slips by
                start, body = await self._run(scope, limited_receive, send)
                if start is None:
                    return  # not a plain HTTP answer (nothing of ours to add)
                if watch is not None and _not_modified(scope, start, body):
                    async with scope["app"].state.changes.watching_disconnect(watch, limited_receive):
                        start, body = await self._hold(scope, watch, start, body, wait_s)
            started = True
            await self._finish(scope, start, body, send_final)
        except BodyTooLargeError:
            if not started:
                await send_json(413, error_body(path, f"Request body larger than {self.max_body_bytes} bytes."))
        except REDIS_DOWN as exc:
            log.warning("request %s %s %s: Redis unavailable: %r", request_id, method, path, exc)
            state["redis_error"] = True  # counted by api/observability.py
            if not started:
                await send_json(503, error_body(path, "Read models are unavailable (Redis unreachable).", request_id))
        except Exception:
            log.exception("request %s %s %s failed", request_id, method, path)
            if not started:
                await send_json(503, error_body(path, "Temporarily unable to answer.", request_id))

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> tuple[Message | None, bytes]:
        """Run the app, capturing its answer (start message and whole body)."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            else:
                await send(message)

        await self.app(scope, receive, capture)
        return start, b"".join(chunks)

    @staticmethod
    def _holding(scope: Scope, wait_s: float) -> AbstractContextManager[Watch | None]:
        """A change-feed watch for a long poll (None: not one, or this worker holds its cap: answer now)."""
        feed: ChangeFeed | None = getattr(scope["app"].state, "changes", None)
        if wait_s <= 0 or feed is None or _header(scope, b"if-none-match") is None:
            return nullcontext(None)
        return feed.holding(scope, scope["app"].state.settings)

    async def _hold(
        self, scope: Scope, watch: Watch, start: Message, body: bytes, wait_s: float
    ) -> tuple[Message, bytes]:
        """Long poll: re-run the route on every relevant change until its body differs or the wait ends."""
        feed: ChangeFeed = scope["app"].state.changes
        replay = {**scope, "state": {**scope.get("state", {}), "replay": True}}
        key = read_key(scope)
        deadline = time.monotonic() + wait_s
        while (remaining := deadline - time.monotonic()) > 0:
            if not await feed.wait(watch, remaining) or watch.gone:
                break
            again, again_body = await feed.reread(watch, key, lambda: self._run(replay, _no_body, _drop))
            if again is None:
                break
            if not _not_modified(scope, again, again_body):
                return again, again_body
        return start, body

    @staticmethod
    async def _wait_fresh(scope: Scope, token: str) -> bool:
        state = scope["app"].state
        bound = state.settings.freshness_wait_ms / 1000
        return await wait_fresh(state.readers, getattr(state, "changes", None), token, bound)

    @staticmethod
    async def _finish(scope: Scope, start: Message, body: bytes, send_final: Any) -> None:
        status: int = start["status"]
        headers = [(k, v) for k, v in start.get("headers", ()) if k.lower() != b"content-length"]
        if scope["method"] == "OPTIONS" and status == 405:
            # Not a CORS preflight (CORSMiddleware answers those): the route's methods, from its 405.
            allow = {m.strip() for k, v in headers if k.lower() == b"allow" for m in v.decode().split(",")}
            if "GET" in allow:
                allow.add("HEAD")
            allow_line = ", ".join(sorted((allow - {""}) | {"OPTIONS"})).encode()
            await send_final(200, [(b"allow", allow_line), (b"content-length", b"0")], b"")
            return
        if status == 405:
            allow = {m.strip() for k, v in headers if k.lower() == b"allow" for m in v.decode().split(",")}
            if "GET" in allow:
                allow.add("HEAD")
            allow_line = ", ".join(sorted((allow - {""}) | {"OPTIONS"})).encode()
            headers = [(k, v) for k, v in headers if k.lower() != b"allow"] + [(b"allow", allow_line)]
        content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
        if content_type.startswith(b"application/json"):
            headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
            headers.append((b"cache-control", b"private, no-cache"))
            etag = etag_of(body)
            headers.append((b"etag", etag.encode()))
            if 200 <= status < 300:
                inm = _header(scope, b"if-none-match")
                if inm is not None and etag_matches(inm, etag):
                    keep = {b"etag", b"cache-control", b"date", b"vary"}
                    await send_final(304, [(k, v) for k, v in headers if k.lower() in keep], b"")
                    return
        headers.append((b"content-length", str(len(body)).encode()))
        await send_final(status, headers, body)
