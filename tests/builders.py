"""Hand-written test events: small, readable builders with sensible defaults."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from events import REGISTRY, Event

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
COURSE = "course-v1:edX+DemoX+Demo_Course"


def at(minutes: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes)


def event(type_: str, data: dict[str, Any], *, time: datetime | None = None, id: str | None = None) -> Event[Any]:
    cls = REGISTRY[type_]
    return Event(type=type_, id=id or str(uuid.uuid4()), time=time or T0, data=cls.model_validate(data))


def user(uid: int, username: str | None = None) -> dict[str, Any]:
    name = username or f"learner{uid}"
    return {"id": uid, "is_active": True, "pii": {"username": name, "email": f"{name}@example.com", "name": name}}


def block(course_key: str, block_type: str, name: str) -> str:
    return f"block-v1:{course_key.removeprefix('course-v1:')}+type@{block_type}+block@{name}"


def course_published(course_key: str = COURSE, *, time: datetime | None = None, **overrides: Any) -> Event[Any]:
    org, number, run = course_key.removeprefix("course-v1:").split("+")
    b = lambda t, n: block(course_key, t, n)  # noqa: E731
    data: dict[str, Any] = {
        "course_key": course_key, "org": org, "number": number, "run": run,
        "display_name": "Demonstration Course", "pacing": "instructor",
        "modes": [{"slug": "audit"}, {"slug": "verified", "min_price": 49, "currency": "usd"}],
        "features": {"celebrations": True, "course_goals": True, "notes": True},
        "outline": [
            {"block_key": b("chapter", "ch1"), "display_name": "Introduction", "sequences": [
                {"block_key": b("sequential", "s1"), "display_name": "Welcome", "units": [
                    {"block_key": b("vertical", "u1"), "display_name": "Hello", "icon": "video", "blocks": [
                        {"block_key": b("video", "v1"), "block_type": "video", "completable": True},
                        {"block_key": b("html", "h1"), "block_type": "html", "completable": True},
                    ]},
                    {"block_key": b("vertical", "u2"), "display_name": "Quiz", "icon": "problem", "graded": True,
                     "blocks": [{"block_key": b("problem", "p1"), "block_type": "problem", "completable": True}]},
                ]},
            ]},
        ],
    }
    data.update(overrides)
    return event("ext.content.course.published.v1", {"course": data}, time=time)


def enrollment(kind: str, uid: int, course_key: str = COURSE, *, mode: str = "audit", is_active: bool = True,
               time: datetime | None = None, created: datetime | None = None) -> Event[Any]:
    type_ = {
        "created": "org.openedx.learning.course.enrollment.created.v1",
        "changed": "org.openedx.learning.course.enrollment.changed.v1",
        "unenrolled": "org.openedx.learning.course.unenrollment.completed.v1",
    }[kind]
    data = {"enrollment": {"user": user(uid), "course": {"course_key": course_key, "display_name": "Demo"},
                           "mode": mode, "is_active": is_active,
                           "creation_date": (created or T0).isoformat().replace("+00:00", "Z")}}
    return event(type_, data, time=time)
