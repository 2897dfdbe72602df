"""The rebuild suite (tests/integration/test_rebuild.py) on the 3-master Redis Cluster: rebuild
beside the serving generation while the API reads, switch once, verify, survive a kill -9, keep
up with live events; every test of that module, unchanged."""

import pytest

from tests.cluster.api_on_cluster import assert_on_the_cluster, on_the_cluster  # noqa: F401 (autouse fixture)
from tests.integration.test_rebuild import *  # noqa: F403 (its fixtures and tests, collected here)
from tests.pipeline import Pipeline

pytestmark = pytest.mark.cluster


def test_this_module_runs_on_the_cluster(pipeline: Pipeline) -> None:
    assert_on_the_cluster(pipeline)
