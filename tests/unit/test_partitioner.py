"""The change records' partitioner is aiokafka's default one, with the key's hash remembered."""

from __future__ import annotations

import random

from aiokafka.partitioner import DefaultPartitioner

from projectors.app import CachedPartitioner


def test_cached_partitioner_picks_the_default_partitioners_partition_for_every_key() -> None:
    rnd = random.Random(5)
    cached, default = CachedPartitioner(size=64), DefaultPartitioner()
    for _ in range(2_000):
        key = f"{rnd.randrange(10**9)}:course-v1:Org+C{rnd.randrange(99)}+2026".encode()[: rnd.randrange(0, 60)]
        partitions = list(range(rnd.choice((1, 3, 4, 12))))
        assert cached(key, partitions, partitions) == default(key, partitions, partitions)
        assert cached(key, partitions, partitions) == default(key, partitions, partitions)  # from the cache
    assert cached(None, [0, 1], [1]) == 1  # no key: one of the available ones, as the default does
