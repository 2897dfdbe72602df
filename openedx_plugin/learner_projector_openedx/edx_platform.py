"""Every edx-platform (and edx-enterprise) interface the plugin reads, in one module.

edx-platform is not installable from a package index, so the plugin imports it only here and only
when called (importing the plugin needs nothing of it), and the tests put stand-ins of exactly
these interfaces on the import path (tests/standins/, README "How each source was tested").
A feature toggle whose module a site does not have counts as off, logged once.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)

# Model paths, also the senders of the receivers in apps.py.
COURSE_ENROLLMENT = "common.djangoapps.student.models.CourseEnrollment"
CELEBRATION = "common.djangoapps.student.models.CourseEnrollmentCelebration"
COURSE_ACCESS_ROLE = "common.djangoapps.student.models.CourseAccessRole"
COURSE_MODE = "common.djangoapps.course_modes.models.CourseMode"
COURSE_GOAL = "lms.djangoapps.course_goals.models.CourseGoal"
STUDENT_MODULE = "lms.djangoapps.courseware.models.StudentModule"
STUDENT_INFO_FIELD = "lms.djangoapps.courseware.models.XModuleStudentInfoField"
PERSISTENT_COURSE_GRADE = "lms.djangoapps.grades.models.PersistentCourseGrade"
PERSISTENT_SUBSECTION_GRADE = "lms.djangoapps.grades.models.PersistentSubsectionGrade"
CERTIFICATE = "lms.djangoapps.certificates.models.GeneratedCertificate"
USER_PREFERENCE = "openedx.core.djangoapps.user_api.models.UserPreference"
BOOKMARK = "openedx.core.djangoapps.bookmarks.models.Bookmark"
INTEGRITY_SIGNATURE = "openedx.core.djangoapps.agreements.models.IntegritySignature"
COURSE_OVERVIEW = "openedx.core.djangoapps.content.course_overviews.models.CourseOverview"
ENTERPRISE_ENROLLMENT = "enterprise.models.EnterpriseCourseEnrollment"


def load(path: str) -> Any:
    """The object at a dotted path (`module.attr`)."""
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def installed(path: str) -> bool:
    try:
        load(path)
    except (ImportError, AttributeError):
        return False
    return True


# --- learners --------------------------------------------------------------------------------------

def active_course_keys(user_id: int) -> list[Any]:
    enrollment = load(COURSE_ENROLLMENT)
    return list(enrollment.objects.filter(user_id=user_id, is_active=True).values_list("course_id", flat=True))


# --- Studio content (modulestore) ------------------------------------------------------------------

def published_course(course_key: Any) -> Any:
    """The course block of the published branch with its children loaded, as Studio's other
    publish receivers read it (edx-when), or None."""
    from xmodule.modulestore import ModuleStoreEnum
    from xmodule.modulestore.django import modulestore

    store = modulestore()
    with store.branch_setting(ModuleStoreEnum.Branch.published_only, course_key):
        return store.get_course(course_key, depth=None)


def course_keys() -> Iterator[Any]:
    """Every course run the LMS knows (its course overviews), for the backfill."""
    overview = load(COURSE_OVERVIEW)
    yield from overview.objects.order_by("id").values_list("id", flat=True).iterator()


def course_modes(course_key: Any) -> list[Any]:
    return list(load(COURSE_MODE).objects.filter(course_id=course_key).order_by("mode_slug"))


def course_details(course_key: Any) -> Any:
    """Studio's schedule & details (short description, overview, effort, intro video, ...)."""
    return load("openedx.core.djangoapps.models.course_details.CourseDetails").fetch(course_key)


def course_image_url(course: Any) -> str | None:
    return load("openedx.core.lib.courses.course_image_url")(course) or None


def required_content(course_key: Any, block_key: Any) -> tuple[str | None, float | None]:
    """A gated subsection's prerequisite and its minimum score in percent (gating api)."""
    prereq, min_score, *_ = load("openedx.core.lib.gating.api.get_required_content")(course_key, block_key)
    return prereq, (float(min_score) if min_score not in (None, "") else None)


