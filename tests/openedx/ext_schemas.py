"""Avro schemas for our `ext.` event types, made from their payload classes by openedx-events' rules.

openedx-events (event_bus/avro/schema.py) turns attrs classes into Avro; the Open edX plugin
(issue #14) writes our extension events the same way, so their schemas follow the same rules,
applied here to the pydantic classes that implement EVENTS.md:
- the top record is `CloudEvent` in the namespace of the event type, one field per payload key;
- every nested class is a record named after the class, defined where it is first seen and
  referenced by name after that; field order is declaration order (the Avro binary order);
- bool -> boolean, int -> long, float -> double, str -> string; datetimes, opaque keys, UUIDs and
  literals are strings (datetimes as `isoformat()`); tuples and lists -> array; dicts -> map (as
  openedx-events 11.x, which allows records as items and values; 10.5.0 allowed simple ones only);
- a field that may be null gets `["null", T]` with `"default": null`; every other field is
  required. attrs cannot express "required but nullable", so a payload key EVENTS.md requires
  with a null value (`preference.value`) is optional here too, which decodes the same.
Two of our fields have no single Avro type, so they are chosen here (`OVERRIDES`): a seat's
`price` is a decimal string, as the catalog serves it ("49.00"), and a program course's `image`
is a map of strings.

Not part of the runtime: `python -m tests.openedx.make_schemas` writes the files, and
tests/unit/test_avro_schemas.py checks they are what this module makes.
"""

from __future__ import annotations

import types
import typing
from datetime import datetime
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo

from events.base import EventData

DOC = "Avro Event Format for CloudEvents created with openedx_events/schema"
SIMPLE = {bool: "boolean", int: "long", float: "double", str: "string", datetime: "string",
          AwareDatetime: "string"}
# (class name, field name) -> Avro type, where the Python type has no single Avro type.
OVERRIDES: dict[tuple[str, str], Any] = {
    ("Seat", "price"): "string",
    ("ProgramCourse", "image"): {"type": "map", "values": "string"},
}


def schema_for(cls: type[EventData]) -> dict[str, Any]:
    """The Avro schema of one event type, as openedx-events would generate it."""
    seen: set[str] = set()
    fields = [_field(cls.__name__, name, info, seen) for name, info in cls.model_fields.items()]
    return {"doc": DOC, "fields": fields, "name": "CloudEvent", "namespace": cls.TYPE, "type": "record"}


def _field(owner: str, name: str, info: FieldInfo, seen: set[str]) -> dict[str, Any]:
    override = OVERRIDES.get((owner, name))
    if override is not None:
        nullable = type(None) in get_args(info.annotation)
        field: dict[str, Any] = {"name": name, "type": override}
    else:
        annotation, nullable = _strip_none(info.annotation)
        field = {"name": name, "type": _type(annotation, seen)}
    if nullable or (not info.is_required() and info.default is None):
        field = {"default": None, "name": name, "type": ["null", field["type"]]}
    return field


def _strip_none(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (types.UnionType, Union):
        args = [a for a in get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(get_args(annotation))
        if len(args) == 1:
            return args[0], nullable
        raise TypeError(f"{annotation} has no single Avro type: add it to OVERRIDES")
    return annotation, False


def _type(annotation: Any, seen: set[str]) -> Any:
    while get_origin(annotation) is typing.Annotated:  # CourseKeyStr, Time, Fraction: the base type
        annotation = get_args(annotation)[0]
    origin = get_origin(annotation)
    if annotation in SIMPLE:
        return SIMPLE[annotation]
    if isinstance(annotation, type) and issubclass(annotation, datetime):
        return "string"
    if origin is Literal and all(isinstance(a, str) for a in get_args(annotation)):
        return "string"
    if origin in (tuple, list):
        return {"type": "array", "items": _type(get_args(annotation)[0], seen)}
    if origin is dict:
        return {"type": "map", "values": _type(get_args(annotation)[1], seen)}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation.__name__ in seen:
            return annotation.__name__
        seen.add(annotation.__name__)
        fields = [_field(annotation.__name__, n, i, seen) for n, i in annotation.model_fields.items()]
        return {"fields": fields, "name": annotation.__name__, "type": "record"}
    raise TypeError(f"no Avro type for {annotation!r}")
