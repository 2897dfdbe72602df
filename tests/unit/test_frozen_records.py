"""events/frozen.quick_init: the records built through it are the dataclass's own, only built faster."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle

import pytest

from events.base import Event
from events.frozen import quick_init
from projectors.pipeline import DeadLetter, Projected, RawMessage
from readmodels.ops import AddActivity, AddMember, Checkpoint, ReplaceSnapshot, SetBlockField, SetCompletion, SetField

QUICK = [Event, RawMessage, DeadLetter, Projected, SetField, SetCompletion, SetBlockField, ReplaceSnapshot,
         AddActivity, AddMember, Checkpoint]


@dataclasses.dataclass(frozen=True, slots=True)
class _Plain:
    a: str
    b: int
    c: tuple[str, ...] = ()
    d: str | None = None


@quick_init
@dataclasses.dataclass(frozen=True, slots=True)
class _Quick:
    a: str
    b: int
    c: tuple[str, ...] = ()
    d: str | None = None


@pytest.mark.parametrize("cls", QUICK)
def test_quick_records_keep_the_dataclass_signature(cls: type) -> None:
    params = inspect.signature(cls).parameters
    assert [(p.name, p.default) for p in params.values()] == [
        (f.name, inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default)
        for f in dataclasses.fields(cls)
    ]


@pytest.mark.parametrize("args, kwargs", [
    (("x", 1), {}), (("x", 1, ("y",)), {}), (("x",), {"b": 2, "d": "z"}), ((), {"a": "x", "b": 3, "c": ("q",)}),
])
def test_quick_init_builds_what_the_dataclass_builds(args: tuple, kwargs: dict) -> None:
    plain, quick = _Plain(*args, **kwargs), _Quick(*args, **kwargs)
    assert dataclasses.astuple(plain) == dataclasses.astuple(quick)
    assert repr(plain).replace("_Plain", "_Quick") == repr(quick)
    assert quick == _Quick(*args, **kwargs) and hash(quick) == hash(_Quick(*args, **kwargs))
    assert pickle.loads(pickle.dumps(quick)) == quick and copy.copy(quick) == quick
    assert dataclasses.replace(quick, b=9).b == 9
    with pytest.raises(dataclasses.FrozenInstanceError):
        quick.a = "other"  # type: ignore[misc]


def test_quick_init_refuses_what_it_cannot_build() -> None:
    with pytest.raises(TypeError):
        quick_init(dataclasses.dataclass(frozen=True)(type("NoSlots", (), {"__annotations__": {"a": int}})))
    with pytest.raises(TypeError):
        quick_init(dataclasses.dataclass(slots=True)(type("NotFrozen", (), {"__annotations__": {"a": int}})))
    with pytest.raises(TypeError):
        quick_init(dataclasses.dataclass(frozen=True, slots=True)(type("Factory", (), {
            "__annotations__": {"a": list}, "a": dataclasses.field(default_factory=list)})))
    with pytest.raises(TypeError):
        quick_init(dataclasses.dataclass(frozen=True, slots=True)(type("Post", (), {
            "__annotations__": {"a": int}, "__post_init__": lambda self: None})))


def test_missing_arguments_fail_as_before() -> None:
    with pytest.raises(TypeError):
        _Quick("x")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        SetField("k", "f", "v")  # type: ignore[call-arg]
