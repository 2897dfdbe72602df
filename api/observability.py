"""Request ids, metrics and JSON logs for the API: one pure ASGI middleware, outermost, so it sees
the status every client got (the platform's 503s and 304s, CORS preflights included).

- The request id is the client's `X-Request-ID` when it is a plain token (letters, digits, `.`,
  `_`, `:`, `-`; at most 128 characters), else a new one; the platform echoes it in the response
  header and error bodies, and every log line written while the request runs carries it
  (readmodels.logs.REQUEST_ID).
- Latency is recorded by route *template* (bounded label values; `unmatched` for a 404 that
  matched no route), method and final status.
- JSON logging is configured when the server starts the app (the ASGI lifespan), not at import.

api/fastpath.py records the requests it answers with the same RequestMeter.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.ids import uuid4_hex
from api.metrics import ApiMetrics
from api.routes import ops
from readmodels.logs import REQUEST_ID, configure_logging
from readmodels.settings import Settings

access_log = logging.getLogger("api.access")

REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
UNMATCHED = "unmatched"


def accepted_request_id(header: str | None) -> str:
    """The client's `X-Request-ID` when it is a plain token, else a new id."""
    return header if header is not None and REQUEST_ID_PATTERN.fullmatch(header) else uuid4_hex()


def request_id_of(scope: Scope) -> str:
    for k, v in scope.get("headers") or ():
        if k.lower() == b"x-request-id":
            return accepted_request_id(v.decode("latin-1"))
    return accepted_request_id(None)


class RequestMeter:
    """The one request meter of both ways in (this module's middleware and api/fastpath.py):
    requests in flight, latency by method, route template and final status, Redis failures, the
    fast path's share, and the access log line."""

    def __init__(self, metrics: ApiMetrics) -> None:
        self.metrics = metrics
        self._latency: dict[tuple[str, str, str], Any] = {}  # labelled children, looked up once each
        # Requests in flight: a plain count the gauge reads when scraped (an inc and a dec of the
        # gauge take its lock twice per request; the scrape shows the same value).
        self._in_flight = 0
        metrics.in_flight.set_function(lambda: self._in_flight)

    def start(self) -> float:
        self._in_flight += 1
        return time.perf_counter()

    def cancel(self) -> None:
        """A request started here but handed to the other way in (which meters it)."""
        self._in_flight -= 1

    def finish(self, method: str, route: str, status: int, path: str, started: float, *,
               redis_error: bool = False, fast: bool = False) -> None:
        elapsed = time.perf_counter() - started
        self._in_flight -= 1
        metrics = self.metrics
        label = method if method in METHODS else "other"
        child = self._latency.get((label, route, str(status)))
        if child is None:
            child = self._latency[(label, route, str(status))] = metrics.latency.labels(label, route, str(status))
        child.observe(elapsed)
        if redis_error:
            metrics.redis_errors.labels("request").inc()
        if fast:
            metrics.fast_path.inc()
        if access_log.isEnabledFor(logging.DEBUG):  # what debug() checks first, before its arguments are made
            access_log.debug(
                "%s %s %d", method, path, status,
                extra={"route": route, "status": status, "duration_ms": round(elapsed * 1000, 2)},
            )


class RouteRecorder:
    """Innermost middleware: after routing, note the matched route's path template in the request
    state. The state dict is shared by every copy of the scope (the platform serves HEAD on a copy),
    so the outermost middleware reads it there."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            route = scope.get("route")
            if route is not None and "state" in scope:
                scope["state"]["route"] = getattr(route, "path_format", None) or getattr(route, "path", UNMATCHED)


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, *, meter: RequestMeter, log_level: str) -> None:
        self.app = app
        self.meter = meter
        self.log_level = log_level

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            configure_logging(self.log_level, "api", also=UVICORN_LOGGERS)
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        token = REQUEST_ID.set(request_id)
        status = 500  # when the app raises before answering
        started = self.meter.start()

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            self.meter.finish(scope.get("method", "GET"), state.get("route", UNMATCHED), status,
                              scope.get("path", ""), started, redis_error=bool(state.get("redis_error")))
            REQUEST_ID.reset(token)


def install_observability(app: FastAPI, settings: Settings) -> None:
    """The operator routes and the middleware. Call last in create_app, so the middleware is the
    outermost one."""
    metrics = ApiMetrics()
    app.state.metrics = metrics
    app.state.meter = meter = RequestMeter(metrics)
    app.include_router(ops.router)
    app.add_middleware(ObservabilityMiddleware, meter=meter, log_level=settings.log_level)
    app.user_middleware.append(Middleware(RouteRecorder))  # appended = innermost, next to the router
