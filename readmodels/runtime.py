"""Process tuning shared by the long-running processes (API workers, projector, rebuild workers)."""

from __future__ import annotations

import gc

# The projectors (live and rebuild): a young collection every 100,000 net container allocations
# instead of 700. A batch of 1,000 events allocates tens of thousands (decoded events, ops,
# change-record states), so the default collected every few dozen events, and the older
# generations, with faust's and aiokafka's heap, every few batches: with gc.freeze, ~30% of
# prepare()'s CPU on 60,000 events of the bench history (bench/RESULTS.md).
BATCH_GC_THRESHOLDS = (100_000, 50, 100)


def tune_gc(thresholds: tuple[int, int, int]) -> None:
    """Once started: what exists now (modules, the app, pydantic schemas, clients) lives as long as
    the process, so move it out of the collector's sight (`gc.freeze`); then collect the young
    generation every `thresholds[0]` net container allocations instead of Python's 700. Full
    collections then scan only what the work left behind, instead of the whole heap every few
    requests or events (measured: bench/RESULTS.md, docs/DESIGN.md)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
