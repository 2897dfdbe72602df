"""Course content: the published course snapshot (extension), catalog info, course access roles."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field

from events.base import EventData, Record
from events.common import CourseKeyStr, Fraction, Time, UsageKeyStr, UserData
from events.registry import register

TOPIC = "content-course-lifecycle"


class Mode(Record):
    slug: str
    min_price: float | None = None
    currency: str | None = None
    sku: str | None = None
    upgrade_deadline: Time | None = None


class EntranceExam(Record):
    chapter_key: UsageKeyStr
    minimum_score_pct: Fraction


class Features(Record):
    celebrations: bool = False
    streak_celebrations: bool = False
    streak_discount: bool = False
    course_goals: bool = False
    notes: bool = False
    learning_assistant: bool = False
    integrity_signature: bool = False
    content_type_gating: bool = False
    course_duration_limits: bool = False
    course_exit_page: bool = False
    proctored_exams: bool = False


class Block(Record):
    block_key: UsageKeyStr
    block_type: str
    completable: bool


class Unit(Record):
    block_key: UsageKeyStr
    display_name: str
    page_title: str | None = None
    icon: Literal["problem", "video", "other"] = "other"
    graded: bool = False
    contains_gated_content: bool = False
    blocks: tuple[Block, ...] = ()


class Prerequisite(Record):
    block_key: UsageKeyStr
    min_score: Fraction


class Sequence(Record):
    block_key: UsageKeyStr
    display_name: str
    format: str | None = None
    graded: bool = False
    due: Time | None = None
    hide_after_due: bool = False
    is_time_limited: bool = False
    is_proctored: bool = False
    hide_from_toc: bool = False
    prerequisite: Prerequisite | None = None
    units: tuple[Unit, ...] = ()


class Chapter(Record):
    block_key: UsageKeyStr
    display_name: str
    sequences: tuple[Sequence, ...] = ()


class CoursePublishedData(Record):
    course_key: CourseKeyStr
    org: str
    number: str
    run: str
    display_name: str
    short_description: str | None = None
    overview: str | None = None
    effort: str | None = None
    language: str | None = None
    license: str | None = None
    start: Time | None = None
    end: Time | None = None
    enrollment_start: Time | None = None
    enrollment_end: Time | None = None
    advertised_start: str | None = None
    pacing: Literal["instructor", "self"] = "instructor"
    course_image_url: str | None = None
    course_video_url: str | None = None
    marketing_url: str | None = None
    show_calculator: bool = False
    invitation_only: bool = False
    lowest_passing_grade: Fraction = 0.5
    modes: tuple[Mode, ...] = ()
    expected_duration_weeks: int | None = Field(default=None, ge=0)
    certificate_available_date: Time | None = None
    honor_certificates_enabled: bool = False
    entrance_exam: EntranceExam | None = None
    features: Features = Features()
    outline: tuple[Chapter, ...] = ()


@register
class CoursePublished(EventData):
    TYPE: ClassVar[str] = "ext.content.course.published.v1"
    TOPIC: ClassVar[str] = TOPIC
    course: CoursePublishedData

    def partition_key(self) -> str:
        return self.course.course_key


class CourseScheduleData(Record):
    start: Time
    pacing: str = "instructor"
    end: Time | None = None
    enrollment_start: Time | None = None
    enrollment_end: Time | None = None


class CourseCatalogData(Record):
    course_key: CourseKeyStr
    name: str
    schedule_data: CourseScheduleData
    hidden: bool = False
    invitation_only: bool = False


@register
class CourseCatalogInfoChanged(EventData):
    TYPE: ClassVar[str] = "org.openedx.content_authoring.course.catalog_info.changed.v1"
    TOPIC: ClassVar[str] = TOPIC
    catalog_info: CourseCatalogData

    def partition_key(self) -> str:
        return self.catalog_info.course_key


def _course_key_or_empty(value: str) -> str:
    from events.common import _check_course_key

    return value if value == "" else _check_course_key(value)


class CourseAccessRoleData(Record):
    user: UserData
    org_key: str
    course_key: Annotated[str, AfterValidator(_course_key_or_empty)] = ""
    role: str


class _RoleEvent(EventData):
    TOPIC: ClassVar[str] = TOPIC
    course_access_role_data: CourseAccessRoleData

    def partition_key(self) -> str:
        return self.course_access_role_data.course_key or self.course_access_role_data.org_key


@register
class CourseAccessRoleAdded(_RoleEvent):
    TYPE: ClassVar[str] = "org.openedx.learning.user.course_access_role.added.v1"


@register
class CourseAccessRoleRemoved(_RoleEvent):
    TYPE: ClassVar[str] = "org.openedx.learning.user.course_access_role.removed.v1"
