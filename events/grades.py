"""Grades: persistent course grade, passing status (openedx-events), subsection grade (extension)."""

from __future__ import annotations

from typing import ClassVar

from events.base import EventData, Record
from events.common import CourseData, CourseKeyStr, Fraction, Time, UsageKeyStr, UserData
from events.registry import register

TOPIC = "learning-course-grade-lifecycle"


class PersistentCourseGradeData(Record):
    user_id: int
    course: CourseData
    # Required keys; the values are null in edx-platform when the course was never edited / passed.
    course_edited_timestamp: Time | None
    course_version: str
    grading_policy_hash: str
    percent_grade: Fraction
    letter_grade: str
    passed_timestamp: Time | None


@register
class PersistentGradeSummaryChanged(EventData):
    TYPE: ClassVar[str] = "org.openedx.learning.course.persistent_grade_summary.changed.v1"
    TOPIC: ClassVar[str] = TOPIC
    grade: PersistentCourseGradeData

    def partition_key(self) -> str:
        return self.grade.course.course_key


class CoursePassingStatusData(Record):
    is_passing: bool
    course: CourseData
    user: UserData


@register
class CoursePassingStatusUpdated(EventData):
    TYPE: ClassVar[str] = "org.openedx.learning.course.passing.status.updated.v1"
    TOPIC: ClassVar[str] = TOPIC
    course_passing_status: CoursePassingStatusData

    def partition_key(self) -> str:
        return self.course_passing_status.course.course_key


class SubsectionGradeData(Record):
    user_id: int
    course_key: CourseKeyStr
    block_key: UsageKeyStr
    percent: Fraction


@register
class SubsectionGradeChanged(EventData):
    TYPE: ClassVar[str] = "ext.learning.subsection.grade.changed.v1"
    TOPIC: ClassVar[str] = TOPIC
    subsection_grade: SubsectionGradeData

    def partition_key(self) -> str:
        return self.subsection_grade.course_key
