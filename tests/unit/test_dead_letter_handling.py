"""Projector.handle without services: bad messages become dead letters (original bytes + reason +
source), are counted, and the rest of the batch is still applied with its checkpoint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from events import encode
from projectors.pipeline import DeadLetter, Projector, RawMessage
from readmodels.ops import Checkpoint, Op
from tests.builders import enrollment

TOPIC = "learning-course-enrollment-lifecycle"


class RecordingSink:
    def __init__(self) -> None:
        self.sent: list[DeadLetter] = []

    async def send(self, letters: Sequence[DeadLetter]) -> None:
        self.sent.extend(letters)


class RecordingWriter:
    def __init__(self) -> None:
        self.calls: list[tuple[int, list[Op], list[Checkpoint]]] = []

    async def apply(self, generation: int, ops: Sequence[Op], checkpoints: Sequence[Checkpoint] = ()) -> list[Any]:
        self.calls.append((generation, list(ops), list(checkpoints)))
        return []


def message(offset: int, headers: Sequence[tuple[str, bytes]], value: bytes | None) -> RawMessage:
    return RawMessage(TOPIC, 1, offset, b"course-key", value, tuple(headers))


async def test_handle_batch_dead_letters_bad_messages_and_applies_the_rest() -> None:
    good_headers, good_value = encode(enrollment("created", 42))
    bad = message(10, good_headers, b"{not json")
    tombstone = message(11, good_headers, None)
    good = message(12, good_headers, good_value)
    sink, writer = RecordingSink(), RecordingWriter()
    projector = Projector(writer, sink, generation=3)  # type: ignore[arg-type]

    result = await projector.handle([bad, tombstone, good])

    assert [letter.message for letter in sink.sent] == [bad, tombstone]
    first = sink.sent[0]
    assert first.topic == f"{TOPIC}.dlq"
    assert first.headers[: len(good_headers)] == list(good_headers)
    assert dict(first.headers)["dlq_source"] == f"{TOPIC}:1:10".encode()
    assert dict(first.headers)["dlq_reason"].startswith(b"value is not JSON")
    assert projector.stats.dead_letters == 2
    assert projector.stats.events == 1
    assert [p.message for p in result.projected] == [good]
    generation, ops, checkpoints = writer.calls[0]
    assert generation == 3 and ops
    assert checkpoints == [Checkpoint(TOPIC, 1, 13)]  # past the dead letters too


def test_dead_letter_reason_header_is_one_line() -> None:
    letter = DeadLetter(message(0, [], b"x"), "projection failed: KeyError:\n  'x'\r\n")

    assert dict(letter.headers)["dlq_reason"] == b"projection failed: KeyError: 'x'"


def test_dead_letter_keeps_value_and_key_bytes() -> None:
    raw = message(5, [("ce_type", b"\xff")], orjson.dumps({"a": 1}))

    letter = DeadLetter(raw, "header ce_type is not UTF-8")

    assert (letter.message.key, letter.message.value) == (b"course-key", b'{"a":1}')
