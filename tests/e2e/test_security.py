"""Security through HTTP, covering what the route-family suites do not: forged tokens (`alg: none`,
a tampered payload) on every route, masquerade by roles that do not grant it, bodies over the limit
without a Content-Length, and keys that look like Redis patterns on every route: always 400/404
(never 500 or 503), and Redis (watched with MONITOR) never sees a KEYS or SCAN, nor the rejected
key at all."""

from __future__ import annotations

import base64
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from tests.builders import COURSE, access_role, at, block, course_published, enrollment
from tests.pipeline import Pipeline
from tools.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

ADMIN, LEARNER, OTHER = 1, 42, 43
OTHER_ORG_STAFF, REVOKED_STAFF, BETA_TESTER = 910, 911, 912
SEQUENCE = block(COURSE, "sequential", "s1")
PROGRAM = "aaaaaaaa-0000-4000-8000-00000000000a"
ENTERPRISE = "0f0e0d0c-0000-4000-8000-0000000000ee"

ROUTES = [  # (method, path, error key)
    ("GET", f"/api/courseware/course/{COURSE}", "developer_message"),
    ("GET", f"/api/courseware/resume/{COURSE}", "developer_message"),
    ("POST", f"/api/courseware/celebration/{COURSE}", "developer_message"),
    ("GET", f"/api/courseware/sequence/{SEQUENCE}", "developer_message"),
    ("GET", f"/api/dashboard/v1/programs/{PROGRAM}/progress_details/", "detail"),
    ("GET", f"/api/dashboard/v0/programs/{ENTERPRISE}/", "detail"),
    ("GET", "/api/learner_home/v1/programs/", "detail"),
]


@pytest.fixture(scope="module")
def pipeline(stack: Stack) -> Iterator[Pipeline]:
    p = Pipeline.create(stack).start()
    p.produce(
        [
            course_published(),
            enrollment("created", LEARNER),
            enrollment("created", OTHER),
            access_role("added", OTHER_ORG_STAFF, org="OtherX", course_key="", role="instructor"),
            access_role("added", REVOKED_STAFF),
            access_role("removed", REVOKED_STAFF, time=at(10)),
            access_role("added", BETA_TESTER, role="beta_testers"),
        ]
    )
    p.wait_applied()
    yield p
    p.stop()


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()


def _claims(p: Pipeline, **changes: Any) -> dict[str, Any]:
    s = p.settings
    return {
        "user_id": LEARNER,
        "preferred_username": f"learner{LEARNER}",
        "iss": s.jwt_issuer,
        "aud": s.jwt_audience,
        "exp": int(time.time()) + 600,
        **changes,
    }


def _forged(p: Pipeline, how: str) -> str:
    if how == "alg none":
        return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(p, administrator=True))}."
    head, _, sig = p.token(LEARNER).split(".")
    return f"{head}.{_b64(_claims(p, user_id=ADMIN, administrator=True))}.{sig}"  # tampered payload


def _call(p: Pipeline, method: str, path: str, **kwargs: Any) -> httpx.Response:
    if method == "POST":
        kwargs.setdefault("json", {"first_section": False})
    return httpx.request(method, p.api_url + path, timeout=15, **kwargs)


@pytest.mark.parametrize("how", ["alg none", "tampered payload"])
@pytest.mark.parametrize(("method", "path", "key"), ROUTES)
def test_forged_token_is_401_on_every_route(pipeline: Pipeline, method: str, path: str, key: str, how: str) -> None:
    r = _call(pipeline, method, path, headers={"Authorization": f"JWT {_forged(pipeline, how)}"})
    assert r.status_code == 401, r.text
    assert key in r.json()


def _as(p: Pipeline, uid: int, **claims: Any) -> dict[str, str]:
    import jwt

    token = jwt.encode(
        _claims(p, user_id=uid, preferred_username=f"learner{uid}", **claims), p.settings.jwt_secret, algorithm="HS256"
    )
    return {"Authorization": f"JWT {token}"}


@pytest.mark.parametrize(
    ("caller", "claims"),
    [
        (OTHER_ORG_STAFF, {}),  # org-wide instructor, of another org
        (REVOKED_STAFF, {}),  # course staff whose role was removed
        (BETA_TESTER, {}),  # a course role that is not staff or instructor
        (OTHER, {"administrator": "true"}),  # global staff only with the JSON boolean true
    ],
)
@pytest.mark.parametrize(("method", "path", "key"), ROUTES[:4])
def test_masquerade_by_role_that_does_not_grant_it_is_403(
    pipeline: Pipeline, method: str, path: str, key: str, caller: int, claims: dict[str, Any]
) -> None:
    r = _call(pipeline, method, f"{path}?username=learner{LEARNER}", headers=_as(pipeline, caller, **claims))
    assert r.status_code == 403, r.text
    assert key in r.json()


