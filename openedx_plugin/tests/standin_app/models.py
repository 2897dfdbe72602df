"""Stand-ins of the edx-platform and edx-enterprise models the plugin reads (edx-platform is not on a
package index). Each has the upstream model's name and the fields the plugin uses, with upstream's
field names, types and timestamp behaviour (TimeStampedModel's `created`/`modified` where upstream
has them, none where it has none); tests/standins.py puts them at upstream's import paths."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from model_utils.models import TimeStampedModel
from opaque_keys.edx.django.models import CourseKeyField, UsageKeyField

User = settings.AUTH_USER_MODEL


class UserProfile(models.Model):  # common.djangoapps.student.models
    user = models.OneToOneField(User, unique=True, related_name="profile", on_delete=models.CASCADE)
    name = models.CharField(blank=True, max_length=255)


class CourseOverview(models.Model):  # openedx.core.djangoapps.content.course_overviews.models
    id = CourseKeyField(db_index=True, primary_key=True, max_length=255)
    display_name = models.TextField(null=True)
    start = models.DateTimeField(null=True)
    end = models.DateTimeField(null=True)


class CourseEnrollment(models.Model):  # common.djangoapps.student.models (no `modified`)
    user = models.ForeignKey(User, on_delete=models.CASCADE)
    course_id = CourseKeyField(max_length=255, db_index=True)
    created = models.DateTimeField(auto_now_add=True, null=True, db_index=True)
    is_active = models.BooleanField(default=True)
    mode = models.CharField(default="audit", max_length=100)


class CourseEnrollmentCelebration(TimeStampedModel):  # common.djangoapps.student.models
    enrollment = models.OneToOneField(CourseEnrollment, models.CASCADE, related_name="celebration")
    celebrate_first_section = models.BooleanField(default=False)
    celebrate_weekly_goal = models.BooleanField(default=False)


class CourseAccessRole(models.Model):  # common.djangoapps.student.models (no timestamps)
    user = models.ForeignKey(User, on_delete=models.CASCADE)
    org = models.CharField(max_length=64, db_index=True, blank=True)
    course_id = CourseKeyField(max_length=255, db_index=True, blank=True)
    role = models.CharField(max_length=64, db_index=True)


class CourseMode(models.Model):  # common.djangoapps.course_modes.models
    course_id = CourseKeyField(max_length=255, db_index=True)
    mode_slug = models.CharField(max_length=100)
    mode_display_name = models.CharField(max_length=255)
    min_price = models.IntegerField(default=0)
    currency = models.CharField(default="usd", max_length=8)
    expiration_datetime = models.DateTimeField(default=None, null=True, blank=True)
    sku = models.CharField(max_length=255, null=True, blank=True)


class CourseGoal(models.Model):  # lms.djangoapps.course_goals.models (no timestamps; history table upstream)
    user = models.ForeignKey(User, on_delete=models.CASCADE)
    course_key = CourseKeyField(max_length=255, db_index=True)
    days_per_week = models.PositiveIntegerField(default=0)
    subscribed_to_reminders = models.BooleanField(default=False)


class StudentModule(models.Model):  # lms.djangoapps.courseware.models
    module_type = models.CharField(max_length=32, default="problem", db_index=True)
    module_state_key = UsageKeyField(max_length=255, db_column="module_id")
    student = models.ForeignKey(User, db_index=True, db_constraint=False, on_delete=models.CASCADE)
    course_id = CourseKeyField(max_length=255, db_index=True)
    state = models.TextField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    modified = models.DateTimeField(auto_now=True, db_index=True)


class XModuleStudentInfoField(models.Model):  # lms.djangoapps.courseware.models (user_info scope)
    field_name = models.CharField(max_length=64, db_index=True)
    value = models.TextField(default="null")
    student = models.ForeignKey(User, db_index=True, on_delete=models.CASCADE)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    modified = models.DateTimeField(auto_now=True, db_index=True)


class PersistentSubsectionGrade(TimeStampedModel):  # lms.djangoapps.grades.models
    user_id = models.IntegerField(blank=False)
    course_id = CourseKeyField(blank=False, max_length=255)
    usage_key = UsageKeyField(blank=False, max_length=255)
    earned_all = models.FloatField(blank=False)
    possible_all = models.FloatField(blank=False)
    earned_graded = models.FloatField(blank=False)
    possible_graded = models.FloatField(blank=False)

    @property
    def full_usage_key(self):
        if self.usage_key.run is None:
            return self.usage_key.replace(course_key=self.course_id)
        return self.usage_key


class PersistentCourseGrade(TimeStampedModel):  # lms.djangoapps.grades.models
    user_id = models.IntegerField(blank=False, db_index=True)
    course_id = CourseKeyField(blank=False, max_length=255)
    course_edited_timestamp = models.DateTimeField(blank=True, null=True)
    course_version = models.CharField(blank=True, max_length=255)
    grading_policy_hash = models.CharField(blank=False, max_length=255)
    percent_grade = models.FloatField(blank=False)
    letter_grade = models.CharField(blank=False, max_length=255)
    passed_timestamp = models.DateTimeField(blank=True, null=True)


class GeneratedCertificate(models.Model):  # lms.djangoapps.certificates.models
    user = models.ForeignKey(User, on_delete=models.CASCADE)
    course_id = CourseKeyField(max_length=255, blank=True, default=None)
    grade = models.CharField(max_length=5, blank=True, default="")
    download_url = models.CharField(max_length=128, blank=True, default="")
    mode = models.CharField(max_length=32, default="honor")
    status = models.CharField(max_length=32, default="unavailable")
    name = models.CharField(blank=True, max_length=255)
    created_date = models.DateTimeField(auto_now_add=True)
    modified_date = models.DateTimeField(auto_now=True)


class UserPreference(models.Model):  # openedx.core.djangoapps.user_api.models (no timestamps)
    user = models.ForeignKey(User, db_index=True, related_name="preferences", on_delete=models.CASCADE)
    key = models.CharField(max_length=255, db_index=True)
    value = models.TextField()


class Bookmark(TimeStampedModel):  # openedx.core.djangoapps.bookmarks.models
    user = models.ForeignKey(User, db_index=True, on_delete=models.CASCADE)
    course_key = CourseKeyField(max_length=255, db_index=True)
    usage_key = UsageKeyField(max_length=255, db_index=True)


class IntegritySignature(TimeStampedModel):  # openedx.core.djangoapps.agreements.models
    user = models.ForeignKey(User, db_index=True, on_delete=models.CASCADE)
    course_key = CourseKeyField(max_length=255, db_index=True)


class EnterpriseCustomer(TimeStampedModel):  # enterprise.models
    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)


class EnterpriseCustomerUser(TimeStampedModel):  # enterprise.models
    enterprise_customer = models.ForeignKey(EnterpriseCustomer, on_delete=models.CASCADE)
    user_id = models.PositiveIntegerField(null=False, blank=False, db_index=True)


class EnterpriseCourseEnrollment(TimeStampedModel):  # enterprise.models
    enterprise_customer_user = models.ForeignKey(EnterpriseCustomerUser, on_delete=models.CASCADE)
    course_id = models.CharField(max_length=255, blank=False)
    unenrolled = models.BooleanField(null=True, blank=True, default=None)
