"""The projector's second floor: faust alone. The projector's own faust app (projectors/app.py
`faust_app`: same settings) with an agent that only counts, over the same topics, in its own
process: what one faust worker can consume before any decoding, projection or Redis write.
`python -m bench.faust_consume EXPECTED GROUP [MODE [CONSUMER]]` with the LP_* environment of the
run; MODE `take_events` (default: faust's own batching, `Stream.take_events`, what the floor row
measures) or `batches` (the projector's way, projectors/faust_batches.py); CONSUMER `stock`
(default: faust's own aiokafka consumer, the floor row) or `drain` (the projector's,
projectors/faust_consumer.py). Prints one JSON line (events, seconds, rate, cpu_us per event) and
exits. Counting starts at the first batch, as the projector's does.
"""

from __future__ import annotations

import os
import sys
import time

import faust
import orjson

from projectors import faust_batches
from projectors.app import faust_app
from readmodels import runtime
from readmodels.settings import Settings


def main(argv: list[str]) -> None:
    expected, group = int(argv[0]), argv[1]
    mode = argv[2] if len(argv) > 2 else "take_events"
    consumer = argv[3] if len(argv) > 3 else "stock"
    settings = Settings()
    app = faust_app(settings, group, stock_consumer=consumer == "stock")
    source = app.topic(*settings.source_topics, value_serializer="raw", key_serializer="raw")
    state: dict[str, float] = {"count": 0.0}

    @app.agent(source, concurrency=1, name="consume")
    async def consume(stream: faust.StreamT) -> None:
        runtime.tune_gc(runtime.BATCH_GC_THRESHOLDS)  # as the projector's agent does
        if mode == "batches":
            source = faust_batches.batches(app, stream, settings.batch_size, settings.batch_within_ms / 1000)
        else:
            source = stream.take_events(settings.batch_size, within=settings.batch_within_ms / 1000)  # type: ignore[attr-defined]
        async for events in source:
            if "first" not in state:
                cpu = os.times()
                state.update(first=time.monotonic(), cpu=cpu.user + cpu.system, first_count=len(events))
            state["count"] += len(events)
            if state["count"] >= expected:
                seconds = time.monotonic() - state["first"]
                cpu = os.times()
                n = state["count"] - state["first_count"]
                sys.stdout.write(orjson.dumps({
                    "mode": mode, "consumer": consumer, "events": int(state["count"]), "seconds": seconds,
                    "rate": n / seconds if seconds > 0 else 0.0,
                    "cpu_us": (cpu.user + cpu.system - state["cpu"]) / n * 1e6 if n else None,
                }).decode() + "\n")
                sys.stdout.flush()
                os._exit(0)  # measured; faust's orderly shutdown would only add seconds

    sys.argv = [sys.argv[0], "worker", "-l", "warn", "--without-web"]
    app.main()


if __name__ == "__main__":
    main(sys.argv[1:])
