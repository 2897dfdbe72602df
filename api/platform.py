"""The HTTP platform every route shares (courseware and program routers alike):

- a request id on every response (`X-Request-ID`), and never a 500: Redis unreachable or any
  unexpected error is logged with the request id and answered 503 with the route's error key;
- request bodies over `max_body_bytes`: 413;
- HEAD is served as GET without the body;
- JSON responses get an `ETag` of the body, `Cache-Control: private, no-cache`, and 304 on a
  matching `If-None-Match`; HEAD answers carry the headers without the body;
- `X-Read-Model-Min-Token` on a read: wait (bounded) for the projector, answer `X-Read-Model-Fresh`;
- `If-None-Match` + `Prefer: wait=<s>`: held until the body would change (api/change_feed.py);
- `OPTIONS` without a CORS preflight is answered with the route's `Allow` list;
- `Access-Control-Expose-Headers` (Date, ETag, the X-Read-Model-* headers) on every response,
  with or without an `Origin` (CORS itself is Starlette's middleware, outside this one).

A pure ASGI middleware (not BaseHTTPMiddleware) so streaming, HEAD and errors stay under control.
Every answer is finished by the answer core (api/answer.py), which the fast path (api/fastpath.py)
calls too: the headers, ETag/304 and 503 rules live there once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.answer import (
    EXPOSE_HEADERS,
    REDIS_DOWN,
    Answer,
    RequestFacts,
    error_answer,
    etag_of,
    failed,
    json_answer,
    not_modified,
    plain_answer,
)
from api.change_feed import ChangeFeed, Watch, prefer_wait, read_key
from api.freshness import wait_fresh
from api.ids import uuid4_hex
from readmodels.settings import Settings

ALLOW_HEADERS = (
    "USE-JWT-COOKIE",
    "X-CSRFToken",
    "Content-Type",
    "Authorization",
    "If-None-Match",
    "Prefer",
    "X-Read-Model-Min-Token",
)


class BodyTooLargeError(Exception):
    pass


def cors_options(settings: Settings) -> dict[str, Any]:
    """Starlette's CORSMiddleware configuration: the app's middleware, and the fast path's response
    hook (one policy, applied by the library on both ways in)."""
    return {
        "allow_origins": list(settings.cors_origins),
        "allow_credentials": True,
        "allow_methods": ["GET", "HEAD", "POST", "OPTIONS"],
        "allow_headers": list(ALLOW_HEADERS),
        "expose_headers": list(EXPOSE_HEADERS),
        "max_age": 600,
    }


async def send_answer(send: Send, answer: Answer) -> None:
    await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
    await send({"type": "http.response.body", "body": answer.body})


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers") or ():
        if k.lower() == name:
            return v.decode("latin-1")
    return None


def _not_modified(scope: Scope, start: Message, body: bytes) -> bool:
    """A 2xx JSON answer whose ETag the request's If-None-Match already names."""
    content_type = next((v for k, v in start.get("headers", ()) if k.lower() == b"content-type"), b"")
    return content_type.startswith(b"application/json") and not_modified(
        _header(scope, b"if-none-match"), start["status"], etag_of(body))


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
        request_id = state.get("request_id") or state.setdefault("request_id", uuid4_hex())
        method: str = scope.get("method", "GET")
        request = RequestFacts(method, scope.get("path", ""), request_id, _header(scope, b"if-none-match"))
        too_large = f"Request body larger than {self.max_body_bytes} bytes."
        started = False
        extra_headers: list[tuple[bytes, bytes]] = []

        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            await send_answer(send, error_answer(request, 413, too_large))
            return

        if method == "HEAD":
            # HEAD is GET without the body, for every route of every router (the answer core drops it).
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
            await send_answer(send, _finish(request, start, body, extra_headers))
        except BodyTooLargeError:
            if not started:
                await send_answer(send, error_answer(request, 413, too_large))
        except Exception as exc:
            if isinstance(exc, REDIS_DOWN):
                state["redis_error"] = True  # counted by api/observability.py
            answer = failed(request, exc)
            if not started:
                await send_answer(send, answer)

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



def _finish(request: RequestFacts, start: Message, body: bytes, after: Sequence[tuple[bytes, bytes]]) -> Answer:
    """The route's answer through the answer core: its headers kept (but Content-Length), an
    `Allow` that names HEAD and OPTIONS, an OPTIONS that is not a CORS preflight answered 200."""
    status: int = start["status"]
    headers = [(k.lower(), v) for k, v in start.get("headers", ()) if k.lower() != b"content-length"]
    if status == 405:
        allow = {m.strip() for k, v in headers if k == b"allow" for m in v.decode().split(",")}
        if "GET" in allow:
            allow.add("HEAD")
        allow_line = ", ".join(sorted((allow - {""}) | {"OPTIONS"})).encode()
        if request.method == "OPTIONS":  # CORSMiddleware answers preflights: the route's methods
            return plain_answer(request, 200, b"", [(b"allow", allow_line)], after)
        headers = [(k, v) for k, v in headers if k != b"allow"] + [(b"allow", allow_line)]
    content_type = next((v for k, v in headers if k == b"content-type"), b"")
    if content_type.startswith(b"application/json"):
        return json_answer(request, status, body, headers, after)
    return plain_answer(request, status, body, headers, after)
