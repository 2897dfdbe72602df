"""Studio's course publish -> the complete `ext.content.course.published.v1` snapshot, built from stand-in
modulestore blocks and the stand-in edx-platform facts beside them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from learner_projector_openedx import data
from learner_projector_openedx.snapshots.course import build_course

from tests import standins
from tests.blocks import COURSE, demo_course
from tests.standin_app import models as m

TYPE = "ext.content.course.published.v1"


@pytest.fixture
def course(db):
    block = demo_course()
    standins.STATE.courses[COURSE] = block
    standins.STATE.details[COURSE] = SimpleNamespace(short_description="Short", overview="<p>Overview</p>",
                                                     effort="3h", intro_video="abc123", language="en")
    standins.STATE.prerequisites[str(COURSE.make_usage_key("sequential", "s2"))] = (
        str(COURSE.make_usage_key("sequential", "s1")), "80")
    standins.STATE.flags |= {"COURSEWARE_MICROFRONTEND_PROGRESS_MILESTONES", "ENABLE_COURSE_GOALS",
                             "ContentTypeGatingConfig"}
    m.CourseMode.objects.create(course_id=COURSE, mode_slug="verified", mode_display_name="Verified", min_price=49,
                                currency="usd", sku="SKU1")
    m.CourseMode.objects.create(course_id=COURSE, mode_slug="audit", mode_display_name="Audit")
    return block


@pytest.mark.django_db(transaction=True)  # the sending thread reads the course modes
def test_publish_signal_queues_the_snapshot_with_the_publish_time(published, course):
    standins.COURSE_PUBLISHED.send(sender=None, course_key=COURSE)

    [(payload, time)] = published.of(TYPE)
    assert payload["course"] == build_course(course)
    assert time == course.published_on


def test_snapshot_course_fields(course):
    snap = build_course(course)

    assert (snap.course_key, snap.org, snap.number, snap.run, snap.display_name) == (
        COURSE, "edX", "DemoX", "Demo_Course", "Demo Course")
    assert (snap.short_description, snap.overview, snap.effort, snap.language) == (
        "Short", "<p>Overview</p>", "3h", "en")
    assert snap.pacing == "self"
    assert snap.course_image_url.endswith("block@images_course_image.jpg")
    assert snap.course_video_url == "https://www.youtube.com/watch?v=abc123"
    assert snap.lowest_passing_grade == 0.6
    assert snap.entrance_exam == data.EntranceExam(chapter_key=COURSE.make_usage_key("chapter", "entrance"),
                                                   minimum_score_pct=0.65)
    assert [(mode.slug, mode.min_price, mode.sku) for mode in snap.modes] == [("audit", 0.0, None),
                                                                               ("verified", 49.0, "SKU1")]
    assert snap.features.celebrations and snap.features.course_goals and snap.features.content_type_gating
    assert snap.features.notes and snap.features.proctored_exams
    assert not snap.features.streak_celebrations and not snap.features.learning_assistant


def test_snapshot_outline_follows_the_lms_rules(course):
    chapters = build_course(course).outline
    graded, exam = chapters[1].sequences

    assert [c.display_name for c in chapters] == ["Entrance Exam", "C1"]
    assert (graded.graded, graded.format, graded.due.year) == (True, "Homework", 2030)
    assert [u.icon for u in graded.units] == ["problem", "video"]
    assert [(b.block_type, b.completable) for b in graded.units[1].blocks] == [("video", True), ("discussion", False)]
    assert [u.contains_gated_content for u in graded.units] == [True, False]  # scored component, graded, gating on
    assert (exam.is_time_limited, exam.is_proctored, exam.hide_from_toc) == (True, True, True)
    assert exam.prerequisite == data.Prerequisite(block_key=COURSE.make_usage_key("sequential", "s1"), min_score=0.8)
    assert graded.prerequisite is None


def test_a_course_missing_from_the_published_branch_sends_nothing(published, db):
    standins.COURSE_PUBLISHED.send(sender=None, course_key=COURSE)

    assert published.of(TYPE) == []
