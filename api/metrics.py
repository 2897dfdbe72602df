"""The API's Prometheus metrics, in a registry of their own per app (several apps in one process,
as in the tests, never collide on the global registry)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ApiMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.latency = Histogram(
            "lp_api_request_duration_seconds",
            "Time to answer a request, by method, route template and status (long polls included).",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.fast_path = Counter(
            "lp_api_fast_path_answers",
            "Requests answered by the fast path (api/fastpath.py) rather than the FastAPI app.",
            registry=r,
        )
        self.in_flight = Gauge("lp_api_requests_in_flight", "Requests being answered.", registry=r)
        self.redis_errors = Counter(
            "lp_api_redis_errors",
            "Redis unreachable or failing: requests answered 503 (source=request) and readiness checks.",
            ["source"],
            registry=r,
        )
