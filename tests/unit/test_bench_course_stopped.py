"""The course-with-the-projector-stopped diagnostic: its row, and that only a named step runs it."""

from __future__ import annotations

from bench.api import STOPPED_ID, stopped_row
from bench.run import DIAGNOSTIC_IDS, ROW_IDS, Config


def _result(rps: float, p99_ms: float, projector_ms: float) -> dict[str, float]:
    return {"rps": rps, "p99_us": p99_ms * 1000, "requests": int(rps * 10), "api_cpu_ms_per_request": 0.1,
            "redis_cpu_ms_per_request": 0.01, "projector_cpu_ms_per_request": projector_ms,
            "errors_status": 0, "errors_connect": 0, "errors_read": 0, "errors_timeout": 0}


def test_the_row_is_the_mean_of_the_stopped_runs_against_the_floor_with_every_run_in_its_note() -> None:
    row = stopped_row(8_000.0, [_result(9_000, 6.5, 0.0), _result(9_800, 6.3, 0.0)],
                      [_result(6_600, 9.9, 0.08), _result(7_700, 8.1, 0.07)])
    assert row.id == STOPPED_ID
    assert row.value == 9_400.0
    assert row.ratio == 1.175
    assert row.p99_ms == 6.5
    assert row.met is None and row.target == "(diagnostic)"
    for text in ("9,000 req/s (1.12 x", "9,800 req/s (1.23 x", "6,600 req/s (0.82 x", "projector 0.08 ms"):
        assert text in row.note


def test_the_diagnostic_runs_only_when_named_and_is_no_row_of_the_full_table() -> None:
    assert not Config().names("course-stopped")
    assert not Config(only=frozenset({"api"})).names("course-stopped")
    assert Config(only=frozenset({"api", "course-stopped"})).names("course-stopped")
    assert STOPPED_ID in DIAGNOSTIC_IDS and STOPPED_ID not in ROW_IDS
