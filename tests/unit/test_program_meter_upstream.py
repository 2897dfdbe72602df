"""Upstream's program progress and program detail cases, ported (each test names the upstream test
it comes from): openedx/core/djangoapps/programs/tests/test_utils.py (TestProgramProgressMeter,
TestProgramDataExtender, TestGetCertificates). Upstream's factories become stored program documents
and learner facts; upstream's "now" is a fixed NOW; a published LMS course is the `courses` mapping
(run key -> the effective course: pacing, end, certificate_available_date)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from readmodels.views.program_bodies import DetailUrls, list_entries, progress_details
from readmodels.views.program_progress import progress
from tests.unit.test_program_progress import NOW, P1, P2, Facts, ck, course, program, run

DAY = timedelta(days=1)
URLS = DetailUrls(ecommerce_url="https://shop", credentials_url="https://credentials.example.org")


def iso(days: float) -> str:
    return (NOW + DAY * days).strftime("%Y-%m-%dT%H:%M:%SZ")


def published(pacing: str, *, end: float | None = None, available: float | None = None) -> dict[str, Any]:
    """An effective published course as counting reads it (days relative to NOW)."""
    return {
        "pacing": pacing,
        "end": iso(end) if end is not None else None,
        "certificate_available_date": iso(available) if available is not None else None,
    }


def counts(p: dict[str, Any], facts: Facts, courses: dict[str, Any] | None = None) -> dict[str, Any]:
    return progress(p, facts.user(), NOW, courses=courses or {}).counts()


def test_simulate_progress_through_a_program() -> None:
    """Upstream TestProgramProgressMeter.test_simulate_progress: two self-paced courses and an
    instructor-paced one that ended but whose certificates wait for tomorrow
    (END_WITH_DATE). Its certificate neither completes the course nor leaves it in progress
    (the run counts as failed: not_started) until the date has passed."""
    p = program(course(1, run(ck(1))), course(2, run(ck(2))), course(3, run(ck(3))))
    courses = {
        ck(1): published("self", end=1),
        ck(2): published("self", end=1),
        ck(3): published("instructor", end=-2, available=1),
    }
    facts = Facts()
    assert list_entries({P1: p}, facts.user(), NOW, courses=courses) == []  # no enrollments

    facts.enr(ck(1))
    assert counts(p, facts, courses) == {"completed": 0, "in_progress": 1, "not_started": 2, "all_unenrolled": False}

    facts.enr(ck(2)).enr(ck(3))
    assert counts(p, facts, courses) == {"completed": 0, "in_progress": 3, "not_started": 0, "all_unenrolled": False}

    facts.cert(ck(1), "verified")
    assert counts(p, facts, courses) == {"completed": 1, "in_progress": 2, "not_started": 0, "all_unenrolled": False}

    facts.cert(ck(2), "honor")  # a certificate whose mode is not the run's type
    assert counts(p, facts, courses) == {"completed": 1, "in_progress": 2, "not_started": 0, "all_unenrolled": False}

    facts.cert(ck(2), "verified")
    assert counts(p, facts, courses) == {"completed": 2, "in_progress": 1, "not_started": 0, "all_unenrolled": False}

    facts.cert(ck(3), "verified")  # earned, available tomorrow
    result = progress(p, facts.user(), NOW, courses=courses)
    assert result.counts() == {"completed": 2, "in_progress": 0, "not_started": 1, "all_unenrolled": False}
    assert result.not_started[0]["expired"] is True

    courses[ck(3)] = published("instructor", end=-2, available=-1)  # the date moved to yesterday
    assert counts(p, facts, courses) == {"completed": 3, "in_progress": 0, "not_started": 0, "all_unenrolled": False}


def test_certificate_date_is_a_read_time_rule() -> None:
    """The same learner facts, read before and after the date (fake nows): the course becomes
    completed when the date passes, with no new event."""
    p = program(course(3, run(ck(3))))
    courses = {ck(3): published("instructor", end=-2, available=1)}
    user = Facts().enr(ck(3)).cert(ck(3)).user()
    before = progress(p, user, NOW, courses=courses).counts()
    after = progress(p, user, NOW + 2 * DAY, courses=courses).counts()
    assert (before["completed"], before["not_started"]) == (0, 1)
    assert (after["completed"], after["not_started"]) == (1, 0)


def test_completed_course_runs_generating_counts_and_other_statuses_fail_the_run() -> None:
    """Upstream TestProgramProgressMeter.test_completed_course_runs: a `generating` certificate
    completes its run like `downloadable` (CertificateStatuses.is_passing_status); one of another
    status (`unknown` upstream) does not, and marks its run failed."""
    p = program(course(1, run(ck(1), "honor")), course(2, run(ck(2))), course(3, run(ck(3), "audit")))
    facts = Facts().enr(ck(1), "honor").enr(ck(2)).enr(ck(3), "audit")
    facts.cert(ck(1), "honor", status="generating").cert(ck(2), status="notpassing")
    facts.cert(ck(3), "audit", status="audit_passing")  # not an eligible certificate: not counted at all
    result = progress(p, facts.user(), NOW)
    assert [c["key"] for c in result.completed] == ["Org+C1"]
    assert [c["key"] for c in result.not_started] == ["Org+C2"] and result.not_started[0]["expired"] is True
    assert [c["key"] for c in result.in_progress] == ["Org+C3"]


def test_old_course_run_of_an_instructor_paced_course_that_never_ended() -> None:
    """Upstream TestProgramProgressMeter.test_old_course_runs: the enrollment's course overview is
    instructor-paced with neither an end nor a certificate date, so its certificates are not
    viewable (display behaviour `end`): the verified certificate fails the run."""
    p = program(course(1, run(ck(1), deadline=iso(-30))))
    facts = Facts().enr(ck(1)).cert(ck(1))
    assert counts(p, facts, {ck(1): published("instructor")}) == {
        "completed": 0,
        "in_progress": 0,
        "not_started": 1,
        "all_unenrolled": False,
    }
    assert counts(p, facts)["completed"] == 1  # a course never published: viewable (upstream: no overview)


def test_nonverified_course_run_completion() -> None:
    """Upstream TestProgramProgressMeter.test_nonverified_course_run_completion."""
    p = program(course(1, run(ck(1, "R1"), "honor"), run(ck(1, "R2"))))
    facts = Facts().enr(ck(1, "R1"), "honor").cert(ck(1, "R1"), "honor")
    courses = {ck(1, "R1"): published("self")}
    assert counts(p, facts, courses) == {"completed": 1, "in_progress": 0, "not_started": 0, "all_unenrolled": False}


def test_no_id_professional_enrollment_and_certificate_count_as_professional() -> None:
    """Upstream TestProgramProgressMeter.test_no_id_professional_in_progress and
    test_program_completion_with_no_id_professional."""
    p = program(course(1, run(ck(1), "professional", seats=[])))
    assert counts(p, Facts().enr(ck(1), "no-id-professional"))["in_progress"] == 1
    assert counts(p, Facts().enr(ck(1), "no-id-professional").cert(ck(1), "no-id-professional"))["completed"] == 1


def test_in_progress_course_upgrade_deadline_check() -> None:
    """Upstream TestProgramProgressMeter.test_in_progress_course_upgrade_deadline_check (offsets
    None, +1, -1 day)."""
    for offset, in_progress in ((None, 1), (1, 1), (-1, 0)):
        deadline = iso(offset) if offset is not None else None
        p = program(course(1, run(ck(1), "verified", deadline=deadline)))
        got = counts(p, Facts().enr(ck(1), "audit"))
        assert (got["in_progress"], got["not_started"]) == (in_progress, 1 - in_progress), offset


def test_credit_run_counted_complete_for_verified_certificate() -> None:
    """Upstream TestProgramProgressMeter.test_credit_course_counted_complete_for_verified."""
    assert counts(program(course(1, run(ck(1), "credit"))), Facts().enr(ck(1)).cert(ck(1)))["completed"] == 1


def test_engaged_programs_ordered_by_newest_enrollment_then_title() -> None:
    """Upstream TestProgramProgressMeter.test_multiple_program_enrollment and
    test_shared_enrollment_engagement: programs by their newest enrollment; programs sharing that
    enrollment's run by title (invert_programs), then uuid."""
    shared_a = program(course(1, run(ck(1))), uuid=P2, title="Alpha")
    shared_b = program(course(1, run(ck(1))), uuid=P1, title="Beta")
    solo = program(course(2, run(ck(2))), uuid="cccccccc-0000-4000-8000-00000000000c", title="Aardvark")
    other = program(course(3, run(ck(3))), uuid="dddddddd-0000-4000-8000-00000000000d")
    user = Facts().enr(ck(2), created=iso(-10)).enr(ck(1), created=iso(-1)).user()
    programs = {p["uuid"]: p for p in (solo, shared_b, shared_a, other)}
    assert [e["title"] for e in list_entries(programs, user, NOW)] == ["Alpha", "Beta", "Aardvark"]
    twin = program(course(1, run(ck(1))), uuid="00000000-0000-4000-8000-000000000000", title="Beta")
    programs[twin["uuid"]] = twin
    assert [e["uuid"] for e in list_entries(programs, user, NOW)][:3] == [P2, twin["uuid"], P1]


