"""Program progress counting (API.md "Counting"): which bucket each course of a program is in for
a learner, shared by every route that counts (list, progress_details, the course route's
`related_programs`) and by the projected program-progress topic. Pure: program document + learner
facts + now -> progress. The response bodies built on it are in program_bodies.py.

    progress(program: dict, user: UserFacts, now: datetime, *, enterprise_uuid: str | None = None,
             courses: Courses = NO_COURSES) -> ProgramProgress   (the course objects per bucket)
    progress_counted(...) -> CountedProgress   (the counts only; same rules, no copies)

`program` is the stored program document (events.catalog.ProgramSnapshot as JSON);
`enterprise_uuid` restricts the learner's enrollments to those linked to that enterprise;
`courses` holds the effective published course (pacing, end, certificate_available_date) of the
runs where the learner has a passing certificate (readmodels/views/certificates.py
`effective_courses`), for the certificate-date rule; a run without one counts as viewable.

Choices where the contract is silent (each follows upstream's ProgramProgressMeter unless said):
- Certificates are never filtered by enterprise: only enrollments are (upstream passes the
  filtered enrollments to the meter and lets it read every certificate of the user).
- A run whose certificate does not complete it (a status that does not pass, or certificates not
  viewable yet: upstream's "failed" runs) does not keep its course in progress through an
  enrollment of the run's own type (upstream `_is_course_in_progress`; reference
  openedx-api-behaviour.md §8); the course then counts as `not_started` with `expired: true`, as
  upstream's `test_simulate_progress` shows for a certificate waiting for its date.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from events.base import parse_time
from readmodels import fieldnames
from readmodels.facts import ReadUserFacts, UserFacts
from readmodels.views.certificates import certificates_viewable, counted_by_meter, is_passing_status

Courses = Mapping[str, Mapping[str, Any]]  # run key -> effective published course
NO_COURSES: Courses = {}


@dataclass(frozen=True)
class CountedProgress:
    """The counts of a program's buckets (`progress_counted`; `ProgramProgress.counted()`)."""

    completed: int
    in_progress: int
    not_started: int
    all_unenrolled: bool

    def counts(self) -> dict[str, Any]:
        """The counts as the routes and the projected program-progress state show them."""
        return {
            "completed": self.completed,
            "in_progress": self.in_progress,
            "not_started": self.not_started,
            "all_unenrolled": self.all_unenrolled,
        }


@dataclass(frozen=True)
class ProgramProgress:
    completed: list[dict[str, Any]] = field(default_factory=list)  # catalog course objects
    in_progress: list[dict[str, Any]] = field(default_factory=list)
    not_started: list[dict[str, Any]] = field(default_factory=list)
    all_unenrolled: bool = True

    def counted(self) -> CountedProgress:
        return CountedProgress(len(self.completed), len(self.in_progress), len(self.not_started), self.all_unenrolled)

    def counts(self) -> dict[str, Any]:
        return self.counted().counts()


@dataclass(frozen=True)
class Enrollment:
    mode: str
    is_active: bool
    created: datetime | None


# Learner facts -----------------------------------------------------------------------------------


def mode_of(mode: str | None) -> str | None:
    """Upstream treats `no-id-professional` as `professional` for enrollments and certificates."""
    return "professional" if mode == "no-id-professional" else mode


def catalog_time(value: Any) -> datetime | None:
    """A time of a catalog or learner document (None when absent or unparseable)."""
    if not value:
        return None
    return _parsed(str(value))


@lru_cache(maxsize=8192)
def _parsed(text: str) -> datetime | None:
    """Catalog times repeat across runs, programs and requests: parse each text once."""
    try:
        return parse_time(text)
    except ValueError:
        return None


def active_enrollments(user: UserFacts, enterprise_uuid: str | None = None) -> dict[str, Enrollment]:
    """The learner's active enrollments by run key; with an enterprise, only the linked ones.
    Read-only for callers: on a request's ReadUserFacts it is computed once and shared (the course
    route's related programs and the list route count every program over the same enrollments)."""
    if isinstance(user, ReadUserFacts):
        found: dict[str, Enrollment] = user.derived(
            ("active_enrollments", enterprise_uuid), lambda: _active_enrollments(user, enterprise_uuid)
        )
        return found
    return _active_enrollments(user, enterprise_uuid)


def _active_enrollments(user: UserFacts, enterprise_uuid: str | None) -> dict[str, Enrollment]:
    out: dict[str, Enrollment] = {}
    linked = user.with_prefix(fieldnames.f_enterprise_prefix(enterprise_uuid.lower())) if enterprise_uuid else None
    for run_key, enr in user.with_prefix(fieldnames.F_ENROLLMENT_PREFIX).items():
        if not isinstance(enr, dict) or enr.get("is_active") is not True:
            continue
        if linked is not None and linked.get(run_key) is not True:
            continue
        out[run_key] = Enrollment(str(enr.get("mode") or ""), True, catalog_time(enr.get("created")))
    return out


def meter_certificates(user: UserFacts) -> dict[str, dict[str, Any]]:
    """Run key -> certificate fact, for every certificate upstream's meter takes into account
    (`counted_by_meter`: all but `audit_passing`/`audit_notpassing`), read-only for callers: shared
    per request as active_enrollments."""
    if isinstance(user, ReadUserFacts):
        found: dict[str, dict[str, Any]] = user.derived("meter_certificates", lambda: _certificates(user))
        return found
    return _certificates(user)


