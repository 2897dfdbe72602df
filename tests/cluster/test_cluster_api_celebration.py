"""The e2e suite tests/e2e/test_courseware_celebration_platform.py against an API and a projector on the 3-master Redis
Cluster: every test of that module, unchanged."""

import pytest

from tests.cluster.api_on_cluster import assert_on_the_cluster, on_the_cluster  # noqa: F401 (autouse fixture)
from tests.e2e.test_courseware_celebration_platform import *  # noqa: F403 (its fixtures and tests, collected here)
from tests.pipeline import Pipeline

pytestmark = pytest.mark.cluster


def test_this_module_runs_on_the_cluster(pipeline: Pipeline) -> None:
    assert_on_the_cluster(pipeline)
