"""A Kafka or Redis that cannot start fails fast with one line naming the cause and the log."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.kafka_runner import KafkaBroker
from tools.procs import ServiceStartError
from tools.redis_runner import RedisServer

pytestmark = pytest.mark.integration


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port held by a plain listener that speaks neither Redis nor Kafka."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        yield int(s.getsockname()[1])


def test_redis_start_on_a_taken_port_fails_with_one_line_naming_the_log(tmp_path: Path, taken_port: int) -> None:
    server = RedisServer(tmp_path / "redis", port=taken_port)
    with pytest.raises(ServiceStartError) as info:
        server.start(timeout=15)
    message = str(info.value)
    print(f"redis error: {message}")
    assert "\n" not in message
    assert str(server.log) in message
    assert "Redis" in message
    assert server.proc is None or server.proc.poll() is not None


def test_kafka_start_on_a_taken_port_fails_with_one_line_naming_the_log(tmp_path: Path, taken_port: int) -> None:
    broker = KafkaBroker(tmp_path / "kafka", port=taken_port)
    try:
        with pytest.raises(ServiceStartError) as info:
            broker.start(timeout=60)
    finally:
        broker.stop()
    message = str(info.value)
    print(f"kafka error: {message}")
    assert "\n" not in message
    assert str(broker.log) in message
    assert "Kafka" in message
