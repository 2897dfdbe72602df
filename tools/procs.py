"""Small helpers shared by the local service runners: free ports, waiting, clean stops."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


class ServiceStartError(RuntimeError):
    """A local service did not come up; the message names the cause and the log file."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
