"""Frozen slotted dataclasses that are quick to build.

`@dataclass(frozen=True)` writes an `__init__` that sets each field through
`object.__setattr__(self, name, value)` (the class's own `__setattr__` refuses), a generic lookup
per field: ~0.1 us a field. The records the projectors make for every event (the event itself,
the Kafka message, each operation: ~20 fields per completion event) spent ~2 us per event there
(bench/RESULTS.md). `quick_init` gives such a class an `__init__` that stores each field through
its slot's own descriptor instead, with the same signature and defaults; the instances are the same
(frozen, equal, hashed and printed as before).
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any, TypeVar

C = TypeVar("C", bound=type)


def quick_init(cls: C) -> C:
    """For a `@dataclass(frozen=True, slots=True)` class without `__post_init__` or factories."""
    if "__slots__" not in cls.__dict__ or not cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        raise TypeError(f"{cls.__name__}: quick_init is for frozen dataclasses with slots")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: quick_init does not call __post_init__")
    params: list[str] = []
    body: list[str] = []
    scope: dict[str, Any] = {}
    for f in fields(cls):
        if not f.init or f.default_factory is not MISSING:
            raise TypeError(f"{cls.__name__}.{f.name}: quick_init takes plain fields only")
        if f.default is MISSING:
            params.append(f.name)
        else:
            scope[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        scope[f"_set_{f.name}"] = cls.__dict__[f.name].__set__  # the slot's member descriptor
        body.append(f"    _set_{f.name}(self, {f.name})")
    source = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "    pass") + "\n"
    exec(source, scope)
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__dict__["__init__"].__doc__
    cls.__init__ = init  # type: ignore[misc]
    return cls
