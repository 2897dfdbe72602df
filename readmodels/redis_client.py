"""The Redis client of the API, the projector and the tools (never created at import time).

Bounded connect/read timeouts and retries: for the API an unreachable Redis turns into a 503
within a few seconds, never a hung request; the projector retries around it (pipeline.py).
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry


def make_redis(url: str) -> Redis:
    return Redis.from_url(
        url,
        decode_responses=False,
        health_check_interval=10,
        socket_connect_timeout=2,
        socket_timeout=10,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=3),
    )
