"""The read scripts' Lua copies of key rules give what the Python rule gives.

`read_sequence.lua` maps the sequence's block keys to their `completions` fields itself (so the
sequence route reads only its own blocks); `keys.completion_field` is the rule. This runs the
script's own function text on real Redis over generated and edge-case keys and compares."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from readmodels import keys
from readmodels.scripts import lua
from tools.stack import Stack

pytestmark = pytest.mark.integration

COURSES = ["course-v1:edX+DemoX+Demo_2024", "course-v1:o+c+r", "library-v1:o+lib", "course-v1:a@b+c+d"]


def _script_function(script: str, name: str) -> str:
    source = lua(script)
    found = re.search(rf"^local function {name}\(.*?^end$", source, re.S | re.M)
    assert found, f"{script} has no function {name}"
    return found.group(0)


FIELD_OF_BLOCKS = (
    "local ck = ARGV[1]\n" + _script_function("read_sequence", "completion_field") + "\n"
    "local out = {}\nfor i = 2, #ARGV do out[#out + 1] = completion_field(ARGV[i]) end\nreturn out\n"
)

EDGES = [
    "block-v1:edX+DemoX+Demo_2024+type@problem+block@p1",
    "block-v1:edX+DemoX+Demo_2024+type@problem+block@a:b",
    "block-v1:edX+DemoX+Demo_2024+type@pro@blem+block@x",
    "block-v1:edX+DemoX+Demo_2024+type@video+block@v+block@w",
    "block-v1:edX+DemoX+Demo_2024+type@html",
    "block-v1:edX+DemoX+Demo_2024+type@+block@",
    "block-v1:o+c+r+type@vertical+block@u1",
    "block-v1:other+c+r+type@vertical+block@u1",
    "i4x://edX/DemoX/problem/p1",
    "lb:o:lib:problem:p1",
]

parts = st.text(alphabet="ab@:+_-.x", max_size=8)


@pytest.fixture
async def redis(stack: Stack) -> AsyncIterator[Redis]:
    client = Redis.from_url(stack.redis.url, decode_responses=True)
    yield client
    await client.aclose()


async def _lua_fields(redis: Redis, course_key: str, blocks: list[str]) -> list[str]:
    return list(await redis.eval(FIELD_OF_BLOCKS, 0, course_key, *blocks))


@pytest.mark.parametrize("course_key", COURSES)
async def test_edge_keys_map_as_in_python(redis: Redis, course_key: str) -> None:
    blocks = [*EDGES, keys.completion_block(course_key, "problem@p9")]
    assert await _lua_fields(redis, course_key, blocks) == [keys.completion_field(course_key, b) for b in blocks]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(course=st.sampled_from(COURSES), block_type=parts, block_id=parts, tail=parts)
async def test_generated_keys_map_as_in_python(redis: Redis, course: str, block_type: str, block_id: str,
                                               tail: str) -> None:
    head = f"block-v1:{course.partition(':')[2]}+type@"
    blocks = [f"{head}{block_type}+block@{block_id}", f"{head}{block_type}{tail}", f"{head}{tail}+block@{block_id}"]
    assert await _lua_fields(redis, course, blocks) == [keys.completion_field(course, b) for b in blocks]
