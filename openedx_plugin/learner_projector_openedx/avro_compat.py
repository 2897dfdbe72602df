"""Lists and maps of records in openedx-events 10.x's Avro schema generator (as 11.x has them).

Our course and program snapshots hold lists of records (a course's outline is a list of
chapters, EVENTS.md `CoursePublished` / `Program`). openedx-events 11.x generates those
(`{"type": "array", "items": <record>}`, maps likewise); 10.x (the newest on Python 3.11) only
takes lists and maps of simple types and raises TypeError otherwise, so on 10.x the producer
could not serialize those two events at all. `install()` detects that (it tries a list of a
small attrs class, with no side effect) and only then wraps the generator's one field function:
a list or map whose items are records, lists or maps gets 11.x's shape, built through the same
function for the item; everything else goes to the original unchanged. On 11.x it does nothing.
tests/test_schemas.py checks the result against the schemas checked in under events/avro_schemas.
"""

from __future__ import annotations

import logging
from typing import Any, get_args, get_origin

import attr
from openedx_events.event_bus.avro import schema as avro_schema

log = logging.getLogger(__name__)


@attr.s(frozen=True)
class _Probe:
    flag = attr.ib(type=bool)


def generator_takes_record_lists() -> bool:
    try:
        avro_schema._create_avro_field_definition("probe", list[_Probe], set())
    except TypeError:
        return False
    return True


def _is_complex(item: Any) -> bool:
    return hasattr(item, "__attrs_attrs__") or get_origin(item) in (list, dict)


def install() -> bool:
    """Make the generator take lists/maps of records when it does not; True if it was changed."""
    if getattr(avro_schema._create_avro_field_definition, "_learner_projector", False):
        return False
    if generator_takes_record_lists():
        return False
    original = avro_schema._create_avro_field_definition

    def field_definition(data_key, data_type, previously_seen_types, custom_type_to_avro_type=None,
                         default_is_none=False):
        origin = get_origin(data_type)
        args = get_args(data_type)
        if origin not in (list, dict) or not args or not _is_complex(args[-1]):
            return original(data_key, data_type, previously_seen_types,
                            custom_type_to_avro_type=custom_type_to_avro_type, default_is_none=default_is_none)
        # Through the module attribute (this wrapper), so nested lists of records work too.
        item = avro_schema._create_avro_field_definition(
            "item", args[-1], previously_seen_types, custom_type_to_avro_type=custom_type_to_avro_type)["type"]
        kind = {"type": "array", "items": item} if origin is list else {"type": "map", "values": item}
        field: dict[str, Any] = {"name": data_key, "type": kind}
        if default_is_none:
            field = {"name": data_key, "type": ["null", kind], "default": None}
        return field

    field_definition._learner_projector = True  # type: ignore[attr-defined]
    avro_schema._create_avro_field_definition = field_definition
    log.info("learner-projector: openedx-events' Avro schemas now take lists and maps of records (as in 11.x)")
    return True
