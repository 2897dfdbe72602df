"""Sample payloads (attrs objects) for the plugin's tests."""

from __future__ import annotations

from datetime import UTC, datetime

from learner_projector_openedx import data
from opaque_keys.edx.keys import CourseKey, UsageKey

COURSE = CourseKey.from_string("course-v1:edX+DemoX+Demo_Course")


def key(kind: str, name: str) -> UsageKey:
    return COURSE.make_usage_key(kind, name)


def features(**on: bool) -> data.Features:
    names = [a.name for a in data.Features.__attrs_attrs__]
    return data.Features(**{n: on.get(n, False) for n in names})


def course_published() -> data.CoursePublishedData:
    unit = data.Unit(block_key=key("vertical", "u1"), display_name="Unit 1", icon="problem", graded=True,
                     contains_gated_content=False,
                     blocks=[data.Block(block_key=key("problem", "p1"), block_type="problem", completable=True)])
    sequence = data.Sequence(block_key=key("sequential", "s1"), display_name="Sequence 1", graded=True,
                             hide_after_due=False, is_time_limited=False, is_proctored=False, hide_from_toc=False,
                             units=[unit])
    chapter = data.Chapter(block_key=key("chapter", "c1"), display_name="Chapter 1", sequences=[sequence])
    return data.CoursePublishedData(
        course_key=COURSE, org="edX", number="DemoX", run="Demo_Course", display_name="Demo",
        start=datetime(2024, 1, 1, tzinfo=UTC), pacing="self", show_calculator=False, invitation_only=False,
        modes=[data.Mode(slug="verified", min_price=49.0, currency="usd",
                         upgrade_deadline=datetime(2030, 5, 6, 7, 8, 9, 123456, tzinfo=UTC))],
        honor_certificates_enabled=True, features=features(celebrations=True), outline=[chapter])


def program() -> data.ProgramSnapshot:
    run = data.CourseRun(key=COURSE, type="verified", pacing_type="self_paced", status="published",
                         seats=[data.Seat(type="verified", price="49.00", currency="USD")])
    course = data.ProgramCourse(key="edX+DemoX", uuid="c-uuid", title="Demo", image={"src": "https://img/c.png"},
                                course_runs=[run])
    return data.ProgramSnapshot(
        uuid="0d0d0d0d-0000-4000-8000-000000000001", title="Program", type="MicroMasters", type_slug="micromasters",
        status="active", banner_image={"large": data.ImageSize(url="https://img/l.png", width=1440, height=480)},
        authoring_organizations=[data.Organization(key="edX", name="edX")], courses=[course], pathways=[],
        applicable_seat_types=["verified"], is_program_eligible_for_one_click_purchase=False)
