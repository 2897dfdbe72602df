"""Redis memory per learner-course of the read models' final state, under Redis' default listpack
thresholds and under ours (tools/redis_runner.LISTPACK_CONFIG), without Kafka or the projector.

    .venv/bin/python -m bench.memory_layout [--events 30000] [--seed 7]

The synthetic history's operations (projectors/projections.py) are written through the projector's
own write script (readmodels/writer.py, batches of 1,000 events) into two private redis-servers,
checked against the oracle fold (projectors/oracle.py), and measured per key kind with MEMORY
USAGE, plus the INFO used_memory delta. `lp bench` measures the live projector's result on our
config only. Then the learner keys' payload, byte by byte (`payload`): what their fields hold
before Redis' own overhead, with the versions the last-writer-wins rule keeps counted apart.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any, cast

import redis
from redis.asyncio import Redis as AsyncRedis

from bench import history
from events import Event
from projectors.oracle import compare, fold, report
from projectors.projections import project
from readmodels import keys
from readmodels.compact import split_completion
from readmodels.memory import MemoryStore, dump_redis
from readmodels.writer import RedisWriter
from tools.redis_runner import LISTPACK_CONFIG, RedisServer

LEARNER_KINDS = ("uc", "u", "ua", "unames")
NS = "lp"
GEN = 1


async def load(url: str, events: list[Event[Any]], expected: MemoryStore) -> None:
    """Write the history as the projector does, then check the result against the oracle."""
    client = AsyncRedis.from_url(url)
    try:
        writer = RedisWriter(client, NS, announce=False)
        for start in range(0, len(events), 1000):
            await writer.apply(GEN, [op for e in events[start : start + 1000] for op in project(e)])
        diffs = compare(expected.dump(), await dump_redis(client, keys.prefix(NS, GEN)))
        if diffs:
            raise SystemExit(f"the written state differs from the oracle fold: {report(diffs, limit=5)}")
    finally:
        await client.aclose()


def measure(events: list[Event[Any]], expected: MemoryStore, config: tuple[str, ...], workdir: Path) -> dict[str, Any]:
    server = RedisServer(workdir, config=config).start()
    try:
        client = redis.Redis.from_url(server.url)
        before = int(client.info("memory")["used_memory"])
        asyncio.run(load(server.url, events, expected))
        after = int(client.info("memory")["used_memory"])
        by_kind: dict[str, int] = defaultdict(int)
        encodings: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        pipe = client.pipeline(transaction=False)
        names = [k.decode() for k in client.scan_iter(match=keys.prefix(NS, GEN) + "*", count=1000)]
        for k in names:
            pipe.memory_usage(k, samples=0)
            pipe.object("encoding", k)
        answers = pipe.execute()
        for i, k in enumerate(names):
            kind = k[len(keys.prefix(NS, GEN)):].split(":", 1)[0]
            by_kind[kind] += int(answers[2 * i] or 0)
            encodings[kind][answers[2 * i + 1].decode()] += 1
        return {"used_memory_delta": after - before, "by_kind": dict(by_kind),
                "encodings": {k: dict(v) for k, v in encodings.items()}, "payload": payload(client)}
    finally:
        server.stop()


def payload(client: redis.Redis) -> dict[str, int]:
    """Bytes the learner keys hold: versions, values and field names of `uc:` and `u:` (a completion
    record is `<version><completion>`, every other field `<version>\t<json>` or a plain value),
    `ua:` members; and the number of completion records and learner facts."""
    out: dict[str, int] = defaultdict(int)
    p = keys.prefix(NS, GEN)
    for kind in ("uc", "u"):
        for k in client.scan_iter(match=f"{p}{kind}:*", count=1000):
            for f, raw in cast(dict[bytes, bytes], client.hgetall(k)).items():
                out[f"{kind} names"] += len(f)
                text = raw.decode()
                if kind == "uc" and f[:1] not in (b"p", b"b"):  # a completion record
                    version, _ = split_completion(text)
                    out["uc records"] += 1
                else:
                    version = text.partition("\t")[0] if "\t" in text else ""
                    out[f"{kind} facts"] += 1
                out[f"{kind} versions"] += len(version.encode())
                out[f"{kind} values"] += len(raw) - len(version.encode())
    for k in client.scan_iter(match=f"{p}ua:*", count=1000):
        out["ua members"] += sum(len(m) for m in client.zrange(k, 0, -1))
    return dict(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    hist = history.build(args.events, args.seed)
    pairs = len(hist.enrollments)
    store = fold(hist.events)
    print(f"{len(hist.events):,} events, {pairs:,} learner-course pairs")
    with tempfile.TemporaryDirectory(prefix="lp-memory-") as tmp:
        for name, config in (("Redis defaults", ()), ("LISTPACK_CONFIG", LISTPACK_CONFIG)):
            m = measure(hist.events, store, config, Path(tmp) / name.replace(" ", "-"))
            kinds = ", ".join(f"{k} {m['by_kind'].get(k, 0) / pairs:,.0f} B" for k in LEARNER_KINDS)
            learner = sum(m["by_kind"].get(k, 0) for k in LEARNER_KINDS) / pairs
            others = ", ".join(f"{k} {v / pairs:,.0f} B" for k, v in sorted(m["by_kind"].items(), key=lambda kv: -kv[1])
                               if k not in LEARNER_KINDS)
            print(f"{name}: used_memory delta {m['used_memory_delta'] / pairs:,.0f} B per pair; learner keys "
                  f"{learner:,.0f} B per pair ({kinds}); other keys per pair: {others}; encodings "
                  + "; ".join(f"{k} {v}" for k, v in m["encodings"].items() if k in LEARNER_KINDS))
        print("learner keys' payload per pair (the same either way): "
              + ", ".join(f"{k} {v / pairs:,.1f}" for k, v in sorted(m["payload"].items()))
              + " (counts, or bytes)")


if __name__ == "__main__":
    main()
