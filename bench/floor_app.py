"""The API's floors: one Redis GET of a document the size of the API's answer, returned as JSON.
Started like the API (uvicorn, uvloop, httptools, one worker, no access log) with
BENCH_FLOOR_REDIS_URL and BENCH_FLOOR_KEY:
- `bench.floor_app:create_app`: a bare Starlette endpoint with redis-py (the target's floor);
- `bench.floor_app:create_bare_app`: a bare ASGI callable with the API's own pipelined connection
  (api/redis_pipe.py), no framework at all: the limit of this server and this Redis client."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from api.redis_pipe import RedisPipe
from readmodels.redis_client import make_redis


def create_app() -> Starlette:
    url = os.environ["BENCH_FLOOR_REDIS_URL"]
    key = os.environ["BENCH_FLOOR_KEY"]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.redis = make_redis(url)
        try:
            yield
        finally:
            await app.state.redis.aclose()

    async def doc(request: Request) -> Response:
        body = await request.app.state.redis.get(key)
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/{path:path}", doc)], lifespan=lifespan)


def create_bare_app() -> object:
    """Run with `--lifespan off`: the pipe connects on its first command."""
    pipe = RedisPipe(os.environ["BENCH_FLOOR_REDIS_URL"])
    key = os.environ["BENCH_FLOOR_KEY"]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        body: bytes = await pipe.execute("GET", key)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return app
