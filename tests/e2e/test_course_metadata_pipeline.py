"""The first end-to-end slice: events through Kafka, the faust projector, Redis and HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.builders import COURSE, course_published, enrollment
from tests.pipeline import Pipeline
from tools.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture(scope="module")
def pipeline(stack: Stack) -> Iterator[Pipeline]:
    p = Pipeline.create(stack).start()
    p.produce([course_published(), enrollment("created", 42)])
    p.wait_applied()
    yield p
    p.stop()


def test_get_course_metadata_for_enrolled_learner_shows_enrollment(pipeline: Pipeline) -> None:
    r = pipeline.get(f"/api/courseware/course/{COURSE}", user=42)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == COURSE
    assert body["name"] == "Demonstration Course"
    assert body["enrollment"] == {"mode": "audit", "is_active": True}


def test_get_course_metadata_anonymous_has_empty_enrollment(pipeline: Pipeline) -> None:
    r = pipeline.get(f"/api/courseware/course/{COURSE}")
    assert r.status_code == 200
    assert r.json()["enrollment"] == {"mode": None, "is_active": False}


def test_get_course_metadata_unknown_course_is_404(pipeline: Pipeline) -> None:
    r = pipeline.get("/api/courseware/course/course-v1:edX+Nope+Never", user=42)
    assert r.status_code == 404
    assert "developer_message" in r.json()