def _certificates(user: UserFacts) -> dict[str, dict[str, Any]]:
    return {
        run_key: cert
        for run_key, cert in user.with_prefix(fieldnames.F_CERTIFICATE_PREFIX).items()
        if counted_by_meter(cert)
    }


# Counting rules ----------------------------------------------------------------------------------


def certificate_completes_run(cert: dict[str, Any], run_type: str) -> bool:
    """Rule 1: the certificate's mode matches the run type (`credit` runs accept `verified`)."""
    mode = mode_of(cert.get("mode"))
    run_type = mode_of(run_type) or ""
    return mode == run_type or (run_type == "credit" and mode == "verified")


def _seat_open(run: dict[str, Any], now: datetime) -> bool:
    """A seat of the run's own type with no upgrade deadline or a future one."""
    for seat in run.get("seats") or ():
        if seat.get("type") == run.get("type"):
            deadline = catalog_time(seat.get("upgrade_deadline"))
            if deadline is None or deadline > now:
                return True
    return False


def certificate_passed(cert: dict[str, Any], course: Mapping[str, Any] | None, now: datetime) -> bool:
    """Rule 1 but the mode: a passing status (`downloadable`, `generating`) whose course shows its
    certificates now (the certificate date; a course never published counts as showing them, as
    upstream counts a run without a course overview). Evaluated at read time: a certificate
    waiting for its date completes the course once the date has passed, with no new event."""
    return is_passing_status(cert.get("status")) and (course is None or certificates_viewable(course, now))


def run_in_progress(run: dict[str, Any], enrollment: Enrollment, now: datetime, *, failed: bool = False) -> bool:
    """Rule 2 for one actively enrolled run: enrolled in the run's own type, unless the run failed
    (upstream), or a seat of the run's type can still be bought."""
    if mode_of(enrollment.mode) == mode_of(run.get("type")):
        return not failed
    return _seat_open(run, now)


# Progress ----------------------------------------------------------------------------------------


def run_states(
    course: dict[str, Any], certificates: dict[str, dict[str, Any]], courses: Courses, now: datetime
) -> tuple[set[str], set[str]]:
    """(runs whose certificate completes the course (rule 1), runs that failed: a certificate that
    does not pass or is not viewable yet), as upstream's `completed_course_runs` and
    `failed_course_runs` for this course."""
    completing: set[str] = set()
    failed: set[str] = set()
    for run in course.get("course_runs") or ():
        cert = certificates.get(run["key"])
        if cert is None:
            continue
        if not certificate_passed(cert, courses.get(run["key"]), now):
            failed.add(run["key"])
        elif certificate_completes_run(cert, run.get("type", "")):
            completing.add(run["key"])
    return completing, failed


def progress(
    program: dict[str, Any],
    user: UserFacts,
    now: datetime,
    *,
    enterprise_uuid: str | None = None,
    courses: Courses = NO_COURSES,
) -> ProgramProgress:
    """Count every course of the program, in catalog order (API.md "Counting").

    The course objects are the catalog's (shallow copies, `expired: true` on enrolled-but-lapsed
    courses); their runs are extended with the learner's fields by program_bodies.extend_course,
    which only progress_details needs. Counting stays cheap for the course route and the change records.
    """
    buckets: tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]] = ([], [], [])
    any_enrolled = False
    for course, bucket, enrolled in _classified(program, user, now, enterprise_uuid, courses):
        any_enrolled = any_enrolled or enrolled
        obj = dict(course)
        if bucket == NOT_STARTED and enrolled:
            obj["expired"] = True
        buckets[bucket].append(obj)
    completed, in_progress, not_started = buckets
    return ProgramProgress(completed, in_progress, not_started, all_unenrolled=not any_enrolled)


COMPLETED, IN_PROGRESS, NOT_STARTED = range(3)


def _classified(
    program: dict[str, Any], user: UserFacts, now: datetime, enterprise_uuid: str | None, courses: Courses
) -> Iterator[tuple[dict[str, Any], int, bool]]:
    """(catalog course, bucket, whether the learner is actively enrolled in one of its runs), in
    catalog order: the counting rules, shared by `progress` and `progress_counted`."""
    enrollments = active_enrollments(user, enterprise_uuid)
    certificates = meter_certificates(user)
    for course in program.get("courses") or ():
        enrolled = [run for run in course.get("course_runs") or () if run["key"] in enrollments]
        completing, failed = run_states(course, certificates, courses, now) if certificates else ((), ())
        if completing:
            yield course, COMPLETED, bool(enrolled)
        elif any(run_in_progress(run, enrollments[run["key"]], now, failed=run["key"] in failed) for run in enrolled):
            yield course, IN_PROGRESS, bool(enrolled)
        else:
            yield course, NOT_STARTED, bool(enrolled)


def progress_counted(
    program: dict[str, Any],
    user: UserFacts,
    now: datetime,
    *,
    enterprise_uuid: str | None = None,
    courses: Courses = NO_COURSES,
) -> CountedProgress:
    """`progress` counted only: same rules (_classified), no copies of the course objects."""
    counts = [0, 0, 0]
    any_enrolled = False
    for _course, bucket, enrolled in _classified(program, user, now, enterprise_uuid, courses):
        any_enrolled = any_enrolled or enrolled
        counts[bucket] += 1
    return CountedProgress(counts[0], counts[1], counts[2], all_unenrolled=not any_enrolled)


def program_runs(program: dict[str, Any]) -> set[str]:
    """The keys of every run of every course of a program document."""
    return {run["key"] for course in program.get("courses") or () for run in course.get("course_runs") or ()}
