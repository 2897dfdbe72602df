"""Freshness (API.md "Freshness"): read-your-writes tokens and change-aware long polling, through
the real projector, Redis and two API processes on the same Redis (A: defaults; B: at most two held
long polls), so neither the token nor the wake-ups may depend on process-local state."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.builders import COURSE, PROGRAM, at, block, course_published, enrollment, preference, program_changed
from tests.pipeline import Pipeline
from tools.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

COURSE_URL = f"/api/courseware/course/{COURSE}"
TIMEZONE_URL = COURSE_URL + "?requested_fields=user_timezone"
CELEBRATION_URL = f"/api/courseware/celebration/{COURSE}"
LEARNERS = range(60, 70)
WAIT = 10  # seconds a held request asks for; every wake-up must come well before


@dataclass
class Apis:
    pipeline: Pipeline
    a: str  # the pipeline's own API process
    b: str  # a second API process on the same Redis, LP_LONGPOLL_MAX_HELD=2


@pytest.fixture(scope="module")
def apis(stack: Stack) -> Iterator[Apis]:
    # A generous freshness bound: the assertion is that the wait ends fresh, not how fast a shared
    # 2-core machine gets there (bench/longpoll.py measures that).
    p = Pipeline.create(stack, freshness_wait_ms=10_000).start()
    proc_b, url_b = stack.start_api(p.settings.model_copy(update={"longpoll_max_held": 2}))
    p.produce([course_published(), program_changed(), *(enrollment("created", uid) for uid in LEARNERS)])
    p.wait_applied()
    yield Apis(p, p.api_url, url_b)
    stack.stop_child(proc_b)
    p.stop()


def get(apis: Apis, base: str, path: str, uid: int, **headers: str) -> httpx.Response:
    auth = {"Authorization": f"JWT {apis.pipeline.token(uid)}"}
    return httpx.get(base + path, headers={**auth, **headers}, timeout=WAIT + 20)


def long_poll(apis: Apis, base: str, path: str, uid: int, wait: float = WAIT) -> tuple[httpx.Response, httpx.Response]:
    """The current answer, then the long poll on it (with the time it took in `.elapsed`)."""
    first = get(apis, base, path, uid)
    assert first.status_code == 200, first.text
    return first, get(apis, base, path, uid, **{"If-None-Match": first.headers["etag"], "Prefer": f"wait={wait}"})


def hold(pool: ThreadPoolExecutor, apis: Apis, base: str, path: str, uid: int) -> tuple[httpx.Response, Future[Any]]:
    first = get(apis, base, path, uid)
    assert first.status_code == 200, first.text
    headers = {"If-None-Match": first.headers["etag"], "Prefer": f"wait={WAIT}"}
    held = pool.submit(_timed, get, apis, base, path, uid, **headers)
    time.sleep(0.5)  # let it reach the API and be held
    assert not held.done()
    return first, held


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = fn(*args, **kwargs)
    return response, time.monotonic() - started


def post_celebration(apis: Apis, base: str, uid: int) -> httpx.Response:
    auth = {"Authorization": f"JWT {apis.pipeline.token(uid)}"}
    return httpx.post(base + CELEBRATION_URL, json={"first_section": False}, headers=auth, timeout=15)


# Read-your-writes ---------------------------------------------------------------------------------


def test_read_with_the_token_of_a_celebration_post_already_shows_the_flag_cleared(apis: Apis) -> None:
    before = get(apis, apis.a, COURSE_URL + "?requested_fields=celebrations", 60)
    assert before.json()["celebrations"]["first_section"] is True
    posted = post_celebration(apis, apis.a, 60)
    assert posted.status_code == 202
    r = get(
        apis,
        apis.a,
        COURSE_URL + "?requested_fields=celebrations",
        60,
        **{"X-Read-Model-Min-Token": posted.headers["X-Read-Model-Token"]},
    )
    assert r.status_code == 200 and r.headers["X-Read-Model-Fresh"] == "true"
    assert r.json()["celebrations"]["first_section"] is False


def test_token_from_one_api_process_is_honoured_by_a_read_on_another(apis: Apis) -> None:
    posted = post_celebration(apis, apis.a, 61)
    assert posted.status_code == 202
    r = get(
        apis,
        apis.b,
        COURSE_URL + "?requested_fields=celebrations",
        61,
        **{"X-Read-Model-Min-Token": posted.headers["X-Read-Model-Token"]},
    )
    assert r.status_code == 200 and r.headers["X-Read-Model-Fresh"] == "true"
    assert r.json()["celebrations"]["first_section"] is False


# Long polling -------------------------------------------------------------------------------------


def test_long_poll_wakes_with_the_new_body_when_the_projector_applies_a_change(apis: Apis) -> None:
    with ThreadPoolExecutor(1) as pool:
        first, held = hold(pool, apis, apis.a, TIMEZONE_URL, 62)
        apis.pipeline.produce([preference(62, "time_zone", "Europe/Paris")])
        r, elapsed = held.result(timeout=WAIT + 20)
    assert r.status_code == 200 and r.json() == {"user_timezone": "Europe/Paris"}
    assert r.headers["etag"] != first.headers["etag"]
    assert elapsed < WAIT - 2  # woken by the change, not by the end of its wait


def test_long_poll_is_not_woken_by_a_change_that_leaves_its_body_as_it_was(apis: Apis) -> None:
    with ThreadPoolExecutor(1) as pool:
        _, held = hold(pool, apis, apis.a, TIMEZONE_URL, 63)
        # Changes the learner's facts (and wakes the request to re-check), not this body.
        apis.pipeline.produce([preference(63, "pref-lang", "fr")])
        apis.pipeline.wait_applied()
        time.sleep(0.5)
        assert not held.done()
        apis.pipeline.produce([preference(63, "time_zone", "Asia/Tokyo")])
        r, _ = held.result(timeout=WAIT + 20)
    assert r.status_code == 200 and r.json() == {"user_timezone": "Asia/Tokyo"}


def test_long_poll_on_a_program_route_wakes_when_the_program_changes(apis: Apis) -> None:
    with ThreadPoolExecutor(1) as pool:
        first, held = hold(pool, apis, apis.a, "/api/dashboard/v0/programs/", 64)
        assert first.json()[0]["title"] == "Program"
        apis.pipeline.produce([program_changed(title="Renamed program", time=at(1))])
        r, elapsed = held.result(timeout=WAIT + 20)
    assert r.status_code == 200 and r.json()[0]["title"] == "Renamed program"
    assert elapsed < WAIT - 2


@pytest.mark.parametrize(
    "path",
    [
        COURSE_URL,
        f"/api/courseware/resume/{COURSE}",
        f"/api/courseware/sequence/{block(COURSE, 'sequential', 's1')}",
        "/api/dashboard/v0/programs/",
        f"/api/learner_home/v1/programs/{PROGRAM}/progress_details/",
    ],
)
def test_long_poll_without_change_returns_304_after_its_wait(apis: Apis, path: str) -> None:
    started = time.monotonic()
    _, r = long_poll(apis, apis.a, path, 65, wait=1)
    assert r.status_code == 304 and r.content == b"" and "etag" in r.headers
    assert time.monotonic() - started >= 1  # it was held for its wait


def test_long_poll_with_a_malformed_or_zero_wait_answers_at_once(apis: Apis) -> None:
    for prefer in ("wait=abc", "wait=-5", "wait=0"):
        first = get(apis, apis.a, COURSE_URL, 66)
        r = get(apis, apis.a, COURSE_URL, 66, **{"If-None-Match": first.headers["etag"], "Prefer": prefer})
        assert r.status_code == 304 and r.elapsed.total_seconds() < 1  # not held: answered at once


def test_held_request_cap_answers_the_excess_at_once_with_the_current_state(apis: Apis) -> None:
    with ThreadPoolExecutor(2) as pool:
        first, held_1 = hold(pool, apis, apis.b, TIMEZONE_URL, 67)
        _, held_2 = hold(pool, apis, apis.b, TIMEZONE_URL, 67)
        (third, elapsed) = _timed(
            get, apis, apis.b, TIMEZONE_URL, 67, **{"If-None-Match": first.headers["etag"], "Prefer": f"wait={WAIT}"}
        )
        assert third.status_code == 304 and elapsed < WAIT - 2  # not held: API B already holds its 2
        assert not held_1.done() and not held_2.done()
        # A change applied through Redis wakes both held requests of the second process.
        apis.pipeline.produce([preference(67, "time_zone", "America/Lima")])
        answers = [held.result(timeout=WAIT + 20) for held in (held_1, held_2)]
    for r, took in answers:
        assert r.status_code == 200 and r.json() == {"user_timezone": "America/Lima"} and took < WAIT - 2
