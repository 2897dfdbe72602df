"""The fast path (api/fastpath.py) answers exactly what the FastAPI app answers: the same requests
go to two API processes on the same read models, one with the fast path and one without
(`LP_API_FAST_PATH=false`), and every answer must have the same status, body bytes and headers
(in order; only `Date` and a generated `X-Request-ID` differ). Each request is sent twice to each
API: the first sight of a token is verified by FastAPI, the second is the fast path's case, and
the fast API's `lp_api_fast_path_answers_total` says which requests it answered itself.

The read models come from a synthetic history (many learners, courses, sequences and programs)
plus a few hand-made facts (staff roles). The projector is stopped before the reads, so the visit
events of the course reads do not change later answers."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from api.auth import make_token
from bench.history import History, describe
from events.content import CoursePublished
from tests.builders import access_role
from tests.pipeline import Pipeline
from tools.stack import Stack
from tools.synthetic import generate

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

NOW = datetime(2026, 1, 21, 15, 0, tzinfo=UTC)
ORIGIN = "http://localhost:2000"  # the default CORS origin
PROGRAM_LISTS = (
    "/api/dashboard/v1/programs/",
    "/api/dashboard/v1/programs",
    "/api/dashboard/v0/programs/",
    "/api/learner_home/v1/programs/",
    "/api/learner_home/v1/programs",
    "/api/dashboard/v0/programs",
)
ADMIN, STAFF = 900_001, 900_002
FAST_COUNT = re.compile(rb"^lp_api_fast_path_answers_total (\S+)$", re.MULTILINE)
LATENCY_COUNT = re.compile(rb'^lp_api_request_duration_seconds_count\{(.*route="/api/.*)\} (\S+)$', re.MULTILINE)


@dataclass
class Pair:
    fast: httpx.Client
    slow: httpx.Client
    settings: Any

    def token(self, uid: int, *, administrator: bool = False, ttl: int = 3600) -> str:
        return make_token(self.settings, uid, f"learner{uid}", administrator=administrator, ttl=ttl)

    def fast_answers(self) -> float:
        found = FAST_COUNT.search(self.fast.get("/metrics").content)
        assert found is not None
        return float(found.group(1))

    def compare(self, method: str, path: str, headers: dict[str, str] | None = None, *, fast: bool) -> httpx.Response:
        """Send the request twice to each API; the second answers must be identical. `fast`: the
        fast API answers the second one itself."""
        h = dict(headers or {})
        self.fast.request(method, path, headers=h)
        before = self.fast_answers()
        a = self.fast.request(method, path, headers=h)
        taken = self.fast_answers() - before
        self.slow.request(method, path, headers=h)
        b = self.slow.request(method, path, headers=h)
        where = f"{method} {path} {sorted(h)}"
        assert (a.status_code, a.content) == (b.status_code, b.content), where
        assert _headers(a, h) == _headers(b, h), where
        assert taken == (1 if fast else 0), f"{where}: fast path answered {taken}, expected {fast}"
        return b


def _headers(r: httpx.Response, sent: dict[str, str]) -> list[tuple[bytes, bytes]]:
    echoed = "X-Request-ID" in sent and re.fullmatch(r"[\w.:-]+", sent["X-Request-ID"])
    skip = {b"date"} if echoed else {b"date", b"x-request-id"}
    if b"x-request-id" in skip and "x-request-id" in r.headers:  # a CORS preflight has none
        assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])
    return [(k.lower(), v) for k, v in r.headers.raw if k.lower() not in skip]


def _stop(stack: Stack, procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        stack.stop_child(proc)


@pytest.fixture(scope="module")
def history() -> History:
    return describe(list(generate(seed=11, learners=60, courses=3, programs=2, days=16)), "tools.synthetic.generate")


@pytest.fixture(scope="module")
def pair(stack: Stack, history: History) -> Iterator[Pair]:
    p = Pipeline.create(stack, fake_now=NOW, linkedin_org_id="1337").start(api=False)
    course = history.enrollments[0][1]
    org = course.removeprefix("course-v1:").split("+")[0]
    extra = [access_role("added", STAFF, org=org, course_key=course)]
    p.produce([*history.events, *extra])
    p.wait_applied()
    p.stop()  # no projector from here on: the reads' visit events change nothing
    fast_proc, fast_url = stack.start_api(p.settings)
    slow_proc, slow_url = stack.start_api(p.settings.model_copy(update={"api_fast_path": False}))
    with httpx.Client(base_url=fast_url, timeout=30) as fast, httpx.Client(base_url=slow_url, timeout=30) as slow:
        yield Pair(fast, slow, p.settings)
        # Every request went to both: the metrics by method, route and status must agree too.
        assert _latency_counts(fast) == _latency_counts(slow)
    _stop(stack, [fast_proc, slow_proc])


def _latency_counts(client: httpx.Client) -> dict[bytes, bytes]:
    return dict(LATENCY_COUNT.findall(client.get("/metrics").content))


def _jwt(pair: Pair, uid: int, **kw: Any) -> dict[str, str]:
    return {"Authorization": f"JWT {pair.token(uid, **kw)}", "X-Request-ID": f"req-{uid}"}


def _targets(history: History, n: int) -> list[tuple[int, str, str]]:
    out = []
    for i, (uid, course) in enumerate(history.enrollments[:n]):
        seqs = history.sequences[course]
        out.append((uid, course, seqs[i % len(seqs)]))
    return out


def _a_unit(history: History) -> str:
    for e in history.events:
        if isinstance(e.data, CoursePublished):
            return e.data.course.outline[0].sequences[0].units[0].block_key
    raise AssertionError("no course in the history")


def test_fast_path_answers_every_hot_read_like_fastapi(pair: Pair, history: History) -> None:
    targets = _targets(history, 40)
    assert len({ck for _, ck, _ in targets}) > 1
    for i, (uid, course, seq) in enumerate(targets):
        auth = _jwt(pair, uid)
        pair.compare("GET", f"/api/courseware/course/{course}", auth, fast=True)
        pair.compare("GET", f"/api/courseware/resume/{course}", auth, fast=True)
        pair.compare("GET", f"/api/courseware/sequence/{seq}", auth, fast=True)
        pair.compare("GET", PROGRAM_LISTS[i % len(PROGRAM_LISTS)], auth, fast=True)
    for uid in history.learners_with_programs[:20]:
        pair.compare("GET", "/api/dashboard/v1/programs/", _jwt(pair, uid), fast=True)


def test_fast_path_variants_answer_like_fastapi(pair: Pair, history: History) -> None:
    uid, course, seq = _targets(history, 1)[0]
    url, seq_url = f"/api/courseware/course/{course}", f"/api/courseware/sequence/{seq}"
    auth = _jwt(pair, uid)
    etag = pair.compare("GET", url, auth, fast=True).headers["etag"]
    seq_etag = pair.compare("GET", seq_url, auth, fast=True).headers["etag"]
    token = pair.token(uid)
    head, payload, signature = token.split(".")
    cookies = f"edx-jwt-cookie-header-payload={head}.{payload}; edx-jwt-cookie-signature={signature}"
    fast_cases: list[tuple[str, str, dict[str, str]]] = [
        ("HEAD", url, auth),
        ("HEAD", seq_url, auth),
        ("GET", url, {**auth, "If-None-Match": etag}),
        ("HEAD", url, {**auth, "If-None-Match": etag}),
        ("GET", url, {**auth, "If-None-Match": f'"nope", W/{etag}'}),
        ("GET", url, {**auth, "If-None-Match": "*"}),
        ("GET", url, {**auth, "If-None-Match": '"stale"'}),
        ("GET", seq_url, {**auth, "If-None-Match": seq_etag}),
        ("GET", url, {"Authorization": f"Bearer {token}"}),
        ("GET", url, {"Cookie": cookies, "USE-JWT-COOKIE": "true"}),
        ("GET", "/api/dashboard/v0/programs/", {"Cookie": cookies}),
        ("GET", url, {}),
        ("GET", seq_url, {}),
        ("HEAD", seq_url, {"X-Request-ID": "anon-1"}),
        ("GET", url, {**auth, "Origin": ORIGIN}),
        ("GET", url, {**auth, "Origin": "http://evil.example"}),
        ("GET", url, {**auth, "Origin": ORIGIN, "If-None-Match": etag}),
        ("GET", seq_url, {"Origin": ORIGIN}),
        ("GET", url, {**auth, "X-Request-ID": "not a plain id!"}),
        ("GET", url + "?requested_fields=name,enrollment,nope", auth),
        ("GET", url + "?requested_fields=", auth),
        ("GET", url + "?browser_timezone=America/New_York", auth),
        ("GET", url + "?browser_timezone=Not/A_Zone&requested_fields=celebrations", auth),
        ("GET", url + "?other=1", auth),
        ("GET", url + "/", auth),
        ("GET", seq_url + "/", auth),
        ("GET", f"/api/courseware/resume/{course}/", auth),
        ("GET", seq_url, _jwt(pair, ADMIN, administrator=True)),
        ("GET", url, _jwt(pair, ADMIN, administrator=True)),
        ("GET", seq_url, _jwt(pair, STAFF)),
        ("GET", url, _jwt(pair, 123_456_789)),  # a learner the projector never saw
        ("GET", "/api/courseware/resume/course-v1:No+Such+Course", auth),
        ("GET", "/api/dashboard/v1/programs/", _jwt(pair, 123_456_789)),
    ]
    for method, path, headers in fast_cases:
        pair.compare(method, path, headers, fast=True)


def test_fast_path_leaves_everything_else_to_fastapi(pair: Pair, history: History) -> None:
    uid, course, seq = _targets(history, 1)[0]
    url, seq_url = f"/api/courseware/course/{course}", f"/api/courseware/sequence/{seq}"
    auth = _jwt(pair, uid)
    other_cases: list[tuple[str, str, dict[str, str]]] = [
        ("GET", f"/api/courseware/resume/{course}", {}),  # 401
        ("GET", "/api/dashboard/v1/programs/", {}),  # 401
        ("GET", url, {"Authorization": "Basic abc"}),  # 401
        ("GET", url, {"Authorization": f"JWT {pair.token(uid, ttl=-60)}"}),  # expired: 401
        ("GET", url, {"Authorization": "JWT not.a.token"}),
        ("GET", "/api/courseware/course/course-v1:No+Such+Course", auth),  # 404
        ("GET", "/api/courseware/course/not-a-course-key", auth),  # 400
        ("GET", "/api/courseware/course/", auth),
        ("GET", "/api/courseware/sequence/block-v1:nope", auth),  # 404
        ("GET", f"/api/courseware/sequence/{_a_unit(history)}", auth),  # 422
        ("GET", url + f"?username=learner{uid}", auth),  # masquerade (as oneself)
        ("GET", url + "?username=someone", auth),  # 403
        ("GET", url + "?username=someone", _jwt(pair, ADMIN, administrator=True)),  # unknown user: 404
        ("GET", seq_url + f"?username=learner{uid}", _jwt(pair, STAFF)),
        ("GET", url, {**auth, "X-Read-Model-Min-Token": "bogus"}),
        ("GET", url, {**auth, "If-None-Match": '"x"', "Prefer": "wait=0"}),
        ("GET", url, {**auth, "Content-Length": "0"}),
        ("POST", url, auth),  # 405
        ("OPTIONS", url, auth),
        ("OPTIONS", url, {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}),
        ("GET", "/api/dashboard/v1/programs/00000000-0000-4000-8000-000000000000/", auth),
        ("GET", "/api/dashboard/v1/programs/abc/progress_details/", auth),
        ("GET", "/api/dashboard/v2/programs/", auth),
    ]
    for method, path, headers in other_cases:
        pair.compare(method, path, headers, fast=False)


@pytest.fixture(scope="module")
def down_pair(stack: Stack) -> Iterator[Pair]:
    """Two APIs whose Redis is unreachable (nothing listens on port 1)."""
    settings = stack.settings(redis_url="redis://127.0.0.1:1/0", redis_namespace="down")
    fast_proc, fast_url = stack.start_api(settings)
    slow_proc, slow_url = stack.start_api(settings.model_copy(update={"api_fast_path": False}))
    with httpx.Client(base_url=fast_url, timeout=60) as fast, httpx.Client(base_url=slow_url, timeout=60) as slow:
        yield Pair(fast, slow, settings)
        assert _latency_counts(fast) == _latency_counts(slow)
    _stop(stack, [fast_proc, slow_proc])


@pytest.mark.parametrize(
    "path",
    [
        "/api/courseware/course/course-v1:edX+DemoX+Demo_Course",
        "/api/courseware/resume/course-v1:edX+DemoX+Demo_Course",
        "/api/courseware/sequence/block-v1:edX+DemoX+Demo_Course+type@sequential+block@s1",
        "/api/learner_home/v1/programs/",
    ],
)
def test_fast_path_answers_503_with_request_id_like_fastapi_when_redis_is_down(down_pair: Pair, path: str) -> None:
    r = down_pair.compare("GET", path, _jwt(down_pair, 42), fast=True)
    assert r.status_code == 503 and r.json()["request_id"] == "req-42"
    r = down_pair.compare("HEAD", path, {**_jwt(down_pair, 42), "Origin": ORIGIN}, fast=True)
    assert r.status_code == 503 and r.content == b""
