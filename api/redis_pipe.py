"""One pipelined Redis connection for the API's hot reads (the read scripts' EVALSHA).

redis-py's execute_command takes a pooled connection per command (pool get and release, a retry
wrapper, command packing, a reader coroutine waiting on the socket) and each of the 32 concurrent
requests of the benchmark then has its own connection: one write and one read system call, and one
event loop wake-up, per command. Here all requests share one connection: a command is packed into
RESP by hiredis (`pack_command`) and written together with the other commands of the same event
loop iteration (one write system call for all of them), a future waits for its reply, and the
protocol's `data_received` feeds hiredis' reader and resolves the futures in order (Redis answers
the commands of a connection in the order it received them), so one read can answer many requests.

Failures look like redis-py's, so the API answers them as before (api/platform.py REDIS_DOWN):
- not connected / refused / connection lost: redis.exceptions.ConnectionError (a command whose
  connection was lost is sent once more on a new connection: the read scripts only read);
- no reply within `socket_timeout` (checked once a second): redis.exceptions.TimeoutError, and the
  connection is dropped (its later replies would be out of step);
- error replies: redis-py's own (public) exception classes, NoScriptError, BusyLoadingError, ...
  (`reply_error`: redis-py keeps its own table of them private, so the codes a read can meet are
  listed here).
Only plain TCP URLs (`redis://`) are supported; api/app.py uses redis-py for anything else.

"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from typing import Any

import hiredis
from redis.asyncio.connection import parse_url
from redis.exceptions import (
    AuthenticationError,
    BusyLoadingError,
    ExecAbortError,
    MasterDownError,
    NoPermissionError,
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

Arg = str | bytes | int

# Error reply codes -> redis-py's exceptions, as redis-py raises them.
_ERRORS: dict[str, type[ResponseError] | type[RedisConnectionError]] = {
    "NOSCRIPT": NoScriptError,
    "LOADING": BusyLoadingError,
    "OOM": OutOfMemoryError,
    "READONLY": ReadOnlyError,
    "TRYAGAIN": TryAgainError,
    "MASTERDOWN": MasterDownError,
    "EXECABORT": ExecAbortError,
    "NOPERM": NoPermissionError,
    "NOAUTH": AuthenticationError,
    "WRONGPASS": AuthenticationError,
}
_TOO_MANY_CLIENTS = "max number of clients reached"


def pack(args: tuple[Arg, ...]) -> bytes:
    """A command in RESP, as redis-py packs it (str as UTF-8, int as its decimal text)."""
    # hiredis' stub declares a one-element tuple; pack_command takes a command of any length.
    return hiredis.pack_command(args)  # type: ignore[arg-type]


def reply_error(message: str) -> Exception:
    """The exception redis-py raises for an error reply (`<CODE> <text>`, the leading `-` gone)."""
    code, _, text = message.partition(" ")
    cls = _ERRORS.get(code)
    if cls is not None:
        return cls(text, status_code=code)
    if code == "ERR" and text == _TOO_MANY_CLIENTS:
        return RedisConnectionError(text, status_code=code)
    return ResponseError(message)


def supports(url: str) -> bool:
    return url.startswith("redis://")


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.reader = hiredis.Reader(replyError=reply_error, notEnoughData=False)
        self.waiters: deque[tuple[asyncio.Future[Any], float]] = deque()
        self.closed = False
        self.pending: list[bytes] = []  # commands of this loop iteration, not yet written

    def send(self, command: bytes) -> None:
        """Queue a command; the commands queued within one event-loop iteration go out in one write
        (one system call for all the requests that iteration started, instead of one each)."""
        pending = self.pending
        pending.append(command)
        if len(pending) == 1:
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        if pending and not self.closed and self.transport is not None:
            self.transport.write(b"".join(pending) if len(pending) > 1 else pending[0])

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        reader = self.reader
        reader.feed(data)
        waiters = self.waiters
        while True:
            try:
                reply = reader.gets()
            except hiredis.ProtocolError as exc:
                self.fail(RedisConnectionError(f"Redis protocol error: {exc}"))
                return
            if reply is False:
                return
            if not waiters:  # nothing asked for it: out of step, start over
                self.fail(RedisConnectionError("unexpected reply from Redis"))
                return
            future = waiters.popleft()[0]
            if not future.done():
                if isinstance(reply, Exception):
                    future.set_exception(reply)
                else:
                    future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail_waiters(RedisConnectionError(f"Connection to Redis lost: {exc!r}" if exc else "Connection closed"))

    def fail(self, error: Exception) -> None:
        """Drop the connection; every command waiting on it fails with `error`."""
        self.closed = True
        self.pending = []
        self._fail_waiters(error)
        if self.transport is not None:
            self.transport.abort()

    def _fail_waiters(self, error: Exception) -> None:
        waiters = self.waiters
        while waiters:
            future = waiters.popleft()[0]
            if not future.done():
                future.set_exception(error)


class RedisPipe:
    def __init__(self, url: str, *, connect_timeout: float = 2.0, reply_timeout: float = 10.0) -> None:
        options = parse_url(url)
        self._host = options.get("host") or "localhost"
        self._port = int(options.get("port") or 6379)
        self._db = int(options.get("db") or 0)
        self._username = options.get("username")
        self._password = options.get("password")
        self._connect_timeout = connect_timeout
        self._reply_timeout = reply_timeout
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Future[_Protocol] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._stopped = False

    async def execute(self, *args: Arg) -> Any:
        """One command's reply (redis-py's exceptions on failure); sent again once if the
        connection it went out on was lost."""
        command = pack(args)
        try:
            return await self._send(command)
        except RedisConnectionError:
            if self._stopped:
                raise
            return await self._send(command)

    async def _send(self, command: bytes) -> Any:
        protocol = self._protocol
        if protocol is None or protocol.closed:
            protocol = await self._connect()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        protocol.waiters.append((future, time.monotonic()))
        protocol.send(command)
        return await future

    async def _connect(self) -> _Protocol:
        if self._stopped:
            raise RedisConnectionError("Redis client closed")
        connecting = self._connecting
        if connecting is None:
            connecting = self._connecting = asyncio.ensure_future(self._open())
            connecting.add_done_callback(self._connected)
        return await asyncio.shield(connecting)

    def _connected(self, connecting: asyncio.Future[_Protocol]) -> None:
        self._connecting = None
        if not connecting.cancelled() and connecting.exception() is None:
            self._protocol = connecting.result()

    async def _open(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout):
                _transport, protocol = await loop.create_connection(_Protocol, self._host, self._port)
                try:
                    await self._hello(protocol)
                except BaseException:
                    protocol.fail(RedisConnectionError("Redis connection set-up failed"))
                    raise
        except TimeoutError:
            raise RedisTimeoutError(f"Timeout connecting to Redis at {self._host}:{self._port}") from None
        except OSError as exc:
            raise RedisConnectionError(f"Error connecting to Redis at {self._host}:{self._port}: {exc}") from None
        if self._watchdog is None or self._watchdog.done():
            self._watchdog = asyncio.create_task(self._watch(), name="redis-pipe-watchdog")
        return protocol

    async def _hello(self, protocol: _Protocol) -> None:
        """AUTH and SELECT as the URL asks, before any command."""
        hello: list[tuple[Arg, ...]] = []
        if self._password is not None:
            hello.append(
                ("AUTH", self._password) if self._username is None else ("AUTH", self._username, self._password)
            )
        if self._db:
            hello.append(("SELECT", self._db))
        loop = asyncio.get_running_loop()
        futures = []
        for command in hello:
            future: asyncio.Future[Any] = loop.create_future()
            protocol.waiters.append((future, time.monotonic()))
            futures.append(future)
            assert protocol.transport is not None
            protocol.transport.write(pack(command))
        for future in futures:
            await future

    async def _watch(self) -> None:
        """Once a second: a reply overdue by `reply_timeout` drops the connection (TimeoutError)."""
        while not self._stopped:
            await asyncio.sleep(min(1.0, self._reply_timeout))
            protocol = self._protocol
            if protocol is None or protocol.closed or not protocol.waiters:
                continue
            if time.monotonic() - protocol.waiters[0][1] > self._reply_timeout:
                protocol.fail(RedisTimeoutError("Timeout reading from Redis"))

    async def aclose(self) -> None:
        self._stopped = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        protocol = self._protocol
        if protocol is not None and not protocol.closed:
            protocol.fail(RedisConnectionError("Redis client closed"))
        self._protocol = None
