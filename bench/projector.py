"""Benchmark 1 (projector throughput against a raw consumer) and 5 (Redis memory per learner-course).

The history is produced once; then, one after the other so they never share the cores, a raw
aiokafka consume-and-discard loop and the real projector worker (`python -m projectors worker`)
read all of it. The projector's rate is taken from its own checkpoints, from the first applied
batch to the last (the worker's start-up, a few seconds of faust and group join, is reported
apart as `startup_s`).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from redis.asyncio import Redis

from bench.common import CpuMeter, Row, used_memory, wait_applied
from bench.history import History
from readmodels import keys
from readmodels.settings import Settings
from tools.produce import produce
from tools.stack import ROOT, Stack, settings_env

FAUST_FRACTION = 0.75  # the one-worker target: this fraction of the faust floor of the same run
TWO_WORKERS_TARGET = 1.6  # two workers in one group: this many times one worker
MEMORY_TARGET = 1500.0  # issue #15
LEARNER_KINDS = {"u", "uc", "ua", "unames"}


@dataclass
class Produced:
    ends: dict[tuple[str, int], int]
    events: int
    seconds: float


def produce_history(settings: Settings, history: History, *, avro: bool = False) -> Produced:
    """`avro`: as edx-event-bus-kafka writes it (schemas in the settings' registry); else JSON."""
    started = time.monotonic()
    ends = asyncio.run(produce(settings.kafka_bootstrap, history.events, topic_prefix=settings.full_topic_prefix,
                               linger_ms=20, avro=settings if avro else None))
    return Produced(ends, sum(ends.values()), time.monotonic() - started)


def raw_floor(settings: Settings, produced: Produced, timeout: float) -> dict[str, Any]:
    topics = sorted({t for t, _ in produced.ends})
    cmd = [sys.executable, "-m", "bench.raw_consume", settings.kafka_bootstrap, str(produced.events), *topics]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"raw consumer failed: {(out.stderr or out.stdout).strip()[-300:]}")
    result: dict[str, Any] = orjson.loads(out.stdout.strip().splitlines()[-1])
    return result


def faust_floor(settings: Settings, produced: Produced, timeout: float, mode: str = "take_events",
                consumer: str = "stock") -> dict[str, Any]:
    """faust alone over the same topics (bench/faust_consume.py), in its own process and group;
    `mode` "take_events" (faust's own batching: the floor row) or "batches" (the projector's);
    `consumer` "stock" (faust's own: the floor row) or "drain" (the projector's,
    projectors/faust_consumer.py)."""
    group = f"{settings.consumer_group}-faust-floor-{mode}-{consumer}"
    cmd = [sys.executable, "-m", "bench.faust_consume", str(produced.events), group, mode, consumer]
    out = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **settings_env(settings)}, capture_output=True, text=True,
                         timeout=timeout, check=False)
    # faust's worker may route stdout through its logging: take the JSON wherever it is on the line
    lines = [ln[ln.index('{"mode"'):] for ln in (out.stdout + out.stderr).splitlines() if '{"mode"' in ln]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"faust consumer failed: {(out.stderr or out.stdout).strip()[-300:]}")
    result: dict[str, Any] = orjson.loads(lines[-1].strip())
    return result


def faust_floor_row(result: dict[str, Any], raw: dict[str, Any], batches: dict[str, Any] | None = None) -> Row:
    rate = result["rate"]
    also = (f"; the projector's way (its consumer, projectors/faust_consumer.py, and its batches, "
            f"projectors/faust_batches.py) {batches['rate']:,.0f} events/s, {batches['cpu_us']:.0f} us"
            if batches else "")
    return Row(id="projector_faust", name="Floor: faust agent consume-and-discard (the projector's app)",
               value=round(rate, 1), unit="events/s", target="(floor)", met=None,
               floor=round(raw["rate"], 1) if raw.get("rate") else None, floor_name="raw aiokafka consume-and-discard",
               ratio=round(rate / raw["rate"], 3) if raw.get("rate") else None,
               note=f"CPU/event: {result['cpu_us']:.0f} us in the faust worker (stock consumer, take_events, no "
               f"decoding, projection or write); {result['events']:,} events in {result['seconds']:.1f} s{also}",
               detail={**result, "batches": batches})


