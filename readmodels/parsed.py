"""Parsed reference documents (course, program) by their stored bytes.

Reads return the same few course and program documents over and over; parsing them is most of a
read's decoding work. A cache keyed by the exact stored bytes can never serve a stale document (a
republish stores different bytes). The parsed values are shared between requests: the views treat
them as read-only (they copy before changing anything).
"""

from __future__ import annotations

from typing import Any

import orjson

from readmodels.replies import text

MAX_ENTRIES = 2048


class ParsedDocuments:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max = max_entries
        self._docs: dict[bytes | str, Any] = {}
        self._versioned: dict[bytes | str, tuple[str, Any]] = {}

    def loads(self, raw: bytes | str) -> Any:
        """orjson.loads(raw), once per distinct value."""
        doc = self._docs.get(raw)
        if doc is None:
            doc = orjson.loads(raw)
            if len(self._docs) >= self._max:
                self._docs.clear()
            self._docs[raw] = doc
        return doc

    def versioned(self, raw: bytes | str) -> tuple[str, Any]:
        """`<version>\\t<json>` -> (version, value), once per distinct value."""
        hit = self._versioned.get(raw)
        if hit is None:
            version, _, body = text(raw).partition("\t")
            hit = (version, orjson.loads(body))
            if len(self._versioned) >= self._max:
                self._versioned.clear()
            self._versioned[raw] = hit
        return hit
