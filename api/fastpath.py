"""The fast path: a cheaper way into the four hot reads, in front of FastAPI.

GET (and HEAD) of course metadata, resume, sequence metadata and the program list are most of the
traffic, and on them FastAPI's and Starlette's per-request machinery (six middleware layers with
their send wrappers, routing, the Request object, dependency resolution, response classes) cost
more CPU than the read itself (bench/RESULTS.md). This path skips that machinery, not the rules:
it matches the path by prefix, takes the caller from the JWT cache, and then calls what the app
calls: the route's answer function (api/routes: read, masquerade authorisation, body), the answer
core (api/answer.py: ETag/304, Cache-Control, request id, exposed headers, the 503s), Starlette's
CORSMiddleware (its response hook, see `CorsHeaders`) and the request meter (api/observability.py).

It answers only the common case; everything else is handed to the FastAPI app untouched, which
then behaves as documented (the fast path has sent nothing and read no body):
- another method, another path, a `root_path`, a request body (`Content-Length`,
  `Transfer-Encoding`), `X-Read-Model-Min-Token` or `Prefer` (freshness waits, long polls);
- a masquerade (`?username=`);
- credentials not (yet) in the verified-token cache of api/auth.py (a token's first request, an
  expired or malformed one) and anonymous calls of the routes that require a caller (401);
- keys that do not parse (400/404), and any other 4xx of the route (an ApiError: unknown course
  or block 404, non-sequential 422).
A failure (Redis unreachable, anything unexpected) is answered here as the app answers it: logged
with the request id and answered 503 by the answer core.

`LP_API_FAST_PATH=false` turns it off (tests/e2e/test_fast_path.py compares both answers).
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Scope, Send

from api import clock
from api.answer import EXPOSE, REDIS_DOWN, Answer, RequestFacts, failed, json_answer
from api.answer_memo import AnswerMemo
from api.auth import AuthError, Caller, cached_caller, token_from
from api.deps import view_config
from api.errors import ApiError
from api.observability import RequestMeter, accepted_request_id
from api.path_keys import parse_course_key, parse_usage_key
from api.platform import cors_options, send_answer
from api.routes import courseware, programs
from readmodels.logs import REQUEST_ID
from readmodels.program_readers import ProgramReaders
from readmodels.readers import Readers

log = logging.getLogger(__name__)

COURSE_PREFIX = "/api/courseware/course/"
RESUME_PREFIX = "/api/courseware/resume/"
SEQUENCE_PREFIX = "/api/courseware/sequence/"
# Request headers that need the full stack: a body (413 checks), read-your-writes, long polls.
FALL_THROUGH_HEADERS = frozenset({b"content-length", b"transfer-encoding", b"x-read-model-min-token", b"prefer"})
COURSE, RESUME, SEQUENCE, PROGRAMS = range(4)
ROUTE_ERRORS = (ApiError, AuthError)  # the route's 4xx answers: the FastAPI app gives them


class _FallThrough(Exception):  # not an error: the request goes to FastAPI
    pass


FALL_THROUGH = _FallThrough()


@lru_cache(maxsize=4096)
def _course_key(raw: str) -> tuple[str, str | None] | None:
    """(key, org) of a course key as the routes parse it (api/path_keys.py); None: it does not parse."""
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


class CorsHeaders:
    """What Starlette's CORSMiddleware adds to an answer of the answer core, for a request's Origin.

    The middleware's own response hook decides (configured as the app's, api/platform.cors_options);
    as the core's answers differ in nothing the hook reads but the Origin (they all carry the same
    exposed headers and no Vary), its additions are computed once per Origin and kept (a bounded
    table: the hook costs ~3 us a request, a fifth of a resume answer's own work)."""

    MAX_ORIGINS = 256

    def __init__(self, options: dict[str, Any]) -> None:
        self._cors = CORSMiddleware(_never_called, **options)
        self._added: dict[str | None, list[tuple[bytes, bytes]]] = {}

    def of(self, origin: str | None) -> list[tuple[bytes, bytes]]:
        added = self._added.get(origin)
        if added is None:
            if len(self._added) >= self.MAX_ORIGINS:
                self._added.clear()
            added = self._added[origin] = self._hook(origin)
        return added

    def _hook(self, origin: str | None) -> list[tuple[bytes, bytes]]:
        start: Message = {"type": "http.response.start", "status": 200, "headers": [EXPOSE]}
        request = Headers(raw=[] if origin is None else [(b"origin", origin.encode("latin-1"))])
        _run_at_once(self._cors.send(start, _kept, request))
        headers: list[tuple[bytes, bytes]] = start["headers"]
        assert headers[0] == EXPOSE, headers  # the hook rewrites the exposed headers with our own line
        return headers[1:]


async def _never_called(scope: Scope, receive: Any, send: Send) -> None:
    raise AssertionError("CorsHeaders uses the middleware's response hook only")


async def _kept(message: Message) -> None:
    return None


def _run_at_once(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine that never suspends (the CORS hook with a send that returns at once)."""
    try:
        coroutine.send(None)
    except StopIteration:
        return
    coroutine.close()
    raise AssertionError("the CORS response hook suspended")


class FastPath:
    """Built in the app's lifespan, from the clients it made (app.state)."""

    def __init__(self, app: FastAPI) -> None:
        state = app.state
        self.settings = state.settings
        self.readers: Readers = state.readers
        self.program_readers: ProgramReaders = state.program_readers
        self.memo: AnswerMemo = state.answer_memo
        self.bus = state.bus
        self.meter: RequestMeter = state.meter
        self.config = view_config(self.settings)
        self.cors = CorsHeaders(cors_options(self.settings))
        routes = courseware.router.routes
        self.course_route = _template(routes, courseware.get_course_metadata)[0][1]
        self.resume_route = _template(routes, courseware.get_resume)[0][1]
        self.sequence_route = _template(routes, courseware.get_sequence_metadata)[0][1]
        self.program_list_routes = dict(_template(programs.router.routes, programs.get_programs))

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

        request = RequestFacts(method, path, accepted_request_id(request_id_header), if_none_match)
        context = REQUEST_ID.set(request.request_id)
        meter = self.meter
        started = meter.start()
        try:
            redis_down = False
            try:
                body = await self._read(kind, rest, caller, query)
            except (_FallThrough, *ROUTE_ERRORS):
                meter.cancel()
                return False
            except Exception as exc:
                answer, redis_down = failed(request, exc), isinstance(exc, REDIS_DOWN)
            else:
                answer = json_answer(request, 200, body)
            await self._send(request, answer, origin, send)
            meter.finish(method, route, answer.status, path, started, redis_error=redis_down, fast=True)
            return True
        finally:
            REQUEST_ID.reset(context)

    async def _send(self, request: RequestFacts, answer: Answer, origin: str | None, send: Send) -> None:
        """The answer with CORSMiddleware's headers. A failure to send (the client went away) is
        logged; the answer is still counted."""
        try:
            await send_answer(send, answer._replace(headers=answer.headers + self.cors.of(origin)))
        except Exception:
            log.exception("request %s %s %s: sending the answer failed", request.request_id, request.method,
                          request.path)

    async def _read(self, kind: int, rest: str, caller: Caller | None, query: dict[str, str]) -> bytes:
        """The route's body as JSON, by the route's own answer function (api/routes)."""
        now = clock.now(self.settings)
        if kind == COURSE:
            course = _course_key(rest)
            if course is None:
                raise FALL_THROUGH
            return await courseware.course_answer(self.readers, self.memo, self.bus, *course, caller, "", now,
                                                  self.config, query.get("requested_fields"),
                                                  query.get("browser_timezone"))
        if kind == SEQUENCE:
            usage = _usage_key(rest)
            if usage is None:
                raise FALL_THROUGH
            body = await courseware.sequence_answer(self.readers, self.memo, *usage, caller, "", now, self.config)
            if body is None:
                raise FALL_THROUGH  # 422
            return body
        assert caller is not None
        if kind == RESUME:
            course = _course_key(rest)
            if course is None:
                raise FALL_THROUGH
            return orjson.dumps(await courseware.resume_answer(self.readers, *course, caller, ""))
        return await programs.program_list(self.program_readers, self.memo, caller, now)
