"""The writer on a real 3-master Redis Cluster: batches split by node give the read models the
oracle folds, whatever the delivery order, duplicates and batch cuts; the checkpoints come last;
keys spread over the masters; the generation switch runs on the cluster's control slot."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from projectors.oracle import compare, fold, report
from projectors.projections import project
from readmodels import keys
from readmodels.generations import allocate_generation, serving_generation, switch_generation
from readmodels.memory import MemoryStore, dump_redis
from readmodels.ops import Checkpoint
from readmodels.redis_client import make_redis
from readmodels.writer import RedisWriter
from tests.integration.test_store_contract import big_history, deliveries
from tests.strategies import colliding_histories, histories
from tools.cluster_spread import key_spread
from tools.redis_cluster_runner import RedisCluster

pytestmark = pytest.mark.cluster

GEN = 1


def namespace() -> str:
    return f"cl{uuid.uuid4().hex[:10]}"


async def _against_memory_and_oracle(url: str, history: list[Any], batches: list[list[Any]], report_ops: bool) -> None:
    client = make_redis(url)
    try:
        ns = namespace()
        w = RedisWriter(client, ns, announce=False, report=report_ops)
        mem = MemoryStore()
        for n, batch in enumerate(batches):
            ops = [op for e in batch for op in project(e)]
            applied = await w.apply(GEN, ops, [Checkpoint("t", 0, n)])
            expected = mem.apply(ops, [Checkpoint("t", 0, n)])
            if report_ops:
                assert [(a.index, a.previous) for a in applied] == expected
        got = await dump_redis(client, keys.prefix(ns, GEN))
        if report_ops:
            diffs = compare(mem.dump(), got)
            assert not diffs, "memory vs cluster\n" + report(diffs)
        diffs = compare(fold(history).dump(), got)
        assert not diffs, "oracle vs cluster\n" + report(diffs)
        if batches:
            assert await w.checkpoints(GEN) == {"t:0": len(batches) - 1}
    finally:
        await client.aclose()


PROPERTY = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(case=deliveries(histories))
def test_random_histories_on_the_cluster_equal_memory_and_the_oracle(redis_cluster: RedisCluster, case: Any) -> None:
    asyncio.run(_against_memory_and_oracle(redis_cluster.url, *case, True))


@PROPERTY
@given(case=deliveries(colliding_histories))
def test_colliding_histories_through_the_projectors_writer_equal_the_oracle(redis_cluster: RedisCluster,
                                                                            case: Any) -> None:
    asyncio.run(_against_memory_and_oracle(redis_cluster.url, *case, False))


async def test_a_big_history_spreads_over_the_three_masters_and_equals_the_oracle(redis_cluster: RedisCluster) -> None:
    history = big_history(3000)
    client = make_redis(redis_cluster.url)
    try:
        ns = namespace()
        w = RedisWriter(client, ns, announce=False, report=False)
        ops = [op for e in history for op in project(e)]
        for start in range(0, len(ops), 500):
            await w.apply(GEN, ops[start:start + 500], [Checkpoint("t", 0, start)])
        diffs = compare(fold(history).dump(), await dump_redis(client, keys.prefix(ns, GEN)))
        assert not diffs, report(diffs)
        per_node = await key_spread(client, keys.prefix(ns, GEN))
        assert len(per_node) == 3 and all(n > 0 for n in per_node.values()), per_node
    finally:
        await client.aclose()


async def test_the_switch_runs_on_the_cluster_and_waits_for_the_checkpoints(redis_cluster: RedisCluster) -> None:
    client = make_redis(redis_cluster.url)
    try:
        ns = namespace()
        assert await serving_generation(client, ns) == 1
        w = RedisWriter(client, ns, announce=False)
        await w.apply(1, [], [Checkpoint("t", 0, 10)])
        new = await allocate_generation(client, ns)
        await w.apply(new, [], [Checkpoint("t", 0, 5)])
        behind = await switch_generation(client, ns, expected=1, new=new)
        assert not behind.switched and "behind" in behind.reason
        await w.apply(new, [], [Checkpoint("t", 0, 10)])
        assert (await switch_generation(client, ns, expected=1, new=new)).switched
        assert await serving_generation(client, ns) == new
    finally:
        await client.aclose()
