"""A rebuild's replay shared out among several processes (`lp rebuild --workers N`).

Why processes: the replay is CPU-bound Python (decode, projection, op encoding), so one process
uses one core whatever else is free; the projections are order-independent across partitions, so
disjoint sets of partitions can be replayed side by side into the same shadow generation.

How it stays one rebuild:
- the command (projectors/rebuild.py `run_rebuild`) keeps the rebuild lock, the plan and the
  switch; a worker only runs `run_rebuild(partitions=its share, switch=False)`, which replays its
  partitions up to the serving generation's checkpoints, writing each batch with its checkpoints
  (one script call), exactly as one process does;
- so a crash of any process loses nothing: the next `lp rebuild` resumes every partition from the
  shadow generation's own checkpoints;
- when every worker is done, the command's own loop replays what the live projector applied in
  the meantime and switches only if the new generation covers the serving one (switch.lua);
- a worker failing stops the others and fails the command (the serving generation is untouched);
  a worker whose command died (killed with -9, say) ends itself (`PR_SET_PDEATHSIG` on Linux, and
  a check of its parent's pid).

Shares are balanced by the events each partition still has to replay (largest first, each to the
least loaded worker). The processes are started with `spawn` (a fresh interpreter: the command's
event loop and connections are not inherited) and report back through a pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from projectors.rebuild import RebuildError, RebuildPlan, ShareOut, run_rebuild
from readmodels.settings import Settings

log = logging.getLogger(__name__)

Partition = tuple[str, int]
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Shared:
    events: int
    dead_letters: int


def shares(remaining: Mapping[Partition, int], workers: int) -> list[list[Partition]]:
    """Partitions with events left, in at most `workers` groups of about equal work."""
    loads = [0] * workers
    out: list[list[Partition]] = [[] for _ in range(workers)]
    for tp, n in sorted(remaining.items(), key=lambda kv: (-kv[1], kv[0])):
        if n <= 0:
            continue
        i = loads.index(min(loads))
        loads[i] += n
        out[i].append(tp)
    return [s for s in out if s]


def in_workers(workers: int) -> ShareOut:
    """`run_rebuild`'s `share_out`: the replay in up to `workers` processes."""

    async def share_out(settings: Settings, plan: RebuildPlan, remaining: Mapping[Partition, int],
                        tick: Callable[[], Awaitable[None]]) -> tuple[int, int]:
        shared = await replay_in_workers(settings, plan, remaining, workers, tick)
        return shared.events, shared.dead_letters

    return share_out


async def replay_in_workers(
    settings: Settings, plan: RebuildPlan, remaining: Mapping[Partition, int], workers: int,
    tick: Callable[[], Awaitable[None]], *, every: float = 0.25,
) -> Shared:
    """Replay the partitions with events left in up to `workers` processes; `tick` every `every`
    seconds while they run (progress). Raise RebuildError when a worker fails."""
    groups = shares(remaining, workers)
    if not groups:
        return Shared(0, 0)
    ctx = multiprocessing.get_context("spawn")
    running: list[tuple[Any, Connection]] = []  # (a spawned Process, its report pipe)
    dump = settings.model_dump(mode="json")
    try:
        for n, group in enumerate(groups):
            receive, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_worker, args=(dump, plan, group, os.getpid(), send),
                               name=f"lp-rebuild-{n}", daemon=True)
            proc.start()
            send.close()
            running.append((proc, receive))
        reports: dict[int, tuple[str, Any]] = {}
        while len(reports) < len(running):
            await asyncio.sleep(every)
            for n, (proc, receive) in enumerate(running):
                if n in reports:
                    continue
                if receive.poll():
                    reports[n] = receive.recv()
                    if reports[n][0] != "ok":
                        raise RebuildError(f"rebuild worker {n} failed: {reports[n][1]}")
                elif not proc.is_alive():
                    raise RebuildError(f"rebuild worker {n} exited ({proc.exitcode}) without a report")
            await tick()
        return Shared(sum(r[1][0] for r in reports.values()), sum(r[1][1] for r in reports.values()))
    finally:
        for proc, receive in running:
            if proc.is_alive():
                proc.terminate()
            proc.join(10)
            receive.close()


def _worker(dump: dict[str, Any], plan: Any, partitions: list[Partition], parent: int, report: Connection) -> None:
    """The entry point of a worker process."""
    _die_with(parent)
    try:
        events, letters = asyncio.run(_replay(dump, plan, partitions, parent))
    except BaseException as exc:  # reported to the command, which fails the rebuild
        with contextlib.suppress(Exception):
            report.send(("error", f"{type(exc).__name__}: {str(exc)[:1000]}"))
        raise SystemExit(1) from None
    report.send(("ok", (events, letters)))


def _die_with(parent: int) -> None:
    """Be killed when the command dies (Linux); elsewhere `_replay` checks the parent's pid."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the line above took effect
        os._exit(1)


async def _replay(dump: dict[str, Any], plan: Any, partitions: list[Partition], parent: int) -> tuple[int, int]:
    from readmodels.redis_client import make_redis
    from readmodels.settings import load_settings

    settings = load_settings(**dump)
    redis = make_redis(settings.redis_url)

    async def orphaned() -> None:
        while os.getppid() == parent:  # noqa: ASYNC110 (nothing to wait on: the parent's pid is polled)
            await asyncio.sleep(1.0)
        log.error("the rebuild command is gone; this worker stops")
        os._exit(1)

    watch = asyncio.create_task(orphaned())
    try:
        outcome = await run_rebuild(redis, settings, plan, switch=False, partitions=partitions)
        return outcome.events, outcome.dead_letters
    finally:
        watch.cancel()
        await redis.aclose()
