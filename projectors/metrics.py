"""The projector's observability: Prometheus metrics, and the status it reports into Redis for the
API's `/readyz` and status page (readmodels/status.py).

`ProjectorMonitor.prepare` and `.apply` wrap the Projector's two steps of a batch (`prepare`,
then `handle_prepared`) to count batch size, apply time, events by type, dead letters. Its
reporting task, started with the faust app, asks the consumer every `REPORT_INTERVAL_S` for the
log start and end offsets of its assigned source partitions, reads the serving generation's
checkpoints, sets the lag gauges and writes one status sample. Only the live projector reports (a
shadow generation's lag is not what the API serves).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any

import faust
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from projectors.pipeline import BatchResult, Prepared, Projector, RawMessage
from readmodels.redis_client import make_redis
from readmodels.settings import Settings
from readmodels.status import REPORT_INTERVAL_S, Offsets, StatusWriter, lag_of

log = logging.getLogger(__name__)

OFFSETS_TIMEOUT_S = 5.0
BATCH_SIZE_BUCKETS = (1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
APPLY_SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ProjectorMetrics:
    """The projector's Prometheus metrics, in their own registry (one per monitor, so tests and
    several apps in one process never collide)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events = Counter("lp_projector_events", "Events projected, by CloudEvents type.", ["type"], registry=r)
        self.dead_letters = Counter(
            "lp_projector_dead_letters", "Messages sent to a dead-letter topic, by source topic.", ["topic"], registry=r
        )
        self.batch_size = Histogram(
            "lp_projector_batch_size", "Messages per batch.", buckets=BATCH_SIZE_BUCKETS, registry=r
        )
        self.batch_seconds = Histogram(
            "lp_projector_batch_apply_seconds",
            "Seconds to decode, project, dead-letter and apply one batch (Redis write included).",
            buckets=APPLY_SECONDS_BUCKETS,
            registry=r,
        )
        self.lag = Gauge(
            "lp_projector_lag",
            "Messages of a source partition the serving generation has not applied.",
            ["topic", "partition"],
            registry=r,
        )
        self.report_errors = Counter(
            "lp_projector_status_report_errors", "Failed status reports (Kafka offsets or Redis).", registry=r
        )


OffsetsSource = Callable[[], Awaitable[dict[str, Offsets]]]


def consumer_offsets(app: faust.App, topics: Collection[str]) -> OffsetsSource:
    """Log start and end offsets of the consumer's assigned source partitions, from the broker."""

    async def offsets() -> dict[str, Offsets]:
        tps = sorted(tp for tp in app.consumer.assignment() if tp.topic in topics)
        if not tps:
            return {}
        ends = await asyncio.wait_for(app.consumer.highwaters(*tps), OFFSETS_TIMEOUT_S)
        starts = await asyncio.wait_for(app.consumer.earliest_offsets(*tps), OFFSETS_TIMEOUT_S)
        return {f"{tp.topic}:{tp.partition}": Offsets(starts.get(tp, 0), ends[tp]) for tp in tps if tp in ends}

    return offsets


class ProjectorMonitor:
    def __init__(self, metrics: ProjectorMetrics | None = None, worker: str | None = None) -> None:
        self.metrics = metrics or ProjectorMetrics()
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}"
        self.events = 0
        self.dead_letters = 0
        self.batches = 0
        self.events_by_type: dict[str, int] = {}
        self.dead_letters_by_topic: dict[str, int] = {}
        self._lag_labels: set[tuple[str, str]] = set()
        self._failing = False

    async def prepare(self, projector: Projector, batch: Sequence[RawMessage]) -> tuple[Prepared, float]:
        """`projector.prepare(batch)`, with the seconds it took (for `apply`)."""
        started = time.perf_counter()
        prepared = await projector.prepare(batch)
        return prepared, time.perf_counter() - started

    async def apply(self, projector: Projector, batch: Sequence[RawMessage], prepared: tuple[Prepared, float]
                    ) -> BatchResult:
        """`Projector.handle` in two steps (the agent prepares a batch while the previous one is applied): the
        batch's seconds are its prepare's and its apply's, not the time it waited in between."""
        started = time.perf_counter()
        result = await projector.handle_prepared(batch, prepared[0])
        self.observe(len(batch), result, prepared[1] + time.perf_counter() - started)
        return result

    def observe(self, size: int, result: BatchResult, seconds: float) -> None:
        m = self.metrics
        m.batch_size.observe(size)
        m.batch_seconds.observe(seconds)
        self.batches += 1
        for p in result.projected:
            m.events.labels(p.event.type).inc()
            self.events_by_type[p.event.type] = self.events_by_type.get(p.event.type, 0) + 1
        for d in result.dead_letters:
            m.dead_letters.labels(d.message.topic).inc()
            self.dead_letters_by_topic[d.message.topic] = self.dead_letters_by_topic.get(d.message.topic, 0) + 1
        self.events += len(result.projected)
        self.dead_letters += len(result.dead_letters)

    def set_lag(self, lag: Mapping[str, int]) -> None:
        labels = set()
        for tp, n in lag.items():
            topic, _, partition = tp.rpartition(":")
            labels.add((topic, partition))
            self.metrics.lag.labels(topic, partition).set(n)
        for gone in self._lag_labels - labels:  # revoked partitions are another worker's now
            self.metrics.lag.remove(*gone)
        self._lag_labels = labels

    def sample(self, generation: int, partitions: Mapping[str, Mapping[str, int]]) -> dict[str, Any]:
        return {
            "at": round(time.time(), 3),
            "worker": self.worker,
            "generation": generation,
            "events": self.events,
            "dead_letters": self.dead_letters,
            "batches": self.batches,
            "events_by_type": dict(self.events_by_type),
            "dead_letters_by_topic": dict(self.dead_letters_by_topic),
            "partitions": {tp: dict(p) for tp, p in partitions.items()},
        }

    async def report_once(self, offsets: OffsetsSource, writer: StatusWriter) -> None:
        ends = await offsets()
        generation, checkpoints = await writer.checkpoints()
        lag = lag_of(ends, checkpoints)
        self.set_lag(lag)
        partitions = {tp: {"end": ends[tp].end, "next": checkpoints.get(tp, 0), "lag": n} for tp, n in lag.items()}
        await writer.report(ends, self.sample(generation, partitions))

    async def report_forever(self, offsets: OffsetsSource, writer: StatusWriter) -> None:
        while True:
            try:
                await self.report_once(offsets, writer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # counted and logged once per outage; the next tick retries
                self.metrics.report_errors.inc()
                if not self._failing:
                    log.warning("status report failed (retrying every %.0fs): %r", REPORT_INTERVAL_S, exc)
                self._failing = True
            else:
                if self._failing:
                    log.info("status report recovered")
                self._failing = False
            await asyncio.sleep(REPORT_INTERVAL_S)

    def install(self, app: faust.App, settings: Settings) -> None:
        """Start, with the app, the metrics server (when a port is set) and the status reports."""

        async def report_status() -> None:
            server = None
            if settings.projector_metrics_port:
                server, _ = start_http_server(settings.projector_metrics_port, registry=self.metrics.registry)
                log.info("projector metrics on port %d", settings.projector_metrics_port)
            redis = make_redis(settings.redis_url)
            try:
                offsets = consumer_offsets(app, frozenset(settings.source_topics))
                await self.report_forever(offsets, StatusWriter(redis, settings.redis_namespace))
            finally:
                await redis.aclose()
                if server is not None:
                    server.shutdown()

        app.task(report_status)
