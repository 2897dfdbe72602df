"""What the program routes ask Redis: one Lua script per request, from the serving generation
(the pointer is read inside the script, so a generation switch is atomic for every request)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from readmodels.facts import ReadUserFacts, UserFacts, pairs
from readmodels.parsed import CertificateCourses, ParsedDocuments
from readmodels.replies import text
from readmodels.scripts import read_script as _script


@dataclass(frozen=True)
class UserProgramsFacts:
    """The list route: the learner hash and every program holding a run they are actively enrolled in."""

    generation: int
    user: UserFacts
    programs: dict[str, dict[str, Any]]  # uuid -> program document
    certificate_courses: CertificateCourses


@dataclass(frozen=True)
class ProgramFacts:
    """The progress_details route: the program (None when unknown or deleted) and the learner hash."""

    generation: int
    program: dict[str, Any] | None
    user: UserFacts
    certificate_courses: CertificateCourses


class ProgramReaders:
    def __init__(self, redis: Redis, namespace: str, execute: Callable[..., Awaitable[Any]] | None = None) -> None:
        """`execute`: what sends the scripts' EVALSHA (default: redis-py's execute_command)."""
        self._ns = namespace
        self._list = _script(redis, "read_programs", execute)
        self._progress = _script(redis, "read_programs_progress", execute)
        self._docs = ParsedDocuments()

    async def user_programs(self, user_id: int) -> UserProgramsFacts:
        return self.user_programs_facts(user_id, await self.user_programs_reply(user_id))

    async def user_programs_reply(self, user_id: int, stamps: Sequence[Any] = ()) -> Any:
        """The list script's reply as it came (`user_programs_facts` parses it); None when `stamps`,
        a kept answer's (api/answer_memo.py), still hold."""
        return await self._list(keys=[], args=[self._ns, str(user_id), *stamps])

    def user_programs_facts(self, user_id: int, raw: Any) -> UserProgramsFacts:
        programs = {}
        flat = iter(raw[2])
        for uuid, doc in zip(flat, flat, strict=True):
            parsed = self._docs.loads(doc)
            if isinstance(parsed, dict):
                programs[text(uuid)] = parsed
        user = ReadUserFacts(user_id, pairs(raw[1]))
        return UserProgramsFacts(int(raw[0]), user, programs, self._docs.certificate_courses(raw[3]))

    async def program(self, program_uuid: str, user_id: int) -> ProgramFacts:
        raw = await self._progress(keys=[], args=[self._ns, program_uuid, str(user_id)])
        snapshot = self._docs.versioned(raw[1]) if raw[1] else None
        program = snapshot[1] if snapshot and isinstance(snapshot[1], dict) else None
        user = ReadUserFacts(user_id, pairs(raw[2]))
        return ProgramFacts(int(raw[0]), program, user, self._docs.certificate_courses(raw[3]))
