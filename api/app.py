"""create_app(): the FastAPI application. Clients are created in the lifespan, never at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Receive, Scope, Send

from api.answer_memo import AnswerMemo
from api.bus import EventBus
from api.change_feed import ChangeFeed
from api.errors import install_error_handlers
from api.fastpath import FastPath
from api.observability import install_observability
from api.platform import PlatformMiddleware, cors_options
from api.redis_pipe import RedisPipe
from api.redis_pipe import supports as redis_pipe_supports
from api.routes import courseware, programs
from readmodels import runtime
from readmodels.program_readers import ProgramReaders
from readmodels.readers import Readers
from readmodels.redis_client import make_redis
from readmodels.settings import Settings, load_settings

log = logging.getLogger(__name__)

# A young collection every 20,000 net container allocations instead of 700: a course read allocates
# a few hundred, so the default ran one every request or two.
GC_THRESHOLDS = (20_000, 50, 50)
NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


def tune_gc() -> None:
    """Once started: the app's heap out of the collector's sight (readmodels/runtime.py), full
    collections then scan only what requests left behind."""
    runtime.tune_gc(GC_THRESHOLDS)


class LearnerApi(FastAPI):
    """The FastAPI app with the fast path (api/fastpath.py) in front of its middleware stack."""

    fast_path: FastPath | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast = self.fast_path
        if fast is not None and scope["type"] == "http" and await fast.answer(scope, send):
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> LearnerApi:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = make_redis(settings.redis_url)
        # The read scripts go over one pipelined connection (api/redis_pipe.py); the rest over redis-py.
        pipe = RedisPipe(settings.redis_url) if redis_pipe_supports(settings.redis_url) else None
        execute = pipe.execute if pipe is not None else None
        bus = EventBus(settings)
        bus.start()  # connects in the background: a Kafka outage never fails startup
        changes = ChangeFeed(settings.redis_url, settings.redis_namespace, settings.longpoll_max_held)
        changes.start()
        app.state.settings = settings
        app.state.redis = redis
        app.state.bus = bus
        app.state.changes = changes
        app.state.readers = Readers(redis, settings.redis_namespace, execute)
        app.state.program_readers = ProgramReaders(redis, settings.redis_namespace, execute)
        app.state.answer_memo = AnswerMemo(settings.api_answer_memo)
        if settings.api_fast_path:
            api.fast_path = FastPath(app)
        tune_gc()
        try:
            yield
        finally:
            api.fast_path = None
            await changes.stop()
            await bus.stop()
            if pipe is not None:
                await pipe.aclose()
            await redis.aclose()

    app = api = LearnerApi(
        title="learner-projector",
        version="0.1.0",
        lifespan=lifespan,
        redirect_slashes=False,
        # No OpenTelemetry here (metrics are api/observability.py's); left on, FastAPI looks the
        # global providers up (environment included) on every request.
        telemetry=NO_TELEMETRY,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(courseware.router)
    app.include_router(programs.router)
    # Added last = outermost: CORS wraps the platform, so errors and 304s carry CORS headers too.
    app.add_middleware(PlatformMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(CORSMiddleware, **cors_options(settings))
    install_observability(app, settings)  # last: its middleware is the outermost (request ids, metrics)
    return app
