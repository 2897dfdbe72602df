"""The rebuild's pure part in one process, per event: decode + projection (`pipeline.prepare`),
coalescing and the op encoding (`op.encode` + `orjson.dumps`, as `RedisWriter.apply` sends them).
No Kafka and no Redis: a loop of seconds to compare two trees on the same messages (the rebuild row
itself takes minutes and moves with the machine's load).

The messages are the bench history (`bench.history.build(n, 7)`) as the rebuild reads it: JSON
values and headers of `events.encode`, each on the partition aiokafka's default partitioner gives
its key among `--partitions` per topic; a share of those partitions (one worker's of two) in
history order, cut into batches of `--batch`. Built once and cached in a pickle (`--cache`).
`--avro`: the values and headers as edx-event-bus-kafka writes them (bench/avro_decode.py's
encoding, the checked-in writer schemas), decoded with those schemas as the Avro rows' rebuild does.

    python -m bench.pure_part --events 1000000 --take 60000 --passes 5 [--avro]
"""

from __future__ import annotations

import gc
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Annotated

import orjson
import typer

from events.avro import WriterSchemas
from projectors.pipeline import RawMessage, prepare
from readmodels.ops import coalesce
from readmodels.runtime import BATCH_GC_THRESHOLDS, tune_gc


def build(events: int, partitions: int, *, avro: bool = False) -> tuple[list[RawMessage], WriterSchemas | None]:
    from aiokafka.partitioner import DefaultPartitioner

    from bench.avro_decode import AvroEncoder
    from bench.history import build as history
    from events import encode
    from tools.produce import topic_for

    choose = DefaultPartitioner()
    every = list(range(partitions))
    out: list[RawMessage] = []
    offsets: dict[tuple[str, int], int] = {}
    encoder = AvroEncoder() if avro else None
    for event in history(events, 7).events:
        headers, value = encode(event) if encoder is None else encoder.encode(event)
        key = event.data.partition_key().encode() or None
        topic = topic_for(event)
        part = choose(key, every, every) if key is not None else hash(event.id) % partitions
        offset = offsets.get((topic, part), 0)
        offsets[(topic, part)] = offset + 1
        out.append(RawMessage(topic, part, offset, key, value, tuple(headers)))
    return out, (None if encoder is None else encoder.schemas)


def batches(messages: list[RawMessage], take: int, share: set[int], size: int, skip: int = 0) -> list[list[RawMessage]]:
    mine = [m for m in messages if m.partition in share][skip : skip + take]
    return [mine[i : i + size] for i in range(0, len(mine), size)]


def one_pass(work: list[list[RawMessage]], schemas: WriterSchemas | None = None) -> dict[str, float]:
    """Process CPU of each phase over every batch, in seconds."""
    clock = time.process_time
    spent = {"prepare": 0.0, "coalesce": 0.0, "encode": 0.0}
    for batch in work:
        t0 = clock()
        _, ops, _, _ = prepare(batch, schemas)
        t1 = clock()
        ops = coalesce(ops)
        t2 = clock()
        orjson.dumps([op.encode() for op in ops])
        t3 = clock()
        spent["prepare"] += t1 - t0
        spent["coalesce"] += t2 - t1
        spent["encode"] += t3 - t2
    return spent


def main(
    events: Annotated[int, typer.Option(help="Events in the history built.")] = 1_000_000,
    take: Annotated[int, typer.Option(help="Events replayed per pass.")] = 60_000,
    skip: Annotated[int, typer.Option(help="Events of the share skipped first.")] = 0,
    passes: Annotated[int, typer.Option()] = 5,
    batch: Annotated[int, typer.Option()] = 1000,
    partitions: Annotated[int, typer.Option(help="Partitions per topic.")] = 4,
    share: Annotated[str, typer.Option(help="The partitions replayed (comma-separated).")] = "0,1",
    cache: Annotated[Path, typer.Option(help="Where the messages are cached.")] = Path("/tmp/lp-pure-part.pkl"),
    avro: Annotated[bool, typer.Option(help="Avro values and headers, as edx-event-bus-kafka writes them.")] = False,
) -> None:
    path = cache.with_suffix(f".{events}.{partitions}{'.avro' if avro else ''}.pkl")
    if path.exists():
        messages, schemas = pickle.loads(path.read_bytes())
    else:
        messages, schemas = build(events, partitions, avro=avro)
        path.write_bytes(pickle.dumps((messages, schemas), protocol=pickle.HIGHEST_PROTOCOL))
    work = batches(messages, take, {int(p) for p in share.split(",")}, batch, skip)
    del messages
    n = sum(len(b) for b in work)
    gc.collect()
    gc.freeze()
    tune_gc(BATCH_GC_THRESHOLDS)
    one_pass(work[: max(1, len(work) // 10)], schemas)  # warm the memos as a worker's first batches do
    rows = []
    for _ in range(passes):
        spent = one_pass(work, schemas)
        rows.append({k: v / n * 1e6 for k, v in spent.items()})
    best = min(rows, key=lambda r: sum(r.values()))
    load = os.getloadavg()[0]
    for r in rows:
        print(f"  {sum(r.values()):6.2f} us/event  " + "  ".join(f"{k} {v:5.2f}" for k, v in r.items()),
              file=sys.stderr)
    print(orjson.dumps({"events": n, "best_us": round(sum(best.values()), 2),
                        **{k: round(v, 2) for k, v in best.items()}, "load": load}).decode())


if __name__ == "__main__":
    typer.run(main)
