"""The local stack: Redis, Kafka, a schema registry stand-in (tools/registry_stand_in.py), the
projector worker and the API as child processes.

Used by `lp start` (the main command) and by the test session. Everything is stopped on exit,
on Ctrl-C and when a test fails; `stop()` is safe to call twice.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from readmodels.replies import int_hash
from readmodels.settings import Settings, load_settings
from tools.kafka_runner import KafkaBroker
from tools.procs import free_port, spawn, stop_process, wait_until
from tools.redis_cluster_runner import RedisCluster
from tools.redis_runner import RedisServer
from tools.registry_stand_in import RegistryStandIn
from tools.topics import ensure_topics

ROOT = Path(__file__).resolve().parent.parent


def settings_env(settings: Settings) -> dict[str, str]:
    """The LP_* environment that reproduces `settings` in a child process."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump(by_alias=True).items():
        if value is None:
            continue
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        env[f"LP_{name.upper()}"] = str(value)
    return env


@dataclass
class Stack:
    """`registry_url`: a schema registry to use as it is; None: start the local stand-in.
    `cluster`: a 3-master Redis Cluster (tools/redis_cluster_runner.py) instead of one Redis.
    `initial_rebalance_delay_ms`: the broker's initial rebalance delay (tools/kafka_runner.py)."""

    workdir: Path
    registry_url: str | None = None
    cluster: bool = False
    initial_rebalance_delay_ms: int = 0
    redis_cluster: RedisCluster | None = field(init=False)
    redis: RedisServer = field(init=False)
    kafka: KafkaBroker = field(init=False)
    registry: RegistryStandIn | None = field(init=False)
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.redis = RedisServer(self.workdir / "redis")
        self.redis_cluster = RedisCluster(self.workdir / "redis-cluster") if self.cluster else None
        self.kafka = KafkaBroker(self.workdir / "kafka", initial_rebalance_delay_ms=self.initial_rebalance_delay_ms)
        self.registry = RegistryStandIn(self.workdir / "registry") if self.registry_url is None else None

    @property
    def schema_registry_url(self) -> str:
        return self.registry.url if self.registry is not None else self.registry_url or ""

    def start(self) -> Stack:
        """Start Redis, Kafka and the registry stand-in side by side; stop all if one fails."""
        redis = self.redis_cluster.start if self.redis_cluster is not None else self.redis.start
        services: list[Callable[[], object]] = [redis, self.kafka.start]
        if self.registry is not None:
            services.append(self.registry.start)
        with ThreadPoolExecutor(len(services)) as pool:
            futures: list[Future[object]] = [pool.submit(start) for start in services]
            errors = [f.exception() for f in futures]
        failed = [e for e in errors if e is not None]
        if failed:
            self.stop()
            raise failed[0]
        return self

    def settings(self, **overrides: object) -> Settings:
        redis_url = self.redis_cluster.url if self.redis_cluster is not None else self.redis.url
        base: dict[str, object] = {"kafka_bootstrap": self.kafka.bootstrap, "redis_url": redis_url,
                                   "schema_registry_url": self.schema_registry_url}
        base.update(overrides)
        return load_settings(**base)

    def create_topics(self, settings: Settings) -> list[str]:
        return asyncio.run(ensure_topics(settings))

    def start_projector(
        self, settings: Settings, log: Path | None = None, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """`env`: extra variables for the worker (e.g. faust's own `BROKER_SESSION_TIMEOUT`)."""
        log = log or self.workdir / f"projector-{settings.consumer_group}.log"
        proc = spawn([sys.executable, "-m", "projectors", "worker"], log, env={**settings_env(settings), **(env or {})},
                     cwd=ROOT)
        self.children.append(proc)
        return proc

    def start_api(
        self, settings: Settings, port: int | None = None, log: Path | None = None
    ) -> tuple[subprocess.Popen[bytes], str]:
        port = port or free_port()
        log = log or self.workdir / f"api-{port}.log"
        # uvloop and httptools named (as in the Dockerfile) so a missing one fails at start instead
        # of silently falling back to asyncio's loop and h11.
        cmd = [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--host", "127.0.0.1",
               "--port", str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
               "--log-level", "warning"]
        proc = spawn(cmd, log, env=settings_env(settings), cwd=ROOT)
        self.children.append(proc)
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _http_ok(url + "/openapi.json"), proc=proc, timeout=30, what="API", log=log)
        return proc, url

    def stop_child(self, proc: subprocess.Popen[bytes]) -> None:
        stop_process(proc)
        if proc in self.children:
            self.children.remove(proc)

    def stop(self) -> None:
        for proc in reversed(self.children):
            stop_process(proc)
        self.children.clear()
        if self.registry is not None:
            self.registry.stop()
        self.kafka.stop()
        self.redis.stop()
        if self.redis_cluster is not None:
            self.redis_cluster.stop()


def _http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


async def wait_applied(settings: Settings, ends: dict[tuple[str, int], int]) -> None:
    """Wait until the serving generation's checkpoints cover `ends` (next offset per partition).
    Callers bound it with `asyncio.timeout`."""
    from readmodels import keys
    from readmodels.redis_client import make_redis

    redis = make_redis(settings.redis_url)
    ns = settings.redis_namespace
    try:
        while True:
            gen = int(await redis.get(keys.serving(ns)) or 1)
            raw = await redis.hgetall(keys.prefix(ns, gen) + keys.CHECKPOINTS)
            done = int_hash(raw)
            if all(done.get(f"{t}:{p}", 0) >= off for (t, p), off in ends.items()):
                return
            await asyncio.sleep(0.1)
    finally:
        await redis.aclose()


def default_workdir() -> Path:
    return Path(os.environ.get("LP_RUN_DIR", ROOT / ".run"))
