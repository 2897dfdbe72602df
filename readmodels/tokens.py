"""The read-your-writes token: an opaque encoding of a Kafka position (topic, partition, offset).

The celebration POST hands it out (`X-Read-Model-Token`); a read may send it back
(`X-Read-Model-Min-Token`) and is fresh once the projector's checkpoint for that topic-partition
is past the offset.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import orjson


class TokenError(ValueError):
    """Not a token this service issued."""


@dataclass(frozen=True, slots=True)
class Position:
    topic: str
    partition: int
    offset: int

    @property
    def checkpoint_field(self) -> str:
        return f"{self.topic}:{self.partition}"

    def applied_by(self, next_offset: int) -> bool:
        """Checkpoints store the next offset to apply."""
        return next_offset > self.offset


def encode_token(position: Position) -> str:
    raw = orjson.dumps([position.topic, position.partition, position.offset])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> Position:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        topic, partition, offset = orjson.loads(raw)
    except (ValueError, TypeError) as exc:
        raise TokenError(f"not a read-model token: {token[:80]!r}") from exc
    if not isinstance(topic, str) or not isinstance(partition, int) or not isinstance(offset, int):
        raise TokenError(f"not a read-model token: {token[:80]!r}")
    return Position(topic, partition, offset)
