"""Shared pieces of the benchmarks: result rows, the machine record, Redis checkpoints and memory."""

from __future__ import annotations

import asyncio
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from readmodels import keys
from readmodels.redis_client import make_redis
from readmodels.replies import int_hash

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
PROFILES_DIR = BENCH_DIR / "profiles"


@dataclass
class Row:
    """One line of the results table. `value` None means not measured (see `note`)."""

    id: str
    name: str
    value: float | None
    unit: str
    target: str
    met: bool | None = None
    floor: float | None = None
    floor_name: str = ""
    ratio: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def not_available(id: str, name: str, unit: str, target: str, why: str) -> Row:
    return Row(id=id, name=name, value=None, unit=unit, target=target, met=None, note=why)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def machine() -> dict[str, Any]:
    mem_kb = 0
    model = platform.processor()
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu": model,
        "python": platform.python_version(),
        "loadavg_start": os.getloadavg()[0],
    }


async def used_memory(redis_url: str) -> int:
    redis = Redis.from_url(redis_url)
    try:
        info = await redis.info("memory")
        return int(info["used_memory"])
    finally:
        await redis.aclose()


async def checkpoints(redis: Redis, ns: str) -> dict[str, int]:
    gen = int(await redis.get(keys.serving(ns)) or 1)
    raw = await redis.hgetall(keys.prefix(ns, gen) + keys.CHECKPOINTS)
    return int_hash(raw)


@dataclass
class Progress:
    """How a projector went through a known backlog, from the checkpoints it wrote."""

    total: int
    started: float  # monotonic time the worker was started
    first_at: float | None = None  # first checkpoint seen
    first_count: int = 0  # events already applied when the first checkpoint was seen
    done_at: float | None = None

    @property
    def steady_rate(self) -> float | None:
        if self.first_at is None or self.done_at is None or self.done_at <= self.first_at:
            return None
        return (self.total - self.first_count) / (self.done_at - self.first_at)

    @property
    def wall_rate(self) -> float | None:
        if self.done_at is None:
            return None
        return self.total / (self.done_at - self.started)


async def wait_applied(
    redis_url: str,
    ns: str,
    ends: dict[tuple[str, int], int],
    *,
    started: float,
    limit_s: float,
    alive: Callable[[], bool],
    on_first: Callable[[], None] | None = None,
    poll: float = 0.02,
) -> Progress:
    """Poll the checkpoints until they cover `ends` (next offsets per topic-partition)."""
    wanted = {f"{t}:{p}": off for (t, p), off in ends.items()}
    progress = Progress(total=sum(wanted.values()), started=started)
    redis = make_redis(redis_url)  # one Redis or a cluster (the cluster rows)
    try:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            done = await checkpoints(redis, ns)
            now = time.monotonic()
            applied = sum(min(done.get(f, 0), off) for f, off in wanted.items())
            if applied and progress.first_at is None:
                progress.first_at, progress.first_count = now, applied
                if on_first is not None:
                    on_first()
            if applied >= progress.total:
                progress.done_at = now
                return progress
            if not alive():
                raise RuntimeError("the projector worker exited before it applied the history")
            await asyncio.sleep(poll)
        raise TimeoutError(f"the projector applied {applied} of {progress.total} events within {limit_s:.0f}s")
    finally:
        await redis.aclose()


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time a process has used so far (Linux /proc), None when unknown.

    CPU per event or per request is far less sensitive than wall-clock rates to other work on
    the same cores, so the benchmarks report both."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


class CpuMeter:
    """CPU seconds used by a few named processes between start() and stop()."""

    def __init__(self, pids: dict[str, int | None]) -> None:
        self.pids = pids
        self.begin: dict[str, float | None] = {}
        self.used: dict[str, float] = {}

    def start(self) -> CpuMeter:
        self.begin = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        return self

    def stop(self) -> dict[str, float]:
        for name, pid in self.pids.items():
            a, b = self.begin.get(name), cpu_seconds(pid)
            if a is not None and b is not None:
                self.used[name] = b - a
        return self.used
