"""The projector's floor: a raw aiokafka consume-and-discard loop over the same topics.

Run as its own process (like the projector worker) so both figures come from one process on
the same cores: `python -m bench.raw_consume BOOTSTRAP EXPECTED TOPIC...`. Prints one JSON line.
Counting starts at the first record, as the projector's does at its first applied batch.
"""

from __future__ import annotations

import asyncio
import sys
import time

import orjson
from aiokafka import AIOKafkaConsumer


async def consume(bootstrap: str, expected: int, topics: list[str], limit_s: float = 600.0) -> dict[str, float]:
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    try:
        count = 0
        nbytes = 0
        first: float | None = None
        first_count = 0
        deadline = time.monotonic() + limit_s
        while count < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200, max_records=10_000)
            for records in batches.values():
                for r in records:
                    nbytes += len(r.value or b"")  # touch the value, then drop it
                count += len(records)
            if first is None and count:
                first, first_count = time.monotonic(), count
        end = time.monotonic()
        seconds = end - first if first is not None else 0.0
        rate = (count - first_count) / seconds if seconds > 0 else 0.0
        return {"events": count, "bytes": nbytes, "seconds": seconds, "rate": rate}
    finally:
        await consumer.stop()


def main(argv: list[str]) -> int:
    bootstrap, expected, topics = argv[0], int(argv[1]), argv[2:]
    result = asyncio.run(consume(bootstrap, expected, topics))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    return 0 if result["events"] >= expected else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
