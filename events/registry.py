"""One table from `ce_type` strings to payload classes. Duplicates fail loudly at import."""

from __future__ import annotations

from typing import TypeVar

from events.base import EventData

REGISTRY: dict[str, type[EventData]] = {}

T = TypeVar("T", bound=type[EventData])


class DuplicateEventTypeError(RuntimeError):
    pass


def register(cls: T) -> T:
    existing = REGISTRY.get(cls.TYPE)
    if existing is not None and existing is not cls:
        raise DuplicateEventTypeError(f"{cls.TYPE} is registered twice: {existing.__name__} and {cls.__name__}")
    REGISTRY[cls.TYPE] = cls
    return cls


def lookup(type_string: str) -> type[EventData] | None:
    return REGISTRY.get(type_string)


def split_version(type_string: str) -> tuple[str, int] | None:
    """`org.x.y.v1` -> (`org.x.y`, 1); None when the type has no `.vN` suffix."""
    stem, _, tail = type_string.rpartition(".")
    if not stem or not tail.startswith("v") or not tail[1:].isdigit():
        return None
    return stem, int(tail[1:])
