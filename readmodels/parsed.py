"""Parsed reference documents (course, program) by their stored bytes.

Reads return the same few course and program documents over and over; parsing them is most of a
read's decoding work. A cache keyed by the exact stored bytes can never serve a stale document (a
republish stores different bytes). The parsed values are shared between requests: the views treat
them as read-only (they copy before changing anything).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from readmodels.replies import text

MAX_ENTRIES = 2048

# Course key -> (published course, its version, catalog info as (version, value) or None): what the
# program counting reads of the courses of a learner's passing certificates (their certificate
# dates; readmodels/views/certificates.py merges the catalog info as the course route does).
CertificateCourses = dict[str, tuple[dict[str, Any], str, tuple[str, dict[str, Any]] | None]]


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

    def certificate_courses(self, flat: Sequence[Any]) -> CertificateCourses:
        """A read script's `certificate_courses` triples (course key, course snapshot or None,
        catalog info or None; readmodels/lua/certificate_courses.lua) -> CertificateCourses.
        A course never published is left out (counting then treats its certificates as viewable)."""
        out: CertificateCourses = {}
        it = iter(flat)
        for key, course, catalog in zip(it, it, it, strict=True):
            if not course:
                continue
            version, doc = self.versioned(course)
            if isinstance(doc, dict):
                ck = key.decode() if isinstance(key, bytes) else key
                out[ck] = (doc, version, self.versioned(catalog) if catalog else None)
        return out
