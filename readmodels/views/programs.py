"""Program progress counting (API.md "Counting"), shared by the program routes and the course
route's `related_programs`. Pure: program document + learner facts + now -> progress.

Interface (stable; the course route depends on it):

    progress(program: dict, user: UserFacts, now: datetime, *, enterprise_uuid: str | None = None,
             courses: Courses = NO_COURSES) -> ProgramProgress

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
- `is_enrolled` on a run is true for an active (counted) enrollment, and also for the run whose
  certificate completed the course: the enterprise portal reads the completed course's run
  through `isEnrolled` and breaks without one (real-clients.md §3 item 28).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from events.base import format_time, parse_time
from readmodels.facts import ReadUserFacts, UserFacts
from readmodels.views.certificates import certificates_viewable, counted_by_meter, is_passing_status, run_course

CERT_DOWNLOADABLE = "downloadable"
RUN_TIME_FIELDS = ("start", "end", "enrollment_start", "enrollment_end")
BANNER_SIZES = ("large", "medium", "small", "x-small")
# Upstream's DEFAULT_ENROLLMENT_START_DATE: a run without an enrollment start shows this date.
DEFAULT_ENROLLMENT_START = datetime(1900, 1, 1, tzinfo=UTC)

Courses = Mapping[str, Mapping[str, Any]]  # run key -> effective published course
NO_COURSES: Courses = {}


@dataclass(frozen=True)
class ProgramProgress:
    completed: list[dict[str, Any]] = field(default_factory=list)  # catalog course objects
    in_progress: list[dict[str, Any]] = field(default_factory=list)
    not_started: list[dict[str, Any]] = field(default_factory=list)
    all_unenrolled: bool = True

    def counts(self) -> dict[str, Any]:
        return {
            "completed": len(self.completed),
            "in_progress": len(self.in_progress),
            "not_started": len(self.not_started),
            "all_unenrolled": self.all_unenrolled,
        }


@dataclass(frozen=True)
class Enrollment:
    mode: str
    is_active: bool
    created: datetime | None


# Learner facts -----------------------------------------------------------------------------------


def _mode(mode: str | None) -> str | None:
    """Upstream treats `no-id-professional` as `professional` for enrollments and certificates."""
    return "professional" if mode == "no-id-professional" else mode


def _time(value: Any) -> datetime | None:
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


@lru_cache(maxsize=8192)
def _formatted(text: str) -> str | None:
    t = _parsed(text)
    return format_time(t) if t else None


def _api_time(value: Any) -> str | None:
    """A catalog time in the API's format (null when absent or unparseable)."""
    return _formatted(str(value)) if value else None


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
    linked = user.with_prefix(f"ent:{enterprise_uuid.lower()}:") if enterprise_uuid else None
    for run_key, enr in user.with_prefix("enr:").items():
        if not isinstance(enr, dict) or enr.get("is_active") is not True:
            continue
        if linked is not None and linked.get(run_key) is not True:
            continue
        out[run_key] = Enrollment(str(enr.get("mode") or ""), True, _time(enr.get("created")))
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
    return {run_key: cert for run_key, cert in user.with_prefix("cert:").items() if counted_by_meter(cert)}


# Counting rules ----------------------------------------------------------------------------------


def certificate_completes_run(cert: dict[str, Any], run_type: str) -> bool:
    """Rule 1: the certificate's mode matches the run type (`credit` runs accept `verified`)."""
    mode = _mode(cert.get("mode"))
    run_type = _mode(run_type) or ""
    return mode == run_type or (run_type == "credit" and mode == "verified")


def _seat_open(run: dict[str, Any], now: datetime) -> bool:
    """A seat of the run's own type with no upgrade deadline or a future one."""
    for seat in run.get("seats") or ():
        if seat.get("type") == run.get("type"):
            deadline = _time(seat.get("upgrade_deadline"))
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
    if _mode(enrollment.mode) == _mode(run.get("type")):
        return not failed
    return _seat_open(run, now)


# Course objects for progress_details ---------------------------------------------------------------


