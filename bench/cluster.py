"""The Redis Cluster rows: the projector and GET course on a 3-master cluster, beside one Redis.

The history already produced for the single-Redis rows is applied again by one worker in a
consumer group of its own, into a 3-master cluster (tools/redis_cluster_runner.py); then GET course
is timed with the same client against an API on the cluster and one on the single Redis (the
projector row's read models), one request at a time, with the API's CPU per request. The key
spread over the masters is printed. On a shared machine the CPU figures are the ones to compare.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

import httpx

from api.auth import make_token
from bench.common import CpuMeter, Row, percentile
from bench.history import History
from bench.projector import run_projector
from readmodels import keys
from readmodels.redis_client import make_cluster
from readmodels.settings import Settings
from tools.cluster_spread import key_spread, spread_line
from tools.redis_cluster_runner import RedisCluster
from tools.stack import Stack

REQUESTS = 600


def run(stack: Stack, settings: Settings, hist: History, produced: Any, *, workdir: Path, timeout: float,
        say: Any) -> list[Row]:
    cluster = RedisCluster(workdir / "redis-cluster").start()
    try:
        on_cluster = settings.model_copy(update={"redis_url": cluster.url,
                                                 "consumer_group": f"{settings.consumer_group}-cluster"})
        rows = [_projector(stack, on_cluster, cluster, produced, workdir=workdir, timeout=timeout, say=say)]
        rows += _get_course(stack, settings, on_cluster, hist, workdir=workdir, say=say)
        return rows
    finally:
        cluster.stop()


def _projector(stack: Stack, settings: Settings, cluster: RedisCluster, produced: Any, *, workdir: Path,
               timeout: float, say: Any) -> Row:
    _, detail = run_projector(stack, settings, produced, log=workdir / "projector-cluster.log", timeout=timeout,
                              metered={f"redis{i}": s.proc.pid if s.proc else None
                                       for i, s in enumerate(cluster.servers)})
    projector_us = detail["projector_cpu_us_per_event"]
    redis_us = round(sum(v for k, v in detail.items() if k.startswith("redis") and k.endswith("_cpu_us_per_event")), 1)
    spread = asyncio.run(_spread(settings))
    say(f"  keys per master: {spread_line(spread)}")
    rate = detail["rate"]
    return Row(id="projector_cluster", name="Projector throughput on a 3-master Redis Cluster (1 worker)",
               value=round(rate, 1) if rate else None, unit="events/s", target="(beside the one-Redis row)",
               note=f"CPU/event: projector {projector_us} us, redis (3 masters) {redis_us} us; "
                    f"keys per master: {spread_line(spread)}",
               detail={"projector_cpu_us_per_event": projector_us, "redis_cpu_us_per_event": redis_us,
                       "keys_per_master": spread, "events": detail["events"]})


async def _spread(settings: Settings) -> dict[str, int]:
    client = make_cluster(settings.redis_url)
    try:
        gen = int(await client.get(keys.serving(settings.redis_namespace)) or 1)
        return await key_spread(client, keys.prefix(settings.redis_namespace, gen))
    finally:
        await client.aclose()


def _get_course(stack: Stack, single: Settings, on_cluster: Settings, hist: History, *, workdir: Path,
                say: Any) -> list[Row]:
    rng = random.Random(7)
    pairs = [rng.choice(hist.enrollments) for _ in range(REQUESTS)]
    out: list[Row] = []
    for label, settings in (("one Redis", single), ("cluster", on_cluster)):
        proc, url = stack.start_api(settings, log=workdir / f"api-{label.replace(' ', '-')}.log")
        try:
            latencies, cpu_s = _timed_gets(settings, url, proc.pid, pairs)
        finally:
            stack.stop_child(proc)
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
        cpu_us = round(cpu_s * 1e6 / len(pairs), 1)
        say(f"  GET course ({label}): p50 {p50:.2f} ms, p99 {p99:.2f} ms, API CPU {cpu_us} us/request")
        rid = "api_course_cluster" if settings is on_cluster else "api_course_one_redis"
        out.append(Row(id=rid, name=f"GET course, one request at a time ({label})", value=p50, unit="ms p50",
                       target="(side by side)", p50_ms=p50, p99_ms=p99,
                       note=f"API CPU {cpu_us} us/request; {len(pairs)} requests, one client",
                       detail={"api_cpu_us_per_request": cpu_us}))
    return out


def _timed_gets(settings: Settings, url: str, pid: int, pairs: list[tuple[int, str]]) -> tuple[list[float], float]:
    latencies: list[float] = []
    with httpx.Client(base_url=url, timeout=10) as client:
        tokens = {uid: make_token(settings, uid, f"learner{uid}") for uid, _ in pairs}
        for uid, ck in pairs[:50]:  # warm-up: connections, scripts, caches
            client.get(f"/api/courseware/course/{ck}", headers={"Authorization": f"JWT {tokens[uid]}"})
        meter = CpuMeter({"api": pid}).start()
        for uid, ck in pairs:
            t0 = time.perf_counter()
            r = client.get(f"/api/courseware/course/{ck}", headers={"Authorization": f"JWT {tokens[uid]}"})
            latencies.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 200:
                raise RuntimeError(f"GET course answered {r.status_code}: {r.text[:200]}")
        used = meter.stop()
    return latencies, used.get("api", 0.0)
