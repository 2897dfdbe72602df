"""Program counting and certificate_data around a certificate date, end to end (issue #18; API.md
counting rule 1 and progress_details `certificate_data`): the same stored facts read by an API whose
"now" (LP_FAKE_NOW) is before the date, then by one whose "now" is after it, with no event between.

Ported from upstream openedx/core/djangoapps/programs/tests/test_utils.py
TestProgramProgressMeter.test_simulate_progress (its last two steps: three certificates, one of an
instructor-paced course whose certificates wait for a date; then the date has passed) and
TestGetCertificates.test_get_certificates / test_course_run_certificates_missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from readmodels.settings import Settings
from tests.builders import course_published, enrollment, event, user
from tests.e2e.test_programs_api import by_key, catalog_course, certificate, course_run, program_changed
from tests.pipeline import Pipeline
from tools.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

BEFORE = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
DATE = "2026-05-15T00:00:00Z"  # the waiting course's certificate_available_date
AFTER = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PROGRAM = "eeeeeeee-0000-4000-8000-00000000000e"
SELF1, SELF2, WAITING = (f"course-v1:Dates+{n}+2026" for n in ("S1", "S2", "W"))
GRAD, GENERATING = 301, 302


def history() -> list[Any]:
    return [
        course_published(SELF1, pacing="self", end="2026-12-01T00:00:00Z"),
        course_published(SELF2, pacing="self", end="2026-12-01T00:00:00Z"),
        course_published(WAITING, pacing="instructor", end="2026-04-01T00:00:00Z", certificate_available_date=DATE),
        program_changed(
            PROGRAM,
            "Dates",
            [
                catalog_course(1, course_run(SELF1, title="Self 1")),
                catalog_course(2, course_run(SELF2, title="Self 2")),
                catalog_course(3, course_run(WAITING, end="2026-04-01T00:00:00Z", title="Waiting")),
            ],
        ),
        *(enrollment("created", GRAD, ck, mode="verified") for ck in (SELF1, SELF2, WAITING)),
        *(
            certificate(GRAD, ck, url=f"https://lms.example.org/certificates/c{n}")
            for n, ck in enumerate((SELF1, SELF2, WAITING))
        ),
        event(
            "org.openedx.learning.program.certificate.awarded.v1",
            {
                "program_certificate": {
                    "user": user(GRAD),
                    "program": {"uuid": PROGRAM, "title": "Dates", "program_type": "Professional Certificate"},
                    "uuid": "c0ffee00-0000-4000-8000-00000000000e",
                    "status": "awarded",
                    "url": "https://credentials.example.org/credentials/dates",
                    "certificate_available_date": None,
                }
            },
        ),
        enrollment("created", GENERATING, SELF1, mode="verified"),
        event(
            "org.openedx.learning.certificate.changed.v1",
            {
                "certificate": {
                    "user": user(GENERATING),
                    "course": {"course_key": SELF1, "display_name": "x"},
                    "mode": "verified",
                    "grade": "0.9",
                    "download_url": "",
                    "name": "n",
                    "current_status": "generating",
                    "previous_status": "notpassing",
                }
            },
        ),
    ]


@pytest.fixture(scope="module")
def pipeline(stack: Stack) -> Iterator[Pipeline]:
    p = Pipeline.create(stack, fake_now=BEFORE).start()
    p.produce(history())
    p.wait_applied()
    yield p
    p.stop()


def _api_at(p: Pipeline, now: datetime) -> None:
    """Replace the pipeline's API by one reading the same generation at another "now"."""
    if p.api is not None:
        p.stack.stop_child(p.api)
    settings: Settings = p.settings.model_copy(update={"fake_now": now})
    p.api, p.api_url = p.stack.start_api(settings)


def _read(p: Pipeline) -> dict[str, Any]:
    listed = p.get("/api/dashboard/v0/programs/", user=GRAD)
    details = p.get(f"/api/dashboard/v0/programs/{PROGRAM}/progress_details/", user=GRAD)
    course = p.get(f"/api/courseware/course/{SELF1}", user=GRAD)
    generating = p.get("/api/dashboard/v0/programs/", user=GENERATING)
    for r in (listed, details, course, generating):
        assert r.status_code == 200, r.text
    return {
        "list": listed.json()[0]["progress"],
        "details": details.json(),
        "related": course.json()["related_programs"][0]["progress"],
        "generating": generating.json()[0]["progress"],
    }


def test_certificate_date_before_and_after_with_no_new_event(pipeline: Pipeline) -> None:
    _api_at(pipeline, BEFORE)
    before = _read(pipeline)
    assert before["list"] == {
        "uuid": PROGRAM,
        "completed": 2,
        "in_progress": 0,
        "not_started": 1,
        "all_unenrolled": False,
    }
    assert before["related"] == {"completed": 2, "in_progress": 0, "not_started": 1}
    data = before["details"]["course_data"]
    assert list(by_key(data["not_started"])) == ["Astro+C3"] and data["not_started"][0]["expired"] is True
    (waiting,) = data["not_started"][0]["course_runs"]
    assert (waiting["may_certify"], waiting["certificate_url"]) == (False, None)
    # Two course certificates of three: the awarded program certificate is not listed yet.
    assert [c["type"] for c in before["details"]["certificate_data"]] == ["course", "course"]

    _api_at(pipeline, AFTER)
    after = _read(pipeline)
    assert after["list"] == {
        "uuid": PROGRAM,
        "completed": 3,
        "in_progress": 0,
        "not_started": 0,
        "all_unenrolled": False,
    }
    assert after["related"] == {"completed": 3, "in_progress": 0, "not_started": 0}
    certs = after["details"]["certificate_data"]
    assert [c["title"] for c in certs] == ["Self 1", "Self 2", "Waiting", "Dates"]
    assert certs[-1] == {
        "type": "program",
        "title": "Dates",
        "url": "https://credentials.example.org/login/?next=/credentials/dates",
    }


def test_generating_certificate_completes_the_course(pipeline: Pipeline) -> None:
    _api_at(pipeline, BEFORE)
    assert _read(pipeline)["generating"] == {
        "uuid": PROGRAM,
        "completed": 1,
        "in_progress": 0,
        "not_started": 2,
        "all_unenrolled": False,
    }
