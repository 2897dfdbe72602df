"""Benchmark: long polling (`If-None-Match` + `Prefer: wait`), against one dedicated uvicorn worker
on the suite's Redis and projector (left running), so its memory and CPU are its own.

- Wake-up latency: each round holds `WAKE_HELD` long polls of one probe learner on the resume
  route (which emits no events of its own), produces one completion that moves the learner's resume
  point (alternating between two blocks of a course of the history), and measures, for every held
  request, the time from the projector's PUBLISH of the change (seen by a subscriber of ours on the
  same Redis channel the API listens to) to the response's status line; produce -> response too.
- Held requests one worker sustains: opens `held` long polls (30 s waits) on plain sockets in
  batches, then reports how many are still held, the worker's RSS (and per held request) and its
  CPU over a few idle seconds with all of them held.

Traffic only to 127.0.0.1. Every loop is bounded (rounds, batches, timeouts).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis

from api.auth import make_token
from bench.common import Row, percentile
from bench.history import History
from events import REGISTRY, Event, encode
from events.completion import BlockCompletionChanged
from readmodels import keys
from readmodels.settings import Settings
from tools.produce import topic_for
from tools.stack import Stack

PROBE_USER = 987_700_001
WAKE_HELD = 50
WAKE_ROUNDS = 12
WAKE_WAIT_S = 10
P99_TARGET_MS = 100.0
HELD_TARGET = 1000
IDLE_S = 3.0
SETTLE_S = 10.0
BATCH = 200
BATCH_PAUSE_S = 0.4
ROUND_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    path: str
    token: str


async def _request(target: Target, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], float]:
    """One HTTP/1.1 GET on its own connection: (status, headers, monotonic time of the status line)."""
    reader, writer = await asyncio.open_connection(target.host, target.port)
    try:
        lines = [
            f"GET {target.path} HTTP/1.1",
            f"Host: {target.host}",
            f"Authorization: JWT {target.token}",
            "Connection: close",
            *(f"{k}: {v}" for k, v in (headers or {}).items()),
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await writer.drain()
        status_line = await reader.readline()
        at = time.monotonic()
        if not status_line:
            raise ConnectionError("the API closed the connection without answering")
        got: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            got[name.strip().lower()] = value.strip()
        return int(status_line.split()[1]), got, at
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _held(target: Target, headers: dict[str, str]) -> tuple[int, dict[str, str], float]:
    """A long poll; a connection the loaded machine refused or reset before any answer is retried once."""
    try:
        return await _request(target, headers)
    except (ConnectionResetError, ConnectionRefusedError):
        await asyncio.sleep(0.5)
        return await _request(target, headers)


async def _etag(target: Target) -> str:
    status, headers, _ = await _request(target)
    if status != 200:
        raise RuntimeError(f"GET {target.path} answered {status}")
    return headers["etag"]


def _two_blocks(history: History) -> tuple[str, list[str]]:
    """A course of the history and two leaf blocks of its outline (the resume point alternates)."""
    for event in history.events:
        if event.type != "ext.content.course.published.v1":
            continue
        course = event.data.model_dump(mode="json")["course"]
        leaves = [
            b["block_key"]
            for ch in course.get("outline", [])
            for s in ch.get("sequences", [])
            for u in s.get("units", [])
            for b in u.get("blocks", [])
        ]
        if len(leaves) >= 2:
            return course["course_key"], leaves[:2]
    raise RuntimeError("the history has no published course with two blocks")


def _completion(course_key: str, block_key: str) -> Event[Any]:
    now = datetime.now(UTC)
    data = {
        "completion": {
            "user_id": PROBE_USER,
            "course_key": course_key,
            "block_key": block_key,
            "completion": 1.0,
            "modified": now.isoformat(),
        }
    }
    cls = REGISTRY[BlockCompletionChanged.TYPE]
    return Event(type=cls.TYPE, id=str(uuid.uuid4()), time=now, data=cls.model_validate(data))


async def wake_latency(
    settings: Settings,
    target: Target,
    course_key: str,
    blocks: list[str],
    *,
    held: int = WAKE_HELD,
    rounds: int = WAKE_ROUNDS,
) -> dict[str, Any]:
    redis = Redis.from_url(settings.redis_url)
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(keys.changed_channel(settings.redis_namespace))
    mine = f'"{keys.user(PROBE_USER)}"'.encode()
    published: asyncio.Queue[float] = asyncio.Queue()

    async def listen() -> None:
        async for message in pubsub.listen():
            if mine in message["data"]:
                published.put_nowait(time.monotonic())

    listener = asyncio.create_task(listen())
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=0)
    await producer.start()
    from_publish: list[float] = []
    from_produce: list[float] = []
    missed = 0
    per_round: list[float] = []  # the last answer of each round, ms after the PUBLISH
    try:
        for n in range(rounds):
            etag = await _etag(target)
            poll = {"If-None-Match": etag, "Prefer": f"wait={WAKE_WAIT_S}"}
            tasks = [asyncio.create_task(_request(target, poll)) for _ in range(held)]
            await asyncio.sleep(0.5 + held / 1000)  # all of them reach the API and are held
            while not published.empty():
                published.get_nowait()
            event = _completion(course_key, blocks[n % 2])
            headers, value = encode(event)
            produced_at = time.monotonic()
            await producer.send_and_wait(
                topic_for(event, settings.topic_prefix), value, key=event.data.partition_key().encode(), headers=headers
            )
            answers = await asyncio.wait_for(asyncio.gather(*tasks), ROUND_TIMEOUT_S)
            published_at = await asyncio.wait_for(published.get(), ROUND_TIMEOUT_S)
            per_round.append(round((max(a[2] for a in answers) - published_at) * 1000, 1))
            for status, _headers, at in answers:
                if status != 200:
                    missed += 1
                    continue
                from_publish.append((at - published_at) * 1000)
                from_produce.append((at - produced_at) * 1000)
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
        await producer.stop()
        await pubsub.aclose()
        await redis.aclose()
    return {
        "held_per_round": held,
        "rounds": rounds,
        "responses": len(from_publish),
        "not_woken": missed,
        "p50_ms": percentile(from_publish, 50),
        "p99_ms": percentile(from_publish, 99),
        "max_ms": max(from_publish, default=None),
        "produce_p50_ms": percentile(from_produce, 50),
        "produce_p99_ms": percentile(from_produce, 99),
        "last_answer_per_round_ms": per_round,
    }


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def held_capacity(target: Target, pid: int, count: int) -> dict[str, Any]:
    rss_before = _rss_mib(pid)
    etag = await _etag(target)
    poll = {"If-None-Match": etag, "Prefer": "wait=30"}
    tasks: list[asyncio.Task[tuple[int, dict[str, str], float]]] = []
    opened_at = time.monotonic()
    try:
        for start in range(0, count, BATCH):
            batch = [asyncio.create_task(_held(target, poll)) for _ in range(min(BATCH, count - start))]
            tasks.extend(batch)
            await asyncio.sleep(BATCH_PAUSE_S)  # within the listen backlog of a busy machine
        open_s = time.monotonic() - opened_at
        # Until the worker has read every request in (its CPU settles), at most SETTLE_S.
        settle_until = time.monotonic() + SETTLE_S
        settled = False
        while not settled and time.monotonic() < settle_until:
            cpu = _cpu_seconds(pid)
            await asyncio.sleep(0.5)
            settled = _cpu_seconds(pid) - cpu < 0.025
        held = sum(not t.done() for t in tasks)
        cpu_before = _cpu_seconds(pid)
        await asyncio.sleep(IDLE_S)
        idle_cpu = (_cpu_seconds(pid) - cpu_before) / IDLE_S * 100
        still = sum(not t.done() for t in tasks)
        rss = _rss_mib(pid)
        answered_early = Counter(
            str(t.result()[0]) if t.exception() is None else type(t.exception()).__name__ for t in tasks if t.done()
        )
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "requested": count,
        "held": min(held, still),
        "open_s": round(open_s, 1),
        "rss_mib": round(rss, 1),
        "rss_before_mib": round(rss_before, 1),
        "kib_per_held": round((rss - rss_before) * 1024 / max(1, still), 1),
        "idle_cpu_percent": round(idle_cpu, 2),
        "settled": settled,
        "answered_early": dict(answered_early),
        "failed": sum(t.done() and not t.cancelled() and t.exception() is not None for t in tasks),
    }


def run(stack: Stack, settings: Settings, history: History, *, held: int, log: Path) -> list[Row]:
    """Start one API worker of our own (cap above `held`), measure, stop it."""
    api_settings = settings.model_copy(update={"longpoll_max_held": held + WAKE_HELD})
    proc, url = stack.start_api(api_settings, log=log)
    try:
        parts = urlsplit(url)
        course_key, blocks = _two_blocks(history)
        token = make_token(settings, PROBE_USER, f"probe{PROBE_USER}", ttl=3600)
        target = Target(parts.hostname or "127.0.0.1", parts.port or 80, f"/api/courseware/resume/{course_key}", token)
        wake = asyncio.run(wake_latency(settings, target, course_key, blocks))
        capacity = asyncio.run(held_capacity(target, proc.pid, held))
    finally:
        stack.stop_child(proc)
    return [_wake_row(wake), _capacity_row(capacity)]


def _ms(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def _wake_row(r: dict[str, Any]) -> Row:
    p99 = r["p99_ms"] if not r["not_woken"] else None
    return Row(
        id="longpoll_wake",
        name="Long poll: change applied -> held requests answered",
        value=_ms(r["p99_ms"]),
        unit="ms (p99)",
        target=f"p99 < {P99_TARGET_MS:.0f} ms",
        met=p99 is not None and p99 < P99_TARGET_MS,
        p50_ms=_ms(r["p50_ms"]),
        p99_ms=_ms(r["p99_ms"]),
        note=f"{r['rounds']} rounds of {r['held_per_round']} held requests woken by one change (from the "
        f"projector's PUBLISH); produce -> response p50 {_ms(r['produce_p50_ms'])} ms, p99 "
        f"{_ms(r['produce_p99_ms'])} ms; {r['not_woken']} not woken",
        detail=r,
    )


def _capacity_row(r: dict[str, Any]) -> Row:
    return Row(
        id="longpoll_held",
        name="Long poll: held requests one worker sustains",
        value=float(r["held"]),
        unit="held",
        target=f">= {HELD_TARGET:,} held, idle CPU ~0",
        met=r["held"] >= min(HELD_TARGET, r["requested"]),
        note=f"{r['held']:,} of {r['requested']:,} held (opened in {r['open_s']} s); worker RSS "
        f"{r['rss_mib']} MiB ({r['rss_before_mib']} MiB before, {r['kib_per_held']} KiB per held request); "
        f"worker CPU while they wait {r['idle_cpu_percent']}%"
        + ("" if r["settled"] else f" (still reading requests in after {SETTLE_S:.0f} s)"),
        detail=r,
    )
