"""Operator routes: liveness, readiness, Prometheus metrics and the status page.

Left out of the OpenAPI schema: they are not part of the Open edX API the product serves (and
`/readyz` answers 503 by design, which a schema fuzzer would rightly call a server error). They are
documented in the README's "Operations" section. No authentication: they show offsets and counts,
never a learner's data; deployments keep them off the public ingress.
"""

from __future__ import annotations

import asyncio
import time
from functools import cache
from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError

from api.deps import SettingsDep
from api.metrics import ApiMetrics
from readmodels.status import ENDS_TTL_S, REPORT_INTERVAL_S, StatusReader, summarize

READY_TIMEOUT_S = 2.0

router = APIRouter(include_in_schema=False)


async def get_status_reader(request: Request) -> StatusReader:
    return StatusReader(request.app.state.redis, request.app.state.settings.redis_namespace)


async def get_metrics(request: Request) -> ApiMetrics:
    metrics: ApiMetrics = request.app.state.metrics
    return metrics


StatusReaderDep = Annotated[StatusReader, Depends(get_status_reader)]
MetricsDep = Annotated[ApiMetrics, Depends(get_metrics)]


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers: no dependency is checked (a Redis outage must not restart the API)."""
    return {"status": "ok"}


def _unready(reason: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"status": "unavailable", "reason": reason, **extra}, status_code=503)


@router.get("/readyz")
async def readyz(reader: StatusReaderDep, settings: SettingsDep, metrics: MetricsDep) -> JSONResponse:
    """Ready: Redis answers, and the serving generation is at most LP_READY_MAX_LAG messages behind
    the source topics' end offsets (as the live projector last reported them)."""
    try:
        lag = await asyncio.wait_for(reader.lag(), READY_TIMEOUT_S)
    except (RedisError, OSError, TimeoutError) as exc:
        metrics.redis_errors.labels("readyz").inc()
        return _unready(f"Redis unreachable ({type(exc).__name__})")
    if lag is None:
        return _unready(f"the projector has not reported the topics' offsets in the last {ENDS_TTL_S} s")
    body = {"lag": lag.total, "max_lag": settings.ready_max_lag, "generation": lag.generation}
    if lag.total > settings.ready_max_lag:
        behind = {tp: n for tp, n in lag.partitions.items() if n}
        return _unready(
            f"projector lag {lag.total} is over LP_READY_MAX_LAG={settings.ready_max_lag}", **body, partitions=behind
        )
    return JSONResponse({"status": "ready", **body})


@router.get("/metrics")
async def metrics_text(metrics: MetricsDep) -> Response:
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


@cache
def _status_page() -> str:
    return files("api").joinpath("status.html").read_text(encoding="utf-8")


@router.get("/status")
async def status_page() -> HTMLResponse:
    return HTMLResponse(_status_page())


@router.get("/status.json")
async def status_json(reader: StatusReaderDep, settings: SettingsDep) -> dict[str, Any]:
    """The projector's recent samples (rates per worker) and the serving generation's lag. Redis
    errors propagate: the platform answers 503 with a request id."""
    samples = await reader.samples()
    lag = await reader.lag()
    return {
        "generated_at": round(time.time(), 3),
        "interval_s": REPORT_INTERVAL_S,
        "ready_max_lag": settings.ready_max_lag,
        "serving_generation": lag.generation if lag else None,
        "lag": lag.total if lag else None,
        "lag_by_partition": lag.partitions if lag else {},
        **summarize(samples),
    }
