"""What the API asks Redis: one Lua script per route, one round trip each, always from the
generation the serving pointer names (read inside the same script, so a switch is atomic)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from readmodels.facts import UserFacts, pairs, versioned
from readmodels.scripts import lua


@dataclass(frozen=True)
class CourseFacts:
    generation: int
    course: dict[str, Any]
    course_version: str
    catalog: tuple[str, dict[str, Any]] | None
    user: UserFacts
    caller: UserFacts | None
    run_programs: dict[str, dict[str, Any]]
    activity: list[tuple[str, int]]


class Readers:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self._ns = namespace
        self._course = redis.register_script(lua("read_course"))

    async def course(self, course_key: str, user_id: int | None, caller_id: int | None = None) -> CourseFacts | None:
        import orjson

        raw = await self._course(keys=[], args=[self._ns, course_key, _id(user_id), _id(caller_id)])
        if raw[1] is None:
            return None
        course = versioned(raw[1].decode())
        assert course is not None
        catalog = versioned(raw[2].decode()) if raw[2] else None
        act = raw[5]
        return CourseFacts(
            generation=int(raw[0]),
            course=course[1],
            course_version=course[0],
            catalog=catalog,
            user=UserFacts(user_id, pairs(raw[3])),
            caller=UserFacts(caller_id, pairs(raw[6])) if caller_id is not None and caller_id != user_id else None,
            run_programs={k: orjson.loads(v) for k, v in pairs(raw[4]).items()},
            activity=[(act[i].decode(), int(float(act[i + 1]))) for i in range(0, len(act), 2)],
        )


def _id(user_id: int | None) -> str:
    return "" if user_id is None else str(user_id)
