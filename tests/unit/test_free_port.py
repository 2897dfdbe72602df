"""The local runners' port picks: outside the kernel's ephemeral range, never the same one twice."""

from __future__ import annotations

import socket

from tools import procs


def test_ports_are_below_the_ephemeral_range_and_distinct() -> None:
    top = procs._ephemeral_start()
    ports = [procs.free_port() for _ in range(100)]
    assert len(set(ports)) == len(ports)
    assert all(procs._LOWEST <= p < top for p in ports)


def test_a_port_in_use_is_not_picked(monkeypatch) -> None:
    taken, free = procs.free_port(), procs.free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", taken))
        held.listen()
        picks = iter([taken, free])
        monkeypatch.setattr(procs.random, "randrange", lambda a, b: next(picks))
        monkeypatch.setattr(procs, "_handed_out", set())
        assert procs.free_port() == free


def test_unreadable_range_falls_back_to_the_linux_default(tmp_path) -> None:
    assert procs._ephemeral_start(str(tmp_path / "missing")) == 32_768
    (tmp_path / "range").write_text("40000\t60999\n")
    assert procs._ephemeral_start(str(tmp_path / "range")) == 40_000
