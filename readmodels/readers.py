"""What the API asks Redis: one Lua script per route, one round trip each, always from the
generation the serving pointer names (read inside the same script, so a switch is atomic).

Every script also resolves a masquerade username (`unames`) and returns the caller's course access
roles, so the route can authorise the masquerade without a second round trip.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from readmodels.facts import ReadUserFacts, UserFacts, pairs, value
from readmodels.keys import ACTIVITY_BUCKET_US, completion_block
from readmodels.parsed import CertificateCourses, ParsedDocuments
from readmodels.replies import text
from readmodels.scripts import read_script as _script
from readmodels.tokens import Position
from readmodels.views.learner_course import resume_point


@dataclass(frozen=True)
class Who:
    """Whose data a read served: the effective user (None: anonymous, or an unknown username)."""

    user_id: int | None
    unknown_username: bool
    caller_roles: UserFacts  # the caller's `role:*` fields only


@dataclass(frozen=True)
class CourseFacts:
    generation: int
    course: dict[str, Any] | None  # None: never published
    course_version: str
    catalog: tuple[str, dict[str, Any]] | None
    user: UserFacts
    run_programs: dict[str, dict[str, Any]]
    activity: list[tuple[str, int]]  # (member, bucket start in microseconds)
    who: Who
    # The courses of the learner's passing certificates (only when the run is in a program): the
    # certificate-date rule of the related programs' counts.
    certificate_courses: CertificateCourses = field(default_factory=dict)


@dataclass(frozen=True)
class SequenceFacts:
    generation: int
    course: dict[str, Any] | None
    course_version: str
    catalog: tuple[str, dict[str, Any]] | None
    block_type: str | None  # the block's type in the newest outline; None: not in it
    sequence: dict[str, Any] | None
    user: UserFacts
    completions: dict[str, float]
    who: Who


@dataclass(frozen=True)
class ResumeFacts:
    generation: int
    block_id: str | None
    unit_id: str | None
    section_id: str | None
    who: Who


@dataclass(frozen=True)
class CelebrationFacts:
    generation: int
    course_exists: bool
    enrollment: dict[str, Any] | None
    who: Who


def _who(caller_roles: list[bytes], uid: bytes, unknown: int) -> Who:
    uid_text = text(uid)
    return Who(int(uid_text) if uid_text else None, bool(unknown), UserFacts(None, pairs(caller_roles)))


class Readers:
    def __init__(self, redis: Redis, namespace: str, execute: Callable[..., Awaitable[Any]] | None = None) -> None:
        """`execute`: what sends the scripts' EVALSHA (default: redis-py's execute_command)."""
        self._redis = redis
        self._ns = namespace
        self._course = _script(redis, "read_course", execute)
        self._sequence = _script(redis, "read_sequence", execute)
        self._resume = _script(redis, "read_resume", execute)
        self._celebration = _script(redis, "read_celebration", execute)
        self._applied = _script(redis, "read_applied", execute)
        self._docs = ParsedDocuments()

    async def course(self, course_key: str, caller_id: int | None, masquerade: str = "") -> CourseFacts:
        return self.course_facts(await self.course_reply(course_key, caller_id, masquerade))

    async def course_reply(
        self, course_key: str, caller_id: int | None, masquerade: str = "", stamps: Sequence[Any] = ()
    ) -> Any:
        """The course script's reply as it came (`course_facts` parses it); None when `stamps`, a
        kept answer's (api/answer_memo.py), still hold."""
        return await self._course(keys=[], args=[self._ns, course_key, _id(caller_id), masquerade, *stamps])

    def course_facts(self, raw: Any) -> CourseFacts:
        who = _who(raw[6], raw[7], raw[8])
        if not raw[1]:
            return CourseFacts(int(raw[0]), None, "", None, UserFacts(who.user_id), {}, [], who)
        course = self._docs.versioned(raw[1])
        act, progs = raw[5], iter(raw[4])
        return CourseFacts(
            generation=int(raw[0]),
            course=course[1],
            course_version=course[0],
            catalog=self._docs.versioned(raw[2]) if raw[2] else None,
            user=ReadUserFacts(who.user_id, pairs(raw[3])),
            run_programs={text(k): self._docs.loads(v) for k, v in zip(progs, progs, strict=True)},
            # scores are bucket numbers (keys.ACTIVITY_WINDOW_BUCKETS): back to microseconds
            activity=[(text(act[i]), int(float(act[i + 1])) * ACTIVITY_BUCKET_US) for i in range(0, len(act), 2)],
            who=who,
            certificate_courses=self._docs.certificate_courses(raw[9]) if raw[9] else {},
        )

    async def sequence(
        self, course_key: str, usage_key: str, caller_id: int | None, masquerade: str = ""
    ) -> SequenceFacts:
        return self.sequence_facts(course_key, await self.sequence_reply(course_key, usage_key, caller_id, masquerade))

    async def sequence_reply(
        self, course_key: str, usage_key: str, caller_id: int | None, masquerade: str = "", stamps: Sequence[Any] = ()
    ) -> Any:
        """The sequence script's reply as it came (`sequence_facts` parses it); None as `course_reply`."""
        return await self._sequence(
            keys=[], args=[self._ns, course_key, usage_key, _id(caller_id), masquerade, *stamps]
        )

    def sequence_facts(self, course_key: str, raw: Any) -> SequenceFacts:
        who = _who(raw[6], raw[7], raw[8])
        course = self._docs.versioned(raw[1]) if raw[1] else None
        return SequenceFacts(
            generation=int(raw[0]),
            course=course[1] if course else None,
            course_version=course[0] if course else "",
            catalog=self._docs.versioned(raw[9]) if len(raw) > 9 and raw[9] else None,
            block_type=text(raw[2]).split("\t", 1)[0] if raw[2] else None,
            sequence=self._docs.loads(raw[3]) if raw[3] else None,
            user=ReadUserFacts(who.user_id, pairs(raw[4])),
            completions=completions(course_key, raw[5]),
            who=who,
        )

    async def resume(self, course_key: str, caller_id: int | None, masquerade: str = "") -> ResumeFacts:
        raw = await self._resume(keys=[], args=[self._ns, course_key, _id(caller_id), masquerade])
        who = _who(raw[3], raw[4], raw[5])
        point = resume_point(value(text(raw[1])) if raw[1] else None, text(raw[2]) if raw[2] else None)
        if point is None:
            return ResumeFacts(int(raw[0]), None, None, None, who)
        return ResumeFacts(int(raw[0]), point["block_id"], point["unit_id"], point["section_id"], who)

    async def celebration(self, course_key: str, caller_id: int | None, masquerade: str = "") -> CelebrationFacts:
        raw = await self._celebration(keys=[], args=[self._ns, course_key, _id(caller_id), masquerade])
        who = _who(raw[3], raw[4], raw[5])
        return CelebrationFacts(int(raw[0]), bool(raw[1]), value(text(raw[2])) if raw[2] else None, who)

    async def applied(self, position: Position) -> bool:
        """Whether the serving generation has applied this Kafka position (read-your-writes)."""
        next_offset = await self._applied(keys=[], args=[self._ns, position.checkpoint_field])
        return position.applied_by(int(next_offset))


def completions(course_key: str, flat: list[bytes | str]) -> dict[str, float]:
    """The sequence read's completions (flat field/value pairs) -> block key: completion, exactly
    `{completion_block(course_key, k): float(value(v, 0.0)) for k, v in pairs(flat).items()}`
    (tests/unit/test_readers.py), in one pass: the block-key head computed once, and each distinct
    stored value (mostly "\t1.0") parsed once."""
    head = completion_block(course_key, "@")[: -len("+block@")]
    out: dict[str, float] = {}
    parsed: dict[bytes | str, float] = {}
    it = iter(flat)
    for k, v in zip(it, it, strict=True):
        name = text(k)
        if ":" not in name:
            block_type, _, block_id = name.partition("@")
            name = f"{head}{block_type}+block@{block_id}"
        number = parsed.get(v)
        if number is None:
            number = parsed[v] = float(value(text(v), 0.0))
        out[name] = number
    return out


def _id(user_id: int | None) -> str:
    return "" if user_id is None else str(user_id)
