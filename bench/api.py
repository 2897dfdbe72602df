"""Benchmark 2: the read API under wrk (32 connections, one uvicorn worker) against two floors,
each one Redis GET of a document as large as the course answer (bench/floor_app.py): a bare
Starlette endpoint with redis-py (the target's floor), and a bare ASGI callable with the API's own
pipelined connection (api/redis_pipe.py: the limit of this server and client)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import redis as redis_sync

from api.auth import make_token
from bench.common import CpuMeter, Row, cpu_seconds, not_available
from bench.history import History
from readmodels.settings import Settings
from tools.procs import free_port, spawn, wait_until
from tools.stack import ROOT, Stack, _http_ok

CONNECTIONS = 32
RATIO_TARGET = 1.0
P99_TARGET_MS = 15.0
FLOOR_KEY = "bench:floor:doc"

Target = tuple[int, str, str]  # user id, course key, sequence key
ROUTES: dict[str, tuple[str, Callable[[Target], str]]] = {
    "course": ("GET course", lambda t: f"/api/courseware/course/{t[1]}"),
    "resume": ("GET resume", lambda t: f"/api/courseware/resume/{t[1]}"),
    "sequence": ("GET sequence", lambda t: f"/api/courseware/sequence/{t[2]}"),
    "programs": ("GET program list", lambda t: "/api/dashboard/v1/programs/"),
}


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], capture_output=True, check=False, env=env)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is missing: install it with `apt-get install -y wrk`")
    return found


def targets(history: History, *, programs: bool, count: int = 300, seed: int = 7) -> list[Target]:
    rng = random.Random(seed)
    pool = history.enrollments
    if programs and history.learners_with_programs:
        wanted = set(history.learners_with_programs)
        pool = [p for p in pool if p[0] in wanted]
    chosen = rng.sample(pool, min(count, len(pool)))
    return [(uid, ck, rng.choice(history.sequences[ck])) for uid, ck in chosen if history.sequences.get(ck)]


def write_targets(path: Path, settings: Settings, route: str, chosen: list[Target]) -> None:
    lines = []
    for t in chosen:
        token = make_token(settings, t[0], f"learner{t[0]}", ttl=3 * 3600)
        lines.append(f"{ROUTES[route][1](t)}\t{token}")
    path.write_text("\n".join(lines) + "\n")


def wrk(url: str, targets_file: Path, seconds: float) -> dict[str, Any]:
    cmd = [ensure_wrk(), "-t1", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--timeout", "5s", "--latency",
           "-s", str(Path(__file__).with_name("wrk.lua")), url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=False,
                         env={**os.environ, "BENCH_TARGETS": str(targets_file)})
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            result: dict[str, Any] = orjson.loads(line.removeprefix("BENCH_JSON "))
            result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
            return result
    raise RuntimeError(f"wrk failed: {(out.stderr or out.stdout).strip()[-300:]}")


FLOORS = {
    # row id: (name, uvicorn factory, extra uvicorn options)
    "api_floor": ("Starlette + one Redis GET", "bench.floor_app:create_app", []),
    "api_floor_bare": ("bare ASGI + one pipelined Redis GET", "bench.floor_app:create_bare_app",
                       ["--lifespan", "off"]),
}


def start_floor(
    stack: Stack, settings: Settings, rid: str, size: int, log: Path
) -> tuple[subprocess.Popen[bytes], str]:
    """A floor app (FLOORS) on the API's own server settings (uvloop, httptools, one worker)."""
    doc = orjson.dumps({"pad": "x" * max(0, size - 10)})
    client = redis_sync.Redis.from_url(settings.redis_url)
    try:
        client.set(FLOOR_KEY, doc)
    finally:
        client.close()
    port = free_port()
    _, factory, extra = FLOORS[rid]
    cmd = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1", "--port", str(port),
           "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning", *extra]
    env = {"BENCH_FLOOR_REDIS_URL": settings.redis_url, "BENCH_FLOOR_KEY": FLOOR_KEY}
    proc = spawn(cmd, log, env=env, cwd=ROOT)
    stack.children.append(proc)
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: _http_ok(url + "/x"), proc=proc, timeout=30, what="floor app", log=log)
    return proc, url


