"""The program routes end to end: events through Kafka, the projector, Redis and HTTP.

Fields the enterprise learner portal breaks on are asserted explicitly (real-clients.md §2.2, §3).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from events import Event
from tests.builders import enrollment, event, user
from tests.pipeline import Pipeline
from tools.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

PREFIXES = ("/api/dashboard/v1", "/api/dashboard/v0", "/api/learner_home/v1")
PA = "aaaaaaaa-0000-4000-8000-00000000000a"  # Astronomy: four courses
PB = "bbbbbbbb-0000-4000-8000-00000000000b"  # Biology: one audit-type course
PC = "cccccccc-0000-4000-8000-00000000000c"  # deleted
PD = "dddddddd-0000-4000-8000-00000000000d"  # shares run A4 with PA
PE = "ffffffff-0000-4000-8000-00000000000f"  # shares run A4 too; its title sorts first
ENT = "0f0e0d0c-0000-4000-8000-0000000000ee"
OTHER_ENT = "1f0e0d0c-0000-4000-9000-0000000000ee"
PAST, FUTURE = "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z"


def rk(name: str) -> str:
    return f"course-v1:Astro+{name}+2026"


A1, A2, A3, A4, B1 = rk("A1"), rk("A2"), rk("A3"), rk("A4"), rk("B1")
LEARNER, STRANGER, UNENROLLED, TWIN = 101, 102, 103, 104


def course_run(key: str, type_: str = "verified", deadline: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "key": key,
        "type": type_,
        "pacing_type": "instructor_paced",
        "status": "published",
        "seats": [{"type": "audit"}, {"type": type_, "upgrade_deadline": deadline, "sku": f"SKU-{key[-7:-5]}"}],
        **extra,
    }


def catalog_course(n: int, *runs: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": f"Astro+C{n}",
        "uuid": f"00000000-0000-4000-8000-{n:012d}",
        "title": f"Course {n}",
        "course_runs": list(runs),
    }


def pathway(id_: int, type_: str, program: str) -> dict[str, Any]:
    return {
        "id": id_,
        "uuid": f"86b9701a-61e6-48a2-92eb-70a82452100{id_}",
        "name": f"Pathway {id_}",
        "org_name": "Astro",
        "email": "pathways@example.org",
        "description": "credit",
        "destination_url": "https://example.edu",
        "pathway_type": type_,
        "program_uuids": [program],
    }


def program_changed(uuid: str, title: str, courses: list[dict[str, Any]], **extra: Any) -> Event[Any]:
    doc = {
        "uuid": uuid,
        "title": title,
        "type": "Professional Certificate",
        "type_slug": "professional-certificate",
        "status": "active",
        "courses": courses,
        "pathways": [],
        "applicable_seat_types": ["verified"],
        "is_program_eligible_for_one_click_purchase": False,
        "authoring_organizations": [{"key": "Astro", "name": "Astro U", "logo_image_url": "https://img/logo.png"}],
        **extra,
    }
    return event("ext.catalog.program.changed.v1", {"program": doc})


def certificate(uid: int, course_key: str, mode: str = "verified", url: str = "") -> Event[Any]:
    return event(
        "org.openedx.learning.certificate.created.v1",
        {
            "certificate": {
                "user": user(uid),
                "course": {"course_key": course_key, "display_name": "x"},
                "mode": mode,
                "grade": "0.9",
                "download_url": url,
                "name": "n",
                "current_status": "downloadable",
                "previous_status": "",
            }
        },
    )


def linked(uid: int, course_key: str, enterprise: str = ENT) -> Event[Any]:
    return event(
        "ext.enterprise.course.enrollment.linked.v1",
        {"enterprise_enrollment": {"enterprise_customer_uuid": enterprise, "user_id": uid, "course_key": course_key}},
    )


def enrolled(uid: int, course_key: str, mode: str, created: datetime, *, active: bool = True) -> Event[Any]:
    return enrollment("created", uid, course_key, mode=mode, created=created, is_active=active)


def history() -> list[Event[Any]]:
    astronomy = program_changed(
        PA,
        "Astronomy",
        [
            catalog_course(1, course_run(A1, end=PAST, title="Astro 1, 2026")),
            catalog_course(2, course_run(A2, deadline=FUTURE, advertised_start="Spring")),
            catalog_course(3, course_run(A3, deadline=PAST)),
            catalog_course(4, course_run(A4)),
        ],
        banner_image={"large": {"url": "https://img/large.jpg", "width": 1440, "height": 480}},
        pathways=[pathway(1, "credit", PA), pathway(2, "industry", PA)],
    )
    return [
        astronomy,
        program_changed(PB, "Biology", [catalog_course(5, course_run(B1, "audit"))]),
        program_changed(PC, "Chemistry", [catalog_course(2, course_run(A2))]),
        event("ext.catalog.program.deleted.v1", {"program": {"uuid": PC}}, time=datetime(2026, 3, 2, tzinfo=UTC)),
        program_changed(PD, "Dynamics", [catalog_course(4, course_run(A4))]),
        program_changed(PE, "Aardvarks", [catalog_course(4, course_run(A4))]),
        # LEARNER: A1 completed, A2 in progress (enterprise-linked), A3 lapsed, B1 in progress (newest).
        enrolled(LEARNER, A1, "verified", datetime(2026, 1, 1, tzinfo=UTC)),
        certificate(LEARNER, A1, url="https://lms.example.org/certificates/abc123"),
        enrolled(LEARNER, A2, "audit", datetime(2026, 2, 1, tzinfo=UTC)),
        linked(LEARNER, A2),
        linked(LEARNER, A1, OTHER_ENT),
        enrolled(LEARNER, A3, "audit", datetime(2026, 1, 15, tzinfo=UTC)),
        enrolled(LEARNER, B1, "audit", datetime(2026, 3, 1, tzinfo=UTC)),
        event(
            "org.openedx.learning.program.certificate.awarded.v1",
            {
                "program_certificate": {
                    "user": user(LEARNER),
                    "program": {"uuid": PA, "title": "Astronomy", "program_type": "Professional Certificate"},
                    "uuid": "c0ffee00-0000-4000-8000-000000000001",
                    "status": "awarded",
                    "url": "https://credentials.example.org/credentials/c0ffee",
                    "certificate_available_date": None,
                }
            },
        ),
        # UNENROLLED: enrolled then left.
        enrolled(UNENROLLED, A2, "audit", datetime(2026, 2, 1, tzinfo=UTC), active=False),
        # TWIN: one run shared by PA, PD and PE, so the three programs tie on the enrollment date.
        enrolled(TWIN, A4, "verified", datetime(2026, 2, 1, tzinfo=UTC)),
    ]


@pytest.fixture(scope="module")
def pipeline(stack: Stack) -> Iterator[Pipeline]:
    p = Pipeline.create(stack).start()
    p.produce(history())
    p.wait_applied()
    yield p
    p.stop()


def ok(pipeline: Pipeline, path: str, uid: int) -> Any:
    r = pipeline.get(path, user=uid)
    assert r.status_code == 200, (path, r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


def by_key(courses: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["key"]: c for c in courses}


# List -------------------------------------------------------------------------------------------


def test_get_programs_orders_by_newest_enrollment(pipeline: Pipeline) -> None:
    body = ok(pipeline, "/api/dashboard/v0/programs/", LEARNER)
    assert [p["uuid"] for p in body] == [PB, PA]  # PC is deleted, PD has no enrolled run
    astro = body[1]
    assert set(astro) == {"uuid", "title", "type", "banner_image", "authoring_organizations", "progress"}
    assert astro["title"] == "Astronomy"
    assert astro["type"] == "Professional Certificate"
    assert astro["authoring_organizations"] == [{"key": "Astro", "logo_image_url": "https://img/logo.png"}]
    assert astro["progress"] == {
        "uuid": PA,
        "completed": 1,
        "in_progress": 1,
        "not_started": 2,
        "all_unenrolled": False,
    }
    assert body[0]["progress"] == {
        "uuid": PB,
        "completed": 0,
        "in_progress": 1,
        "not_started": 0,
        "all_unenrolled": False,
    }


def test_get_programs_banner_image_always_has_four_sizes(pipeline: Pipeline) -> None:
    for entry in ok(pipeline, "/api/dashboard/v0/programs/", LEARNER):
        banner = entry["banner_image"]
        assert set(banner) == {"large", "medium", "small", "x-small"}
        for size in banner.values():
            assert isinstance(size["url"], str) and isinstance(size["width"], int) and isinstance(size["height"], int)
    astro = ok(pipeline, "/api/dashboard/v0/programs/", LEARNER)[1]["banner_image"]
    assert astro["large"] == {"url": "https://img/large.jpg", "width": 1440, "height": 480}
    assert astro["x-small"] == {"url": "", "width": 0, "height": 0}


def test_get_programs_ties_broken_by_title_then_uuid(pipeline: Pipeline) -> None:
    """API.md list order (issue #18): programs tied on the enrollment date by title, as upstream's
    ProgramProgressMeter (invert_programs sorts a run's programs by title), then uuid."""
    assert [p["uuid"] for p in ok(pipeline, "/api/dashboard/v0/programs/", TWIN)] == [PE, PA, PD]


def test_get_programs_without_enrollments_is_empty_array(pipeline: Pipeline) -> None:
    assert ok(pipeline, "/api/dashboard/v0/programs/", STRANGER) == []
    assert ok(pipeline, "/api/dashboard/v0/programs/", UNENROLLED) == []


def test_get_programs_identical_under_three_prefixes(pipeline: Pipeline) -> None:
    bodies = [ok(pipeline, f"{prefix}/programs/", LEARNER) for prefix in PREFIXES]
    assert bodies[0] == bodies[1] == bodies[2]
    assert ok(pipeline, "/api/dashboard/v0/programs", LEARNER) == bodies[0]  # a missing slash is tolerated


# Enterprise list --------------------------------------------------------------------------------


def test_get_enterprise_programs_counts_only_linked_enrollments(pipeline: Pipeline) -> None:
    body = ok(pipeline, f"/api/dashboard/v0/programs/{ENT}/", LEARNER)
    assert [p["uuid"] for p in body] == [PA]
    # A2 is the only linked enrollment; A1's certificate still completes its course.
    assert body[0]["progress"] == {
        "uuid": PA,
        "completed": 1,
        "in_progress": 1,
        "not_started": 2,
        "all_unenrolled": False,
    }
    other = ok(pipeline, f"/api/dashboard/v0/programs/{OTHER_ENT}/", LEARNER)
    assert [p["uuid"] for p in other] == [PA]
    assert other[0]["progress"]["in_progress"] == 0


def test_get_enterprise_programs_accepts_any_case_and_no_hyphens(pipeline: Pipeline) -> None:
    expected = ok(pipeline, f"/api/dashboard/v0/programs/{ENT}/", LEARNER)
    assert ok(pipeline, f"/api/learner_home/v1/programs/{ENT.upper()}/", LEARNER) == expected
    assert ok(pipeline, f"/api/dashboard/v1/programs/{ENT.replace('-', '')}/", LEARNER) == expected


def test_get_enterprise_programs_unknown_enterprise_is_empty_array(pipeline: Pipeline) -> None:
    assert ok(pipeline, "/api/dashboard/v0/programs/2f0e0d0c-0000-4000-a000-0000000000ee/", LEARNER) == []


@pytest.mark.parametrize(
    "bad",
    [
        "0f0e0d0c-0000-1000-8000-0000000000ee",  # version 1
        "0f0e0d0c-0000-4000-c000-0000000000ee",  # wrong variant
        "not-a-uuid",
        "0f0e0d0c-0000-4000-8000-0000000000e",  # too short
    ],
)
def test_get_enterprise_programs_bad_uuid_is_404_detail(pipeline: Pipeline, bad: str) -> None:
    r = pipeline.get(f"/api/dashboard/v0/programs/{bad}/", user=LEARNER)
    assert r.status_code == 404
    assert set(r.json()) == {"detail"}


# Progress details --------------------------------------------------------------------------------


def test_get_progress_details_body(pipeline: Pipeline) -> None:
    body = ok(pipeline, f"/api/dashboard/v0/programs/{PA}/progress_details/", LEARNER)
    assert set(body) == {
        "urls",
        "program_data",
        "course_data",
        "certificate_data",
        "industry_pathways",
        "credit_pathways",
    }
    data = body["course_data"]
    assert data["uuid"] == PA
    assert list(by_key(data["completed"])) == ["Astro+C1"]
    assert list(by_key(data["in_progress"])) == ["Astro+C2"]
    assert list(by_key(data["not_started"])) == ["Astro+C3", "Astro+C4"]
    assert data["all_unenrolled"] is False
    assert by_key(data["not_started"])["Astro+C3"]["expired"] is True  # enrolled, upgrade deadline passed
    assert "expired" not in by_key(data["not_started"])["Astro+C4"]
    program = body["program_data"]
    assert program["uuid"] == PA and program["title"] == "Astronomy"
    assert program["type"] == "Professional Certificate"
    assert program["pathway_ids"] == [1, 2]
    assert "courses" not in program
    assert [p["id"] for p in body["credit_pathways"]] == [1]
    assert [p["id"] for p in body["industry_pathways"]] == [2]
    # One course certificate of four: the awarded program certificate is not listed (API.md, issue
    # #18, as upstream's get_certificates; listed: tests/e2e/test_program_certificate_dates.py).
    assert body["certificate_data"] == [{"type": "course", "title": "Astro 1, 2026", "url": "/certificates/abc123"}]
    assert body["urls"]["program_listing_url"] == "/dashboard/programs/"
    assert body["urls"]["program_record_url"].endswith("/records/programs/" + PA.replace("-", ""))


def test_get_progress_details_runs_carry_learner_fields(pipeline: Pipeline) -> None:
    body = ok(pipeline, f"/api/dashboard/v0/programs/{PA}/progress_details/", LEARNER)
    (done,) = body["course_data"]["completed"][0]["course_runs"]
    assert done["is_enrolled"] is True and done["is_course_ended"] is True and done["may_certify"] is True
    assert done["certificate_url"] == "/certificates/abc123"
    assert done["upgrade_url"] is None
    (going,) = body["course_data"]["in_progress"][0]["course_runs"]
    assert going["is_enrolled"] is True and going["is_enrollment_open"] is True
    assert going["advertised_start"] == "Spring"
    assert going["upgrade_url"].endswith("/basket/add/?sku=SKU-A2")
    assert going["certificate_url"] is None


def test_get_progress_details_satisfies_the_enterprise_portal(pipeline: Pipeline) -> None:
    for uid in (LEARNER, STRANGER, TWIN):
        body = ok(pipeline, f"/api/dashboard/v0/programs/{PA}/progress_details/", uid)
        assert body["urls"] and body["program_data"] and body["course_data"]
        for name in ("certificate_data", "industry_pathways", "credit_pathways"):
            assert isinstance(body[name], list), name
        assert isinstance(body["program_data"]["authoring_organizations"], list)
        data = body["course_data"]
        for bucket in ("completed", "in_progress", "not_started"):
            assert isinstance(data[bucket], list)
            for course in data[bucket]:
                assert isinstance(course["course_runs"], list)
                for run in course["course_runs"]:
                    assert isinstance(run["pacing_type"], str)
                    for flag in ("is_enrolled", "is_enrollment_open", "is_course_ended", "may_certify"):
                        assert isinstance(run[flag], bool), flag
                if bucket != "not_started":
                    assert any(run["is_enrolled"] for run in course["course_runs"]), course["key"]
        for cert in body["certificate_data"]:
            if cert["type"] == "course":
                assert cert["url"].startswith("/")


def test_get_progress_details_for_stranger(pipeline: Pipeline) -> None:
    body = ok(pipeline, f"/api/dashboard/v0/programs/{PA}/progress_details/", STRANGER)
    data = body["course_data"]
    assert (len(data["completed"]), len(data["in_progress"]), len(data["not_started"])) == (0, 0, 4)
    assert data["all_unenrolled"] is True
    assert body["certificate_data"] == []
    assert body["urls"]["program_record_url"] is None


def test_get_progress_details_identical_under_three_prefixes(pipeline: Pipeline) -> None:
    bodies = [ok(pipeline, f"{prefix}/programs/{PA}/progress_details/", LEARNER) for prefix in PREFIXES]
    assert bodies[0] == bodies[1] == bodies[2]


@pytest.mark.parametrize("uuid", [PC, "eeeeeeee-0000-4000-8000-00000000000e", "abc-123"])
def test_get_progress_details_unknown_or_deleted_program_is_404_error_code(pipeline: Pipeline, uuid: str) -> None:
    for prefix in PREFIXES:
        r = pipeline.get(f"{prefix}/programs/{uuid}/progress_details/", user=LEARNER)
        assert r.status_code == 404
        assert r.json() == {"error_code": "No program data available."}


@pytest.mark.parametrize("uuid", [PA.upper(), "zzzz", "aaaaaaaa_0000"])
def test_get_progress_details_malformed_uuid_is_404_detail(pipeline: Pipeline, uuid: str) -> None:
    r = pipeline.get(f"/api/dashboard/v0/programs/{uuid}/progress_details/", user=LEARNER)
    assert r.status_code == 404
    assert set(r.json()) == {"detail"}


# Authentication and methods ----------------------------------------------------------------------


@pytest.mark.parametrize("path", [f"/programs/{PA}/progress_details/", "/programs/", f"/programs/{ENT}/"])
@pytest.mark.parametrize("prefix", PREFIXES)
def test_get_program_routes_anonymous_is_401_detail(pipeline: Pipeline, prefix: str, path: str) -> None:
    r = pipeline.get(prefix + path)
    assert r.status_code == 401
    assert set(r.json()) == {"detail"}


def test_get_program_routes_invalid_token_is_401_detail(pipeline: Pipeline) -> None:
    r = pipeline.get("/api/dashboard/v0/programs/", headers={"Authorization": "JWT not.a.token"})
    assert r.status_code == 401
    assert set(r.json()) == {"detail"}
    r = pipeline.get("/api/dashboard/v0/programs/", headers={"Authorization": "Bearer " + "x" * 20})
    assert r.status_code == 401


def test_get_program_routes_jwt_cookie_pair_is_accepted(pipeline: Pipeline) -> None:
    header, payload, signature = pipeline.token(LEARNER).split(".")
    cookies = {"edx-jwt-cookie-header-payload": f"{header}.{payload}", "edx-jwt-cookie-signature": signature}
    r = pipeline.get("/api/dashboard/v0/programs/", headers={"USE-JWT-COOKIE": "true"}, cookies=cookies)
    assert r.status_code == 200
    assert [p["uuid"] for p in r.json()] == [PB, PA]


def test_post_program_routes_is_405(pipeline: Pipeline) -> None:
    import httpx

    headers = {"Authorization": f"JWT {pipeline.token(LEARNER)}"}
    r = httpx.post(pipeline.api_url + "/api/dashboard/v0/programs/", headers=headers, timeout=10)
    assert r.status_code == 405


def test_head_and_conditional_get_on_program_routes(pipeline: Pipeline) -> None:
    import httpx

    headers = {"Authorization": f"JWT {pipeline.token(LEARNER)}"}
    url = pipeline.api_url + f"/api/dashboard/v0/programs/{PA}/progress_details/"
    first = httpx.get(url, headers=headers, timeout=10)
    assert first.headers["cache-control"] == "private, no-cache"
    head = httpx.head(url, headers=headers, timeout=10)
    assert head.status_code == 200 and head.content == b""
    again = httpx.get(url, headers={**headers, "If-None-Match": first.headers["etag"]}, timeout=10)
    assert again.status_code == 304 and again.content == b""


async def test_program_routes_answer_503_detail_when_redis_is_unreachable() -> None:
    import socket

    import httpx

    from api.app import create_app
    from api.auth import make_token
    from readmodels.settings import load_settings

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = load_settings(redis_url=f"redis://127.0.0.1:{port}/0", kafka_bootstrap="127.0.0.1:1")
    headers = {"Authorization": f"JWT {make_token(settings, LEARNER, 'learner')}"}
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            for path in ("/programs/", f"/programs/{PA}/progress_details/", f"/programs/{ENT}/"):
                r = await client.get("/api/dashboard/v0" + path, headers=headers)
                assert r.status_code == 503, (path, r.text)
                assert set(r.json()) == {"detail", "request_id"}