def relative_url(url: str | None) -> str | None:
    """The enterprise portal prefixes course certificate urls with its LMS base url."""
    if not url:
        return None
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        return url if url.startswith("/") else "/" + url
    rel = parts.path or "/"
    if parts.query:
        rel += "?" + parts.query
    if parts.fragment:
        rel += "#" + parts.fragment
    return rel


def _short_date(t: datetime | None) -> str | None:
    return t.strftime("%b %d, %Y") if t else None


def _upgrade_url(run: dict[str, Any], enrollment: Enrollment | None, now: datetime, ecommerce_url: str) -> str | None:
    """The checkout url for the seat of the run's type, when an enrolled learner may still buy it."""
    if enrollment is None or _mode(enrollment.mode) == _mode(run.get("type")):
        return None
    for seat in run.get("seats") or ():
        if seat.get("type") == run.get("type") and seat.get("sku"):
            deadline = _time(seat.get("upgrade_deadline"))
            if deadline is None or deadline > now:
                return f"{ecommerce_url.rstrip('/')}/basket/add/?sku={seat['sku']}"
    return None


def extended_run(
    run: dict[str, Any],
    *,
    enrollment: Enrollment | None,
    certificate: dict[str, Any] | None,
    completed_here: bool,
    now: datetime,
    ecommerce_url: str,
    course: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    out = dict(run)
    times = {name: _time(run.get(name)) for name in RUN_TIME_FIELDS}
    for name in RUN_TIME_FIELDS:
        out[name] = _api_time(run.get(name))
    out["seats"] = [
        {**seat, "upgrade_deadline": _api_time(seat.get("upgrade_deadline"))} for seat in run.get("seats") or ()
    ]
    start, end = times["enrollment_start"], times["enrollment_end"]
    ended = times["end"] is not None and times["end"] < now
    out["title"] = run.get("title")
    out["advertised_start"] = run.get("advertised_start")
    out["pacing_type"] = str(run.get("pacing_type") or "")
    out["is_enrolled"] = enrollment is not None or completed_here
    out["is_enrollment_open"] = (start is None or start <= now) and (end is None or now < end)
    out["enrollment_open_date"] = _short_date(start or DEFAULT_ENROLLMENT_START)
    out["is_course_ended"] = ended
    # Upstream certificates_viewable_for_course, on the published course (else the catalog run);
    # the certificate url only for a downloadable certificate the learner may view now.
    viewable = certificates_viewable(course if course is not None else run_course(run), now)
    out["may_certify"] = viewable
    downloadable = certificate is not None and certificate.get("status") == CERT_DOWNLOADABLE
    out["certificate_url"] = (
        relative_url(certificate.get("download_url")) if certificate and downloadable and viewable else None
    )
    out["course_url"] = f"/courses/{run['key']}/course/"
    out["upgrade_url"] = _upgrade_url(run, enrollment, now, ecommerce_url)
    out["is_mobile_only"] = False
    return out


# Progress ----------------------------------------------------------------------------------------


def _run_states(
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
    courses); their runs are extended with the learner's fields by `extend_course`, which only
    progress_details needs. Counting stays cheap for the course route and the change records.
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
        completing, failed = _run_states(course, certificates, courses, now) if certificates else ((), ())
        if completing:
            yield course, COMPLETED, bool(enrolled)
        elif any(run_in_progress(run, enrollments[run["key"]], now, failed=run["key"] in failed) for run in enrolled):
            yield course, IN_PROGRESS, bool(enrolled)
        else:
            yield course, NOT_STARTED, bool(enrolled)


@dataclass(frozen=True)
class CountedProgress:
    """What `progress(...).counts()` gives, without the course objects (the course route's related
    programs and the list route need only the counts)."""

    completed: int
    in_progress: int
    not_started: int
    all_unenrolled: bool

    def counts(self) -> dict[str, Any]:
        return {
            "completed": self.completed,
            "in_progress": self.in_progress,
            "not_started": self.not_started,
            "all_unenrolled": self.all_unenrolled,
        }


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


def extend_course(
    course: dict[str, Any],
    enrollments: dict[str, Enrollment],
    certificates: dict[str, dict[str, Any]],
    now: datetime,
    *,
    ecommerce_url: str,
    courses: Courses = NO_COURSES,
) -> dict[str, Any]:
    """A course object of `progress` with its runs extended for progress_details."""
    completing, _failed = _run_states(course, certificates, courses, now)
    out = dict(course)
    out["course_runs"] = [
        extended_run(
            run,
            enrollment=enrollments.get(run["key"]),
            certificate=certificates.get(run["key"]),
            completed_here=run["key"] in completing,
            now=now,
            ecommerce_url=ecommerce_url,
            course=courses.get(run["key"]),
        )
        for run in course.get("course_runs") or ()
    ]
    out.setdefault("entitlements", [])
    return out


def banner_image(program: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Always the four sizes; `{url: "", width: 0, height: 0}` for a size the catalog lacks."""
    given = program.get("banner_image") or {}
    out: dict[str, dict[str, Any]] = {}
    for size in BANNER_SIZES:
        img = given.get(size) or {}
        out[size] = {
            "url": img.get("url") or "",
            "width": int(img.get("width") or 0),
            "height": int(img.get("height") or 0),
        }
    return out


# Route bodies ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DetailUrls:
    """The deployment's base urls the progress_details body links to."""

    ecommerce_url: str
    credentials_url: str


def list_entries(
    programs: dict[str, dict[str, Any]],
    user: UserFacts,
    now: datetime,
    *,
    enterprise_uuid: str | None = None,
    courses: Courses = NO_COURSES,
) -> list[dict[str, Any]]:
    """The learner's programs (the list route): every program with a run among the learner's
    active (with an enterprise: linked) enrollments, newest enrollment first; programs sharing that
    date by title (upstream sorts the programs of one enrollment's run by title), then uuid."""
    enrollments = active_enrollments(user, enterprise_uuid)
    newest: dict[str, tuple[float, str]] = {}
    for uuid, program in programs.items():
        if not program:
            continue
        created = [
            enrollments[run["key"]].created
            for course in program.get("courses") or ()
            for run in course.get("course_runs") or ()
            if run.get("key") in enrollments
        ]
        if created:
            stamps = [c.timestamp() for c in created if c is not None]
            newest[uuid] = (max(stamps) if stamps else float("-inf"), str(program.get("title") or ""))
    ordered = sorted(newest, key=lambda u: (-newest[u][0], newest[u][1], u))
    entries = []
    for uuid in ordered:
        program = programs[uuid]
        counts = progress_counted(program, user, now, enterprise_uuid=enterprise_uuid, courses=courses).counts()
        entries.append(
            {
                "uuid": program["uuid"],
                "title": program.get("title") or "",
                "type": program.get("type") or "",
                "banner_image": banner_image(program),
                "authoring_organizations": [
                    {"key": org.get("key"), "logo_image_url": org.get("logo_image_url")}
                    for org in program.get("authoring_organizations") or ()
                ],
                "progress": {"uuid": program["uuid"], **counts},
            }
        )
    return entries


def logged_in_url(url: str | None) -> str | None:
    """Upstream's get_logged_in_program_certificate_url: the credential behind the credentials
    site's login (`force_program_cert_auth`, on by default)."""
    if not url:
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/login/", "next=" + parts.path, ""))


def _certificate_data(program: dict[str, Any], result: ProgramProgress, user: UserFacts) -> list[dict[str, Any]]:
    """Upstream's get_certificates: one earned certificate per course (the first run that may
    certify and has one), then the program certificate when awarded, and only once every course
    of the program has a course certificate."""
    certs: list[dict[str, Any]] = []
    order = {c["key"]: i for i, c in enumerate(program.get("courses") or ())}
    courses = sorted((*result.completed, *result.in_progress, *result.not_started), key=lambda c: order[c["key"]])
    for course in courses:
        for run in course["course_runs"]:
            if run.get("may_certify") and run.get("certificate_url"):
                certs.append(
                    {"type": "course", "title": run.get("title") or course.get("title"), "url": run["certificate_url"]}
                )
                break
    pcert = user.get(f"pcert:{program['uuid']}")
    if isinstance(pcert, dict) and pcert.get("awarded") is True and len(certs) == len(courses):
        certs.append({"type": "program", "title": program.get("title"), "url": logged_in_url(pcert.get("url"))})
    return certs


def seat_types(program: dict[str, Any]) -> list[str]:
    """The program's applicable seat types as upstream's progress_details shows them:
    `no-id-professional` added when `professional` is one."""
    types = list(program.get("applicable_seat_types") or ())
    return [*types, "no-id-professional"] if "professional" in types else types


def _purchase_skus(program: dict[str, Any], enrollments: dict[str, Enrollment]) -> list[str]:
    """Upstream's one-click purchase (ProgramDataExtender._collect_one_click_purchase_eligibility_data,
    without entitlement products): the courses not yet held through an active enrollment in an
    applicable mode; for each, the sku of the applicable (non-credit) seat of its one published
    run; a course with no or several published runs makes the learner ineligible."""
    if not program.get("is_program_eligible_for_one_click_purchase"):
        return []
    applicable = seat_types(program)
    buyable = {t for t in applicable if t != "credit"}
    held = {key for key, enr in enrollments.items() if enr.mode in applicable}
    skus: list[str] = []
    for course in program.get("courses") or ():
        runs = course.get("course_runs") or ()
        if any(run["key"] in held for run in runs):
            continue
        published = [run for run in runs if run.get("status") == "published"]
        if len(published) != 1:
            return []
        sku = next(
            (s.get("sku") for s in published[0].get("seats") or () if s.get("type") in buyable and s.get("sku")), None
        )
        if sku:
            skus.append(sku)
    return skus


def progress_details(
    program: dict[str, Any], user: UserFacts, now: datetime, urls: DetailUrls, *, courses: Courses = NO_COURSES
) -> dict[str, Any]:
    """The progress_details body for a known program."""
    counted = progress(program, user, now, courses=courses)
    enrollments, certificates = active_enrollments(user), meter_certificates(user)

    def extend(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            extend_course(c, enrollments, certificates, now, ecommerce_url=urls.ecommerce_url, courses=courses)
            for c in objs
        ]

    result = ProgramProgress(
        extend(counted.completed),
        extend(counted.in_progress),
        extend(counted.not_started),
        all_unenrolled=counted.all_unenrolled,
    )
    earned = _certificate_data(program, result, user)
    skus = _purchase_skus(program, enrollments)
    # Upstream lists a pathway only when it has an email (get_industry_and_credit_pathways).
    pathways = list(program.get("pathways") or ())
    shown = [p for p in pathways if p.get("email")]
    program_data = {k: v for k, v in program.items() if k not in ("courses", "pathways")}
    program_data["authoring_organizations"] = list(program.get("authoring_organizations") or ())
    program_data["banner_image"] = banner_image(program)
    program_data["pathway_ids"] = [p["id"] for p in pathways]
    program_data["applicable_seat_types"] = seat_types(program)
    program_data["is_learner_eligible_for_one_click_purchase"] = bool(skus)
    program_data["skus"] = skus
    program_data["is_mobile_only"] = False
    uuid = program["uuid"]
    basket = f"{urls.ecommerce_url.rstrip('/')}/basket/add/?" + "&".join(f"sku={s}" for s in skus)
    record = f"{urls.credentials_url.rstrip('/')}/records/programs/{uuid.replace('-', '')}"
    return {
        "urls": {
            "program_listing_url": "/dashboard/programs/",
            "track_selection_url": "/course_modes/choose/",
            "commerce_api_url": "/api/commerce/v0/baskets/",
            "buy_button_url": basket,
            "program_record_url": record if earned else None,
        },
        "program_data": program_data,
        "course_data": {
            "uuid": uuid,
            "completed": result.completed,
            "in_progress": result.in_progress,
            "not_started": result.not_started,
            "all_unenrolled": result.all_unenrolled,
        },
        "certificate_data": earned,
        "industry_pathways": [p for p in shown if p.get("pathway_type") == "industry"],
        "credit_pathways": [p for p in shown if p.get("pathway_type") == "credit"],
    }
