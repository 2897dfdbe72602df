"""The profile pass: py-spy profiles of the hot paths, taken after every measured row so that no
figure of the table is measured with a profiler attached (py-spy samples at ~100 Hz from outside,
but its stops of the process still cost the measured process CPU and wall time).

- projector: a worker of its own (own Redis namespace and consumer group, deleted after) through
  the same history, sampled for `seconds` once it has applied its first events;
- API: each hot route under the same wrk load as its measured row, sampled for `seconds`; the wrk
  figures of this pass are thrown away.
The summaries end up in the `profiles` row (bench/run.py); the files in bench/profiles/.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from bench import api as api_bench
from bench import profiles
from bench.common import wait_applied
from bench.projector import Produced, delete_namespace
from readmodels.settings import Settings
from tools.stack import ROOT, Stack

STARTUP_S = 60.0  # the profiled worker's start-up, before its first applied event


def projector(stack: Stack, settings: Settings, produced: Produced, *, seconds: float, log: Path) -> dict[str, Any]:
    """A fresh worker through the history, sampled for `seconds` from its first applied event."""
    own = settings.model_copy(update={"redis_namespace": f"{settings.redis_namespace}prof",
                                      "consumer_group": f"{settings.consumer_group}-prof"})
    started = time.monotonic()
    proc = stack.start_projector(own, log=log)
    recording: list[profiles.Recording] = []

    def attach() -> None:
        rec = profiles.record("projector", proc.pid, duration=round(seconds))
        if rec is not None:
            recording.append(rec)

    try:
        asyncio.run(wait_applied(own.redis_url, own.redis_namespace, produced.ends, started=started,
                                 limit_s=STARTUP_S + seconds, alive=lambda: proc.poll() is None, on_first=attach))
    except TimeoutError:
        pass  # sampled long enough; the history need not be finished
    finally:
        path = recording[0].stop(timeout=seconds + 30) if recording else None
        stack.stop_child(proc)
        asyncio.run(delete_namespace(own.redis_url, own.redis_namespace))
    return _found("projector", path)


def api(api_url: str, api_pid: int, targets: dict[str, Path], *, seconds: float) -> dict[str, dict[str, Any]]:
    """Each route's wrk load again (`targets`: the measured rows' target files), sampled."""
    found = {}
    for route, path in targets.items():
        rec = profiles.record("api-" + route, api_pid, duration=round(seconds))
        if rec is None:
            break
        try:
            api_bench.wrk(api_url, path, seconds)
        finally:
            prof = rec.stop(timeout=seconds + 30)
        found[f"api_{route}"] = _found("api-" + route, prof)
    return found


def _found(name: str, path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    summary = profiles.summarize(path)
    return {"file": str(path.relative_to(ROOT)),
            "top": str(profiles.write_summary(name, summary).relative_to(ROOT)),
            "samples": summary["samples"], "self": summary["self"][:8],  # type: ignore[index]
            "inclusive": summary["inclusive"][:8]}  # type: ignore[index]