def run_projector(
    stack: Stack, settings: Settings, produced: Produced, *, log: Path, timeout: float,
    metered: Mapping[str, int | None] | None = None,
) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """Start the worker (left running for the later benchmarks) and time it through the backlog
    (never profiled: bench/profile_pass.py profiles a worker of its own after every measured row).
    `metered`: the other processes whose CPU per event is reported (default: the stack's Redis and
    Kafka)."""
    started = time.monotonic()
    proc = stack.start_projector(settings, log=log)
    if metered is None:
        metered = {"redis": _pid(stack.redis.proc), "kafka": _pid(stack.kafka.proc)}
    meter = CpuMeter({"projector": proc.pid, **metered})

    def first() -> None:
        meter.start()

    try:
        progress = asyncio.run(wait_applied(settings.redis_url, settings.redis_namespace, produced.ends,
                                            started=started, limit_s=timeout, alive=lambda: proc.poll() is None,
                                            on_first=first))
    finally:
        used = meter.stop()
    detail: dict[str, Any] = {
        "events": progress.total,
        "steady_seconds": round((progress.done_at or 0) - (progress.first_at or 0), 2),
        "startup_s": round((progress.first_at or started) - started, 2),
        "wall_rate": round(progress.wall_rate or 0, 1),
    }
    steady = progress.total - progress.first_count
    for name, seconds in used.items():
        detail[f"{name}_cpu_us_per_event"] = round(seconds * 1e6 / max(1, steady), 1)
    detail["rate"] = progress.steady_rate
    return proc, detail


def _pid(proc: subprocess.Popen[bytes] | None) -> int | None:
    return proc.pid if proc is not None else None


def projector_row(projector: dict[str, Any], floor: dict[str, Any], produced: Produced,
                  faust: float | None = None) -> Row:
    """One worker against the faust floor of the same run (the target), the raw floor beside it."""
    rate = projector["rate"]
    floor_rate = floor["rate"]
    detail = {**{k: v for k, v in projector.items() if k != "rate"},
              "raw_consumer": floor, "produce_rate": round(produced.events / produced.seconds, 1),
              "raw_ratio": round(rate / floor_rate, 3) if rate and floor_rate else None}
    ratio = rate / faust if rate and faust else None
    note = _note(projector) + (f"; {detail['raw_ratio']:.2f} x the raw consumer ({floor_rate:,.0f} events/s)"
                               if detail["raw_ratio"] else "")
    return Row(id="projector", name="Projector throughput (1 worker)", value=round(rate, 1) if rate else None,
               unit="events/s", target=f">= {FAUST_FRACTION} x the faust floor",
               met=ratio >= FAUST_FRACTION if ratio else None, floor=round(faust, 1) if faust else None,
               floor_name="faust agent consume-and-discard", ratio=round(ratio, 3) if ratio else None,
               note=note, detail=detail)


def run_two_workers(stack: Stack, settings: Settings, produced: Produced, *, log: Path,
                    timeout: float) -> dict[str, Any]:
    """Two workers in one consumer group (their own namespace and group) through the same history;
    stopped, and their keys deleted, once they have applied it."""
    two = settings.model_copy(update={"redis_namespace": f"{settings.redis_namespace}two",
                                      "consumer_group": f"{settings.consumer_group}-two"})
    started = time.monotonic()
    procs = [stack.start_projector(two, log=log.with_name(f"{log.stem}-{n}.log")) for n in (1, 2)]
    meter = CpuMeter({"redis": _pid(stack.redis.proc), "kafka": _pid(stack.kafka.proc)})
    workers = CpuMeter({f"w{n}": p.pid for n, p in enumerate(procs)})

    def first() -> None:
        meter.start()
        workers.start()

    try:
        progress = asyncio.run(wait_applied(two.redis_url, two.redis_namespace, produced.ends, started=started,
                                            limit_s=timeout, alive=lambda: all(p.poll() is None for p in procs),
                                            on_first=first))
        used = {**meter.stop(), "projectors": sum(workers.stop().values())}
    finally:
        for p in procs:
            stack.stop_child(p)
        asyncio.run(delete_namespace(two.redis_url, two.redis_namespace))
    steady = progress.total - progress.first_count
    detail: dict[str, Any] = {"events": progress.total, "rate": progress.steady_rate,
                              "steady_seconds": round((progress.done_at or 0) - (progress.first_at or 0), 2)}
    for name, seconds in used.items():
        detail[f"{name}_cpu_us_per_event"] = round(seconds * 1e6 / max(1, steady), 1)
    return detail


