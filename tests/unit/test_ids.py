"""api/ids.py gives what uuid.uuid4() gives: version-4, RFC 4122 variant, in its hex and text forms."""

from __future__ import annotations

import os
import uuid

from api import ids


def test_uuid4_hex_is_a_version_4_uuid_in_its_hex_form() -> None:
    for _ in range(600):  # more than one drawn batch
        value = ids.uuid4_hex()
        parsed = uuid.UUID(value)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and parsed.hex == value


def test_uuid4_text_is_a_version_4_uuid_in_its_text_form() -> None:
    for _ in range(600):
        value = ids.uuid4_text()
        parsed = uuid.UUID(value)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == value


def test_ids_do_not_repeat() -> None:
    drawn = [ids.uuid4_hex() for _ in range(5000)] + [ids.uuid4_text().replace("-", "") for _ in range(5000)]
    assert len(set(drawn)) == len(drawn)


def test_a_forked_child_draws_its_own_ids() -> None:
    ids.uuid4_hex()  # the parent holds drawn ids now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        os.write(write, ids.uuid4_hex().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert child not in {ids.uuid4_hex() for _ in range(256)}
