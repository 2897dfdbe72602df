"""The API's floor: a bare Starlette endpoint that does one Redis GET of a document the size of
the API's answer, and returns it. Started like the API (uvicorn, one worker, no access log):
`uvicorn --factory bench.floor_app:create_app` with BENCH_FLOOR_REDIS_URL and BENCH_FLOOR_KEY."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

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
