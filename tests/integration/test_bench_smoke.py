"""The benchmark harness end to end at a tiny size: every row of the table is in the JSON.

Timings are not asserted here (they belong to `lp bench`); only that the suite runs through and
reports each benchmark, measured or with the reason it was not."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from bench.run import ROW_IDS, Config, run
from tools.stack import Stack

pytestmark = [pytest.mark.integration]


def test_run_bench_at_tiny_size_writes_every_row(stack: Stack, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    config = Config.quick(events=2_000, api_seconds=1.0, freshness_seconds=2.0, profile=False, out=out,
                          projector_timeout=120.0, rebuild_timeout=60.0)

    run(config, say=lambda _line: None, stack=stack)

    doc = orjson.loads(out.read_bytes())
    assert [r["id"] for r in doc["rows"]] == list(ROW_IDS)
    for row in doc["rows"]:
        assert {"name", "value", "unit", "target", "met", "note"} <= row.keys()
        assert row["value"] is not None or row["note"], row["id"]
    assert doc["machine"]["nproc"] and doc["history"]["events"]
    table = [line for line in out.with_suffix(".md").read_text().splitlines() if line.startswith("| ")]
    assert len(table) == 1 + len(ROW_IDS)
