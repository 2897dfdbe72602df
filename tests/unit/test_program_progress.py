"""Program progress counting (API.md "Counting") and the program route bodies, with a fixed now."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from events.catalog import ProgramSnapshot
from readmodels.documents import program_document
from readmodels.facts import UserFacts
from readmodels.views.program_bodies import DetailUrls, banner_image, list_entries, progress_details, relative_url
from readmodels.views.program_progress import progress

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PAST = "2026-05-01T00:00:00Z"
FUTURE = "2026-07-01T00:00:00Z"
P1 = "6e0c2f3a-0f5d-4c3e-9a61-2b8d5a7c1e44"
P2 = "ff41a5eb-2a73-4933-8e80-a1c66068ed2c"
ENT = "0b0a7f4e-5c1d-4e2a-9f3b-1a2b3c4d5e6f"
URLS = DetailUrls(ecommerce_url="https://shop.example.org", credentials_url="https://credentials.example.org")


def run(
    key: str,
    type_: str = "verified",
    *,
    deadline: str | None = None,
    seats: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    if seats is None:
        seats = [{"type": "audit"}, {"type": type_, "upgrade_deadline": deadline, "sku": f"SKU-{key[-3:]}"}]
    return {
        "key": key,
        "type": type_,
        "pacing_type": "instructor_paced",
        "status": "published",
        "seats": seats,
        **extra,
    }


def pathway(id_: int, type_: str) -> dict[str, Any]:
    return {
        "id": id_,
        "uuid": f"u{id_}",
        "name": f"P{id_}",
        "org_name": "Org",
        "email": "a@b.example",
        "description": "",
        "destination_url": "https://example.org",
        "pathway_type": type_,
        "program_uuids": [P1],
    }


def course(n: int, *runs: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": f"Org+C{n}",
        "uuid": f"00000000-0000-4000-8000-00000000000{n}",
        "title": f"Course {n}",
        "course_runs": list(runs),
    }


def program(*courses: dict[str, Any], uuid: str = P1, **extra: Any) -> dict[str, Any]:
    """A stored program document: validated and dumped exactly as the projector stores it."""
    data = {
        "uuid": uuid,
        "title": "Astronomy",
        "type": "Professional Certificate",
        "type_slug": "professional",
        "status": "active",
        "courses": list(courses),
        "authoring_organizations": [],
        "pathways": [],
        "applicable_seat_types": ["verified"],
        "is_program_eligible_for_one_click_purchase": False,
        **extra,
    }
    return program_document(ProgramSnapshot.model_validate(data))


def ck(n: int, r: str = "R1") -> str:
    return f"course-v1:Org+C{n}+{r}"


class Facts:
    """Builds a learner hash the way the projector stores it (`<version>\\t<json>`)."""

    def __init__(self) -> None:
        self.raw: dict[str, str] = {}

    def put(self, name: str, value: Any) -> Facts:
        self.raw[name] = "0001\t" + orjson.dumps(value).decode()
        return self

    def enr(self, run_key: str, mode: str = "verified", *, active: bool = True, created: str = PAST) -> Facts:
        return self.put(f"enr:{run_key}", {"mode": mode, "is_active": active, "created": created})

    def cert(
        self,
        run_key: str,
        mode: str = "verified",
        status: str = "downloadable",
        url: str | None = "https://lms.example.org/certificates/abc123",
    ) -> Facts:
        return self.put(f"cert:{run_key}", {"status": status, "mode": mode, "download_url": url, "grade": "0.9"})

    def ent(self, enterprise: str, run_key: str, linked: bool = True) -> Facts:
        return self.put(f"ent:{enterprise}:{run_key}", linked)

    def user(self) -> UserFacts:
        return UserFacts(7, dict(self.raw))


def details(p: dict[str, Any], user: UserFacts) -> dict[str, Any]:
    """The course_data of progress_details: course objects with extended runs."""
    return progress_details(p, user, NOW, DetailUrls("https://shop", "https://cred"))["course_data"]


def keys_of(courses: list[dict[str, Any]]) -> list[str]:
    return [c["key"] for c in courses]


# Completed ---------------------------------------------------------------------------------------


def test_progress_counts_course_completed_with_downloadable_certificate_of_run_type() -> None:
    p = program(course(1, run(ck(1))), course(2, run(ck(2))))
    result = progress(p, Facts().enr(ck(1)).cert(ck(1)).user(), NOW)
    assert keys_of(result.completed) == ["Org+C1"]
    assert keys_of(result.not_started) == ["Org+C2"]
    assert result.counts() == {"completed": 1, "in_progress": 0, "not_started": 1, "all_unenrolled": False}


def test_progress_counts_completed_without_any_enrollment() -> None:
    result = progress(program(course(1, run(ck(1)))), Facts().cert(ck(1)).user(), NOW)
    assert result.counts() == {"completed": 1, "in_progress": 0, "not_started": 0, "all_unenrolled": True}


def test_progress_ignores_certificate_whose_mode_differs_from_run_type() -> None:
    p = program(course(1, run(ck(1), "verified", deadline=PAST)))
    result = progress(p, Facts().enr(ck(1), "audit").cert(ck(1), "audit").user(), NOW)
    assert keys_of(result.not_started) == ["Org+C1"]
    assert result.not_started[0]["expired"] is True


def test_progress_certificate_status_generating_completes_others_fail_the_run() -> None:
    """API.md counting rule 1 (issue #18): `generating` completes like `downloadable` (upstream
    is_passing_status); any other status the meter counts fails the run, so an enrollment of the
    run's own type no longer keeps the course in progress (upstream `_is_course_in_progress`);
    `audit_passing` certificates are not counted at all (upstream eligible_certificates)."""
    for status, bucket in (
        ("downloadable", "completed"),
        ("generating", "completed"),
        ("notpassing", "not_started"),
        ("unverified", "not_started"),
        ("unavailable", "not_started"),
        ("audit_passing", "in_progress"),
    ):
        result = progress(program(course(1, run(ck(1)))), Facts().enr(ck(1)).cert(ck(1), status=status).user(), NOW)
        assert keys_of(getattr(result, bucket)) == ["Org+C1"], status
        assert result.not_started == [] or result.not_started[0]["expired"] is True, status


def test_progress_credit_run_accepts_verified_and_credit_certificates() -> None:
    p = program(course(1, run(ck(1), "credit")), course(2, run(ck(2), "credit")))
    user = Facts().cert(ck(1), "verified").cert(ck(2), "credit").user()
    assert progress(p, user, NOW).counts()["completed"] == 2


def test_progress_verified_run_does_not_accept_credit_certificate() -> None:
    result = progress(program(course(1, run(ck(1), "verified"))), Facts().cert(ck(1), "credit").user(), NOW)
    assert result.completed == []


def test_progress_no_id_professional_certificate_counts_as_professional() -> None:
    p = program(course(1, run(ck(1), "professional")))
    assert progress(p, Facts().cert(ck(1), "no-id-professional").user(), NOW).counts()["completed"] == 1


def test_progress_completed_by_any_run_of_the_course() -> None:
    p = program(course(1, run(ck(1, "R1")), run(ck(1, "R2"))))
    result = details(p, Facts().cert(ck(1, "R2")).user())
    assert keys_of(result["completed"]) == ["Org+C1"]
    runs = {r["key"]: r for r in result["completed"][0]["course_runs"]}
    assert runs[ck(1, "R2")]["is_enrolled"] is True  # the portal needs an enrolled run here
    assert runs[ck(1, "R1")]["is_enrolled"] is False


# In progress -------------------------------------------------------------------------------------


def test_progress_in_progress_when_enrollment_mode_equals_run_type() -> None:
    p = program(course(1, run(ck(1), "verified", deadline=PAST)))
    result = progress(p, Facts().enr(ck(1), "verified").user(), NOW)
    assert result.counts() == {"completed": 0, "in_progress": 1, "not_started": 0, "all_unenrolled": False}
    assert "expired" not in result.in_progress[0]


def test_progress_audit_enrollment_in_progress_while_upgrade_deadline_is_future() -> None:
    p = program(course(1, run(ck(1), "verified", deadline=FUTURE)))
    assert progress(p, Facts().enr(ck(1), "audit").user(), NOW).counts()["in_progress"] == 1


def test_progress_audit_enrollment_in_progress_when_seat_has_no_deadline() -> None:
    p = program(course(1, run(ck(1), "verified", deadline=None)))
    assert progress(p, Facts().enr(ck(1), "audit").user(), NOW).counts()["in_progress"] == 1


def test_progress_audit_enrollment_expired_when_upgrade_deadline_passed() -> None:
    p = program(course(1, run(ck(1), "verified", deadline=PAST)))
    result = progress(p, Facts().enr(ck(1), "audit").user(), NOW)
    assert result.counts() == {"completed": 0, "in_progress": 0, "not_started": 1, "all_unenrolled": False}
    assert result.not_started[0]["expired"] is True


def test_progress_deadline_compared_as_time_not_text() -> None:
    # Same instant as NOW + 1h, written with an offset: as text it would sort before NOW.
    p = program(course(1, run(ck(1), "verified", deadline="2026-06-01T14:00:00+01:00")))
    assert progress(p, Facts().enr(ck(1), "audit").user(), NOW).counts()["in_progress"] == 1


def test_progress_expired_when_run_has_no_seat_of_its_type() -> None:
    p = program(course(1, run(ck(1), "verified", seats=[{"type": "audit"}])))
    result = progress(p, Facts().enr(ck(1), "audit").user(), NOW)
    assert result.not_started[0]["expired"] is True


def test_progress_no_id_professional_enrollment_counts_as_professional() -> None:
    p = program(course(1, run(ck(1), "professional", seats=[])))  # no seat to fall back on
    assert progress(p, Facts().enr(ck(1), "no-id-professional").user(), NOW).counts()["in_progress"] == 1


def test_progress_inactive_enrollment_is_not_started_without_expired() -> None:
    p = program(course(1, run(ck(1))))
    result = progress(p, Facts().enr(ck(1), active=False).user(), NOW)
    assert result.counts() == {"completed": 0, "in_progress": 0, "not_started": 1, "all_unenrolled": True}
    assert "expired" not in result.not_started[0]


def test_progress_never_enrolled_is_all_unenrolled() -> None:
    result = progress(program(course(1, run(ck(1))), course(2)), Facts().user(), NOW)
    assert result.counts() == {"completed": 0, "in_progress": 0, "not_started": 2, "all_unenrolled": True}


def test_progress_keeps_catalog_course_order_within_each_bucket() -> None:
    p = program(course(3, run(ck(3))), course(1, run(ck(1))), course(2, run(ck(2))))
    result = progress(p, Facts().enr(ck(3)).enr(ck(2)).user(), NOW)
    assert keys_of(result.in_progress) == ["Org+C3", "Org+C2"]


def test_progress_enrollment_in_run_outside_program_does_not_count() -> None:
    result = progress(program(course(1, run(ck(1)))), Facts().enr(ck(9)).user(), NOW)
    assert result.all_unenrolled is True


# Enterprise filter ---------------------------------------------------------------------------------


def test_progress_with_enterprise_counts_only_linked_enrollments() -> None:
    p = program(course(1, run(ck(1))), course(2, run(ck(2))), course(3, run(ck(3))))
    user = Facts().enr(ck(1)).enr(ck(2)).enr(ck(3)).ent(ENT, ck(1)).ent(ENT, ck(3), linked=False).user()
    assert progress(p, user, NOW).counts()["in_progress"] == 3
    result = progress(p, user, NOW, enterprise_uuid=ENT)
    assert keys_of(result.in_progress) == ["Org+C1"]
    assert result.all_unenrolled is False
    assert progress(p, user, NOW, enterprise_uuid=ENT.upper()).counts()["in_progress"] == 1


def test_progress_with_enterprise_and_no_linked_enrollment_is_all_unenrolled() -> None:
    p = program(course(1, run(ck(1))))
    user = Facts().enr(ck(1)).ent("11111111-1111-4111-8111-111111111111", ck(1)).user()
    result = progress(p, user, NOW, enterprise_uuid=ENT)
    assert result.counts() == {"completed": 0, "in_progress": 0, "not_started": 1, "all_unenrolled": True}


# Run objects ---------------------------------------------------------------------------------------


def test_progress_extends_runs_with_the_learner_fields() -> None:
    r = run(
        ck(1), "verified", deadline=FUTURE, start=PAST, end=FUTURE, enrollment_start=PAST, advertised_start="Spring"
    )
    got = details(program(course(1, r)), Facts().enr(ck(1), "audit").user())["in_progress"][0]["course_runs"][0]
    assert got["is_enrolled"] is True
    assert got["is_enrollment_open"] is True
    assert got["is_course_ended"] is False
    assert got["may_certify"] is False
    assert got["certificate_url"] is None
    assert got["upgrade_url"] == "https://shop/basket/add/?sku=SKU-+R1"
    assert got["advertised_start"] == "Spring"
    assert got["pacing_type"] == "instructor_paced"
    assert got["start"] == "2026-05-01T00:00:00Z"
    assert got["enrollment_end"] is None
    assert got["seats"][1]["upgrade_deadline"] == "2026-07-01T00:00:00Z"


def test_progress_run_enrollment_window_and_end() -> None:
    closed = run(ck(1), enrollment_start=PAST, enrollment_end=PAST, end=PAST)
    future = run(ck(2), enrollment_start=FUTURE)
    result = details(program(course(1, closed), course(2, future)), Facts().user())
    a, b = (c["course_runs"][0] for c in result["not_started"])
    assert (a["is_enrollment_open"], a["is_course_ended"], a["may_certify"]) == (False, True, True)
    assert (b["is_enrollment_open"], b["is_course_ended"]) == (False, False)
    assert a["advertised_start"] is None


def test_progress_certificate_url_is_relative() -> None:
    result = details(program(course(1, run(ck(1), end=PAST))), Facts().enr(ck(1)).cert(ck(1)).user())
    assert result["completed"][0]["course_runs"][0]["certificate_url"] == "/certificates/abc123"


def test_relative_url_keeps_path_and_query() -> None:
    assert relative_url("https://lms/certificates/x?a=1") == "/certificates/x?a=1"
    assert relative_url("certificates/x") == "/certificates/x"
    assert relative_url("") is None


# Route bodies -------------------------------------------------------------------------------------


def test_banner_image_always_has_four_sizes() -> None:
    p = program(banner_image={"large": {"url": "https://img/l.jpg", "width": 1440, "height": 480}})
    img = banner_image(p)
    assert list(img) == ["large", "medium", "small", "x-small"]
    assert img["large"] == {"url": "https://img/l.jpg", "width": 1440, "height": 480}
    assert img["x-small"] == {"url": "", "width": 0, "height": 0}
    assert banner_image(program())["medium"] == {"url": "", "width": 0, "height": 0}


def test_list_entries_orders_by_newest_enrollment_then_uuid() -> None:
    p1 = program(course(1, run(ck(1))), uuid=P1)
    p2 = program(course(2, run(ck(2))), uuid=P2)
    p3 = program(course(1, run(ck(1))), uuid="aaaaaaaa-0000-4000-8000-000000000000")
    user = Facts().enr(ck(1), created="2026-01-01T00:00:00Z").enr(ck(2), created="2026-02-01T00:00:00Z").user()
    entries = list_entries({P1: p1, P2: p2, p3["uuid"]: p3}, user, NOW)
    assert [e["uuid"] for e in entries] == [P2, P1, "aaaaaaaa-0000-4000-8000-000000000000"]  # ties: by uuid
    assert entries[0]["progress"] == {
        "uuid": P2,
        "completed": 0,
        "in_progress": 1,
        "not_started": 0,
        "all_unenrolled": False,
    }


def test_list_entries_skip_programs_without_an_active_enrollment_and_deleted_ones() -> None:
    p1 = program(course(1, run(ck(1))), uuid=P1)
    entries = list_entries({P1: p1, P2: None}, Facts().enr(ck(1), active=False).user(), NOW)  # type: ignore[dict-item]
    assert entries == []


def test_list_entries_with_enterprise_keep_only_programs_of_linked_enrollments() -> None:
    p1 = program(course(1, run(ck(1))), uuid=P1)
    p2 = program(course(2, run(ck(2))), uuid=P2)
    user = Facts().enr(ck(1)).enr(ck(2)).ent(ENT, ck(2)).user()
    assert [e["uuid"] for e in list_entries({P1: p1, P2: p2}, user, NOW, enterprise_uuid=ENT)] == [P2]


def test_list_entries_shape() -> None:
    p = program(course(1, run(ck(1))), authoring_organizations=[{"key": "Org", "name": "O", "logo_image_url": "l"}])
    (entry,) = list_entries({P1: p}, Facts().enr(ck(1)).user(), NOW)
    assert set(entry) == {"uuid", "title", "type", "banner_image", "authoring_organizations", "progress"}
    assert entry["type"] == "Professional Certificate"
    assert entry["authoring_organizations"] == [{"key": "Org", "logo_image_url": "l"}]


def test_progress_details_body_for_learner_with_certificates_and_pathways() -> None:
    pathways = [pathway(1, "credit"), pathway(2, "industry")]
    p = program(
        course(1, run(ck(1), end=PAST, title="Run 1")), course(2, run(ck(2), deadline=FUTURE)), pathways=pathways
    )
    user = Facts().enr(ck(1)).cert(ck(1), url="/certificates/c1").enr(ck(2), "audit")
    user.put(
        f"pcert:{P1}",
        {
            "awarded": True,
            "uuid": "x",
            "url": "https://cred/p/1",
            "title": "Astronomy",
            "program_type": "Professional Certificate",
            "certificate_available_date": None,
        },
    )
    body = progress_details(p, user.user(), NOW, URLS)
    assert set(body) == {
        "urls",
        "program_data",
        "course_data",
        "certificate_data",
        "industry_pathways",
        "credit_pathways",
    }
    record = "https://credentials.example.org/records/programs/" + P1.replace("-", "")
    assert body["urls"]["program_record_url"] == record
    # Course 2 has no certificate yet: the awarded program certificate is not listed (API.md,
    # issue #18, as upstream's get_certificates; tests/unit/test_program_meter_upstream.py).
    assert body["certificate_data"] == [{"type": "course", "title": "Run 1", "url": "/certificates/c1"}]
    assert [x["id"] for x in body["credit_pathways"]] == [1]
    assert [x["id"] for x in body["industry_pathways"]] == [2]
    assert body["program_data"]["pathway_ids"] == [1, 2]
    assert "courses" not in body["program_data"]
    assert body["course_data"]["uuid"] == P1
    assert keys_of(body["course_data"]["completed"]) == ["Org+C1"]
    assert keys_of(body["course_data"]["in_progress"]) == ["Org+C2"]
    assert body["course_data"]["all_unenrolled"] is False


def test_progress_details_for_stranger_has_empty_arrays_and_no_record_url() -> None:
    body = progress_details(program(course(1, run(ck(1)))), Facts().user(), NOW, URLS)
    assert body["certificate_data"] == []
    assert body["industry_pathways"] == [] and body["credit_pathways"] == []
    assert body["program_data"]["authoring_organizations"] == []
    assert body["urls"]["program_record_url"] is None
    assert body["course_data"]["all_unenrolled"] is True


def test_progress_details_revoked_program_certificate_is_not_listed() -> None:
    user = Facts().put(f"pcert:{P1}", {"awarded": False, "url": "u", "title": "t"}).user()
    assert progress_details(program(), user, NOW, URLS)["certificate_data"] == []


def test_progress_details_course_certificate_only_when_run_may_certify() -> None:
    # Instructor-paced, not ended: the certificate completes the course but is not shown yet.
    body = progress_details(
        program(course(1, run(ck(1), end=FUTURE))), Facts().enr(ck(1)).cert(ck(1)).user(), NOW, URLS
    )
    assert keys_of(body["course_data"]["completed"]) == ["Org+C1"]
    assert body["certificate_data"] == []


def test_progress_counted_counts_as_progress_does() -> None:
    """progress_counted (the course route's related programs, the list route) gives exactly
    progress(...).counts() over random learners and programs, with and without an enterprise."""
    import random

    from readmodels.facts import ReadUserFacts
    from readmodels.views.program_progress import progress_counted

    rng = random.Random(11)
    modes = ["verified", "audit", "professional", "no-id-professional", "credit", "honor"]
    for _ in range(300):
        courses = []
        for n in range(rng.randint(0, 4)):
            runs = [
                run(ck(n, f"R{r}"), rng.choice(modes), deadline=rng.choice([None, PAST, FUTURE]))
                for r in range(rng.randint(0, 3))
            ]
            courses.append(course(n, *runs))
        p = program(*courses)
        facts = Facts()
        for n in range(5):
            for r in range(3):
                if rng.random() < 0.3:
                    facts.enr(ck(n, f"R{r}"), rng.choice(modes), active=rng.random() < 0.8)
                if rng.random() < 0.2:
                    facts.cert(ck(n, f"R{r}"), rng.choice(modes), rng.choice(["downloadable", "notpassing"]))
                if rng.random() < 0.3:
                    facts.ent(ENT, ck(n, f"R{r}"), rng.random() < 0.7)
        for enterprise in (None, ENT):
            want = progress(p, facts.user(), NOW, enterprise_uuid=enterprise).counts()
            assert progress_counted(p, facts.user(), NOW, enterprise_uuid=enterprise).counts() == want
            read = ReadUserFacts(7, dict(facts.raw))
            assert progress_counted(p, read, NOW, enterprise_uuid=enterprise).counts() == want
            assert progress(p, read, NOW, enterprise_uuid=enterprise).counts() == want
