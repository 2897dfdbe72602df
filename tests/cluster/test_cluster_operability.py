"""The e2e suite tests/e2e/test_operability.py against an API and a projector on the 3-master Redis
Cluster (readiness from the projector's status reports, /status.json, metrics): every test of that
module, unchanged. The status report is one transaction over two keys, which a cluster refuses
unless they share a slot (`keys.OPS_TAG`)."""

import pytest

from tests.cluster.api_on_cluster import assert_on_the_cluster, on_the_cluster  # noqa: F401 (autouse fixture)
from tests.e2e.test_operability import *  # noqa: F403 (its fixtures and tests, collected here)
from tests.pipeline import Pipeline

pytestmark = pytest.mark.cluster


def test_this_module_runs_on_the_cluster(pipeline: Pipeline) -> None:
    assert_on_the_cluster(pipeline)
