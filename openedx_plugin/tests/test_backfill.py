"""`lp_backfill`: the LMS tables (real edx-completion, stand-ins of the rest) published with their times."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from completion.models import BlockCompletion
from django.core.management import CommandError, call_command
from opaque_keys.edx.keys import CourseKey

from tests import standins
from tests.blocks import demo_course
from tests.standin_app import models as m

COURSE = CourseKey.from_string("course-v1:edX+DemoX+Demo_Course")
OTHER = CourseKey.from_string("course-v1:edX+Other+2025")
OLD = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)

pytestmark = pytest.mark.django_db(transaction=True)


def backfill(*args: str) -> str:
    out = io.StringIO()
    call_command("lp_backfill", *args, stdout=out)
    return out.getvalue()


def at(model, row, when: datetime, *fields: str) -> None:
    """Give a row an old time (auto_now fields ignore values passed on save)."""
    model.objects.filter(pk=row.pk).update(**{f: when for f in fields})


@pytest.fixture
def site(published, user, completion_tracking):
    """A small site's history written before the plugin was installed (recorded by nobody)."""
    m.CourseOverview.objects.create(id=COURSE, display_name="Demo", start=datetime(2020, 1, 1, tzinfo=UTC))
    enrollment = m.CourseEnrollment.objects.create(user=user, course_id=COURSE, mode="verified")
    at(m.CourseEnrollment, enrollment, OLD, "created")
    m.CourseEnrollment.objects.create(user=user, course_id=OTHER)
    done, _ = BlockCompletion.objects.submit_completion(user, COURSE.make_usage_key("html", "h1"), 1.0)
    at(BlockCompletion, done, OLD, "modified")
    BlockCompletion.objects.submit_completion(user, OTHER.make_usage_key("html", "h9"), 1.0)
    grade = m.PersistentCourseGrade.objects.create(user_id=user.id, course_id=COURSE, percent_grade=0.42,
                                                   letter_grade="", grading_policy_hash="h")
    at(m.PersistentCourseGrade, grade, OLD, "modified")
    passed = m.PersistentCourseGrade.objects.create(
        user_id=user.id, course_id=OTHER, percent_grade=0.9, letter_grade="Pass", grading_policy_hash="h",
        passed_timestamp=OLD, course_edited_timestamp=OLD)
    m.GeneratedCertificate.objects.create(user=user, course_id=COURSE, status="downloadable", mode="verified")
    m.CourseAccessRole.objects.create(user=user, org="edX", course_id=COURSE, role="staff")
    m.CourseAccessRole.objects.create(user=user, org="edX", role="instructor")  # org-wide: cannot be sent
    m.CourseGoal.objects.create(user=user, course_key=COURSE, days_per_week=4)
    m.UserPreference.objects.create(user=user, key="time_zone", value="Asia/Tokyo")
    m.StudentModule.objects.create(student=user, course_id=COURSE, module_type="sequential",
                                   module_state_key=COURSE.make_usage_key("sequential", "s1"),
                                   state=json.dumps({"position": 2}))
    m.Bookmark.objects.create(user=user, course_key=COURSE, usage_key=COURSE.make_usage_key("vertical", "u1"))
    m.IntegritySignature.objects.create(user=user, course_key=COURSE)
    customer = m.EnterpriseCustomer.objects.create(name="Acme")
    link = m.EnterpriseCustomerUser.objects.create(enterprise_customer=customer, user_id=user.id)
    m.EnterpriseCourseEnrollment.objects.create(enterprise_customer_user=link, course_id=str(COURSE))
    m.CourseEnrollmentCelebration.objects.create(enrollment=enrollment, celebrate_first_section=True)
    m.PersistentSubsectionGrade.objects.create(user_id=user.id, course_id=COURSE,
                                               usage_key=COURSE.make_usage_key("sequential", "s1"),
                                               earned_all=1, possible_all=2, earned_graded=1, possible_graded=2)
    standins.STATE.courses[COURSE] = demo_course()
    published.forget()  # what the saves above published live; the backfill is what these tests see
    return {"grade": passed}


def test_backfill_publishes_every_source_with_the_rows_times(published, site, user):
    out = backfill("--chunk", "2")

    types = published.types()
    assert {t: types.count(t) for t in set(types)} == {
        "ext.content.course.published.v1": 1,
        "org.openedx.learning.course.enrollment.changed.v1": 2,
        "ext.learning.celebration.acknowledged.v1": 1,
        "ext.learning.block.completion.changed.v1": 2,
        "ext.learning.subsection.grade.changed.v1": 1,
        "org.openedx.learning.course.persistent_grade_summary.changed.v1": 1,
        "org.openedx.learning.course.passing.status.updated.v1": 1,
        "org.openedx.learning.certificate.changed.v1": 1,
        "org.openedx.learning.user.course_access_role.added.v1": 1,
        "ext.learning.course.goal.changed.v1": 1,
        "ext.learning.user.preference.changed.v1": 1,
        "ext.learning.sequence.position.changed.v1": 1,
        "ext.learning.bookmark.changed.v1": 1,
        "ext.learning.integrity.signature.created.v1": 1,
        "ext.enterprise.course.enrollment.linked.v1": 1,
    }
    completion, time = published.of("ext.learning.block.completion.changed.v1")[0]
    assert time == OLD and completion["completion"].modified == OLD
    enrollment, time = published.of("org.openedx.learning.course.enrollment.changed.v1")[0]
    assert time == OLD
    assert enrollment["enrollment"].course.display_name == "Demo"
    assert enrollment["enrollment"].user.pii.name == "Alice A"
    not_passed, time = published.of("org.openedx.learning.course.passing.status.updated.v1")[0]
    assert not not_passed["course_passing_status"].is_passing and time == OLD
    assert "completions: 2 rows, 2 events" in out
    assert out.strip().endswith("not published")


READ_TIME = {"org.openedx.learning.user.course_access_role.added.v1", "ext.learning.course.goal.changed.v1",
             "ext.learning.user.preference.changed.v1"}  # rows with no time of their own


def test_backfill_sends_the_same_facts_when_run_again(published, site):
    backfill()
    first = list(published.events)
    backfill()
    second = published.events[len(first):]

    assert [(t, p) for t, p, _ in second] == [(t, p) for t, p, _ in first]
    for (kind, _, before), (_, _, after) in zip(first, second, strict=True):
        assert after == before if kind not in READ_TIME else after >= before


def test_since_and_course_limit_the_rows(published, site):
    backfill("--since", "2022-01-01", "--course", str(OTHER), "--only", "completions", "--only", "enrollments",
             "--only", "course grades")

    assert sorted(published.types()) == ["ext.learning.block.completion.changed.v1",
                                         "org.openedx.learning.course.enrollment.changed.v1",
                                         "org.openedx.learning.course.persistent_grade_summary.changed.v1"]
    [(payload, _)] = published.of("ext.learning.block.completion.changed.v1")
    assert payload["completion"].course_key == OTHER


def test_bad_arguments_are_command_errors(db):
    with pytest.raises(CommandError, match="--since"):
        backfill("--since", "yesterday")
    with pytest.raises(CommandError, match="--course"):
        backfill("--course", "not a key")


def test_failed_sends_make_the_command_fail(monkeypatch, site):
    from learner_projector_openedx import publisher

    monkeypatch.setattr(publisher, "send", lambda *event: False)
    with pytest.raises(CommandError, match="not published"):
        backfill("--only", "completions")
