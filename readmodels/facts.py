"""Typed views of the raw facts the readers fetch (parsing of `<version>\\t<json>` values)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from readmodels.replies import text

_BYTES = frozenset({bytes})


def pairs(flat: Sequence[bytes | str]) -> dict[str, str]:
    """A flat HGETALL-style reply [k1, v1, k2, v2, ...] -> dict. An all-bytes reply (what the read
    scripts return) is decoded by `map` in C, with no Python-level call per field (a learner hash
    has dozens); anything else field by field."""
    if set(map(type, flat)) <= _BYTES:
        return dict(zip(map(bytes.decode, flat[::2]), map(bytes.decode, flat[1::2]), strict=True))  # type: ignore[arg-type]
    it = iter(flat)
    return {text(k): text(v) for k, v in zip(it, it, strict=True)}


def versioned(raw: str | None) -> tuple[str, Any] | None:
    """`<version>\\t<json>` -> (version, value)."""
    if raw is None:
        return None
    version, _, text = raw.partition("\t")
    return version, orjson.loads(text)


def value(raw: str | None, default: Any = None) -> Any:
    parsed = versioned(raw)
    return default if parsed is None else parsed[1]


@dataclass(frozen=True)
class UserFacts:
    """The learner hash u:<id>, parsed lazily per field."""

    user_id: int | None
    raw: Mapping[str, str] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return bool(self.raw)

    def get(self, name: str, default: Any = None) -> Any:
        return value(self.raw.get(name), default)

    def version(self, name: str) -> str | None:
        parsed = versioned(self.raw.get(name))
        return None if parsed is None else parsed[0]

    def with_prefix(self, prefix: str) -> dict[str, Any]:
        """All fields starting with `prefix`, keyed by the rest of the field name."""
        n = len(prefix)
        return {k[n:]: value(v) for k, v in self.raw.items() if k.startswith(prefix)}


_MISSING = object()


@dataclass(frozen=True)
class ReadUserFacts(UserFacts):
    """UserFacts over a hash read for one request (a fresh dict nobody changes): each field is
    parsed once, and each prefix scanned once, however often the views ask (the course route's
    related programs count every program over the same `enr:` and `cert:` fields). Not for a hash
    that changes after construction (the projector's MemoryStore replays use UserFacts)."""

    _values: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    _prefixed: dict[str, dict[str, Any]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _derived: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def derived(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """`make()`, once per key for this hash (what the views compute from it more than once per
        request, e.g. the program views' active enrollments); shared: callers must not change it."""
        derived = self._derived
        if key in derived:
            return derived[key]
        found = derived[key] = make()
        return found

    def get(self, name: str, default: Any = None) -> Any:
        values = self._values
        if name in values:
            parsed = values[name]
        else:
            raw = self.raw.get(name)
            parsed = values[name] = _MISSING if raw is None else orjson.loads(raw.partition("\t")[2])
        return default if parsed is _MISSING else parsed

    def with_prefix(self, prefix: str) -> dict[str, Any]:
        found = self._prefixed.get(prefix)
        if found is None:
            n = len(prefix)
            found = self._prefixed[prefix] = {k[n:]: self.get(k) for k in self.raw if k.startswith(prefix)}
        return dict(found)