# ProgramDataExtender and get_certificates ----------------------------------------------------------


def test_no_enrollment_start_date_is_shown_as_upstream_default() -> None:
    """Upstream TestProgramDataExtender.test_no_enrollment_start_date (DEFAULT_ENROLLMENT_START_DATE)."""
    body = progress_details(program(course(1, run(ck(1), enrollment_end=iso(-1)))), Facts().user(), NOW, URLS)
    (r,) = body["course_data"]["not_started"][0]["course_runs"]
    assert (r["is_enrollment_open"], r["enrollment_open_date"]) == (False, "Jan 01, 1900")


def _awarded(facts: Facts, url: str = "https://credentials.example.org/credentials/fake-uuid/") -> Facts:
    return facts.put(f"pcert:{P1}", {"awarded": True, "uuid": "x", "url": url, "title": "Old title"})


def test_get_certificates_one_per_course_and_the_program_certificate() -> None:
    """Upstream TestGetCertificates.test_get_certificates: one certificate per course (the first
    run with one), then the program certificate, titled as the program, behind the credentials
    site's login (test_get_program_certificate_url)."""
    p = program(
        course(1, run(ck(1, "R1"), end=iso(-1), title="Run 1a"), run(ck(1, "R2"), end=iso(-1), title="Run 1b")),
        course(2, run(ck(2), end=iso(-1), title="Run 2")),
    )
    facts = Facts().cert(ck(1, "R1"), url="/certificates/a").cert(ck(1, "R2"), url="/certificates/b")
    facts.cert(ck(2), url="/certificates/c")
    body = progress_details(p, _awarded(facts).user(), NOW, URLS)
    assert body["certificate_data"] == [
        {"type": "course", "title": "Run 1a", "url": "/certificates/a"},
        {"type": "course", "title": "Run 2", "url": "/certificates/c"},
        {
            "type": "program",
            "title": "Astronomy",
            "url": "https://credentials.example.org/login/?next=/credentials/fake-uuid/",
        },
    ]


