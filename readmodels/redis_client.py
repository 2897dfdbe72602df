"""The API's Redis client (never created at import time).

Same settings as projectors/redis_client.py, here so that `api` depends on `readmodels` only (the
house rule: api never imports projectors). Bounded connect/read timeouts and retries: an
unreachable Redis turns into a 503 within a few seconds, never a hung request.
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
