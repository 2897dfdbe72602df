"""Course content: the published course snapshot (extension), catalog info, course access roles."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field

from events.base import EventData, Record
from events.common import CourseKeyStr, Fraction, Time, UsageKeyStr, UserData, course_key_or_empty
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
    celebrations: bool
    streak_celebrations: bool
    streak_discount: bool
    course_goals: bool
    notes: bool
    learning_assistant: bool
    integrity_signature: bool
    content_type_gating: bool
    course_duration_limits: bool
    course_exit_page: bool
    proctored_exams: bool


class Block(Record):
    block_key: UsageKeyStr
    block_type: str
    completable: bool


class Unit(Record):
    block_key: UsageKeyStr
    display_name: str
    page_title: str | None = None
    icon: Literal["problem", "video", "other"]
    graded: bool
    contains_gated_content: bool
    blocks: tuple[Block, ...]


class Prerequisite(Record):
    block_key: UsageKeyStr
    min_score: Fraction


class Sequence(Record):
    block_key: UsageKeyStr
    display_name: str
    format: str | None = None
    graded: bool
    due: Time | None = None
    hide_after_due: bool
    is_time_limited: bool
    is_proctored: bool
    hide_from_toc: bool
    prerequisite: Prerequisite | None = None
    units: tuple[Unit, ...]


class Chapter(Record):
    block_key: UsageKeyStr
    display_name: str
    sequences: tuple[Sequence, ...]


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
    pacing: Literal["instructor", "self"]
    course_image_url: str | None = None
    course_video_url: str | None = None
    marketing_url: str | None = None
    show_calculator: bool
    invitation_only: bool
    lowest_passing_grade: Fraction = 0.5
    modes: tuple[Mode, ...]
    expected_duration_weeks: int | None = Field(default=None, ge=0)
    certificate_available_date: Time | None = None
    honor_certificates_enabled: bool
    entrance_exam: EntranceExam | None = None
    features: Features
    outline: tuple[Chapter, ...]


@register
class CoursePublished(EventData):
    TYPE: ClassVar[str] = "ext.content.course.published.v1"
    TOPIC: ClassVar[str] = TOPIC
    course: CoursePublishedData

    def partition_key(self) -> str:
        return self.course.course_key


class CourseScheduleData(Record):
    start: Time
    pacing: str
    end: Time | None = None
    enrollment_start: Time | None = None
    enrollment_end: Time | None = None


class CourseCatalogData(Record):
    course_key: CourseKeyStr
    name: str
    schedule_data: CourseScheduleData
    hidden: bool
    invitation_only: bool


@register
class CourseCatalogInfoChanged(EventData):
    TYPE: ClassVar[str] = "org.openedx.content_authoring.course.catalog_info.changed.v1"
    TOPIC: ClassVar[str] = TOPIC
    catalog_info: CourseCatalogData

    def partition_key(self) -> str:
        return self.catalog_info.course_key


class CourseAccessRoleData(Record):
    user: UserData
    org_key: str
    course_key: Annotated[str, AfterValidator(course_key_or_empty)]  # "" = every course of org_key
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
