"""How the keys of one generation spread over a Redis Cluster's masters (SCAN on every master)."""

from __future__ import annotations

from redis.asyncio import RedisCluster


async def key_spread(client: RedisCluster, prefix: str) -> dict[str, int]:
    """Keys under `prefix` per master ("host:port" -> count)."""
    await client.initialize()
    pattern = "".join("\\" + c if c in "*?[]\\" else c for c in prefix) + "*"
    counts: dict[str, int] = {}
    for node in client.get_primaries():
        n, cursor = 0, 0
        while True:
            # redis-py's cluster SCAN reply: ({node name: next cursor}, keys)
            cursors, batch = await client.scan(cursor, match=pattern, count=1000, target_nodes=node)
            n += len(batch)
            cursor = cursors[node.name] if isinstance(cursors, dict) else cursors
            if int(cursor) == 0:
                break
        counts[node.name] = n
    return counts


def spread_line(counts: dict[str, int]) -> str:
    """`a 33.1 %  b 33.5 %  c 33.4 %  (max deviation from an even share: +0.5 %)`."""
    total = sum(counts.values()) or 1
    even = total / max(len(counts), 1)
    worst = max((abs(n - even) / even for n in counts.values()), default=0.0)
    shares = "  ".join(f"{name} {100 * n / total:.1f} %" for name, n in sorted(counts.items()))
    return f"{shares}  (max deviation from an even share: {100 * worst:.1f} %)"