def test_body_over_limit_without_content_length_is_413(pipeline: Pipeline) -> None:
    def chunks() -> Iterator[bytes]:  # chunked transfer encoding: the size is only known while reading
        yield b'{"first_section": false, "x": "'
        for _ in range(80):
            yield b"a" * 1024
        yield b'"}'

    r = httpx.post(
        pipeline.api_url + ROUTES[2][1],
        content=chunks(),
        timeout=15,
        headers={**_as(pipeline, LEARNER), "Content-Type": "application/json"},
    )
    assert r.status_code == 413 and "developer_message" in r.json()


class Monitor:
    """Redis MONITOR on a raw socket, in a thread: every command the server runs, as text lines."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self._sock.sendall(b"MONITOR\r\n")
        assert self._sock.recv(5) == b"+OK\r\n"
        self._buf = bytearray()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            while chunk := self._sock.recv(65536):
                self._buf.extend(chunk)
        except OSError:  # closed by stop()
            return

    def stop(self) -> list[str]:
        marker = f"lp-monitor-end-{uuid.uuid4().hex}"
        with socket.create_connection(("127.0.0.1", self._port), timeout=5) as s:
            s.sendall(f"ECHO {marker}\r\n".encode())
            s.recv(100)
        deadline = time.monotonic() + 10
        while marker.encode() not in self._buf and time.monotonic() < deadline:
            time.sleep(0.05)
        self._sock.close()
        return bytes(self._buf).decode(errors="replace").splitlines()


def _command(line: str) -> str:
    """`+1700000000.1 [0 127.0.0.1:5000] "EVALSHA" "..."` -> EVALSHA."""
    _, _, rest = line.partition("] ")
    return rest.split(" ", 1)[0].strip('"').upper()


BAD_KEYS = [
    "lpsec+Demo*+X",
    "lpsec+Demo%3F+X",
    "lpsec+[a-z]+X",
    "lpsec+Demo%0A+X",
    "lpsec+..+X",
    "lpsec+" + "a" * 5000 + "+X",
]


def test_pattern_like_keys_never_reach_redis_as_a_pattern(pipeline: Pipeline, stack: Stack) -> None:
    admin = _as(pipeline, ADMIN, administrator=True)
    requests: list[tuple[str, str, dict[str, str], set[int]]] = []
    for bad in BAD_KEYS:
        requests += [
            ("GET", f"/api/courseware/course/course-v1:{bad}", {}, {400}),
            ("GET", f"/api/courseware/resume/course-v1:{bad}", admin, {400}),
            ("POST", f"/api/courseware/celebration/course-v1:{bad}", admin, {400}),
            ("GET", f"/api/courseware/sequence/block-v1:{bad}+type@sequential+block@s1", {}, {404}),
            ("GET", f"/api/courseware/sequence/block-v1:edX+DemoX+Demo_Course+type@sequential+block@{bad}", {}, {404}),
            ("GET", f"/api/dashboard/v1/programs/{bad}/progress_details/", admin, {404}),
            ("GET", f"/api/dashboard/v1/programs/{bad}/", admin, {404}),
        ]
    literal = [  # reach Redis, but only as a literal argument of the route's read script
        ("GET", f"/api/courseware/course/{COURSE}?username=lpsec*", admin, {404}),
        ("GET", f"/api/courseware/resume/{COURSE}?username=lpsec%5Ba-z%5D%3F", admin, {404}),
        ("GET", f"/api/courseware/sequence/{SEQUENCE}?username=lpsec..%0A*", admin, {404}),
    ]
    monitor = Monitor(stack.redis.port)
    try:
        statuses = []
        for method, path, headers, expected in requests + literal:
            r = _call(pipeline, method, path, headers=headers)
            statuses.append(r.status_code)
            assert r.status_code in expected, (path[:120], r.status_code, r.text[:200])
    finally:
        lines = monitor.stop()
    commands = [_command(line) for line in lines if "] " in line]
    patterns = [c for c in commands if c in {"KEYS", "SCAN", "HSCAN", "SSCAN", "ZSCAN", "PSUBSCRIBE"}]
    ours = [line for line in lines if "lpsec" in line]
    print(
        f"\n{len(statuses)} requests with pattern-like keys: statuses {sorted(set(statuses))}; "
        f"Redis ran {len(commands)} commands, {len(patterns)} pattern commands; "
        f"{len(ours)} carried one of the keys (as {sorted({_command(x) for x in ours})})"
    )
    assert not patterns, patterns
    # The rejected keys never reached Redis; each username did, literally: as an argument of the
    # route's read script and, inside it, as a hash field of `unames`.
    assert sum(_command(line) in {"EVALSHA", "EVAL"} for line in ours) == len(literal)
    assert all(_command(line) in {"EVALSHA", "EVAL"} or ('"HGET"' in line and ':unames"' in line) for line in ours)
