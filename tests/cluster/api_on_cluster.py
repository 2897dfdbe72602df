"""What the cluster modules that re-run e2e suites share: their pipelines (the e2e modules' own
`pipeline` fixtures) are created on the Redis Cluster while the module runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pipeline import Pipeline
from tools.redis_cluster_runner import RedisCluster


@pytest.fixture(scope="module", autouse=True)
def on_the_cluster(redis_cluster: RedisCluster) -> Iterator[None]:
    Pipeline.redis_url_override = redis_cluster.url
    try:
        yield
    finally:
        Pipeline.redis_url_override = None


def assert_on_the_cluster(pipeline: Pipeline) -> None:
    assert pipeline.settings.redis_url.startswith("redis+cluster://")
