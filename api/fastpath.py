"""The fast path: the four hot reads answered in one plain ASGI function, in front of FastAPI.

GET (and HEAD) of course metadata, resume, sequence metadata and the program list are most of the
traffic, and on them FastAPI's and Starlette's per-request machinery (six middleware layers with
their send wrappers, routing, the Request object, dependency resolution, response classes) cost
more CPU than the read itself: ~0.5-0.8 ms of the 0.5-1.0 ms a request took (bench/RESULTS.md).
This path does the same work directly: match the path by prefix, take the caller from the JWT
cache, run the route's Lua read (readmodels.readers), build the body with the same functions the
routes use (api/routes/courseware.py), and answer with exactly the headers the middleware stack
would add (platform: ETag, Cache-Control, 304, request id, exposed headers; CORS; observability:
metrics, request id context).

It answers only the common case; everything else is handed to the FastAPI app untouched, which
then behaves as documented (the fast path has sent nothing and read no body):
- another method, another path, a `root_path`, a request body (`Content-Length`,
  `Transfer-Encoding`), `X-Read-Model-Min-Token` or `Prefer` (freshness waits, long polls);
- a masquerade (`?username=`);
- credentials not (yet) in the verified-token cache of api/auth.py (a token's first request, an
  expired or malformed one) and anonymous calls of the routes that require a caller (401);
- keys that do not parse (400/404), an unknown course or block (404), a non-sequential (422);
- any unexpected exception before the answer is sent (FastAPI re-runs the request and answers
  503 like the platform does).
Redis unreachable is answered here, as the platform answers it: 503 with the request id.

`LP_API_FAST_PATH=false` turns it off (tests/e2e/test_fast_path.py compares both answers).
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import FastAPI
from prometheus_client import Histogram
from starlette.types import Scope, Send

from api import clock
from api.auth import AuthError, Caller, cached_caller, token_from
from api.deps import view_config
from api.errors import ApiError, error_body
from api.keys import parse_course_key, parse_usage_key
from api.masquerade import authorize
from api.metrics import ApiMetrics
from api.observability import REQUEST_ID_PATTERN, access_log
from api.platform import EXPOSE_LINE, REDIS_DOWN, etag_matches, etag_of
from api.platform import log as platform_log
from api.routes import courseware, programs
from readmodels.logs import REQUEST_ID
from readmodels.program_readers import ProgramReaders
from readmodels.readers import Readers
from readmodels.views.certificates import effective_courses
from readmodels.views.programs import list_entries

COURSE_PREFIX = "/api/courseware/course/"
RESUME_PREFIX = "/api/courseware/resume/"
SEQUENCE_PREFIX = "/api/courseware/sequence/"
JSON_TYPE = (b"content-type", b"application/json")
CACHE_CONTROL = (b"cache-control", b"private, no-cache")
EXPOSE = (b"access-control-expose-headers", EXPOSE_LINE)
ALLOW_CREDENTIALS = (b"access-control-allow-credentials", b"true")
VARY_ORIGIN = (b"vary", b"Origin")
# Request headers that need the full stack: a body (413 checks), read-your-writes, long polls.
FALL_THROUGH_HEADERS = frozenset({b"content-length", b"transfer-encoding", b"x-read-model-min-token", b"prefer"})
REDIS_DOWN_MESSAGE = "Read models are unavailable (Redis unreachable)."

Answer = tuple[int, Any]  # status, body (to be JSON)
COURSE, RESUME, SEQUENCE, PROGRAMS = range(4)


class _FallThrough(Exception):  # not an error: the request goes to FastAPI
    pass


FALL_THROUGH = _FallThrough()


@lru_cache(maxsize=4096)
def _course_key(raw: str) -> tuple[str, str | None] | None:
    """(key, org) of a course key as the routes parse it (api/keys.py); None: it does not parse."""
    try:
        key, parsed = parse_course_key(raw)
    except ApiError:
        return None
    return key, parsed.org


@lru_cache(maxsize=16384)
def _usage_key(raw: str) -> tuple[str, str, str, str] | None:
    """(key, course key, org, block id) of a usage key; None: it does not parse."""
    try:
        key, parsed = parse_usage_key(raw)
    except ApiError:
        return None
    return key, str(parsed.course_key), parsed.course_key.org or "", parsed.block_id


def _template(router_routes: list[Any], endpoint: Any) -> list[tuple[str, str]]:
    """(path, path template) of every route of `endpoint`: the observability metrics' route label."""
    return [(r.path, r.path_format) for r in router_routes if getattr(r, "endpoint", None) is endpoint]


