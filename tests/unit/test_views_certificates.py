"""Course certificate rules shared by program counting (readmodels/views/certificates.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from readmodels.views.certificates import certificates_viewable, counted_by_meter, is_passing_status, run_course

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


LAST_MONTH, LAST_WEEK, NEXT_WEEK = (
    iso(NOW - timedelta(days=30)),
    iso(NOW - timedelta(days=7)),
    iso(NOW + timedelta(days=7)),
)


def course(pacing: str = "instructor", end: str | None = None, available: str | None = None) -> dict[str, Any]:
    return {"pacing": pacing, "end": end, "certificate_available_date": available}


@pytest.mark.parametrize(
    ("given", "viewable"),
    [
        # end_with_date (a date on an instructor-paced course): viewable once the date has passed
        (course(available=LAST_MONTH), True),
        (course(available=LAST_WEEK), True),
        (course(available=NEXT_WEEK), False),
        (course(end=LAST_MONTH, available=NEXT_WEEK), False),  # an ended course still waits for its date
        # end (no date): viewable once the course has ended
        (course(end=NEXT_WEEK), False),
        (course(end=LAST_MONTH), True),
        (course(), False),
        # self-paced: always
        (course("self", end=NEXT_WEEK, available=NEXT_WEEK), True),
    ],
)
def test_certificates_viewable_follows_upstream_display_rules(given: dict[str, Any], viewable: bool) -> None:
    """Ported from upstream lms/djangoapps/certificates/tests/test_utils.py
    `test_should_certificate_be_visible` (the END_WITH_DATE, END and self_paced rows; the display
    behaviour inferred from the date as readmodels/views/certificates.py says)."""
    assert certificates_viewable(given, NOW) is viewable


def test_certificates_viewable_at_the_date_itself_and_compares_times_not_text() -> None:
    assert certificates_viewable(course(available=iso(NOW)), NOW) is True  # "not before" the date
    assert certificates_viewable(course(available="2026-06-01T12:30:00+01:00"), NOW) is True  # 11:30 UTC
    assert certificates_viewable(course(available="2026-06-01T11:30:00-01:00"), NOW) is False  # 12:30 UTC


def test_passing_statuses_and_the_certificates_the_meter_counts() -> None:
    """Upstream CertificateStatuses.PASSED_STATUSES and EligibleCertificateManager."""
    assert [
        s for s in ("downloadable", "generating", "unverified", "notpassing", "unavailable") if is_passing_status(s)
    ] == [
        "downloadable",
        "generating",
    ]
    assert counted_by_meter({"status": "notpassing"}) and counted_by_meter({"status": "honor_passing"})
    assert not counted_by_meter({"status": "audit_passing"}) and not counted_by_meter({"status": "audit_notpassing"})
    assert not counted_by_meter(None)


def test_run_course_reads_the_catalog_run() -> None:
    assert certificates_viewable(run_course({"pacing_type": "self_paced", "end": NEXT_WEEK}), NOW) is True
    assert certificates_viewable(run_course({"pacing_type": "instructor_paced", "end": LAST_WEEK}), NOW) is True
    assert certificates_viewable(run_course({"pacing_type": "instructor_paced", "end": NEXT_WEEK}), NOW) is False