# --- features of a course (what the read API advertises) -------------------------------------------

_FLAGS = {
    "celebrations": "lms.djangoapps.courseware.toggles.COURSEWARE_MICROFRONTEND_PROGRESS_MILESTONES",
    "streak_celebrations":
        "lms.djangoapps.courseware.toggles.COURSEWARE_MICROFRONTEND_PROGRESS_MILESTONES_STREAK_CELEBRATION",
    "streak_discount": "lms.djangoapps.courseware.toggles.COURSEWARE_MICROFRONTEND_PROGRESS_MILESTONES_STREAK_DISCOUNT",
    "course_goals": "openedx.features.course_experience.ENABLE_COURSE_GOALS",
    "course_exit_page": "lms.djangoapps.courseware.toggles.COURSEWARE_MICROFRONTEND_COURSE_EXIT_PAGE",
}
_CONFIGS = {
    "content_type_gating": "openedx.features.content_type_gating.models.ContentTypeGatingConfig",
    "course_duration_limits": "openedx.features.course_duration_limits.models.CourseDurationLimitConfig",
}


@cache
def _missing(path: str) -> None:
    log.info("learner-projector: %s is not installed here; that feature counts as off", path)


def _flag_on(path: str, course_key: Any) -> bool:
    try:
        flag = load(path)
    except (ImportError, AttributeError):
        _missing(path)
        return False
    return bool(flag.is_enabled(course_key))


def _config_on(path: str, course_key: Any) -> bool:
    try:
        config = load(path)
    except (ImportError, AttributeError):
        _missing(path)
        return False
    return bool(config.enabled_for_course(course_key=course_key))


def _learning_assistant(course_key: Any) -> bool:
    try:
        enabled = load("learning_assistant.api.learning_assistant_enabled")
    except (ImportError, AttributeError):
        _missing("learning_assistant.api.learning_assistant_enabled")
        return False
    return bool(enabled(course_key))


def course_features(course: Any) -> dict[str, bool]:
    key = course.id
    features = getattr(settings, "FEATURES", {})
    return {
        **{name: _flag_on(path, key) for name, path in _FLAGS.items()},
        **{name: _config_on(path, key) for name, path in _CONFIGS.items()},
        "notes": bool(features.get("ENABLE_EDXNOTES")) and bool(getattr(course, "edxnotes", False)),
        "learning_assistant": _learning_assistant(key),
        "integrity_signature": bool(features.get("ENABLE_INTEGRITY_SIGNATURE")),
        "proctored_exams": bool(getattr(course, "enable_proctored_exams", False)),
    }


def honor_certificates_enabled() -> bool:
    return not getattr(settings, "FEATURES", {}).get("DISABLE_HONOR_CERTIFICATES", False)


# --- catalog programs (course-discovery data the LMS caches) --------------------------------------

def cached_programs() -> list[dict[str, Any]]:
    """Every program of every site from the LMS's catalog cache (`cache_programs` fills it)."""
    from django.contrib.sites.models import Site

    get_programs = load("openedx.core.djangoapps.catalog.utils.get_programs")
    seen: dict[str, dict[str, Any]] = {}
    for site in Site.objects.all():
        for program in get_programs(site=site) or []:
            seen.setdefault(program["uuid"], program)
    return list(seen.values())


def cached_pathways(ids: Iterable[int]) -> list[dict[str, Any]]:
    get_pathways = load("openedx.core.djangoapps.catalog.utils.get_pathways")
    from django.contrib.sites.models import Site

    wanted = set(ids)
    found: dict[int, dict[str, Any]] = {}
    for site in Site.objects.all():
        for pathway in get_pathways(site) or []:
            if pathway.get("id") in wanted:
                found.setdefault(pathway["id"], pathway)
    return [found[i] for i in sorted(found)]
