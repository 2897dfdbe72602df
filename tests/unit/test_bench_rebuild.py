"""The rebuild row's measure: the events the command says it replayed."""

from __future__ import annotations

from pathlib import Path

from bench.rebuild import replayed_events


def test_replayed_events_is_read_from_the_commands_switch_line(tmp_path: Path) -> None:
    log = tmp_path / "rebuild.log"
    log.write_text(
        "building generation 3 (serving: 2, group lp-rebuild-3, 2 workers)\n"
        "rebuild g3 ━━━━━━━━━━ 1183021/1183021 events 46.1k/s 0:00:00\n"
        "switched: generation 3 serves (was 2); 1183021 events replayed\n"
        "deleted generation 2 (48211 keys)\n"
    )
    assert replayed_events(log) == 1_183_021


def test_no_switch_line_or_no_log_gives_none(tmp_path: Path) -> None:
    log = tmp_path / "rebuild.log"
    log.write_text("error: the rebuild failed\n")
    assert replayed_events(log) is None
    assert replayed_events(tmp_path / "missing.log") is None