def measure_floor(stack: Stack, settings: Settings, rid: str, size: int, targets_file: Path, *, seconds: float,
                  warmup: float, log: Path) -> dict[str, Any]:
    proc, url = start_floor(stack, settings, rid, size, log)
    try:
        wrk(url, targets_file, warmup)
        meter = CpuMeter({"api": proc.pid, "redis": _pid(stack.redis.proc)}).start()
        result = wrk(url, targets_file, seconds)
        _cpu_per_request(result, meter.stop())
    finally:
        stack.stop_child(proc)
    return result


def probe(url: str, targets_file: Path) -> tuple[int, int, str]:
    """(status, body size, first bytes) of the first few targets; the worst status wins."""
    worst, size, body = 200, 0, ""
    lines = targets_file.read_text().splitlines()[:5]
    with httpx.Client(timeout=10) as client:
        for line in lines:
            path, _, token = line.partition("\t")
            r = client.get(url + path, headers={"Authorization": f"JWT {token}"})
            if r.status_code != 200:
                worst, body = r.status_code, r.text[:200]
            size = max(size, len(r.content))
    return worst, size, body


def run(stack: Stack, settings: Settings, history: History, api_url: str, api_pid: int, *, seconds: float,
        workdir: Path, projector_pid: int | None = None,
        projector_stopped: bool = False) -> tuple[list[Row], dict[str, Path]]:
    """The rows of the routes and of both floors; and the routes' target files (for the profile pass).
    `projector_pid`: the live projector worker, metered too (it projects the course reads' visits,
    on the same cores). `projector_stopped`: also the diagnostic row `course_with_projector_stopped`,
    after the floors.

    Never profiled (bench/profile_pass.py): every figure here is taken with no profiler attached."""
    tmp = Path(tempfile.mkdtemp(prefix="lp-bench-api-", dir=workdir))
    results: dict[str, dict[str, Any]] = {}
    notes: dict[str, str] = {}
    files: dict[str, Path] = {}
    warmup = max(1.0, min(3.0, seconds / 4))
    sizes: dict[str, int] = {}
    for route in ROUTES:
        path = tmp / f"{route}.targets"
        write_targets(path, settings, route, targets(history, programs=route == "programs"))
        status, size, body = probe(api_url, path)
        if status != 200:
            notes[route] = f"not available: the route answered {status} {body[:80]}"
            continue
        sizes[route], files[route] = size, path
        results[route] = _measure(stack, api_url, path, seconds=seconds, warmup=warmup, api_pid=api_pid,
                                  projector_pid=projector_pid)
    floor_size = sizes.get("course") or max(sizes.values(), default=2000)
    floors = {rid: measure_floor(stack, settings, rid, floor_size, tmp / "course.targets", seconds=seconds,
                                 warmup=warmup, log=workdir / f"{rid}.log") for rid in FLOORS}
    rows = [Row(id=rid, name=f"Floor: {FLOORS[rid][0]}", value=round(f["rps"], 1), unit="req/s", target="(floor)",
                p50_ms=f["p50_us"] / 1000, p99_ms=f["p99_us"] / 1000, note=_note(f, 0),
                detail={**f, "document_bytes": floor_size}) for rid, f in floors.items()]
    floor, bare = floors["api_floor"], floors["api_floor_bare"]
    for route, (label, _) in ROUTES.items():
        rid, name = f"api_{route}", f"API {label} ({CONNECTIONS} conns, 1 worker)"
        target = f">= {RATIO_TARGET} x floor, p99 < {P99_TARGET_MS:.0f} ms"
        if route not in results:
            rows.append(not_available(rid, name, "req/s", target, notes[route]))
            continue
        r = results[route]
        ratio, ratio_bare = r["rps"] / floor["rps"], r["rps"] / bare["rps"]
        p99 = r["p99_us"] / 1000
        errors = _errors(r)
        rows.append(Row(id=rid, name=name, value=round(r["rps"], 1), unit="req/s", target=target,
                        met=ratio >= RATIO_TARGET and p99 < P99_TARGET_MS and not errors,
                        floor=round(floor["rps"], 1), floor_name=FLOORS["api_floor"][0], ratio=round(ratio, 3),
                        p50_ms=r["p50_us"] / 1000, p99_ms=p99,
                        note=f"{ratio_bare:.2f} x the bare floor; " + _note(r, errors),
                        detail={**r, "body_bytes": sizes[route], "ratio_bare": round(ratio_bare, 3)}))
    if projector_stopped and projector_pid and "course" in files:
        rows.append(course_with_projector_stopped(stack, api_url, api_pid, projector_pid, files["course"],
                                                  seconds=seconds, warmup=warmup, floor_rps=floor["rps"]))
    return rows, files


