"""Loads the Lua scripts shipped in readmodels/lua.

A line `-- @include <name>` is replaced by the text of `<name>.lua`: EVAL scripts cannot load
modules, and the courseware read scripts share their prelude (serving generation, masquerade).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from functools import cache
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from readmodels.cluster_reads import ClusterReadScript
from readmodels.redis_client import is_cluster

_INCLUDE = re.compile(r"^-- @include (\w+)$", re.MULTILINE)


@cache
def lua(name: str) -> str:
    text = resources.files("readmodels").joinpath("lua", f"{name}.lua").read_text()
    return _INCLUDE.sub(lambda m: lua(m.group(1)).rstrip("\n"), text)


class ReadScript:
    """A read script called with one plain EVALSHA. redis-py's Script.__call__ goes through the
    `evalsha` command wrapper (argument checks, a deprecation decorator) on every call, which on
    the API's hot reads cost as much as the command itself. NOSCRIPT (a restarted or flushed
    Redis) falls back to redis-py's Script, which loads the script and runs it.

    `execute` (the API's api/redis_pipe.RedisPipe.execute) sends the EVALSHA instead of redis-py's
    execute_command: same reply, same exceptions."""

    def __init__(self, redis: Redis, name: str, execute: Callable[..., Awaitable[Any]] | None = None) -> None:
        self._redis = redis
        self._script = redis.register_script(lua(name))
        self._sha = self._script.sha
        self._execute = execute or redis.execute_command

    async def __call__(self, keys: Sequence[str] = (), args: Sequence[str | bytes | int] = ()) -> Any:
        try:
            return await self._execute("EVALSHA", self._sha, len(keys), *keys, *args)
        except NoScriptError:
            return await self._script(keys=list(keys), args=list(args))


def read_script(redis: Redis, name: str, execute: Callable[..., Awaitable[Any]] | None = None) -> Any:
    """The read script `name`: one EVALSHA on a single Redis; on a Redis Cluster, where one script
    cannot join a learner's slot with a course's, the same reply from pipelined reads
    (cluster_reads.py; `execute`, a single-node connection, does not apply there)."""
    if is_cluster(redis):
        return ClusterReadScript(redis, name)  # type: ignore[arg-type]
    return ReadScript(redis, name, execute)
