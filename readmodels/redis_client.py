"""The Redis client of the API, the projector and the tools (never created at import time).

Bounded connect/read timeouts and retries: for the API an unreachable Redis turns into a 503
within a few seconds, never a hung request; the projector retries around it (pipeline.py).

`redis+cluster://host:port,host:port,...` names a Redis Cluster (any of its masters: the client
learns the slot map from them): redis-py's asyncio RedisCluster, which routes every command by its
key's hash slot (keys.py tags the keys that must stay together). Everything else is one Redis.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

CLUSTER_SCHEME = "redis+cluster"


def is_cluster_url(url: str) -> bool:
    return url.startswith(f"{CLUSTER_SCHEME}://")


def is_cluster(redis: Redis | RedisCluster) -> bool:
    return isinstance(redis, RedisCluster)


def make_redis(url: str) -> Redis:
    if is_cluster_url(url):
        return make_cluster(url)  # type: ignore[return-value]  # same command API, routed by slot
    return Redis.from_url(
        url,
        decode_responses=False,
        health_check_interval=10,
        socket_connect_timeout=2,
        socket_timeout=10,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=3),
    )


def make_cluster(url: str) -> RedisCluster:
    parts = urlsplit(url)
    nodes = []
    for address in parts.netloc.rpartition("@")[2].split(","):
        host, _, port = address.rpartition(":")
        nodes.append(ClusterNode(host or "127.0.0.1", int(port or 6379)))
    return RedisCluster(
        startup_nodes=nodes,
        password=parts.password,
        decode_responses=False,
        health_check_interval=10,
        socket_connect_timeout=2,
        socket_timeout=10,
        retry=AsyncRetry(ExponentialBackoff(cap=1.0, base=0.05), retries=3),
    )


def subscriber_urls(url: str) -> list[str]:
    """Where to SUBSCRIBE: the URL itself; on a cluster each master in turn (a plain PUBLISH reaches
    every node of a Redis Cluster over its bus, so any one master hears every channel)."""
    if not is_cluster_url(url):
        return [url]
    auth, at, addresses = urlsplit(url).netloc.rpartition("@")
    return [f"redis://{auth}{at}{address}/0" for address in addresses.split(",")]
