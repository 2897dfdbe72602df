"""The HTTP platform in process (no Redis, no Kafka needed for these paths): key parsing, error
bodies per router, CORS, OPTIONS/405/413, ETag matching, masquerade rules, tokens, clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import orjson
import pytest

from api import clock
from api.answer import etag_matches, etag_of
from api.app import create_app
from api.auth import Caller
from api.change_feed import ChangeFeed, prefer_wait
from api.errors import ApiError
from api.masquerade import authorize
from api.path_keys import parse_course_key, parse_usage_key
from readmodels import keys
from readmodels.facts import UserFacts
from readmodels.readers import Who
from readmodels.settings import load_settings
from readmodels.tokens import Position, TokenError, decode_token, encode_token

CK = "course-v1:edX+DemoX+Demo_Course"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(load_settings(redis_url="redis://127.0.0.1:1/0", kafka_bootstrap="127.0.0.1:1"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


@pytest.mark.parametrize("raw", [CK, CK + "/", "edX/DemoX/Demo_Course", "course-v1:a+b+c"])
def test_parse_course_key_accepts_current_and_legacy_keys(raw: str) -> None:
    key, parsed = parse_course_key(raw)
    assert key == raw.removesuffix("/") and parsed.org


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "x",
        "course-v1:a+b*+c",
        "course-v1:a+b?+c",
        "course-v1:a+[b]+c",
        "course-v1:a+b\n+c",
        "course-v1:a+..+c",
        "course-v1:a+" + "b" * 3000 + "+c",
        "course-v1:a+b c+d",
    ],
)
def test_parse_course_key_rejects_with_400_naming_the_key(raw: str) -> None:
    with pytest.raises(ApiError) as err:
        parse_course_key(raw)
    assert err.value.status_code == 400 and err.value.message.startswith("Invalid course key: '")
    assert len(err.value.message) < 300


def test_parse_usage_key_rejects_with_404() -> None:
    assert parse_usage_key("block-v1:a+b+c+type@sequential+block@s/")[0] == "block-v1:a+b+c+type@sequential+block@s"
    with pytest.raises(ApiError) as err:
        parse_usage_key("block-v1:a+b+c+type@*+block@s")
    assert err.value.status_code == 404


def test_etag_matching() -> None:
    tag = etag_of(b"{}")
    assert etag_matches(tag, tag) and etag_matches(f'"x", W/{tag}', tag) and etag_matches("*", tag)
    assert not etag_matches('"x"', tag)


def test_read_model_token_round_trip() -> None:
    pos = Position("t.learning-learner-activity", 3, 1234)
    assert decode_token(encode_token(pos)) == pos
    assert pos.applied_by(1235) and not pos.applied_by(1234)
    with pytest.raises(TokenError):
        decode_token("garbage!")


def _who(uid: int | None, unknown: bool = False, roles: dict[str, str] | None = None) -> Who:
    return Who(uid, unknown, UserFacts(None, roles or {}))


def test_masquerade_authorization() -> None:
    learner = Caller(7, "learner7", False)
    admin = Caller(1, "admin", True)
    assert authorize(learner, "", _who(7), CK, "edX").masquerading is False
    assert authorize(admin, "learner9", _who(9), CK, "edX").masquerading is True
    with pytest.raises(ApiError) as forbidden:
        authorize(learner, "learner9", _who(9), CK, "edX")
    assert forbidden.value.status_code == 403
    with pytest.raises(ApiError) as unknown:
        authorize(admin, "ghost", _who(None, unknown=True), CK, "edX")
    assert unknown.value.status_code == 404
    staff_roles = {f"role:edX\t{CK}\tstaff": "0000000000000001|x\ttrue"}
    assert authorize(learner, "learner9", _who(9, roles=staff_roles), CK, "edX").caller_is_staff


def test_clock_honours_fake_now_only_when_set() -> None:
    fixed = datetime(2026, 3, 11, tzinfo=UTC)
    assert clock.now(load_settings(fake_now=fixed)) == fixed
    assert abs((clock.now(load_settings()) - datetime.now(UTC)).total_seconds()) < 60


async def test_errors_use_the_routers_key(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/courseware/course/nope")
    assert r.status_code == 400 and r.json() == {"developer_message": "Invalid course key: 'nope'."}
    assert r.headers["etag"] == etag_of(r.content) and r.headers["content-type"] == "application/json"
    r = await client.get("/api/dashboard/v0/programs/")
    assert r.status_code == 401 and "detail" in r.json()


async def test_redis_down_is_503_with_request_id(client: httpx.AsyncClient) -> None:
    r = await client.get(f"/api/courseware/course/{CK}")
    assert r.status_code == 503 and r.json()["request_id"] == r.headers["x-request-id"]
    r = await client.get("/api/dashboard/v0/programs/", headers={"Authorization": "JWT x"})
    assert r.status_code == 401  # auth is checked before Redis


async def test_options_405_413_and_cors(client: httpx.AsyncClient) -> None:
    r = await client.options(f"/api/courseware/celebration/{CK}")
    assert r.status_code == 200 and r.headers["allow"] == "OPTIONS, POST"
    r = await client.put(f"/api/courseware/course/{CK}")
    assert r.status_code == 405 and "developer_message" in r.json() and "GET" in r.headers["allow"]
    r = await client.post(f"/api/courseware/celebration/{CK}", content=b"x" * 70_000)
    assert r.status_code == 413
    r = await client.options(
        f"/api/courseware/course/{CK}",
        headers={
            "Origin": "http://localhost:2000",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "USE-JWT-COOKIE, X-CSRFToken, Content-Type",
        },
    )
    assert r.status_code == 200 and r.headers["access-control-allow-credentials"] == "true"
    r = await client.get("/api/courseware/course/nope", headers={"Origin": "http://localhost:2000"})
    assert r.headers["access-control-allow-origin"] == "http://localhost:2000"
    assert "Date" in r.headers["access-control-expose-headers"]


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, 0.0),
        ("wait=5", 5.0),
        ("respond-async, wait=2.5", 2.5),
        ("wait=999", 30.0),
        ("wait=x", 0.0),
        ("wait=-3", 0.0),
        ("return=minimal", 0.0),
        ("wait=nan", 0.0),
    ],
)
def test_prefer_wait_is_parsed_and_cut_to_30s(header: str | None, seconds: float) -> None:
    assert prefer_wait(header) == seconds


def test_change_feed_bounds_held_requests() -> None:
    feed = ChangeFeed("redis://127.0.0.1:1/0", "ns", max_held=1)
    watch = feed.hold(7)
    assert watch is not None and feed.hold(8) is None
    feed.release(watch)
    assert feed.hold(8) is not None and feed.held == 1


async def test_change_feed_wakes_only_watches_a_change_concerns() -> None:
    feed = ChangeFeed("redis://127.0.0.1:1/0", "ns", max_held=10)
    feed.connected = True
    mine, other, staff = feed.hold(7), feed.hold(8), feed.hold(None, everything=True)
    assert mine is not None and other is not None and staff is not None
    feed.dispatch(b"ns:changed", orjson.dumps(["ns:g1:", [keys.completions(7, "course-v1:a+b+c"), keys.activity(7)]]))
    assert await feed.wait(mine, 30) and await feed.wait(staff, 30)
    assert not other.changed.is_set() and not mine.changed.is_set()  # re-armed for the next wait
    feed.dispatch(b"ns:changed", b'["ns:g1:", ["unames"]]')  # resolves masquerades only
    assert staff.changed.is_set() and not other.changed.is_set() and not mine.changed.is_set()
    feed.dispatch(b"ns:changed", orjson.dumps(["ns:g1:", [keys.course("course-v1:a+b+c")]]))  # reference data: everyone
    assert other.changed.is_set() and mine.changed.is_set()


async def test_change_feed_wakes_every_waiter_on_a_generation_switch() -> None:
    feed = ChangeFeed("redis://127.0.0.1:1/0", "ns", max_held=10)
    watch = feed.hold(7)
    assert watch is not None
    with feed.expecting("t:0", 10**9) as expect:
        feed.dispatch(b"ns:generation", b"2")
        assert expect.applied.is_set() and watch.changed.is_set()


async def test_change_feed_wakes_a_freshness_wait_once_its_offset_is_applied() -> None:
    feed = ChangeFeed("redis://127.0.0.1:1/0", "ns", max_held=1)
    with feed.expecting("t:0", 41) as expect:
        feed.dispatch(b"ns:applied", b'["ns:g1:", [["t:0", 41], ["t:1", 99]]]')  # next offset 41: not yet
        assert not expect.applied.is_set()
        feed.dispatch(b"ns:applied", b'["ns:g1:", [["t:0", 42]]]')
        assert expect.applied.is_set()


async def test_change_feed_shares_one_re_read_among_watches_woken_by_the_same_change() -> None:
    feed = ChangeFeed("redis://127.0.0.1:1/0", "ns", max_held=10)
    feed.connected = True
    first, second = feed.hold(7), feed.hold(7)
    assert first is not None and second is not None
    reads = 0
    release = asyncio.Event()

    async def read() -> int:
        nonlocal reads
        reads += 1
        mine = reads
        await release.wait()
        return mine

    feed.dispatch(b"ns:changed", orjson.dumps(["ns:g1:", [keys.user(7)]]))
    assert await feed.wait(first, 30) and await feed.wait(second, 30)
    shared = [asyncio.create_task(feed.reread(w, "key", read)) for w in (first, second)]
    await asyncio.sleep(0)
    # lands while that read runs: it may have missed it
    feed.dispatch(b"ns:changed", orjson.dumps(["ns:g1:", [keys.user(7)]]))
    assert await feed.wait(first, 30)
    later = asyncio.create_task(feed.reread(first, "key", read))
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*shared, later) == [1, 1, 2]
