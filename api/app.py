"""create_app(): the FastAPI application. Clients are created in the lifespan, never at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.routes import courseware, programs
from projectors.redis_client import make_redis
from readmodels.readers import Readers
from readmodels.settings import Settings, load_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = make_redis(settings.redis_url)
        app.state.settings = settings
        app.state.redis = redis
        app.state.readers = Readers(redis, settings.redis_namespace)
        try:
            yield
        finally:
            await redis.aclose()

    app = FastAPI(title="learner-projector", version="0.1.0", lifespan=lifespan, redirect_slashes=False)
    app.state.settings = settings
    app.include_router(courseware.router)
    app.include_router(programs.router)
    return app
