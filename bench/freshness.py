"""Benchmark 4: freshness. Events are produced at a steady 1,000/s (learner activity of the
history - visits, completions, grades - replayed with the time now); among them, one probe at a
time changes the enrollment mode of a dedicated probe learner, and the probe's latency is the time
from handing the event to the producer until GET course returns the new mode (polled every few
milliseconds, as global staff masquerading as the probe learner, so polls emit no visit events)."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis

from api.auth import make_token
from bench.common import Row, checkpoints, percentile, wait_applied
from bench.history import History
from events import REGISTRY, Event, encode
from events.activity import CoursewareVisited
from events.completion import BlockCompletionChanged
from events.enrollment import CourseEnrollmentCreated
from events.grades import PersistentGradeSummaryChanged, SubsectionGradeChanged
from readmodels.settings import Settings
from tools.produce import topic_for

P99_TARGET_MS = 50.0
PROBE_USER = 987_654_321
PROBE_STAFF = 987_654_320
POLL_S = 0.003
PROBE_TIMEOUT_S = 5.0

Encoded = tuple[str, bytes | None, list[tuple[str, bytes]], bytes]


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _now() -> str:
    return _iso(datetime.now(UTC))


def _restamp(template: Event[Any], edit: Callable[[dict[str, Any]], None] | None = None) -> Event[Any]:
    """A copy of a history event with a new id, the time now, and its payload's own times now.

    Going through the payload as JSON keeps this independent of the event schemas."""
    data = template.data.model_dump(mode="json")
    _times_now(data)
    if edit is not None:
        edit(data)
    cls = REGISTRY[template.type]
    return Event(type=template.type, id=str(uuid.uuid4()), time=datetime.now(UTC), data=cls.model_validate(data))


def _times_now(node: Any) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("visited_at", "modified") and isinstance(v, str):
                node[k] = _now()
            else:
                _times_now(v)
    elif isinstance(node, list):
        for v in node:
            _times_now(v)


def _encoded(event: Event[Any], prefix: str) -> Encoded:
    headers, value = encode(event)
    return topic_for(event, prefix), event.data.partition_key().encode() or None, headers, value


def _probe_enrollment(template: Event[Any], ck: str, mode: str) -> Event[Any]:
    def edit(data: dict[str, Any]) -> None:
        e = data["enrollment"]
        e["user"]["id"] = PROBE_USER
        e["user"].setdefault("pii", {})["username"] = f"probe{PROBE_USER}"
        e["course"]["course_key"] = ck
        e["mode"], e["is_active"], e["creation_date"] = mode, True, _now()

    return _restamp(template, edit)


FILLER_TYPES = (CoursewareVisited, BlockCompletionChanged, PersistentGradeSummaryChanged, SubsectionGradeChanged)


def filler(history: History, count: int, prefix: str, seed: int = 11) -> list[Encoded]:
    """Learner events of the history, replayed with the time now (so they write, as live ones do)."""
    rng = random.Random(seed)
    pool = [e for e in history.events if isinstance(e.data, FILLER_TYPES)]
    if not pool:
        raise RuntimeError("the history has no learner activity to replay as background load")
    return [_encoded(_restamp(pool[rng.randrange(len(pool))]), prefix) for _ in range(count)]


async def _mode(client: httpx.AsyncClient, url: str, token: str) -> str | None:
    r = await client.get(url, headers={"Authorization": f"JWT {token}"})
    if r.status_code != 200:
        return None
    mode = r.json().get("enrollment", {}).get("mode")
    return str(mode) if mode is not None else None


async def measure(settings: Settings, history: History, api_url: str, *, seconds: float,
                  rate: int = 1000) -> dict[str, Any]:
    ck = history.enrollments[0][1]
    template = next(e for e in history.events if isinstance(e.data, CourseEnrollmentCreated))
    prefix = settings.topic_prefix
    # Polled as global staff masquerading as the probe learner: the same answer, and (unlike the
    # learner's own read) no visit event per poll added to the load being measured.
    token = make_token(settings, PROBE_STAFF, "bench-staff", administrator=True, ttl=3600)
    url = f"{api_url}/api/courseware/course/{ck}?username=probe{PROBE_USER}"
    background = filler(history, int(seconds * rate) + rate, prefix)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=5)
    await producer.start()
    latencies: list[float] = []
    timeouts = 0
    sent = 0
    try:
        async with httpx.AsyncClient(timeout=5, limits=httpx.Limits(max_keepalive_connections=4)) as client:
            t, k, h, v = _encoded(_probe_enrollment(template, ck, "audit"), prefix)
            await (await producer.send(t, v, key=k, headers=h))
            deadline = time.monotonic() + 60
            while await _mode(client, url, token) != "audit":
                if time.monotonic() > deadline:
                    raise TimeoutError("the probe learner's enrollment never showed in the API")
                await asyncio.sleep(0.05)

            started = time.monotonic()
            stop_at = started + seconds
            futures: list[asyncio.Future[Any]] = []

            async def send_background() -> None:
                nonlocal sent
                while time.monotonic() < stop_at and sent < len(background):
                    due = min(len(background), int((time.monotonic() - started) * rate))
                    while sent < due:
                        t, k, h, v = background[sent]
                        futures.append(await producer.send(t, v, key=k, headers=h))
                        sent += 1
                    await asyncio.sleep(0.005)

            sender = asyncio.create_task(send_background())
            modes = ("verified", "audit")
            n = 0
            rng = random.Random(5)
            while time.monotonic() < stop_at:
                n += 1
                mode = modes[n % 2]
                t, k, h, v = _encoded(_probe_enrollment(template, ck, mode), prefix)
                t0 = time.perf_counter()
                fut = await producer.send(t, v, key=k, headers=h)
                seen = False
                while time.perf_counter() - t0 < PROBE_TIMEOUT_S:
                    if await _mode(client, url, token) == mode:
                        seen = True
                        break
                    await asyncio.sleep(POLL_S)
                if seen:
                    latencies.append((time.perf_counter() - t0) * 1000)
                else:
                    timeouts += 1
                await fut
                await asyncio.sleep(rng.uniform(0.0, 0.03))
            await sender
            ends: dict[tuple[str, int], int] = {}
            for f in futures:
                meta = await f
                tp = (meta.topic, meta.partition)
                ends[tp] = max(ends.get(tp, 0), meta.offset + 1)
            elapsed = time.monotonic() - started
            # How far behind the projector was when the load stopped: time to apply what was sent.
            lag = await backlog(settings, ends)
            drained = await wait_applied(settings.redis_url, settings.redis_namespace, ends, started=time.monotonic(),
                                         limit_s=300, alive=lambda: True)
            drain_s = (drained.done_at or 0) - drained.started
    finally:
        await producer.stop()
    return {"probes": len(latencies), "timeouts": timeouts, "p50_ms": percentile(latencies, 50),
            "p99_ms": percentile(latencies, 99), "max_ms": max(latencies, default=None),
            "background_events": sent, "background_rate": round(sent / elapsed, 1), "seconds": round(elapsed, 1),
            "poll_interval_ms": POLL_S * 1000, "backlog_at_end": lag, "drain_s": round(drain_s, 2)}


async def backlog(settings: Settings, ends: dict[tuple[str, int], int]) -> int:
    redis = Redis.from_url(settings.redis_url)
    try:
        done = await checkpoints(redis, settings.redis_namespace)
    finally:
        await redis.aclose()
    return sum(max(0, off - done.get(f"{t}:{p}", 0)) for (t, p), off in ends.items())


def run(settings: Settings, history: History, api_url: str, *, seconds: float) -> Row:
    r = asyncio.run(measure(settings, history, api_url, seconds=seconds))
    p99 = r["p99_ms"] if not r["timeouts"] else None
    return Row(id="freshness", name="Freshness: produce -> API shows it (1,000 events/s)",
               value=round(r["p99_ms"], 1) if r["p99_ms"] is not None else None, unit="ms (p99)",
               target=f"p99 < {P99_TARGET_MS:.0f} ms", met=p99 is not None and p99 < P99_TARGET_MS,
               p50_ms=round(r["p50_ms"], 1) if r["p50_ms"] is not None else None,
               p99_ms=round(r["p99_ms"], 1) if r["p99_ms"] is not None else None,
               note=f"{r['probes']} probes seen, {r['timeouts']} not within {PROBE_TIMEOUT_S:.0f} s, polled every "
               f"{POLL_S * 1000:.0f} ms; background {r['background_rate']:,.0f} events/s; projector backlog when "
               f"the load stopped: {r['backlog_at_end']:,} events ({r['drain_s']:.1f} s to apply)", detail=r)