def test_get_certificates_program_certificate_only_with_every_course_certificate() -> None:
    """Upstream TestGetCertificates.test_course_run_certificates_missing: a course whose run may
    not certify yet (certificates waiting for their date) or has no certificate url leaves the
    program certificate out; the other course certificates stay."""
    p = program(
        course(1, run(ck(1), end=iso(-1))),
        course(2, run(ck(2), end=iso(-1))),
        course(3, run(ck(3), end=iso(-1), title="Run 3")),
    )
    facts = _awarded(Facts().cert(ck(1)).cert(ck(2), url=None).cert(ck(3), url="/certificates/c3"))
    courses = {ck(1): published("instructor", end=-1, available=1)}
    body = progress_details(p, facts.user(), NOW, URLS, courses=courses)
    assert body["certificate_data"] == [{"type": "course", "title": "Run 3", "url": "/certificates/c3"}]
    (waiting,) = body["course_data"]["not_started"][0]["course_runs"]
    assert (waiting["may_certify"], waiting["certificate_url"]) == (False, None)


def test_get_certificates_program_certificate_missing() -> None:
    """Upstream TestGetCertificates.test_program_certificate_missing."""
    p = program(course(1, run(ck(1), end=iso(-1), title="Run 1")))
    body = progress_details(p, Facts().cert(ck(1), url="/certificates/a").user(), NOW, URLS)
    assert body["certificate_data"] == [{"type": "course", "title": "Run 1", "url": "/certificates/a"}]


