"""api/redis_pipe.py against a small RESP server in process: replies in order under concurrency,
redis-py's exceptions for error replies, refused and lost connections, and overdue replies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import hiredis
import pytest
from redis.exceptions import BusyLoadingError, NoScriptError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from api.redis_pipe import RedisPipe, pack


def _resp(value: Any) -> bytes:
    if value is None:
        return b"$-1\r\n"
    if isinstance(value, int):
        return b":%d\r\n" % value
    if isinstance(value, bytes):
        return b"$%d\r\n%s\r\n" % (len(value), value)
    if isinstance(value, Exception):
        return b"-%s\r\n" % str(value).encode()
    assert isinstance(value, list)
    return b"*%d\r\n" % len(value) + b"".join(_resp(v) for v in value)


class FakeRedis:
    """Answers each command with `answer(command)`; None as answer: close the connection."""

    def __init__(self, answer: Callable[[list[bytes]], Any]) -> None:
        self.answer = answer
        self.commands: list[list[bytes]] = []
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        parser = hiredis.Reader()
        try:
            while data := await reader.read(65536):
                parser.feed(data)
                out = []
                while (command := parser.gets()) is not False:
                    self.commands.append(command)
                    answer = self.answer(command)
                    if answer is None:
                        writer.write(b"".join(out))
                        writer.close()
                        return
                    if answer is not Ellipsis:  # Ellipsis: never answer
                        out.append(_resp(answer))
                writer.write(b"".join(out))  # all replies of one read in one write
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])


@pytest.fixture
async def fake() -> AsyncIterator[FakeRedis]:
    def echo(command: list[bytes]) -> Any:
        name = command[0].upper()
        if name == b"ECHO":
            return command[1]
        if name == b"EVALSHA":
            return Exception("NOSCRIPT No matching script. Please use EVAL.")
        if name == b"LOAD":
            return Exception("LOADING Redis is loading the dataset in memory")
        if name == b"LIST":
            return [1, None, b"x", [], [b"a", b"b"]]
        return b"OK"

    server = FakeRedis(echo)
    server.server = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    yield server
    server.server.close()


def test_pack_is_resp_as_redis_py_packs_it() -> None:
    assert pack(("EVALSHA", b"ab", 0, "é")) == b"*4\r\n$7\r\nEVALSHA\r\n$2\r\nab\r\n$1\r\n0\r\n$2\r\n\xc3\xa9\r\n"


async def test_concurrent_commands_get_their_own_replies_over_one_connection(fake: FakeRedis) -> None:
    pipe = RedisPipe(f"redis://127.0.0.1:{fake.port}/0")
    try:
        replies = await asyncio.gather(*(pipe.execute("ECHO", f"m{i}") for i in range(200)))
        assert replies == [f"m{i}".encode() for i in range(200)]
        assert await pipe.execute("LIST") == [1, None, b"x", [], [b"a", b"b"]]
        assert fake.connections == 1
    finally:
        await pipe.aclose()


async def test_error_replies_are_redis_py_exceptions_and_the_connection_stays(fake: FakeRedis) -> None:
    pipe = RedisPipe(f"redis://127.0.0.1:{fake.port}/0")
    try:
        with pytest.raises(NoScriptError):
            await pipe.execute("EVALSHA", "0" * 40, 0)
        with pytest.raises(BusyLoadingError):
            await pipe.execute("LOAD")
        assert await pipe.execute("ECHO", "after") == b"after"
        assert fake.connections == 1
    finally:
        await pipe.aclose()


async def test_select_and_auth_go_first_as_the_url_asks(fake: FakeRedis) -> None:
    pipe = RedisPipe(f"redis://user:secret@127.0.0.1:{fake.port}/3")
    try:
        assert await pipe.execute("ECHO", "x") == b"x"
        assert fake.commands[:2] == [[b"AUTH", b"user", b"secret"], [b"SELECT", b"3"]]
    finally:
        await pipe.aclose()


async def test_refused_connection_is_a_redis_connection_error() -> None:
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    pipe = RedisPipe(f"redis://127.0.0.1:{port}/0")
    try:
        with pytest.raises(RedisConnectionError):
            await pipe.execute("ECHO", "x")
    finally:
        await pipe.aclose()


async def test_a_lost_connection_is_retried_once_then_reported(fake: FakeRedis) -> None:
    pipe = RedisPipe(f"redis://127.0.0.1:{fake.port}/0")
    try:
        assert await pipe.execute("ECHO", "a") == b"a"
        closes = iter([None])  # the next command's connection is closed once, then answered
        answer = fake.answer
        fake.answer = lambda c: next(closes, answer(c)) if c[0] == b"ECHO" else answer(c)
        assert await pipe.execute("ECHO", "b") == b"b"
        assert fake.connections == 2
        fake.answer = lambda c: None  # every connection closed: the command fails
        with pytest.raises(RedisConnectionError):
            await pipe.execute("ECHO", "c")
        fake.answer = answer  # Redis back: the next command reconnects
        assert await pipe.execute("ECHO", "d") == b"d"
    finally:
        await pipe.aclose()


async def test_an_overdue_reply_is_a_timeout_and_drops_the_connection(fake: FakeRedis) -> None:
    pipe = RedisPipe(f"redis://127.0.0.1:{fake.port}/0", reply_timeout=0.2)
    try:
        answer = fake.answer
        fake.answer = lambda c: ...  # never answers
        with pytest.raises(RedisTimeoutError):
            await asyncio.wait_for(pipe.execute("ECHO", "x"), 5)
        fake.answer = answer
        assert await pipe.execute("ECHO", "y") == b"y"
        assert fake.connections == 2
    finally:
        await pipe.aclose()
