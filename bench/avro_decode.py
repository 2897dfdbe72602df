"""Decode cost of the Avro wire format against the JSON one, per event, in process CPU time.

The same synthetic events are encoded both ways (JSON as our producers write it; Avro as
edx-event-bus-kafka writes it, with the checked-in writer schemas and their headers), then
`events.decode` runs over each list in turn, JSON and Avro alternating for `rounds` rounds after a
warm-up round (so the key checks' caches are as warm for both). The figure per format is the
median round's CPU time (`time.process_time`, which contention on a shared machine disturbs less
than wall time) divided by the events. No profiler attached.

    .venv/bin/python -m bench.avro_decode [--events 50000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from itertools import islice
from typing import Any

import orjson

from events import Event, decode, encode
from events.avro import encode_headers, encode_value, parse_writer_schema
from tools.avro_writer import schema_variants
from tools.synthetic import generate

Message = tuple[list[tuple[str, bytes]], bytes]


class AvroEncoder:
    """Events as edx-event-bus-kafka writes them, with the checked-in writer schemas under ids of
    its own (`schemas`: the parsed writer schemas by id, as the registry client holds them)."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.schemas: dict[int, Any] = {}

    def encode(self, event: Event[Any]) -> Message:
        for text, parsed in schema_variants(event.type):
            sid = self.ids.setdefault(text, len(self.ids) + 1)
            self.schemas.setdefault(sid, parse_writer_schema(sid, text))
            try:
                value = encode_value(sid, parsed, event)
            except (ValueError, TypeError):
                continue
            return encode_headers(event, host="bench", lib="bench"), value
        raise ValueError(f"no writer schema of {event.type} takes event {event.id}")


def messages(n: int, seed: int = 7) -> tuple[list[Message], list[Message], dict[int, Any]]:
    """n synthetic events as JSON messages and as Avro messages, and the Avro writer schemas by id."""
    encoder = AvroEncoder()
    as_json: list[Message] = []
    as_avro: list[Message] = []
    for event in islice(generate(seed=seed, learners=max(20, n // 200), courses=6, programs=2, days=60), n):
        as_json.append(encode(event))
        as_avro.append(encoder.encode(event))
    return as_json, as_avro, encoder.schemas


def cpu_per_event(batch: Sequence[Message], schemas: dict[int, Any] | None) -> float:
    started = time.process_time()
    for headers, value in batch:
        decode(headers, value, schemas)
    return (time.process_time() - started) / len(batch)


def measure(n: int = 50_000, rounds: int = 5) -> dict[str, Any]:
    as_json, as_avro, schemas = messages(n)
    cpu_per_event(as_json, None)  # warm-up: the key-check caches, pydantic's validators
    cpu_per_event(as_avro, schemas)
    json_us, avro_us = [], []
    for _ in range(rounds):
        json_us.append(cpu_per_event(as_json, None) * 1e6)
        avro_us.append(cpu_per_event(as_avro, schemas) * 1e6)
    j, a = statistics.median(json_us), statistics.median(avro_us)
    return {"events": len(as_json), "rounds": rounds, "json_us": round(j, 2), "avro_us": round(a, 2),
            "ratio": round(a / j, 3), "json_rounds_us": [round(x, 2) for x in json_us],
            "avro_rounds_us": [round(x, 2) for x in avro_us],
            "json_bytes": sum(len(v) for _, v in as_json) // len(as_json),
            "avro_bytes": sum(len(v) for _, v in as_avro) // len(as_avro)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(orjson.dumps(measure(args.events, args.rounds)).decode())


if __name__ == "__main__":
    main()
