"""Each edx-platform source against stand-ins of its interface (tests/standins.py): a save or delete
publishes the right `ext.` event with the right time, and nothing else does."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from learner_projector_openedx import data
from opaque_keys.edx.keys import CourseKey, UsageKey

from tests import standins
from tests.standin_app import models as m

pytestmark = pytest.mark.django_db(transaction=True)

COURSE = CourseKey.from_string("course-v1:edX+DemoX+Demo_Course")
OTHER = CourseKey.from_string("course-v1:edX+Other+2025")
SEQUENCE = COURSE.make_usage_key("sequential", "s1")


def test_course_goal_save_and_delete(published, user):
    goal = m.CourseGoal.objects.create(user=user, course_key=COURSE, days_per_week=3, subscribed_to_reminders=True)
    goal.delete()

    events = [p["goal"] for p, _ in published.of("ext.learning.course.goal.changed.v1")]
    assert events == [data.GoalData(user_id=user.id, course_key=COURSE, days_per_week=3, subscribed_to_reminders=True),
                      data.GoalData(user_id=user.id, course_key=COURSE, days_per_week=0,
                                    subscribed_to_reminders=False)]


def test_time_zone_preference_is_published_and_other_preferences_are_not(published, user):
    m.UserPreference.objects.create(user=user, key="pref-lang", value="fr")
    tz = m.UserPreference.objects.create(user=user, key="time_zone", value="Europe/Paris")
    tz.delete()

    events = [p["preference"] for p, _ in published.of("ext.learning.user.preference.changed.v1")]
    assert events == [data.PreferenceData(user_id=user.id, key="time_zone", value="Europe/Paris"),
                      data.PreferenceData(user_id=user.id, key="time_zone", value=None)]


def test_notes_visibility_is_published_for_each_active_enrollment(published, user):
    m.CourseEnrollment.objects.create(user=user, course_id=COURSE, is_active=True)
    m.CourseEnrollment.objects.create(user=user, course_id=OTHER, is_active=False)
    field = m.XModuleStudentInfoField.objects.create(student=user, field_name="edxnotes_visibility",
                                                     value=json.dumps(False))

    [(payload, time)] = published.of("ext.learning.user.preference.changed.v1")
    assert payload["preference"] == data.PreferenceData(user_id=user.id, key=f"notes_visibility:{COURSE}",
                                                        value="false")
    assert time == field.modified


def test_bookmark_save_and_delete(published, user):
    usage = COURSE.make_usage_key("vertical", "u1")
    bookmark = m.Bookmark.objects.create(user=user, course_key=COURSE, usage_key=usage)
    saved_at = bookmark.modified
    bookmark.delete()

    events = published.of("ext.learning.bookmark.changed.v1")
    assert [p["bookmark"].bookmarked for p, _ in events] == [True, False]
    assert events[0][1] == saved_at
    assert events[0][0]["bookmark"].usage_key == usage


def test_sequence_position_from_the_sequentials_state_only(published, user):
    m.StudentModule.objects.create(student=user, course_id=COURSE, module_type="problem",
                                   module_state_key=COURSE.make_usage_key("problem", "p1"),
                                   state=json.dumps({"position": 2}))
    m.StudentModule.objects.create(student=user, course_id=COURSE, module_type="sequential",
                                   module_state_key=SEQUENCE, state=json.dumps({"attempts": 1}))
    row = m.StudentModule.objects.create(student=user, course_id=COURSE, module_type="sequential",
                                         module_state_key=SEQUENCE, state=json.dumps({"position": 3}))

    [(payload, time)] = published.of("ext.learning.sequence.position.changed.v1")
    assert payload["position"] == data.PositionData(user_id=user.id, sequence_key=SEQUENCE, position=3)
    assert time == row.modified


def test_integrity_signature_is_published_once_when_created(published, user):
    signature = m.IntegritySignature.objects.create(user=user, course_key=COURSE)
    signature.save()

    [(payload, time)] = published.of("ext.learning.integrity.signature.created.v1")
    assert payload["signature"] == data.SignatureData(user_id=user.id, course_key=COURSE)
    assert time == signature.created


def test_enterprise_enrollment_link_unenroll_and_delete(published, user):
    customer = m.EnterpriseCustomer.objects.create(name="Acme")
    link = m.EnterpriseCustomerUser.objects.create(enterprise_customer=customer, user_id=user.id)
    row = m.EnterpriseCourseEnrollment.objects.create(enterprise_customer_user=link, course_id=str(COURSE))
    row.unenrolled = True
    row.save()
    row.delete()

    types = published.types()
    expected = data.EnterpriseEnrollmentData(enterprise_customer_uuid=str(customer.uuid), user_id=user.id,
                                             course_key=COURSE)
    assert types == ["ext.enterprise.course.enrollment.linked.v1", "ext.enterprise.course.enrollment.unlinked.v1",
                     "ext.enterprise.course.enrollment.unlinked.v1"]
    assert published.of("ext.enterprise.course.enrollment.linked.v1")[0][0]["enterprise_enrollment"] == expected
    assert isinstance(uuid.UUID(expected.enterprise_customer_uuid), uuid.UUID)


def test_celebration_publishes_only_the_flags_a_save_changed(published, user):
    enrollment = m.CourseEnrollment.objects.create(user=user, course_id=COURSE)
    celebration = m.CourseEnrollmentCelebration.objects.create(enrollment=enrollment, celebrate_first_section=True)
    m.CourseEnrollmentCelebration.objects.update_or_create(enrollment=enrollment,
                                                           defaults={"celebrate_first_section": False})

    [(payload, _)] = published.of("ext.learning.celebration.acknowledged.v1")
    assert payload["celebration"] == data.CelebrationData(user_id=user.id, course_key=COURSE, first_section=False)
    assert celebration.pk is not None


def test_subsection_grade_from_the_grades_signal(published, user):
    grade = SimpleNamespace(location=SEQUENCE, graded_total=SimpleNamespace(earned=3.0, possible=4.0))
    standins.SUBSECTION_SCORE_CHANGED.send(sender=None, course=SimpleNamespace(id=COURSE), course_structure=None,
                                           user=user, subsection_grade=grade)

    [(payload, _)] = published.of("ext.learning.subsection.grade.changed.v1")
    assert payload["subsection_grade"] == data.SubsectionGradeData(user_id=user.id, course_key=COURSE,
                                                                   block_key=SEQUENCE, percent=0.75)


def test_old_mongo_keys_get_their_run_filled_in(published, user):
    old = UsageKey.from_string("i4x://edX/DemoX/sequential/s1")
    m.StudentModule.objects.create(student=user, course_id=COURSE, module_type="sequential",
                                   module_state_key=old, state=json.dumps({"position": 1}))

    [(payload, _)] = published.of("ext.learning.sequence.position.changed.v1")
    assert payload["position"].sequence_key.run == "Demo_Course"


def test_naive_and_aware_times_become_utc():
    from learner_projector_openedx.times import utc

    assert utc(datetime(2025, 1, 1)) == datetime(2025, 1, 1, tzinfo=UTC)
