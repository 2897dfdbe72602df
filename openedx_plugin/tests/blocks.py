"""Stand-in course blocks, as the modulestore hands them to Studio's publish receivers: `location`,
`display_name`, `get_children()`, the course and subsection fields upstream's XModule mixins
define, and XBlock's `completion_mode` / `get_icon_class()` / `has_score` on components."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from opaque_keys.edx.keys import CourseKey
from xblock.completable import XBlockCompletionMode

COURSE = CourseKey.from_string("course-v1:edX+DemoX+Demo_Course")
ICONS = {"problem": "problem", "video": "video"}


class FakeBlock:
    def __init__(self, kind: str, name: str, children: list[Any] = (), **fields: Any) -> None:
        self.location = COURSE.make_usage_key(kind, name)
        self.display_name = fields.pop("display_name", name.title())
        self.children = list(children)
        self.has_children = bool(children) or kind in {"course", "chapter", "sequential", "vertical"}
        self.has_score = kind == "problem"
        if kind == "discussion":
            self.completion_mode = XBlockCompletionMode.EXCLUDED
        elif kind == "html":
            self.completion_mode = XBlockCompletionMode.COMPLETABLE
        self.__dict__.update(fields)

    def get_children(self) -> list[Any]:
        return self.children

    def get_icon_class(self) -> str:
        return ICONS.get(self.location.block_type, "other")


def demo_course(**fields: Any) -> FakeBlock:
    unit1 = FakeBlock("vertical", "u1", [FakeBlock("html", "h1"), FakeBlock("problem", "p1")])
    unit2 = FakeBlock("vertical", "u2", [FakeBlock("video", "v1"), FakeBlock("discussion", "d1")])
    graded = FakeBlock("sequential", "s1", [unit1, unit2], graded=True, format="Homework",
                       due=datetime(2030, 1, 1, tzinfo=UTC))
    exam = FakeBlock("sequential", "s2", [FakeBlock("vertical", "u3", [FakeBlock("html", "h2")])],
                     is_time_limited=True, is_proctored_exam=True, hide_from_toc=True)
    entrance = FakeBlock("chapter", "entrance", [], display_name="Entrance Exam")
    chapter = FakeBlock("chapter", "c1", [graded, exam])
    course = FakeBlock("course", "course", [entrance, chapter], display_name="Demo Course")
    course.id = COURSE
    defaults = dict(start=datetime(2024, 1, 1, tzinfo=UTC), end=None, enrollment_start=None, enrollment_end=None,
                    advertised_start=None, self_paced=True, course_image="images_course_image.jpg",
                    show_calculator=True, invitation_only=False, grade_cutoffs={"A": 0.9, "Pass": 0.6},
                    certificate_available_date=None, entrance_exam_enabled=True,
                    entrance_exam_id=str(entrance.location), entrance_exam_minimum_score_pct=0.65,
                    enable_proctored_exams=True, edxnotes=True, language="en", license=None,
                    published_on=datetime(2025, 2, 3, 4, 5, 6, tzinfo=UTC))
    course.__dict__.update({**defaults, **fields})
    return course
