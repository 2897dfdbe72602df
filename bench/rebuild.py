"""Benchmark 3: `lp rebuild` of the whole history into a new generation, timed from the outside
(the command runs as its own process, with the bench stack's settings in its environment)."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import typer

from bench import profiles
from bench.common import PROFILES_DIR, Row, not_available
from readmodels.settings import Settings
from tools.procs import last_line, spawn, stop_process
from tools.stack import ROOT, settings_env

TARGET_S = 90.0
NAME = "Rebuild of the history into a new generation"
# Below this, the command's own start (Python imports, Kafka and Redis connections, a few seconds)
# dominates, and scaling the time up to 1,000,000 events would judge the start, not the replay.
MIN_EVENTS_TO_JUDGE = 200_000


def available() -> bool:
    """True once `lp rebuild` is registered (tools/cmd_rebuild.py)."""
    from tools import cmd_rebuild

    app = typer.Typer()
    cmd_rebuild.register(app)
    names = {c.name or (c.callback.__name__.replace("_", "-") if c.callback else "") for c in app.registered_commands}
    return "rebuild" in names


def run(settings: Settings, events: int, *, log: Path, timeout: float, extra_args: list[str]) -> Row:
    target = f"< {TARGET_S:.0f} s for 1,000,000 events"
    if not available():
        return not_available("rebuild", NAME, "s", target, "not available: `lp rebuild` does not exist yet")
    cmd = [sys.executable, "-m", "tools.cli", "rebuild", *extra_args]
    started = time.monotonic()
    # CPU of the command: what the children reaped while it runs used (the others keep running).
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = spawn(cmd, log, env=settings_env(settings), cwd=ROOT)
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        dump = _dump_stack(proc.pid)
        stop_process(proc)
        where = f"; its stack: {dump}" if dump else ""
        return not_available("rebuild", NAME, "s", target,
                             f"did not finish within {timeout:.0f} s: {last_line(log)}{where}")
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if code != 0:
        return not_available("rebuild", NAME, "s", target, f"failed: `lp rebuild` exited {code}: {last_line(log)}")
    scaled = seconds * 1_000_000 / events if events else None
    return Row(id="rebuild", name=NAME, value=round(seconds, 1), unit="s", target=target,
               met=scaled < TARGET_S if scaled is not None and events >= MIN_EVENTS_TO_JUDGE else None,
               note=f"{_note(events, scaled, seconds)}; CPU/event of the command: {cpu / events * 1e6:.0f} us"
               if events else _note(events, scaled, seconds),
               detail={"events": events, "seconds_per_million": round(scaled, 1) if scaled else None,
                       "cpu_seconds": round(cpu, 2), "args": extra_args})



def _note(events: int, scaled: float | None, seconds: float) -> str:
    rate = f"{events / seconds:,.0f} events/s including the command's start"
    if events >= 1_000_000 or scaled is None:
        return rate
    if events < MIN_EVENTS_TO_JUDGE:
        return f"{events:,} events, {rate}; too few to judge against the 1,000,000-event target"
    return f"{events:,} events, {rate}; scaled to 1,000,000: {scaled:.0f} s"


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
