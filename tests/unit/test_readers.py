"""readmodels/readers.completions: the one-pass decoding of the sequence read's completions gives
exactly what the dict comprehension over pairs() gave."""

from __future__ import annotations

import random

import pytest

from readmodels.facts import pairs, value
from readmodels.keys import completion_block
from readmodels.readers import completions

COURSES = ["course-v1:edX+DemoX+Demo_Course", "edX/Demo/2014", "course-v1:a+b+c", "ccx-v1:a+b+c+ccx@1"]
FIELDS = [
    "problem@abc",
    "html@x@y",
    "video@",
    "@id",
    "plain",
    "",
    "block-v1:edX+DemoX+Demo_Course+type@problem+block@abc",
    "i4x://edX/Demo/problem/abc",
]
VALUES = ["\t1.0", "\t0.5", "\t0", "\t1", "v1\t0.25", "\t1e-3"]


def _expected(course_key: str, flat: list[bytes | str]) -> dict[str, float]:
    return {completion_block(course_key, k): float(value(v, 0.0)) for k, v in pairs(flat).items()}


@pytest.mark.parametrize("course_key", COURSES)
@pytest.mark.parametrize("seed", range(20))
def test_completions_match_the_comprehension(course_key: str, seed: int) -> None:
    rng = random.Random(seed)
    fields = rng.sample(FIELDS, rng.randint(0, len(FIELDS)))
    flat: list[bytes | str] = []
    for f in fields:
        v = rng.choice(VALUES)
        flat += [f.encode(), v.encode()] if rng.random() < 0.8 else [f, v]
    got = completions(course_key, flat)
    want = _expected(course_key, flat)
    assert got == want
    assert list(got) == list(want)
    assert [type(x) for x in got.values()] == [type(x) for x in want.values()]