STOPPED_ID = "api_course_stopped"
STOPPED_NAME = f"API GET course, projector stopped ({CONNECTIONS} conns, diagnostic)"


def course_with_projector_stopped(stack: Stack, api_url: str, api_pid: int, projector_pid: int, targets_file: Path,
                                  *, seconds: float, warmup: float, floor_rps: float) -> Row:
    """What projecting the course reads' visits costs the route: the course route measured with the
    live projector stopped (SIGSTOP; the API still emits its visits, which wait in Kafka), then
    running, twice, each time after the projector has caught up. A diagnostic, run only when asked
    (`--only ...,course-stopped`): it leaves the projector a backlog of visits to catch up on."""
    measured: dict[str, list[dict[str, Any]]] = {"stopped": [], "running": []}
    for state in ("stopped", "running", "stopped", "running"):
        _wait_idle(projector_pid)
        if state == "stopped":
            os.kill(projector_pid, signal.SIGSTOP)
        try:
            measured[state].append(_measure(stack, api_url, targets_file, seconds=seconds, warmup=warmup,
                                            api_pid=api_pid, projector_pid=projector_pid))
        finally:
            os.kill(projector_pid, signal.SIGCONT)
    _wait_idle(projector_pid)
    return stopped_row(floor_rps, measured["stopped"], measured["running"])


def stopped_row(floor_rps: float, stopped: list[dict[str, Any]], running: list[dict[str, Any]]) -> Row:
    """The diagnostic row: the mean of the runs with the projector stopped against the Starlette
    floor, every run in the note."""
    def runs(results: list[dict[str, Any]]) -> str:
        return ", ".join(f"{r['rps']:,.0f} req/s ({r['rps'] / floor_rps:.2f} x; {_note(r, _errors(r))})"
                         for r in results)

    rps = sum(r["rps"] for r in stopped) / len(stopped)
    return Row(id=STOPPED_ID, name=STOPPED_NAME, value=round(rps, 1), unit="req/s", target="(diagnostic)",
               floor=round(floor_rps, 1), floor_name=FLOORS["api_floor"][0], ratio=round(rps / floor_rps, 3),
               p99_ms=max(r["p99_us"] for r in stopped) / 1000,
               note=f"projector stopped: {runs(stopped)}; running, between and after: {runs(running)}",
               detail={"stopped": stopped, "running": running})


def _wait_idle(pid: int, *, limit_s: float = 120.0) -> None:
    """Until the process uses under 5 % of a core over 2 s (the projector has caught up), or `limit_s`."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(2.0)
        after = cpu_seconds(pid)
        if before is None or after is None or after - before < 0.1:
            return


def _measure(stack: Stack, api_url: str, targets_file: Path, *, seconds: float, warmup: float, api_pid: int,
             projector_pid: int | None) -> dict[str, Any]:
    """wrk over the targets after a warm-up, with the CPU per request of the server, Redis and the
    live projector."""
    wrk(api_url, targets_file, warmup)
    meter = CpuMeter({"api": api_pid, "redis": _pid(stack.redis.proc), "projector": projector_pid}).start()
    result = wrk(api_url, targets_file, seconds)
    _cpu_per_request(result, meter.stop())
    return result


def _errors(r: dict[str, Any]) -> int:
    """The failed requests of a wrk run: 4xx/5xx answers, connect, read and timeout errors."""
    return int(r["errors_status"] + r["errors_connect"] + r["errors_read"] + r["errors_timeout"])


def _note(r: dict[str, Any], errors: int) -> str:
    parts = [f"{errors} errors"] if errors else []
    if "api_cpu_ms_per_request" in r:
        api_ms, redis_ms = r["api_cpu_ms_per_request"], r.get("redis_cpu_ms_per_request", 0.0)
        projector = r.get("projector_cpu_ms_per_request")
        parts.append(f"CPU/request: server {api_ms:.2f} ms, Redis {redis_ms:.2f} ms"
                     + (f", projector {projector:.2f} ms" if projector is not None else ""))
    return "; ".join(parts)


def _pid(proc: subprocess.Popen[bytes] | None) -> int | None:
    return proc.pid if proc is not None else None


def _cpu_per_request(result: dict[str, Any], used: dict[str, float]) -> None:
    """CPU milliseconds per request of the server process and of Redis (robust to noisy cores)."""
    n = max(1, result["requests"])
    for name, seconds in used.items():
        result[f"{name}_cpu_ms_per_request"] = round(seconds * 1000 / n, 3)
