"""Enrollment lifecycle (openedx-events `CourseEnrollmentData`) and the enterprise link extension."""

from __future__ import annotations

from typing import ClassVar

from events.base import EventData, Record
from events.common import CourseData, CourseKeyStr, Time, UserData
from events.registry import register

TOPIC = "learning-course-enrollment-lifecycle"


class CourseEnrollmentData(Record):
    user: UserData
    course: CourseData
    mode: str
    is_active: bool
    creation_date: Time
    created_by: UserData | None = None


class _EnrollmentEvent(EventData):
    TOPIC: ClassVar[str] = TOPIC
    enrollment: CourseEnrollmentData

    def partition_key(self) -> str:
        return self.enrollment.course.course_key


@register
class CourseEnrollmentCreated(_EnrollmentEvent):
    TYPE: ClassVar[str] = "org.openedx.learning.course.enrollment.created.v1"


@register
class CourseEnrollmentChanged(_EnrollmentEvent):
    TYPE: ClassVar[str] = "org.openedx.learning.course.enrollment.changed.v1"


@register
class CourseUnenrollmentCompleted(_EnrollmentEvent):
    TYPE: ClassVar[str] = "org.openedx.learning.course.unenrollment.completed.v1"


class EnterpriseEnrollmentData(Record):
    enterprise_customer_uuid: str
    user_id: int
    course_key: CourseKeyStr


class _EnterpriseLinkEvent(EventData):
    TOPIC: ClassVar[str] = TOPIC
    enterprise_enrollment: EnterpriseEnrollmentData

    def partition_key(self) -> str:
        return self.enterprise_enrollment.course_key


@register
class EnterpriseEnrollmentLinked(_EnterpriseLinkEvent):
    TYPE: ClassVar[str] = "ext.enterprise.course.enrollment.linked.v1"


@register
class EnterpriseEnrollmentUnlinked(_EnterpriseLinkEvent):
    TYPE: ClassVar[str] = "ext.enterprise.course.enrollment.unlinked.v1"
