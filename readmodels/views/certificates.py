"""Course certificate rules that program counting shares with the progress_details run objects,
read from upstream Open edX (lms/djangoapps/certificates: data.py, api.py, utils.py).

- `is_passing_status`: upstream `CertificateStatuses.is_passing_status` (`downloadable` and
  `generating` pass).
- `counted_by_meter`: the certificates upstream's ProgramProgressMeter sees at all
  (`GeneratedCertificate.eligible_certificates` leaves `audit_passing` and `audit_notpassing` out).
- `certificates_viewable`: upstream `certificates_viewable_for_course` (`should_certificate_be_visible`)
  on the effective course (published course with newer catalog info applied): read at request time
  against "now", so a course's certificates become viewable when the date passes with no new event.

The bus carries no `certificates_display_behavior`, so it is inferred as Studio sets it: an
instructor-paced course with a `certificate_available_date` waits for that date (`end_with_date`);
one without waits for the course end (`end`); a self-paced course never waits. A course shown
`early_no_info` upstream therefore counts here as one of the other two (README, "Where the product
differs from upstream").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from readmodels.parsed import CertificateCourses
from readmodels.views.common import effective_course, shared_effective_course, time_or_none

PASSED_STATUSES = frozenset({"downloadable", "generating"})
INELIGIBLE_STATUSES = frozenset({"audit_passing", "audit_notpassing"})


def is_passing_status(status: Any) -> bool:
    return status in PASSED_STATUSES


def counted_by_meter(certificate: Any) -> bool:
    """A stored certificate fact the program meter takes into account (completed or failed)."""
    return isinstance(certificate, dict) and certificate.get("status") not in INELIGIBLE_STATUSES


def certificates_viewable(course: Mapping[str, Any], now: datetime) -> bool:
    """Whether the course's certificates may be shown now. `course` needs `pacing` ("self" or
    "instructor"), `end` and `certificate_available_date` (RFC 3339 or null). A date that has come
    ("not before" it, API.md counting rule 1) makes them viewable; the end must have passed."""
    if course.get("pacing") == "self":
        return True
    available = time_or_none(course.get("certificate_available_date"))
    if available is not None:
        return available <= now
    end = time_or_none(course.get("end"))
    return end is not None and end < now


def run_course(run: Mapping[str, Any]) -> dict[str, Any]:
    """The `certificates_viewable` input made from a catalog run, for a run whose course was never
    published to us (its catalog `pacing_type` and `end`; the catalog has no certificate date)."""
    return {
        "pacing": "self" if run.get("pacing_type") == "self_paced" else "instructor",
        "end": run.get("end"),
        "certificate_available_date": None,
    }


def effective_courses(found: CertificateCourses, *, shared: bool = True) -> dict[str, dict[str, Any]]:
    """Run key -> the effective course (catalog info applied when newer, as the course route does)
    of the courses a read found for the learner's passing certificates (the `courses` argument of
    program counting). `shared`: the documents come from a reader's ParsedDocuments (merged once per
    pair and shared); else they are merged afresh."""
    merge = shared_effective_course if shared else effective_course
    return {ck: merge(course, version, catalog) for ck, (course, version, catalog) in found.items()}
