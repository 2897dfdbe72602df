"""Stand-ins of the edx-platform interfaces the plugin reads, at upstream's import paths.

edx-platform cannot be installed from a package index, so `install()` registers modules under
the paths `learner_projector_openedx.edx_platform` and apps.py use (`lms.djangoapps...`,
`openedx.core...`, `xmodule.modulestore...`, `enterprise.models`) holding the stand-in models
(standin_app/models.py) and small stand-ins of the non-model interfaces (modulestore, course
details, gating, catalog cache, waffle flags, configuration models, upstream Django signals).
Their state is `STATE`, which each test resets. edx-completion, openedx-events,
edx-event-bus-kafka, edx-django-utils and XBlock are the real packages.
"""

from __future__ import annotations

import contextlib
import sys
import types
from dataclasses import dataclass, field
from typing import Any

from django.dispatch import Signal


@dataclass
class State:
    courses: dict[Any, Any] = field(default_factory=dict)  # course key -> course block (modulestore)
    details: dict[Any, Any] = field(default_factory=dict)  # course key -> CourseDetails
    prerequisites: dict[str, tuple[str, str]] = field(default_factory=dict)  # gated usage key -> (prereq, min %)
    flags: set[str] = field(default_factory=set)  # enabled waffle flag / config names
    programs: list[dict[str, Any]] = field(default_factory=list)  # the catalog cache
    pathways: list[dict[str, Any]] = field(default_factory=list)


STATE = State()


class Flag:
    """A CourseWaffleFlag: `is_enabled(course_key)`."""

    def __init__(self, name: str) -> None:
        self.name = name

    def is_enabled(self, course_key: Any = None) -> bool:
        return self.name in STATE.flags


def _config(name: str) -> type:
    """A StackedConfigurationModel with `enabled_for_course(course_key=...)`."""
    return type(name, (), {"enabled_for_course": classmethod(lambda cls, course_key=None: name in STATE.flags)})


class ModuleStoreEnum:
    class Branch:
        published_only = "published-only"
        draft_preferred = "draft-preferred"


class Store:
    """The modulestore: `branch_setting()` and `get_course()` over `STATE.courses`."""

    @contextlib.contextmanager
    def branch_setting(self, branch: str, course_key: Any = None) -> Any:
        yield

    def get_course(self, course_key: Any, depth: int | None = 0, **kwargs: Any) -> Any:
        return STATE.courses.get(course_key)


class CourseDetails:
    @classmethod
    def fetch(cls, course_key: Any) -> Any:
        return STATE.details.get(course_key) or types.SimpleNamespace(
            short_description=None, overview=None, effort=None, intro_video=None, language=None)


def get_required_content(course_key: Any, gated_content_key: Any) -> tuple[Any, Any, Any]:
    prereq, min_score = STATE.prerequisites.get(str(gated_content_key), (None, None))
    return prereq, min_score, None


def get_programs(site: Any = None, **kwargs: Any) -> list[dict[str, Any]]:
    return list(STATE.programs)


def get_pathways(site: Any, pathway_id: Any = None) -> list[dict[str, Any]]:
    return list(STATE.pathways)


def course_image_url(course: Any, image_key: str = "course_image") -> str:
    return f"/asset-v1:{course.id.org}+{course.id.course}+{course.id.run}+type@asset+block@{course.course_image}"


SUBSECTION_SCORE_CHANGED = Signal()
PROBLEM_WEIGHTED_SCORE_CHANGED = Signal()  # edx-completion's own plugin receiver listens to it
COURSE_PUBLISHED = Signal()


def _module(path: str, **attrs: Any) -> None:
    parts = path.split(".")
    for i in range(1, len(parts)):
        parent = ".".join(parts[:i])
        if parent not in sys.modules:
            package = types.ModuleType(parent)
            package.__path__ = []
            sys.modules[parent] = package
    module = sys.modules.get(path) or types.ModuleType(path)
    module.__dict__.update(attrs)
    sys.modules[path] = module
    if len(parts) > 1:
        setattr(sys.modules[".".join(parts[:-1])], parts[-1], module)


def install() -> None:
    from tests.standin_app import models as m

    store = Store()
    _module("common.djangoapps.student.models", CourseEnrollment=m.CourseEnrollment,
            CourseEnrollmentCelebration=m.CourseEnrollmentCelebration, CourseAccessRole=m.CourseAccessRole,
            UserProfile=m.UserProfile)
    _module("common.djangoapps.course_modes.models", CourseMode=m.CourseMode)
    _module("lms.djangoapps.course_goals.models", CourseGoal=m.CourseGoal)
    _module("lms.djangoapps.courseware.models", StudentModule=m.StudentModule,
            XModuleStudentInfoField=m.XModuleStudentInfoField)
    _module("lms.djangoapps.courseware.toggles", **{name: Flag(name) for name in (
        "COURSEWARE_MICROFRONTEND_PROGRESS_MILESTONES",
        "COURSEWARE_MICROFRONTEND_PROGRESS_MILESTONES_STREAK_CELEBRATION",
        "COURSEWARE_MICROFRONTEND_PROGRESS_MILESTONES_STREAK_DISCOUNT",
        "COURSEWARE_MICROFRONTEND_COURSE_EXIT_PAGE")})
    _module("lms.djangoapps.grades.models", PersistentSubsectionGrade=m.PersistentSubsectionGrade,
            PersistentCourseGrade=m.PersistentCourseGrade)
    _module("lms.djangoapps.grades.signals.signals", SUBSECTION_SCORE_CHANGED=SUBSECTION_SCORE_CHANGED,
            PROBLEM_WEIGHTED_SCORE_CHANGED=PROBLEM_WEIGHTED_SCORE_CHANGED)
    _module("lms.djangoapps.certificates.models", GeneratedCertificate=m.GeneratedCertificate)
    _module("openedx.core.djangoapps.user_api.models", UserPreference=m.UserPreference)
    _module("openedx.core.djangoapps.bookmarks.models", Bookmark=m.Bookmark)
    _module("openedx.core.djangoapps.agreements.models", IntegritySignature=m.IntegritySignature)
    _module("openedx.core.djangoapps.content.course_overviews.models", CourseOverview=m.CourseOverview)
    _module("openedx.core.djangoapps.models.course_details", CourseDetails=CourseDetails)
    _module("openedx.core.djangoapps.catalog.utils", get_programs=get_programs, get_pathways=get_pathways)
    _module("openedx.core.lib.courses", course_image_url=course_image_url)
    _module("openedx.core.lib.gating.api", get_required_content=get_required_content)
    _module("openedx.features.course_experience", ENABLE_COURSE_GOALS=Flag("ENABLE_COURSE_GOALS"))
    _module("openedx.features.content_type_gating.models", ContentTypeGatingConfig=_config("ContentTypeGatingConfig"))
    _module("openedx.features.course_duration_limits.models",
            CourseDurationLimitConfig=_config("CourseDurationLimitConfig"))
    _module("xmodule.modulestore", ModuleStoreEnum=ModuleStoreEnum)
    _module("xmodule.modulestore.django", modulestore=lambda: store, COURSE_PUBLISHED=COURSE_PUBLISHED)
    _module("enterprise.models", EnterpriseCustomer=m.EnterpriseCustomer,
            EnterpriseCustomerUser=m.EnterpriseCustomerUser, EnterpriseCourseEnrollment=m.EnterpriseCourseEnrollment)


def reset() -> None:
    STATE.__init__()  # type: ignore[misc]