def _seat_run(key: str, status: str = "published") -> dict[str, Any]:
    return run(key, seats=[{"type": "verified", "sku": f"SKU-{key[-5:]}", "upgrade_deadline": None}], status=status)


def test_learner_eligibility_for_one_click_purchase() -> None:
    """Upstream TestProgramDataExtender.test_learner_eligibility_for_one_click_purchase: a program
    not eligible, or one whose seats are not of an applicable type, gives none; an enrollment in an
    applicable mode takes its course out of the basket."""
    body = progress_details(program(course(1, _seat_run(ck(1))), applicable_seat_types=[]), Facts().user(), NOW, URLS)
    assert body["program_data"]["is_learner_eligible_for_one_click_purchase"] is False
    eligible = {"is_program_eligible_for_one_click_purchase": True, "applicable_seat_types": ["verified"]}
    p = program(course(1, _seat_run(ck(1))), course(2, _seat_run(ck(2))), **eligible)
    data = progress_details(p, Facts().enr(ck(1), "verified").enr(ck(2), "audit").user(), NOW, URLS)["program_data"]
    assert data["is_learner_eligible_for_one_click_purchase"] is True and data["skus"] == [f"SKU-{ck(2)[-5:]}"]
    none_left = progress_details(p, Facts().enr(ck(1)).enr(ck(2)).user(), NOW, URLS)["program_data"]
    assert (none_left["is_learner_eligible_for_one_click_purchase"], none_left["skus"]) == (False, [])


def test_one_click_purchase_with_unpublished_and_multiple_published_runs() -> None:
    """Upstream TestProgramDataExtender.test_learner_eligibility_for_one_click_purchase_with_unpublished
    and test_multiple_published_course_runs: only published runs are offered, and a course with
    more than one published run makes the learner ineligible."""
    eligible = {"is_program_eligible_for_one_click_purchase": True, "applicable_seat_types": ["verified"]}
    two_published = course(2, _seat_run(ck(2, "R1")), _seat_run(ck(2, "R2")))
    p = program(course(1, _seat_run(ck(1))), two_published, course(3, _seat_run(ck(3))), **eligible)
    data = progress_details(p, Facts().user(), NOW, URLS)["program_data"]
    assert (data["is_learner_eligible_for_one_click_purchase"], data["skus"]) == (False, [])
    one_published = course(2, _seat_run(ck(2, "R1")), _seat_run(ck(2, "R2"), status="unpublished"))
    p = program(course(1, _seat_run(ck(1))), one_published, course(3, _seat_run(ck(3))), **eligible)
    data = progress_details(p, Facts().user(), NOW, URLS)["program_data"]
    assert data["is_learner_eligible_for_one_click_purchase"] is True and len(data["skus"]) == 3


def test_one_click_purchase_professional_no_id() -> None:
    """Upstream TestProgramDataExtender.test_learner_eligibility_for_one_click_purchase_professional_no_id:
    a `no-id-professional` enrollment counts for a program whose applicable seat type is `professional`."""
    seats = [{"type": "professional", "sku": "PRO", "upgrade_deadline": None}]
    p = program(
        course(1, run(ck(1), "professional", seats=seats)),
        is_program_eligible_for_one_click_purchase=True,
        applicable_seat_types=["professional"],
    )
    data = progress_details(p, Facts().enr(ck(1), "no-id-professional").user(), NOW, URLS)["program_data"]
    assert data["is_learner_eligible_for_one_click_purchase"] is False
    assert data["applicable_seat_types"] == ["professional", "no-id-professional"]
