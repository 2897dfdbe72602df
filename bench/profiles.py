"""Sampling profiles of the hot paths with py-spy (attached to the running process, non-blocking;
only the thread holding the GIL is sampled, so idle threads and the idle event loop do not count),
written to bench/profiles/ (kept out of git) as collapsed stacks, plus a top-functions summary."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.common import PROFILES_DIR


def py_spy() -> str | None:
    here = Path(sys.executable).with_name("py-spy")
    return str(here) if here.exists() else shutil.which("py-spy")


@dataclass
class Recording:
    name: str
    path: Path
    proc: subprocess.Popen[bytes]

    def stop(self, timeout: float = 30.0) -> Path | None:
        """Stop sampling (py-spy writes its file on SIGINT) and return the file, if any."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        return self.path if self.path.exists() and self.path.stat().st_size else None


def record(name: str, pid: int, *, rate: int = 97, duration: int | None = None) -> Recording | None:
    """Start sampling `pid`; None when py-spy is not installed."""
    binary = py_spy()
    if binary is None:
        return None
    PROFILES_DIR.mkdir(parents=True, exist_ok=True)
    path = PROFILES_DIR / f"{name}.collapsed.txt"
    path.unlink(missing_ok=True)
    cmd = [binary, "record", "--pid", str(pid), "--rate", str(rate), "--nonblocking", "--gil", "--format", "raw",
           "--output", str(path)]
    if duration:
        cmd += ["--duration", str(duration)]
    log = open(PROFILES_DIR / f"{name}.py-spy.log", "wb")  # noqa: SIM115 - the child owns it
    try:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    finally:
        log.close()
    return Recording(name, path, proc)


_LINE = re.compile(r"\s*\(([^)]*?)(?::\d+)?\)$")


def _frame(raw: str) -> str:
    """`func (path/to/file.py:123)` -> `func (file.py)`; aggregates lines of one function."""
    m = _LINE.search(raw)
    if not m:
        return raw.strip()
    func = raw[: m.start()].strip()
    where = m.group(1)
    parts = where.split("/")
    short = "/".join(parts[-2:]) if len(parts) > 1 else where
    return f"{func} ({short})"


def summarize(path: Path, top: int = 15) -> dict[str, object]:
    """Self and inclusive sample shares of the busiest functions of a collapsed-stack file."""
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_frame(f) for f in stack.split(";") if f]
        # the first frame is the thread/process label py-spy adds
        frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += n
        own[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
    if not total:
        return {"samples": 0, "self": [], "inclusive": []}

    def share(c: Counter[str]) -> list[list[object]]:
        return [[f, round(100 * n / total, 1)] for f, n in c.most_common(top)]

    return {"samples": total, "self": share(own), "inclusive": share(incl)}


def write_summary(name: str, summary: dict[str, object]) -> Path:
    path = PROFILES_DIR / f"{name}.top.txt"
    lines = [f"{name}: {summary['samples']} samples", "", "self %   function"]
    lines += [f"{pct:6.1f}   {f}" for f, pct in summary["self"]]  # type: ignore[attr-defined]
    lines += ["", "incl %   function"]
    lines += [f"{pct:6.1f}   {f}" for f, pct in summary["inclusive"]]  # type: ignore[attr-defined]
    path.write_text("\n".join(lines) + "\n")
    return path
