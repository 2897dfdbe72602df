"""`lp bench`: start real Kafka and Redis (as the tests do), run every benchmark once, print the
table and write it as JSON (bench/results/latest.json) and Markdown (bench/results/latest.md).

Order, so that no two measurements share the two cores: produce the history; raw consumer floor;
faust floors; projector (left running); memory; two projector workers in one group (their own
namespace, deleted after); rebuild (before the rows that add events to the history it replays); API
routes and their two floors (then, only when `--only` names `course-stopped`, the course route with
the live projector stopped: a diagnostic); freshness (projector and API running); long polls; Redis
Cluster rows; Avro rows; then the profile pass (bench/profile_pass.py), so that no row is measured
with a profiler attached. A benchmark that fails or whose feature does not exist yet still gets its
row, with the reason in `note`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench import api as api_bench
from bench import avro_rows, freshness, history, longpoll, profile_pass, profiles, projector, rebuild
from bench import cluster as cluster_bench
from bench.common import RESULTS_DIR, Row, machine, not_available, used_memory
from tools.stack import ROOT, Stack

log = logging.getLogger("bench")

ROW_IDS = ("projector", "projector_faust", "projector_two", "api_course", "api_resume", "api_sequence",
           "api_programs", "api_floor", "api_floor_bare",
           "rebuild", "freshness", "longpoll_wake", "longpoll_held", "memory",
           "projector_avro", "rebuild_avro", "avro_decode", "projector_cluster", "api_course_one_redis",
           "api_course_cluster", "profiles")
# Rows of diagnostic steps, in the table only when their step was named (`Config.names`).
DIAGNOSTIC_IDS = (api_bench.STOPPED_ID,)


@dataclass
class Config:
    events: int = 1_000_000
    api_seconds: float = 15.0
    freshness_seconds: float = 30.0
    profile: bool = True
    seed: int = 7
    rebuild_args: list[str] = field(default_factory=list)
    out: Path = RESULTS_DIR / "latest.json"
    keep: bool = False
    projector_timeout: float = 2400.0
    rebuild_timeout: float = 900.0
    longpoll_held: int = 5_000
    # Steps to run (None: all); the projector step always runs, the others need its history and worker.
    only: frozenset[str] | None = None

    def runs(self, step: str) -> bool:
        return self.only is None or step in self.only

    def names(self, step: str) -> bool:
        """A diagnostic step: run only when `only` names it (never in the full run)."""
        return self.only is not None and step in self.only

    @classmethod
    def quick(cls, **overrides: Any) -> Config:
        base: dict[str, Any] = {"events": 30_000, "api_seconds": 4.0, "freshness_seconds": 8.0,
                                "projector_timeout": 300.0, "rebuild_timeout": 120.0, "longpoll_held": 300}
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**base)


KAFKA_DEFAULT_REBALANCE_DELAY_MS = 3000


def run(config: Config, say: Callable[[str], None] = print, stack: Stack | None = None) -> dict[str, Any]:
    """Run the suite; return the results document (also written to `config.out`).

    With `stack` (the test session's), run on it in a namespace of its own and leave it running."""
    workdir = Path(tempfile.mkdtemp(prefix="lp-bench-"))
    owned = stack is None
    # Kafka's default initial rebalance delay, as on a real broker (tools/kafka_runner.py): the two
    # workers of the two-worker row start together and share one assignment from the start.
    stack = stack or Stack(workdir / "stack", initial_rebalance_delay_ms=KAFKA_DEFAULT_REBALANCE_DELAY_MS)
    children_before = list(stack.children)
    tag = "" if owned else uuid.uuid4().hex[:8]
    rows: dict[str, Row] = {}
    doc: dict[str, Any] = {"machine": machine(), "config": _config_dict(config)}
    started = time.monotonic()

    def on_term(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        if owned:
            say(f"starting Redis and Kafka in {workdir} ...")
            stack.start()
        settings = stack.settings(redis_namespace=f"bench{tag}", topic_prefix=f"bench{tag}.",
                                  consumer_group=f"lp-bench{tag}")
        stack.create_topics(settings)
        doc["machine"]["redis"] = _redis_version(settings.redis_url)

        say(f"building a history of {config.events:,} events ...")
        hist = history.build(config.events, config.seed)
        doc["history"] = {"source": hist.source, "events": len(hist.events), "learners": len(hist.learners),
                          "learner_course_pairs": len(hist.enrollments), "courses": len(hist.sequences),
                          "programs": len(hist.programs)}
        say(f"  {len(hist.events):,} events from {hist.source}: {len(hist.learners):,} learners, "
            f"{len(hist.enrollments):,} learner-course pairs, {len(hist.sequences)} courses")
        memory_before = asyncio.run(used_memory(settings.redis_url))

        say("producing it to Kafka ...")
        produced = projector.produce_history(settings, hist)
        say(f"  {produced.events:,} messages in {produced.seconds:.1f} s")

        timeout = config.projector_timeout
        floor: dict[str, Any] = {}
        projector_pid: int | None = None  # the live worker, left running: it projects the course reads' visits
        with _row(rows, "projector", "Projector throughput (1 worker)", "events/s", say):
            say("raw aiokafka consume-and-discard floor ...")
            floor = projector.raw_floor(settings, produced, timeout)
            say(f"  {floor['rate']:,.0f} events/s")
            say("faust agent consume-and-discard floor (stock, then the projector's consumer and batches) ...")
            try:
                take = projector.faust_floor(settings, produced, timeout)
                batches = projector.faust_floor(settings, produced, timeout, mode="batches", consumer="drain")
                rows["projector_faust"] = projector.faust_floor_row(take, floor, batches)
                say(f"  {rows['projector_faust'].value or 0:,.0f} events/s "
                    f"({batches['rate']:,.0f} the projector's way)")
            except Exception as exc:  # the floor is context: the projector's own row still runs
                rows["projector_faust"] = not_available("projector_faust", "Floor: faust agent consume-and-discard",
                                                        "events/s", "(floor)", f"failed: {exc}")
            say("projector worker through the history ...")
            live, proj = projector.run_projector(stack, settings, produced, log=workdir / "projector.log",
                                                 timeout=timeout)
            projector_pid = live.pid
            rows["projector"] = projector.projector_row(proj, floor, produced, rows["projector_faust"].value)
            say(f"  {rows['projector'].value or 0:,.0f} events/s")

        if config.runs("memory"):
            with _row(rows, "memory", "Redis memory per learner-course", "bytes", say):
                rows["memory"] = projector.memory_row(settings, hist, memory_before)
                say(f"  {rows['memory'].value or 0:,.0f} bytes per learner-course")

        if config.runs("projector2"):
            with _row(rows, "projector_two", "Projector throughput (2 workers, one group)", "events/s", say):
                say("two projector workers in one group through the history ...")
                two = projector.run_two_workers(stack, settings, produced, log=workdir / "projector-two.log",
                                                timeout=timeout)
                rows["projector_two"] = projector.two_workers_row(two, rows["projector"].value)
                say(f"  {rows['projector_two'].value or 0:,.0f} events/s")

        # Before the API, freshness and long-poll rows: they add events (the course route's visits,
        # the freshness writes) that a rebuild after them would replay too, and the target is the
        # history's 1,000,000 events.
        if config.runs("rebuild"):
            with _row(rows, "rebuild", rebuild.NAME, "s", say):
                say("rebuild ...")
                rows["rebuild"] = rebuild.run(settings, len(hist.events), log=workdir / "rebuild.log",
                                              timeout=config.rebuild_timeout, extra_args=config.rebuild_args,
                                              redis_pid=stack.redis.proc.pid if stack.redis.proc else None,
                                              raw_rate=floor.get("rate"))
                say(f"  {_fmt(rows['rebuild'].value)} s {rows['rebuild'].note}")

        api_url, api_pid = "", 0
        api_targets: dict[str, Path] = {}
        with _row(rows, "api_course", "API", "req/s", say):
            say("API under wrk ...")
            api_proc, api_url = stack.start_api(settings, log=workdir / "api.log")
            api_pid = api_proc.pid
            if config.runs("api"):
                api_rows, api_targets = api_bench.run(stack, settings, hist, api_url, api_pid,
                                                      seconds=config.api_seconds, workdir=workdir,
                                                      projector_pid=projector_pid,
                                                      projector_stopped=config.names("course-stopped"))
                for r in api_rows:
                    rows[r.id] = r
                    say(f"  {r.id}: {_fmt(r.value)} {r.unit} p99 {_fmt(r.p99_ms)} ms {r.note}")

        if config.runs("freshness"):
            with _row(rows, "freshness", "Freshness", "ms", say):
                say("freshness at 1,000 events/s ...")
                if not api_url:
                    raise RuntimeError("the API did not start")
                rows["freshness"] = freshness.run(settings, hist, api_url, seconds=config.freshness_seconds)
                say(f"  p50 {_fmt(rows['freshness'].p50_ms)} ms, p99 {_fmt(rows['freshness'].p99_ms)} ms")

        if config.runs("longpoll"):
            with _row(rows, "longpoll_wake", "Long poll", "ms", say):
                say(f"long polling: wake-up latency, then {config.longpoll_held:,} held on one worker ...")
                for r in longpoll.run(stack, settings, hist, held=config.longpoll_held,
                                      log=workdir / "api-longpoll.log"):
                    rows[r.id] = r
                    say(f"  {r.id}: {_fmt(r.value)} {r.unit} {r.note}")

        if config.runs("cluster"):
            with _row(rows, "projector_cluster", "Projector throughput on a 3-master Redis Cluster", "events/s", say):
                say("the same history into a 3-master Redis Cluster, then GET course on it and on one Redis ...")
                for r in cluster_bench.run(stack, settings, hist, produced, workdir=workdir, timeout=timeout, say=say):
                    rows[r.id] = r
                say(f"  {_fmt(rows['projector_cluster'].value)} events/s {rows['projector_cluster'].note}")

        if config.runs("avro"):
            with _row(rows, "projector_avro", "Projector throughput on an Avro history", "events/s", say):
                say("the same history in Avro (edx-event-bus-kafka's format): projector, then rebuild ...")
                avro_settings = stack.settings(redis_namespace=f"bench{tag}avro", topic_prefix=f"bench{tag}avro.",
                                               consumer_group=f"lp-bench{tag}-avro")
                for r in avro_rows.run(stack, avro_settings, hist, floor, workdir=workdir, timeout=timeout,
                                       rebuild_timeout=config.rebuild_timeout, say=say):
                    rows[r.id] = r
            with _row(rows, "avro_decode", "Avro decode CPU per event", "us/event", say):
                rows["avro_decode"] = avro_rows.decode_row(config.events)
                say(f"  {rows['avro_decode'].value} us/event, {rows['avro_decode'].ratio} x JSON")

        if config.profile:
            # After every measured row, so that no figure is taken with a profiler attached.
            with _row(rows, "profiles", "Profiles of the hot paths (py-spy)", "profiles", say):
                say("profile pass (py-spy; figures of this pass are not reported) ...")
                seconds = max(config.api_seconds, 5.0)
                found = {"projector": profile_pass.projector(stack, settings, produced, seconds=seconds,
                                                             log=workdir / "projector-profile.log")}
                if api_url and api_targets:
                    found.update(profile_pass.api(api_url, api_pid, api_targets, seconds=seconds))
                rows["profiles"] = _profiles_row(found)
    finally:
        signal.signal(signal.SIGTERM, previous)
        if owned:
            say("stopping the stack ...")
            stack.stop()
        else:
            for child in [c for c in stack.children if c not in children_before]:
                stack.stop_child(child)
        if not config.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    rows.setdefault("profiles", _profiles_row({}))
    why = "not selected (--only)" if config.only is not None else "not run (an earlier step failed)"
    for rid in ROW_IDS:
        rows.setdefault(rid, not_available(rid, rid, "", "", why))
    doc["machine"]["loadavg_end"] = os.getloadavg()[0]
    doc["seconds"] = round(time.monotonic() - started, 1)
    doc["rows"] = [rows[rid].as_dict() for rid in (*ROW_IDS, *(d for d in DIAGNOSTIC_IDS if d in rows))]
    config.out.parent.mkdir(parents=True, exist_ok=True)
    config.out.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    config.out.with_suffix(".md").write_text(markdown(doc))
    return doc


class _row:
    """Run one benchmark; if it raises, its row says so and the suite goes on."""

    def __init__(self, rows: dict[str, Row], rid: str, name: str, unit: str, say: Callable[[str], None]) -> None:
        self.rows, self.rid, self.name, self.unit, self.say = rows, rid, name, unit, say

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False
        self.say(f"  {self.rid} failed: {type(exc).__name__}: {exc}")
        log.debug("%s", "".join(traceback.format_exception(exc)))
        self.rows.setdefault(self.rid, not_available(self.rid, self.name, self.unit, "",
                                                     f"error: {type(exc).__name__}: {str(exc)[:200]}"))
        return True


def _profiles_row(found: dict[str, dict[str, Any]]) -> Row:
    found = {k: v for k, v in found.items() if v}
    note = ", ".join(v["top"] for v in found.values()) if found else (
        "no profiles: py-spy missing or --no-profile" if profiles.py_spy() is None else "no profiles taken")
    return Row(id="profiles", name="Profiles of the hot paths (py-spy, a pass of its own)", value=float(len(found)),
               unit="profiles", target="kept in bench/profiles/", met=None, note=note, detail=found)


def _config_dict(config: Config) -> dict[str, Any]:
    return {"events": config.events, "api_seconds": config.api_seconds,
            "freshness_seconds": config.freshness_seconds, "profile": config.profile, "seed": config.seed}


def _redis_version(url: str) -> str:
    import redis as redis_sync

    client = redis_sync.Redis.from_url(url)
    try:
        return str(client.info("server").get("redis_version", "?"))
    finally:
        client.close()


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _met(value: bool | None) -> str:
    return {True: "met", False: "NOT met", None: "-"}[value]


def table(doc: dict[str, Any]) -> list[list[str]]:
    head = ["benchmark", "result", "floor", "ratio", "p50 ms", "p99 ms", "target", "met"]
    body = []
    for r in doc["rows"]:
        value = f"{_fmt(r['value'])} {r['unit']}" if r["value"] is not None else (r["note"] or "-")
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
        floor = f"{_fmt(r['floor'])}" if r["floor"] is not None else "-"
        body.append([r["name"], value, floor, ratio, _fmt(r["p50_ms"], 2), _fmt(r["p99_ms"], 2), r["target"],
                     _met(r["met"])])
    return [head, *body]


def render(doc: dict[str, Any]) -> str:
    rows = table(doc)
    widths = [min(60, max(len(r[i]) for r in rows)) for i in range(len(rows[0]))]
    lines = [_header(doc), ""]
    for n, r in enumerate(rows):
        lines.append("  ".join(c[:60].ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [f"- {r['name']}: {r['note']}" for r in doc["rows"] if r["note"] and r["value"] is not None]
    return "\n".join(lines + (["", *notes] if notes else []))


def markdown(doc: dict[str, Any]) -> str:
    rows = table(doc)
    out = [_header(doc), "", "| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    out += ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in rows[1:]]
    notes = [f"- {r['name']}: {r['note']}" for r in doc["rows"] if r["note"] and r["value"] is not None]
    return "\n".join(out + (["", *notes] if notes else [])) + "\n"


def _header(doc: dict[str, Any]) -> str:
    m, h, c = doc["machine"], doc.get("history", {}), doc["config"]
    return (f"{m['date']} · {m['nproc']} cores ({m['cpu']}), {m['memory_gib']} GiB · Python {m['python']}, "
            f"Redis {m.get('redis', '?')}, Kafka 3.9.1 · load avg {m['loadavg_start']:.2f} at start, "
            f"{m.get('loadavg_end', 0):.2f} at end · history: {h.get('events', 0):,} events "
            f"({h.get('source', '?')}), {h.get('learner_course_pairs', 0):,} learner-course pairs · "
            f"API runs {c['api_seconds']:.0f} s each, freshness {c['freshness_seconds']:.0f} s · "
            f"suite took {doc.get('seconds', 0):.0f} s")


def relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
