"""Small helpers shared by the local service runners: free ports, waiting, clean stops."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


class ServiceStartError(RuntimeError):
    """A local service did not come up; the message names the cause and the log file."""


# Ports are picked below the kernel's ephemeral range: a port the kernel handed out for a bind to
# port 0 is one it also hands to outgoing connections, so between the pick and the service's own
# bind a client socket could take it (a fresh-clone run lost its stack to "address already in
# use" that way). Outgoing connections never take a port below the range.
_LOWEST = 10_000
_handed_out: set[int] = set()


def _ephemeral_start(path: str = "/proc/sys/net/ipv4/ip_local_port_range") -> int:
    try:
        return int(Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now, outside the ephemeral range, not handed out before by
    this process (two services started together never get the same one)."""
    top = _ephemeral_start()
    for _ in range(200):
        port = random.randrange(_LOWEST, top) if top > _LOWEST + 100 else 0
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            port = int(s.getsockname()[1])
        _handed_out.add(port)
        return port
    raise ServiceStartError("no free TCP port found below the ephemeral range")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def wait_until(
    ready: Callable[[], bool],
    *,
    proc: subprocess.Popen[bytes],
    timeout: float,
    what: str,
    log: Path,
) -> None:
    """Poll `ready` until true; fail fast with one line if the process died or time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceStartError(
                f"{what} exited with code {proc.returncode} before it was ready: {last_line(log)} (log: {log})"
            )
        if ready():
            return
        time.sleep(0.1)
    stop_process(proc)
    raise ServiceStartError(f"{what} was not ready after {timeout:.0f}s: {last_line(log)} (log: {log})")


def last_line(log: Path) -> str:
    try:
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "no log written"
    errors = [ln for ln in lines if "ERROR" in ln or "FATAL" in ln or "Exception" in ln or "#" in ln[:3]]
    return (errors or lines or ["empty log"])[-1].strip()[:300]


def spawn(
    cmd: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start a process in its own process group so that one signal stops it and its children."""
    log.parent.mkdir(parents=True, exist_ok=True)
    out = open(log, "ab")  # noqa: SIM115 - the child owns the handle for its lifetime
    try:
        return subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
    finally:
        out.close()


def stop_process(proc: subprocess.Popen[bytes] | None, timeout: float = 15.0) -> None:
    """SIGTERM the process group, wait, then SIGKILL whatever is left."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