class FastPath:
    """Built in the app's lifespan, from the clients it made (app.state)."""

    def __init__(self, app: FastAPI) -> None:
        state = app.state
        self.settings = state.settings
        self.readers: Readers = state.readers
        self.program_readers: ProgramReaders = state.program_readers
        self.bus = state.bus
        self.metrics: ApiMetrics = state.metrics
        self.config = view_config(self.settings)
        self.origins = frozenset(self.settings.cors_origins)
        self.any_origin = "*" in self.origins
        routes = courseware.router.routes
        self.course_route = _template(routes, courseware.get_course_metadata)[0][1]
        self.resume_route = _template(routes, courseware.get_resume)[0][1]
        self.sequence_route = _template(routes, courseware.get_sequence_metadata)[0][1]
        self.program_list_routes = dict(_template(programs.router.routes, programs.get_programs))
        self._latency: dict[tuple[str, str, int], Any] = {}

    async def answer(self, scope: Scope, send: Send) -> bool:
        """Answer the request, or return False (having sent nothing) for the FastAPI app to answer."""
        method = scope["method"]
        if (method != "GET" and method != "HEAD") or scope.get("root_path"):
            return False
        path: str = scope["path"]
        if path.startswith(COURSE_PREFIX):
            kind, route, rest = COURSE, self.course_route, path[len(COURSE_PREFIX) :]
        elif path.startswith(RESUME_PREFIX):
            kind, route, rest = RESUME, self.resume_route, path[len(RESUME_PREFIX) :]
        elif path.startswith(SEQUENCE_PREFIX):
            kind, route, rest = SEQUENCE, self.sequence_route, path[len(SEQUENCE_PREFIX) :]
        elif path in self.program_list_routes:
            kind, route, rest = PROGRAMS, self.program_list_routes[path], ""
        else:
            return False
        if not rest and kind != PROGRAMS:
            return False

        # One pass over the headers; the first of each wins, as in Starlette's Headers.get.
        authorization = if_none_match = origin = request_id_header = None
        cookies: list[str] = []
        for name, value in scope["headers"]:
            if name == b"authorization":
                if authorization is None:
                    authorization = value.decode("latin-1")
            elif name == b"cookie":
                cookies.append(value.decode("latin-1"))
            elif name == b"if-none-match":
                if if_none_match is None:
                    if_none_match = value.decode("latin-1")
            elif name == b"origin":
                if origin is None:
                    origin = value.decode("latin-1")
            elif name == b"x-request-id":
                if request_id_header is None:
                    request_id_header = value.decode("latin-1")
            elif name in FALL_THROUGH_HEADERS:
                return False
        query: dict[str, str] = {}
        if scope["query_string"]:
            query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
            if "username" in query:
                return False
        try:
            token = token_from(authorization, cookies)
        except AuthError:
            return False
        caller = None
        if token is not None:
            caller = cached_caller(token, self.settings)
            if caller is None:
                return False
        if caller is None and kind in (RESUME, PROGRAMS):
            return False  # 401

        request_id = (
            request_id_header
            if request_id_header is not None and REQUEST_ID_PATTERN.fullmatch(request_id_header)
            else uuid.uuid4().hex
        )
        context = REQUEST_ID.set(request_id)
        in_flight = self.metrics.in_flight
        in_flight.inc()
        started = time.perf_counter()
        try:
            try:
                status, body = await self._read(kind, rest, caller, query)
            except _FallThrough:
                return False
            except REDIS_DOWN as exc:
                platform_log.warning("request %s %s %s: Redis unavailable: %r", request_id, method, path, exc)
                self.metrics.redis_errors.labels("request").inc()
                content = orjson.dumps(error_body(path, REDIS_DOWN_MESSAGE, request_id))
                headers = [
                    JSON_TYPE,
                    (b"content-length", str(len(content)).encode()),
                    CACHE_CONTROL,
                    (b"etag", etag_of(content).encode()),
                    (b"x-request-id", request_id.encode()),
                    EXPOSE,
                ]
                status = 503
            except Exception:
                return False  # FastAPI runs it again and answers as the platform does (logged, 503)
            else:
                content = orjson.dumps(body)
                etag = etag_of(content)
                if if_none_match is not None and etag_matches(if_none_match, etag):
                    status, content = 304, b""
                    headers = [CACHE_CONTROL, (b"etag", etag.encode()), (b"x-request-id", request_id.encode()), EXPOSE]
                else:
                    headers = [
                        JSON_TYPE,
                        CACHE_CONTROL,
                        (b"etag", etag.encode()),
                        (b"content-length", str(len(content)).encode()),
                        (b"x-request-id", request_id.encode()),
                        EXPOSE,
                    ]
            if origin is not None:  # as Starlette's CORSMiddleware does with credentials allowed
                if self.any_origin:
                    headers.append((b"access-control-allow-origin", origin.encode("latin-1")))
                    headers.append(ALLOW_CREDENTIALS)
                else:
                    headers.append(ALLOW_CREDENTIALS)
                    if origin in self.origins:
                        headers.append((b"access-control-allow-origin", origin.encode("latin-1")))
            headers.append(VARY_ORIGIN)
            try:
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": b"" if method == "HEAD" else content})
            except Exception:
                platform_log.exception("request %s %s %s failed", request_id, method, path)
            self._observe(method, route, status, path, started)
            self.metrics.fast_path.inc()
            return True
        finally:
            in_flight.dec()
            REQUEST_ID.reset(context)

    async def _read(self, kind: int, rest: str, caller: Caller | None, query: dict[str, str]) -> Answer:
        """The route's read and body (what the route handler does in the common case)."""
        now = clock.now(self.settings)
        if kind == COURSE:
            return await self._course(rest, caller, query, now)
        if kind == SEQUENCE:
            return await self._sequence(rest, caller, now)
        assert caller is not None
        if kind == RESUME:
            parts = _course_key(rest)
            if parts is None:
                raise FALL_THROUGH
            key, org = parts
            resume = await self.readers.resume(key, caller.user_id)
            authorize(caller, "", resume.who, key, org)
            return 200, courseware.resume_body(resume)
        facts = await self.program_readers.user_programs(caller.user_id)
        return 200, list_entries(facts.programs, facts.user, now, courses=effective_courses(facts.certificate_courses))

    async def _course(self, rest: str, caller: Caller | None, query: dict[str, str], now: datetime) -> Answer:
        parts = _course_key(rest)
        if parts is None:
            raise FALL_THROUGH
        key, org = parts
        facts = await self.readers.course(key, caller.user_id if caller else None)
        effective = authorize(caller, "", facts.who, key, org)
        browser_timezone = query.get("browser_timezone")
        body = courseware.course_body(
            facts, key, effective, now, self.config, query.get("requested_fields"), browser_timezone
        )
        if body is None:
            raise FALL_THROUGH
        if caller is not None:
            self.bus.emit_visit(caller.user_id, key, now, browser_timezone)
        return 200, body

    async def _sequence(self, rest: str, caller: Caller | None, now: datetime) -> Answer:
        parts = _usage_key(rest)
        if parts is None:
            raise FALL_THROUGH
        key, course_key, org, block_id = parts
        facts = await self.readers.sequence(course_key, key, caller.user_id if caller else None)
        effective = authorize(caller, "", facts.who, course_key, org)
        if facts.course is None or facts.block_type is None:
            raise FALL_THROUGH
        body = courseware.sequence_body(facts, key, course_key, org, block_id, effective, now, self.config)
        if body is None:
            raise FALL_THROUGH
        return 200, body

    def _observe(self, method: str, route: str, status: int, path: str, started: float) -> None:
        """What api/observability.py records for a request: latency by method, route and status."""
        elapsed = time.perf_counter() - started
        child = self._latency.get((method, route, status))
        if child is None:
            latency: Histogram = self.metrics.latency
            child = self._latency[(method, route, status)] = latency.labels(method, route, str(status))
        child.observe(elapsed)
        access_log.debug(
            "%s %s %d",
            method,
            path,
            status,
            extra={"route": route, "status": status, "duration_ms": round(elapsed * 1000, 2)},
        )
