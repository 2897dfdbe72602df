"""The Avro rows of `lp bench`: the projector and the rebuild on the same history written as
edx-event-bus-kafka writes it (Avro values, schemas in the stack's registry stand-in), in topics
and a Redis namespace of their own, measured as their JSON rows are; and the decode cost of Avro
against JSON per event (bench/avro_decode.py: process CPU time, in this process)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from bench import avro_decode, projector, rebuild
from bench.common import Row
from bench.history import History
from readmodels.settings import Settings
from tools.stack import Stack

DECODE_TARGET = 1.2


def decode_row(events: int) -> Row:
    m = avro_decode.measure(min(events, 50_000), rounds=5)
    return Row(id="avro_decode", name="Avro decode CPU per event (vs JSON)", value=m["avro_us"], unit="us/event",
               target=f"<= {DECODE_TARGET} x JSON", met=m["ratio"] <= DECODE_TARGET, floor=m["json_us"],
               floor_name="JSON decode of the same events", ratio=m["ratio"],
               note=f"events.decode over {m['events']:,} events, median of {m['rounds']} alternating rounds, "
               f"process CPU; values {m['avro_bytes']} B Avro vs {m['json_bytes']} B JSON", detail=m)


def run(stack: Stack, settings: Settings, hist: History, floor: dict[str, Any], *, workdir: Path, timeout: float,
        rebuild_timeout: float, say: Any) -> list[Row]:
    """`settings`: the Avro rows' own namespace, topics and group (same stack and registry)."""
    stack.create_topics(settings)
    produced = projector.produce_history(settings, hist, avro=True)
    say(f"  {produced.events:,} Avro messages in {produced.seconds:.1f} s")
    proc, detail = projector.run_projector(stack, settings, produced, log=workdir / "projector-avro.log",
                                           timeout=timeout)
    rows = [replace(projector.projector_row(detail, floor, produced), id="projector_avro",
                    name="Projector throughput on an Avro history (1 worker)")]
    say(f"  projector: {rows[0].value or 0:,.0f} events/s")
    row = rebuild.run(settings, len(hist.events), log=workdir / "rebuild-avro.log", timeout=rebuild_timeout,
                      extra_args=[])
    rows.append(replace(row, id="rebuild_avro", name=f"{rebuild.NAME} (Avro history)"))
    say(f"  rebuild: {rows[1].value} s")
    stack.stop_child(proc)
    return rows
