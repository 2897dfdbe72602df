"""Fuzzing `events.decode`: whatever arrives, only DecodeError may escape (anything else would stop
the stream instead of dead-lettering the message)."""

from __future__ import annotations

import json
import os
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import REGISTRY, DecodeError, Event, decode
from tests.samples import SAMPLE_TYPES, sample_data

# A few seconds by default; LP_FUZZ_EXAMPLES=5000 for a deeper run.
FUZZ = settings(max_examples=int(os.environ.get("LP_FUZZ_EXAMPLES", "300")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
HEADER_NAMES = ("ce_type", "ce_id", "ce_time", "ce_source", "ce_specversion", "ce_minorversion", "content-type")

header_values = st.one_of(st.none(), st.binary(max_size=40), st.text(max_size=40).map(str.encode),
                          st.sampled_from([t.encode() for t in SAMPLE_TYPES]))
headers = st.lists(st.tuples(st.one_of(st.sampled_from(HEADER_NAMES), st.text(max_size=8)), header_values),
                   max_size=8)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)), max_leaves=12)


def decode_or_reject(h: Any, value: bytes | None) -> Event[Any] | None:
    try:
        return decode(h, value)
    except DecodeError as exc:
        assert exc.reason and "\n" not in exc.reason
        return None


@FUZZ
@given(headers, st.one_of(st.none(), st.binary(max_size=200)))
def test_decode_random_headers_and_bytes_raises_only_decode_error(h: Any, value: bytes | None) -> None:
    decode_or_reject(h, value)


def _valid_headers(type_: str) -> list[tuple[str, bytes]]:
    return [("ce_type", type_.encode()), ("ce_id", b"5f0c6f2e-7a1b-4c3d-9e8f-0a1b2c3d4e5f"),
            ("ce_time", b"2026-03-01T12:00:00Z"), ("content-type", b"application/json")]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for k, child in children:
        found += _paths(child, (*prefix, k))
    return found


def _replace(node: Any, path: tuple[Any, ...], value: Any, *, delete: bool) -> None:
    for k in path[:-1]:
        node = node[k]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value


@st.composite
def mutated_messages(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A valid payload of a random type with a few fields replaced by random JSON or deleted."""
    type_ = draw(st.sampled_from(SAMPLE_TYPES))
    data = sample_data(type_)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        _replace(data, path, draw(json_values), delete=draw(st.booleans()))
    return type_, data


@FUZZ
@given(mutated_messages())
def test_decode_mutated_valid_payload_raises_only_decode_error(message: tuple[str, dict[str, Any]]) -> None:
    type_, data = message
    event = decode_or_reject(_valid_headers(type_), json.dumps(data).encode())  # json: ints beyond 64 bits
    if event is not None:
        assert type(event.data) is REGISTRY[type_]


@FUZZ
@given(st.sampled_from(SAMPLE_TYPES), st.data())
def test_decode_truncated_or_flipped_bytes_raises_only_decode_error(type_: str, draw: st.DataObject) -> None:
    value = bytearray(orjson.dumps(sample_data(type_)))
    cut = draw.draw(st.integers(0, len(value)))
    flips = draw.draw(st.lists(st.tuples(st.integers(0, max(0, cut - 1)), st.integers(0, 255)), max_size=4))
    for i, b in flips:
        if i < cut:
            value[i] = b
    decode_or_reject(_valid_headers(type_), bytes(value[:cut]))


@FUZZ
@given(st.sampled_from(SAMPLE_TYPES), st.sampled_from(("ce_id", "ce_time", "ce_minorversion", "content-type")),
       st.binary(max_size=40))
def test_decode_valid_payload_with_random_header_raises_only_decode_error(type_: str, name: str, raw: bytes) -> None:
    h = [(k, v) for k, v in _valid_headers(type_) if k != name] + [(name, raw)]
    decode_or_reject(h, orjson.dumps(sample_data(type_)))
