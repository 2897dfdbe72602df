"""What happened, as data: typed, versioned, frozen event records and their codec. No I/O here."""

from events.base import Event, EventData
from events.codec import decode, encode
from events.errors import DecodeError
from events.registry import REGISTRY, lookup

__all__ = ["REGISTRY", "DecodeError", "Event", "EventData", "decode", "encode", "lookup"]

# Importing the event modules fills the registry.
from events import activity, catalog, certificates, completion, content, enrollment, grades  # noqa: F401
