"""Block completion (extension: upstream has no event bus event for it)."""

from __future__ import annotations

from typing import ClassVar

from events.base import EventData, Record
from events.common import CourseKeyStr, Fraction, Time, UsageKeyStr
from events.registry import register

TOPIC = "learning-completion"


class CompletionData(Record):
    user_id: int
    course_key: CourseKeyStr
    block_key: UsageKeyStr
    completion: Fraction
    modified: Time


@register
class BlockCompletionChanged(EventData):
    TYPE: ClassVar[str] = "ext.learning.block.completion.changed.v1"
    TOPIC: ClassVar[str] = TOPIC
    completion: CompletionData

    def partition_key(self) -> str:
        return str(self.completion.user_id)
