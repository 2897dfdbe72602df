"""Redis replies as text: redis-py answers bytes (or str when a client decodes responses), the
read models are text. The one place that turns a reply into `str`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def text(reply: bytes | str) -> str:
    return reply.decode() if isinstance(reply, bytes) else reply


def frozen(reply: Any) -> Any:
    """A reply as a hashable value, equal to another exactly when the replies are (lists as tuples)."""
    if not isinstance(reply, list):
        return reply
    return tuple([frozen(x) if type(x) is list else x for x in reply])


def text_or_none(reply: bytes | str | None) -> str | None:
    return None if reply is None else text(reply)


def text_hash(reply: Mapping[Any, Any]) -> dict[str, str]:
    """An HGETALL reply with text fields and values."""
    return {text(k): text(v) for k, v in reply.items()}


def int_hash(reply: Mapping[Any, Any]) -> dict[str, int]:
    """An HGETALL reply of integer values (checkpoints, offsets) by text field."""
    return {text(k): int(v) for k, v in reply.items()}
