"""The memoised read scripts make every read through read_stamps.lua's `read`, which notes the key's
hash tag: a kept answer is served again only while the stamps of all those tags hold
(api/answer_memo.py), so a read made around it would let a change go unseen. Only the serving
pointer (compared whole) and the stamps themselves are read with redis.call."""

from __future__ import annotations

import pytest

from readmodels import keys
from readmodels.scripts import lua

SERVING = 'redis.call("GET", ns .. ":serving:{ctl}")'


@pytest.mark.parametrize("name", ["read_course", "read_sequence", "read_programs"])
def test_memoised_scripts_read_only_through_read(name: str) -> None:
    text = lua(name)
    stamps = lua("read_stamps")
    assert text.count(stamps.rstrip("\n")) == 1
    rest = text.replace(stamps.rstrip("\n"), "").replace(SERVING, "")
    assert "redis.call" not in rest
    assert "unchanged(" in rest and "stamps()" in rest


@pytest.mark.parametrize(("key", "tag"), [
    ("lp:g1:u:{u42}", "u42"),
    ("lp:g1:uc:{u42}:course-v1:a+b+c", "u42"),
    ("lp:g1:course:{course-v1:a+b+c}", "course-v1:a+b+c"),
    ("lp:g1:runprogs:{progs}course-v1:a+b+c", "progs"),
    ("lp:g1:unames", "lp:g1:unames"),  # no tag: the whole key, as Redis Cluster hashes it
    ("a{}b{c}", "a{}b{c}"),  # an empty first tag: the whole key too
    ("a{b", "a{b"),
])
def test_hash_tag_as_redis_cluster_takes_it(key: str, tag: str) -> None:
    assert keys.hash_tag(key) == tag
