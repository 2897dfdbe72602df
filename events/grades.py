"""Grades: persistent course grade, passing status (openedx-events), subsection grade (extension)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from events.base import EventData, Record
from events.common import CourseData, CourseKeyStr, Fraction, Time, UsageKeyStr, UserData
from events.registry import register

TOPIC = "learning-course-grade-lifecycle"


class PersistentCourseGradeData(Record):
    user_id: int
    course: CourseData
    course_edited_timestamp: Time | None = None
    course_version: str = ""
    grading_policy_hash: str = ""
    percent_grade: float = Field(ge=0.0, le=1.0)
    letter_grade: str = ""
    passed_timestamp: Time | None = None


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
