"""Benchmark 3: `lp rebuild` of the whole history into a new generation, timed from the outside
(the command runs as its own process, with the bench stack's settings in its environment).

The row's value is the issue's measure, start to switch: from starting the command to the moment
the serving pointer names the new generation (read here every 10 ms). The command then still
deletes the old generation (a SCAN + UNLINK pass, a 2 s grace for a live projector's batch that
raced the switch, a second pass): its exit is given beside, and its CPU stays in the figures.
Its events are those the command says it replayed (everything the serving generation applied, so
also what rows before it produced: bench/run.py runs it before the API and freshness rows)."""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import typer
from redis import Redis

from bench import profiles
from bench.common import PROFILES_DIR, Row, cpu_seconds, not_available
from readmodels import keys
from readmodels.settings import Settings
from tools import cmd_rebuild
from tools.procs import last_line, spawn, stop_process
from tools.stack import ROOT, settings_env

TARGET_S = 25.0
SWITCH_POLL_S = 0.01
NAME = "Rebuild of the history into a new generation"
# Below this, the command's own start (Python imports, Kafka and Redis connections, a few seconds)
# dominates, and scaling the time up to 1,000,000 events would judge the start, not the replay.
MIN_EVENTS_TO_JUDGE = 200_000


def available() -> bool:
    """True once `lp rebuild` is registered (tools/cmd_rebuild.py)."""
    app = typer.Typer()
    cmd_rebuild.register(app)
    names = {c.name or (c.callback.__name__.replace("_", "-") if c.callback else "") for c in app.registered_commands}
    return "rebuild" in names


def run(settings: Settings, events: int, *, log: Path, timeout: float, extra_args: list[str],
        redis_pid: int | None = None, raw_rate: float | None = None) -> Row:
    """`lp rebuild` with its default workers (the cores) unless `extra_args` say otherwise; CPU per
    event of the command (workers included) and of Redis; the rate against the raw consumer's."""
    target = f"<= {TARGET_S:.0f} s for 1,000,000 events, start to switch"
    if not available():
        return not_available("rebuild", NAME, "s", target, "not available: `lp rebuild` does not exist yet")
    cmd = [sys.executable, "-m", "tools.cli", "rebuild", *extra_args]
    started = time.monotonic()
    # CPU of the command: what the children reaped while it runs used (the others keep running),
    # its worker processes included (they are reaped by the command).
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    redis_before = cpu_seconds(redis_pid)
    pointer = Redis.from_url(settings.redis_url)
    serving = keys.serving(settings.redis_namespace)
    before_switch = pointer.get(serving)
    proc = spawn(cmd, log, env=settings_env(settings), cwd=ROOT)
    try:
        code, switched_at = _wait(proc, lambda: pointer.get(serving) != before_switch, started + timeout)
    except subprocess.TimeoutExpired:
        dump = _dump_stack(proc.pid)
        stop_process(proc)
        where = f"; its stack: {dump}" if dump else ""
        return not_available("rebuild", NAME, "s", target,
                             f"did not finish within {timeout:.0f} s: {last_line(log)}{where}")
    finally:
        pointer.close()
    exited = time.monotonic() - started
    seconds = (switched_at if switched_at is not None else time.monotonic()) - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    redis_after = cpu_seconds(redis_pid)
    redis_cpu = redis_after - redis_before if redis_after is not None and redis_before is not None else None
    if code != 0:
        return not_available("rebuild", NAME, "s", target, f"failed: `lp rebuild` exited {code}: {last_line(log)}")
    if switched_at is None:
        return not_available("rebuild", NAME, "s", target, f"`lp rebuild` exited without switching: {last_line(log)}")
    # What the command replayed is the row's measure: rows before it may have added events
    # (visits, freshness writes) to the history it must cover.
    replayed = replayed_events(log)
    events = events if replayed is None else replayed
    scaled = seconds * 1_000_000 / events if events else None
    rate = events / seconds if seconds > 0 else None
    ratio = rate / raw_rate if rate and raw_rate else None
    note = _note(events, scaled, seconds)
    note += f"; the command exited at {exited:.1f} s (the old generation deleted after the switch)"
    if events:
        note += f"; CPU/event (to the exit): command {cpu / events * 1e6:.0f} us"
        note += f", Redis {redis_cpu / events * 1e6:.1f} us" if redis_cpu is not None else ""
        note += f"; {ratio:.2f} x the raw consumer ({raw_rate:,.0f} events/s)" if ratio and raw_rate else ""
    return Row(id="rebuild", name=NAME, value=round(seconds, 1), unit="s", target=target,
               met=scaled <= TARGET_S if scaled is not None and events >= MIN_EVENTS_TO_JUDGE else None,
               floor=round(raw_rate, 1) if raw_rate else None, floor_name="raw aiokafka consume-and-discard",
               ratio=round(ratio, 3) if ratio else None, note=note,
               detail={"events": events, "seconds_per_million": round(scaled, 1) if scaled else None,
                       "rate": round(rate, 1) if rate else None, "seconds_to_exit": round(exited, 1),
                       "cpu_seconds": round(cpu, 2),
                       "redis_cpu_seconds": round(redis_cpu, 2) if redis_cpu is not None else None,
                       "args": extra_args})



def _wait(proc: subprocess.Popen[bytes], switched: Callable[[], bool], deadline: float) -> tuple[int, float | None]:
    """Wait for the command to exit; return its exit code and when `switched()` first held."""
    at: float | None = None
    while (code := proc.poll()) is None:
        if at is None and switched():
            at = time.monotonic()
        if time.monotonic() > deadline:
            raise subprocess.TimeoutExpired(proc.args, 0)
        time.sleep(SWITCH_POLL_S)
    if at is None and switched():  # switched within the last poll interval
        at = time.monotonic()
    return code, at


# Any whitespace between the words: the command's console may wrap the line.
_REPLAYED = re.compile(r"(\d+)\s+" + r"\s+".join(cmd_rebuild.REPLAYED.split()))


def replayed_events(log: Path) -> int | None:
    """The events the command replayed, from its `switched: ...; N events replayed` line."""
    try:
        found = _REPLAYED.findall(log.read_text(errors="replace"))
    except OSError:
        return None
    return int(found[-1]) if found else None


def _note(events: int, scaled: float | None, seconds: float) -> str:
    rate = f"{events / seconds:,.0f} events/s including the command's start"
    if events == 1_000_000 or scaled is None:
        return rate
    if events < MIN_EVENTS_TO_JUDGE:
        return f"{events:,} events, {rate}; too few to judge against the 1,000,000-event target"
    return f"{events:,} events, {rate}; scaled to 1,000,000: {scaled:.1f} s"


def _dump_stack(pid: int) -> str | None:
    """Where a stuck rebuild waits (py-spy dump), saved beside the profiles."""
    binary = profiles.py_spy()
    if binary is None:
        return None
    out = subprocess.run([binary, "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=30, check=False)
    PROFILES_DIR.mkdir(parents=True, exist_ok=True)
    path = PROFILES_DIR / "rebuild-stuck.txt"
    path.write_text(out.stdout + out.stderr)
    return str(path.relative_to(ROOT))
