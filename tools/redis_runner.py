"""A private redis-server instance on a free loopback port, append-only file on."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tools.procs import ServiceStartError, free_port, spawn, stop_process, wait_until


def ensure_redis_server() -> str:
    """Find redis-server, installing Debian's package when missing and running as root."""
    found = shutil.which("redis-server")
    if found:
        return found
    if os.geteuid() != 0:
        raise ServiceStartError("redis-server is missing: install it with `sudo apt-get install -y redis-server`")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "redis-server"]):
        result = subprocess.run(cmd, capture_output=True, text=True, check=False,
                                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if result.returncode != 0:
            raise ServiceStartError(f"`{' '.join(cmd)}` failed: {(result.stderr or result.stdout).strip()[-300:]}")
    found = shutil.which("redis-server")
    if not found:
        raise ServiceStartError("apt-get installed redis-server but it is not on PATH")
    return found


# Small hashes and sorted sets stay listpacks (compact arrays) instead of hashtables: a learner's
# completions of one course (up to a few hundred blocks), the learner hash (every course's facts;
# a certificate or enrollment value with its version is 100-200 bytes, a program certificate
# 300-400: one value over the limit turns the whole learner hash into a hashtable, about 2x the
# bytes) and the activity zset.
# Redis' defaults are 128 entries / 64-byte values for both; a listpack read or write is
# O(entries), still microseconds at 512.
# docker-compose.yml passes the same settings (README: deployment).
LISTPACK_CONFIG = (
    "--hash-max-listpack-entries", "512", "--hash-max-listpack-value", "512",
    "--zset-max-listpack-entries", "256", "--zset-max-listpack-value", "64",
    # learner-course index sets (keys.course_learners) of integer user ids stay intsets (4 bytes
    # per learner) up to a million learners per course, instead of hashtables above 512
    "--set-max-intset-entries", "1000000",
)


@dataclass
class RedisServer:
    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    config: tuple[str, ...] = LISTPACK_CONFIG  # () : Redis' defaults

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log(self) -> Path:
        return self.workdir / "redis.log"

    def start(self, timeout: float = 20.0) -> RedisServer:
        binary = ensure_redis_server()
        self.workdir.mkdir(parents=True, exist_ok=True)
        cmd = [
            binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir),
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no",
            "--databases", "64", "--protected-mode", "yes", *self.config,
        ]
        self.proc = spawn(cmd, self.log)
        # PING, not just an open port: another program may hold the port (then our server exits).
        wait_until(self._pong, proc=self.proc, timeout=timeout, what="Redis", log=self.log)
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def restart(self, timeout: float = 20.0) -> RedisServer:
        """Stop (SIGTERM: the append-only file is flushed) and start again on the same port and data;
        return once the data set is loaded (`start` waits for PONG, which LOADING is not)."""
        self.stop()
        return self.start(timeout)

    def _pong(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False
