"""Learner activity: visits, celebrations, goals, preferences, bookmarks, positions, integrity
signatures (extensions) and identity verification attempts (openedx-events)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from events.base import EventData, Record
from events.common import CourseKeyStr, Time, UsageKeyStr, UserData
from events.registry import register

TOPIC = "learning-learner-activity"


class _ActivityEvent(EventData):
    TOPIC: ClassVar[str] = TOPIC


class VisitData(Record):
    user_id: int
    course_key: CourseKeyStr
    visited_at: Time
    browser_timezone: str | None = None


@register
class CoursewareVisited(_ActivityEvent):
    TYPE: ClassVar[str] = "ext.learning.courseware.visited.v1"
    visit: VisitData

    def partition_key(self) -> str:
        return str(self.visit.user_id)


class CelebrationData(Record):
    user_id: int
    course_key: CourseKeyStr
    first_section: bool | None = None
    weekly_goal: bool | None = None


@register
class CelebrationAcknowledged(_ActivityEvent):
    TYPE: ClassVar[str] = "ext.learning.celebration.acknowledged.v1"
    celebration: CelebrationData

    def partition_key(self) -> str:
        return str(self.celebration.user_id)


class GoalData(Record):
    user_id: int
    course_key: CourseKeyStr
    days_per_week: int = Field(ge=0, le=7)
    subscribed_to_reminders: bool


@register
class CourseGoalChanged(_ActivityEvent):
    TYPE: ClassVar[str] = "ext.learning.course.goal.changed.v1"
    goal: GoalData

    def partition_key(self) -> str:
        return str(self.goal.user_id)


class PreferenceData(Record):
    user_id: int
    key: str = Field(min_length=1, max_length=255)
    value: str | None  # required key; null clears the preference


@register
class UserPreferenceChanged(_ActivityEvent):
    TYPE: ClassVar[str] = "ext.learning.user.preference.changed.v1"
    preference: PreferenceData

    def partition_key(self) -> str:
        return str(self.preference.user_id)


class BookmarkData(Record):
    user_id: int
    course_key: CourseKeyStr
    usage_key: UsageKeyStr
    bookmarked: bool


@register
class BookmarkChanged(_ActivityEvent):
    TYPE: ClassVar[str] = "ext.learning.bookmark.changed.v1"
    bookmark: BookmarkData

    def partition_key(self) -> str:
        return str(self.bookmark.user_id)


class PositionData(Record):
    user_id: int
    sequence_key: UsageKeyStr
    position: int = Field(ge=1)


@register
class SequencePositionChanged(_ActivityEvent):
    TYPE: ClassVar[str] = "ext.learning.sequence.position.changed.v1"
    position: PositionData

    def partition_key(self) -> str:
        return str(self.position.user_id)


class SignatureData(Record):
    user_id: int
    course_key: CourseKeyStr


@register
class IntegritySignatureCreated(_ActivityEvent):
    TYPE: ClassVar[str] = "ext.learning.integrity.signature.created.v1"
    signature: SignatureData

    def partition_key(self) -> str:
        return str(self.signature.user_id)


class IdvAttemptData(Record):
    attempt_id: int
    user: UserData
    status: str
    name: str | None = None
    expiration_date: Time | None = None


class _IdvEvent(_ActivityEvent):
    idv_attempt: IdvAttemptData

    def partition_key(self) -> str:
        return str(self.idv_attempt.user.id)


@register
class IdvAttemptCreated(_IdvEvent):
    TYPE: ClassVar[str] = "org.openedx.learning.idv_attempt.created.v1"


@register
class IdvAttemptPending(_IdvEvent):
    TYPE: ClassVar[str] = "org.openedx.learning.idv_attempt.pending.v1"


@register
class IdvAttemptApproved(_IdvEvent):
    TYPE: ClassVar[str] = "org.openedx.learning.idv_attempt.approved.v1"


@register
class IdvAttemptDenied(_IdvEvent):
    TYPE: ClassVar[str] = "org.openedx.learning.idv_attempt.denied.v1"
