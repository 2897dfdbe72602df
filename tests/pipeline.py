"""An isolated pipeline on the shared test stack: own topics (prefix), own Redis namespace, own
consumer group, its own projector worker and (optionally) API process."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from api.auth import make_token
from events import Event
from readmodels import keys
from readmodels.memory import dump_redis
from readmodels.redis_client import make_redis
from readmodels.settings import Settings
from tools.produce import produce
from tools.stack import Stack


@dataclass
class Pipeline:
    stack: Stack
    settings: Settings
    projector: subprocess.Popen[bytes] | None = None
    api: subprocess.Popen[bytes] | None = None
    api_url: str = ""
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)

    # Set by the cluster suite (tests/cluster/): the e2e modules it re-runs then create their
    # pipelines on the Redis Cluster instead of the stack's single Redis.
    redis_url_override: ClassVar[str | None] = None

    @classmethod
    def create(cls, stack: Stack, **overrides: Any) -> Pipeline:
        tag = uuid.uuid4().hex[:8]
        isolated: dict[str, Any] = {"topic_prefix": f"t{tag}.", "redis_namespace": f"t{tag}",
                                    "consumer_group": f"lp-test-{tag}", "topic_partitions": 2}
        if cls.redis_url_override is not None:
            isolated["redis_url"] = cls.redis_url_override
        settings = stack.settings(**{**isolated, **overrides})
        stack.create_topics(settings)
        return cls(stack, settings)

    def start(self, *, api: bool = True) -> Pipeline:
        self.projector = self.stack.start_projector(self.settings)
        if api:
            self.api, self.api_url = self.stack.start_api(self.settings)
        return self

    def stop(self) -> None:
        for proc in (self.api, self.projector):
            if proc is not None:
                self.stack.stop_child(proc)
        self.api = self.projector = None

    def produce(self, events: Iterable[Event[Any]], *, avro: bool = False) -> None:
        """To the topics of the events' types; `avro`: as edx-event-bus-kafka writes them."""
        ends = asyncio.run(produce(self.settings.kafka_bootstrap, events, topic_prefix=self.settings.full_topic_prefix,
                                   avro=self.settings if avro else None))
        for tp, off in ends.items():
            self.offsets[tp] = max(self.offsets.get(tp, 0), off)

    def note_offsets(self, ends: dict[tuple[str, int], int]) -> None:
        """Offsets produced by other means (e.g. Open edX's producer) for `wait_applied` to wait for."""
        for tp, off in ends.items():
            self.offsets[tp] = max(self.offsets.get(tp, 0), off)

    def wait_applied(self, timeout: float = 60.0) -> None:
        """Block until the projector's checkpoints cover everything produced so far."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = asyncio.run(self._checkpoints())
            if all(done.get(f"{t}:{p}", 0) >= off for (t, p), off in self.offsets.items()):
                return
            if self.projector is not None and self.projector.poll() is not None:
                raise AssertionError(f"projector exited with {self.projector.returncode}")
            time.sleep(0.1)
        raise AssertionError(f"projector did not apply {self.offsets} within {timeout}s")

    async def _checkpoints(self) -> dict[str, int]:
        redis = make_redis(self.settings.redis_url)
        try:
            gen = int(await redis.get(keys.serving(self.settings.redis_namespace)) or 1)
            raw = await redis.hgetall(keys.prefix(self.settings.redis_namespace, gen) + keys.CHECKPOINTS)
            return {k.decode(): int(v) for k, v in raw.items()}
        finally:
            await redis.aclose()

    def read_models(self) -> dict[str, Any]:
        """The serving generation's read models in the canonical form of `dump_redis`."""
        return asyncio.run(self._read_models())

    async def _read_models(self) -> dict[str, Any]:
        redis = make_redis(self.settings.redis_url)
        try:
            ns = self.settings.redis_namespace
            gen = int(await redis.get(keys.serving(ns)) or 1)
            return await dump_redis(redis, keys.prefix(ns, gen))
        finally:
            await redis.aclose()

    def token(self, user_id: int, username: str | None = None, *, administrator: bool = False) -> str:
        return make_token(self.settings, user_id, username or f"learner{user_id}", administrator=administrator)

    def get(self, path: str, *, user: int | None = None, headers: dict[str, str] | None = None,
            **kwargs: Any) -> httpx.Response:
        h = dict(headers or {})
        if user is not None:
            h["Authorization"] = f"JWT {self.token(user)}"
        return httpx.get(self.api_url + path, headers=h, timeout=10, **kwargs)
