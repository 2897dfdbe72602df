"""The e2e suite tests/e2e/test_freshness.py against an API and a projector on the 3-master Redis
Cluster (two API processes: long polls and read-your-writes waits woken by the cluster's
pub/sub): every test of that module, unchanged."""

import pytest

from tests.cluster.api_on_cluster import assert_on_the_cluster, on_the_cluster  # noqa: F401 (autouse fixture)
from tests.e2e.test_freshness import *  # noqa: F403 (its fixtures and tests, collected here)
from tests.e2e.test_freshness import Apis

pytestmark = pytest.mark.cluster


def test_this_module_runs_on_the_cluster(apis: Apis) -> None:
    assert_on_the_cluster(apis.pipeline)