async def delete_namespace(url: str, ns: str) -> None:
    redis = Redis.from_url(url)
    try:
        batch = [k async for k in redis.scan_iter(match=f"{ns}:*", count=5000)]
        for i in range(0, len(batch), 5000):
            await redis.unlink(*batch[i : i + 5000])
    finally:
        await redis.aclose()


def two_workers_row(two: dict[str, Any], one: float | None) -> Row:
    rate = two.get("rate")
    ratio = rate / one if rate and one else None
    cpu = ", ".join(f"{k.split('_')[0]} {v:.0f} us" for k, v in two.items() if k.endswith("_cpu_us_per_event"))
    return Row(id="projector_two", name="Projector throughput (2 workers, one group)",
               value=round(rate, 1) if rate else None, unit="events/s",
               target=f">= {TWO_WORKERS_TARGET} x 1 worker", met=ratio >= TWO_WORKERS_TARGET if ratio else None,
               floor=round(one, 1) if one else None, floor_name="the one-worker row",
               ratio=round(ratio, 3) if ratio else None, note=f"CPU/event: {cpu} (both workers together)",
               detail=two)


# Memory ------------------------------------------------------------------------------------------


async def key_breakdown(redis_url: str, ns: str, sample_every: int = 1) -> dict[str, dict[str, int]]:
    """Bytes and key counts per key kind of the serving generation (SCAN + MEMORY USAGE)."""
    redis = Redis.from_url(redis_url)
    try:
        gen = int(await redis.get(keys.serving(ns)) or 1)
        prefix = keys.prefix(ns, gen)
        out: dict[str, dict[str, int]] = {}
        batch: list[bytes] = []

        async def flush() -> None:
            pipe = redis.pipeline(transaction=False)
            for k in batch:
                pipe.memory_usage(k, samples=0)
            for k, size in zip(batch, await pipe.execute(), strict=True):
                rest = k.decode()[len(prefix):]
                kind = rest.split(":", 1)[0] + (":parts" if rest.endswith(":parts") else "")
                slot = out.setdefault(kind, {"keys": 0, "bytes": 0})
                slot["keys"] += 1
                slot["bytes"] += int(size or 0)
            batch.clear()

        async for k in redis.scan_iter(match=prefix + "*", count=2000):
            batch.append(k)
            if len(batch) >= 2000:
                await flush()
        if batch:
            await flush()
        return dict(sorted(out.items(), key=lambda kv: -kv[1]["bytes"]))
    finally:
        await redis.aclose()


def memory_row(settings: Settings, history: History, before: int) -> Row:
    after = asyncio.run(used_memory(settings.redis_url))
    pairs = len(history.enrollments)
    per_pair = (after - before) / pairs if pairs else None
    breakdown = asyncio.run(key_breakdown(settings.redis_url, settings.redis_namespace))
    # MEMORY USAGE of the learners' own keys (facts, completions, activity, usernames), without
    # the reference data (courses, programs) that a small history does not amortise.
    learner_bytes = sum(v["bytes"] for k, v in breakdown.items() if k in LEARNER_KINDS)
    return Row(id="memory", name="Redis memory per learner-course", value=round(per_pair, 1) if per_pair else None,
               unit="bytes", target=f"<= {MEMORY_TARGET:,.0f} bytes",
               met=per_pair <= MEMORY_TARGET if per_pair else None,
               note=_memory_note(breakdown, pairs),
               detail={"used_memory_before": before, "used_memory_after": after, "learner_course_pairs": pairs,
                       "learners": len(history.learners), "events": len(history.events),
                       "learner_keys_bytes_per_pair": round(learner_bytes / pairs, 1) if pairs else None,
                       "by_key_kind": breakdown})


def _note(p: dict[str, Any]) -> str:
    cpu = ", ".join(f"{k.split('_')[0]} {v:.0f} us" for k, v in p.items() if k.endswith("_cpu_us_per_event"))
    parts = [f"CPU/event: {cpu}"] if cpu else []
    parts.append(f"worker start-up {p['startup_s']:.1f} s not counted")
    return "; ".join(parts)


def _memory_note(breakdown: dict[str, dict[str, int]], pairs: int) -> str:
    top = ", ".join(f"{kind} {v['bytes'] / pairs:,.0f} B" for kind, v in list(breakdown.items())[:3]) if pairs else ""
    return f"INFO used_memory delta / learner-course pairs; per pair by key kind (MEMORY USAGE): {top}"
