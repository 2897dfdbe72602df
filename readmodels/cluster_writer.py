"""A batch of operations on a Redis Cluster: split by node into atomic scripts, checkpoints last.

One writer.lua call cannot span nodes, so a batch is applied in three steps:

1. the completion fields' block dictionary indexes (`bid:` of the course, on the course's node)
   are resolved first (assign_block_ids.lua, one call per node holding dictionaries), and the
   per-block ops carry the index itself;
2. the ops are grouped by the node of their key, in batch order, and every node runs writer.lua
   on its own group, all nodes at once (one script per node may touch several of its slots:
   `allow-cross-slot-keys`);
3. only after every node has acknowledged, the outbox fields and the checkpoints (the control
   keys, one slot) are written, the "applied" notification published and the serving pointer read.

A crash between the steps leaves data written without its checkpoint: the batch is redelivered
and re-applied, which changes nothing (every op is last-writer-wins or set-like), as on one Redis
when a batch is split by size. A dictionary index assigned in step 1 whose op never lands is an
unused entry, as on one Redis: indexes are never reassigned.
Per-node groups are atomic; a batch as a whole is not (a reader may see one learner's new facts
before another's), which no read needs: a read joins one learner with reference data.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from redis.asyncio import RedisCluster
from redis.asyncio.cluster import ClusterNode
from redis.exceptions import NoScriptError

from readmodels import keys
from readmodels.ops import Checkpoint, Op
from readmodels.scripts import lua

# writer.lua's ARGV after the prefix and the ops: checkpoints, applied channel, changed channel,
# serving pointer key, report flag.
Args = Callable[[Sequence[Checkpoint], bool, bool], list[bytes | str]]


class ClusterBatches:
    def __init__(self, redis: RedisCluster, namespace: str) -> None:
        self._redis = redis
        self._ns = namespace
        self._writer = lua("writer")
        self._assign = lua("assign_block_ids")

    async def apply(
        self, generation: int, ops: Sequence[Op], checkpoints: Sequence[Checkpoint],
        held: Mapping[str, bytes] | None, tail: Args,
    ) -> list[Any]:
        """Returns writer.lua's reply as if one script had run: [serving, index, previous, ...]
        with the indexes of `ops` (1-based)."""
        await self._redis.initialize()  # the slot map (a no-op once known; commands keep it current)
        prefix = keys.prefix(self._ns, generation)
        encoded = [op.encode() for op in ops]
        await self._resolve_block_ids(prefix, encoded)
        groups: dict[str, tuple[ClusterNode, list[int]]] = {}
        for i, op in enumerate(encoded):
            node = self._node(prefix + str(op[1]))
            groups.setdefault(node.name, (node, []))[1].append(i)
        replies = await asyncio.gather(*(
            self._run(node, self._writer, prefix, orjson.dumps([encoded[i] for i in members]), *tail((), False, True))
            for node, members in groups.values()
        ))
        took: list[tuple[int, Any]] = []
        for (_, members), reply in zip(groups.values(), replies, strict=True):
            took += [(members[int(reply[j]) - 1] + 1, reply[j + 1]) for j in range(1, len(reply), 2)]
        out: list[Any] = [None]
        for index, previous in sorted(took, key=lambda t: t[0]):
            out += [index, previous]
        # Step 3: the control keys (outbox, checkpoints, serving pointer) share one slot.
        control = self._node(prefix + keys.CHECKPOINTS)
        if held:
            await self._redis.hset(keys.outbox(self._ns), mapping=held)  # type: ignore[arg-type]
        last = await self._run(control, self._writer, prefix, b"[]", *tail(checkpoints, True, False))
        out[0] = last[0]
        return out

    async def _resolve_block_ids(self, prefix: str, encoded: list[list[Any]]) -> None:
        """Rewrite every per-block op ("C") to carry its dictionary index (writer.lua: block_ids "")."""
        wanted: dict[tuple[str, str], list[int]] = {}
        for i, op in enumerate(encoded):
            if op[0] == "C" and op[2]:
                wanted.setdefault((prefix + op[2], op[3]), []).append(i)
        if not wanted:
            return
        by_node: dict[str, tuple[ClusterNode, list[tuple[str, str]]]] = {}
        for pair in wanted:
            node = self._node(pair[0])
            by_node.setdefault(node.name, (node, []))[1].append(pair)
        replies = await asyncio.gather(*(
            self._run(node, self._assign, orjson.dumps(pairs)) for node, pairs in by_node.values()
        ))
        for (_, pairs), indexes in zip(by_node.values(), replies, strict=True):
            for pair, idx in zip(pairs, indexes, strict=True):
                for i in wanted[pair]:
                    op = encoded[i]
                    encoded[i] = [op[0], op[1], "", idx.decode() if isinstance(idx, bytes) else str(idx), *op[4:]]

    def _node(self, key: str) -> ClusterNode:
        node = self._redis.get_node_from_key(key)
        assert node is not None  # a primary always: no replica asked for
        return node

    async def _run(self, node: ClusterNode, script: str, *args: bytes | str) -> Any:
        sha = hashlib.sha1(script.encode()).hexdigest()
        try:
            return await self._redis.execute_command("EVALSHA", sha, 0, *args, target_nodes=node)
        except NoScriptError:  # a new or restarted node: load it there, once
            await self._redis.execute_command("SCRIPT LOAD", script, target_nodes=node)
            return await self._redis.execute_command("EVALSHA", sha, 0, *args, target_nodes=node)
