"""Helpers for the rebuild / projected-topic tests: run `lp` commands as subprocesses, read Redis
and the projected topics."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer
from redis import Redis
from redis.cluster import RedisCluster as SyncRedisCluster

from projectors.rebuild import partitions_of
from readmodels import keys
from readmodels.redis_client import is_cluster_url, subscriber_urls
from readmodels.settings import Settings
from tools.stack import ROOT, settings_env


def lp_env(settings: Settings, **extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **settings_env(settings), **extra}


def lp(settings: Settings, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tools.cli", *args], cwd=ROOT, env=lp_env(settings, **env),
                          capture_output=True, text=True, timeout=timeout)


def lp_background(settings: Settings, *args: str, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tools.cli", *args], cwd=ROOT, env=lp_env(settings, **env),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def children(pid: int) -> list[int]:
    """The pids of a process's children (a rebuild's workers), from /proc (Linux)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    # `pid (comm) state ppid ...`; comm may hold spaces and parentheses
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
    return out


def redis(settings: Settings) -> Redis:
    """A synchronous client; on a Redis Cluster (the cluster suite) a RedisCluster, which answers
    the same commands (a plain SUBSCRIBE on any master hears every PUBLISH of the cluster)."""
    if is_cluster_url(settings.redis_url):
        return SyncRedisCluster.from_url(subscriber_urls(settings.redis_url)[0], decode_responses=True)  # type: ignore[return-value]
    return Redis.from_url(settings.redis_url, decode_responses=True)


def serving(settings: Settings) -> int:
    with redis(settings) as r:
        return int(r.get(keys.serving(settings.redis_namespace)) or 1)


def generation_keys(settings: Settings, generation: int) -> int:
    with redis(settings) as r:
        prefix = keys.prefix(settings.redis_namespace, generation)
        return sum(1 for _ in r.scan_iter(match=prefix + "*", count=1000))


def read_topics(settings: Settings, topics: list[str]) -> list[dict[str, Any]]:
    """Every record of `topics`, from the beginning to the current end: headers + value."""
    return asyncio.run(_read_topics(settings.kafka_bootstrap, topics))


async def _read_topics(bootstrap: str, topics: list[str]) -> list[dict[str, Any]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = await partitions_of(consumer, topics)
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        out: list[dict[str, Any]] = []
        while any(pos < ends[tp] for tp, pos in [(tp, await consumer.position(tp)) for tp in tps]):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    headers = {k: v.decode() for k, v in r.headers}
                    out.append({"headers": headers, "value": orjson.loads(r.value), "topic": r.topic,
                                "partition": r.partition, "offset": r.offset})
        return out
    finally:
        await consumer.stop()
