"""The fault suite runs on its own Kafka and Redis: it kills and restarts them, so it must not
share the session's services with the other tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.stack import Stack


@pytest.fixture(scope="package")
def fault_stack() -> Iterator[Stack]:
    workdir = Path(tempfile.mkdtemp(prefix="lp-fault-"))
    s = Stack(workdir).start()
    try:
        yield s
    finally:
        s.stop()
        shutil.rmtree(workdir, ignore_errors=True)
