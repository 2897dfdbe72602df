"""The program route bodies (API.md "GET /api/dashboard/v1/programs/..."): the list entries and
progress_details, built on the counting rules of program_progress.py. Pure: program documents +
learner facts + now -> response body.

Choices where the contract is silent (each follows upstream unless said):
- `is_enrolled` on a run is true for an active (counted) enrollment, and also for the run whose
  certificate completed the course: the enterprise portal reads the completed course's run
  through `isEnrolled` and breaks without one (real-clients.md §3 item 28).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from events.base import format_time
from readmodels import fieldnames
from readmodels.facts import UserFacts
from readmodels.views.certificates import certificates_viewable, run_course
from readmodels.views.program_progress import (
    NO_COURSES,
    Courses,
    Enrollment,
    ProgramProgress,
    active_enrollments,
    catalog_time,
    meter_certificates,
    mode_of,
    progress,
    progress_counted,
    run_states,
)

RUN_TIME_FIELDS = ("start", "end", "enrollment_start", "enrollment_end")
BANNER_SIZES = ("large", "medium", "small", "x-small")
CERT_DOWNLOADABLE = "downloadable"
# Upstream's DEFAULT_ENROLLMENT_START_DATE: a run without an enrollment start shows this date.
DEFAULT_ENROLLMENT_START = datetime(1900, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=8192)
def _formatted(text: str) -> str | None:
    t = catalog_time(text)
    return format_time(t) if t else None


def _api_time(value: Any) -> str | None:
    """A catalog time in the API's format (null when absent or unparseable)."""
    return _formatted(str(value)) if value else None


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
    if enrollment is None or mode_of(enrollment.mode) == mode_of(run.get("type")):
        return None
    for seat in run.get("seats") or ():
        if seat.get("type") == run.get("type") and seat.get("sku"):
            deadline = catalog_time(seat.get("upgrade_deadline"))
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
    times = {name: catalog_time(run.get(name)) for name in RUN_TIME_FIELDS}
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
    completing, _failed = run_states(course, certificates, courses, now)
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
    shared_documents: bool = False,
) -> list[dict[str, Any]]:
    """The learner's programs (the list route): every program with a run among the learner's
    active (with an enterprise: linked) enrollments, newest enrollment first; programs sharing that
    date by title (upstream sorts the programs of one enrollment's run by title), then uuid.
    `shared_documents`: the program documents are parsed documents shared between requests and
    never changed (readmodels/parsed.py), so what an entry takes from its program alone is made
    once per document (`_list_head`)."""
    enrollments = active_enrollments(user, enterprise_uuid)
    newest: dict[str, tuple[float, str]] = {}
    heads: dict[str, _ListHead] = {}
    for uuid, program in programs.items():
        if not program:
            continue
        head = heads[uuid] = _list_head(program) if shared_documents else _ListHead(program)
        created = [enrollments[key].created for key in head.runs() if key in enrollments]
        if created:
            stamps = [c.timestamp() for c in created if c is not None]
            newest[uuid] = (max(stamps) if stamps else float("-inf"), str(program.get("title") or ""))
    ordered = sorted(newest, key=lambda u: (-newest[u][0], newest[u][1], u))
    entries = []
    for uuid in ordered:
        program = programs[uuid]
        counts = progress_counted(program, user, now, enterprise_uuid=enterprise_uuid, courses=courses).counts()
        entry = dict(heads[uuid].fields())
        entry["progress"] = {"uuid": program["uuid"], **counts}
        entries.append(entry)
    return entries


class _ListHead:
    """What a list entry takes from its program alone, each part made on first use: the keys of the
    program's runs in catalog order, and the entry's first fields (read-only when shared)."""

    __slots__ = ("_fields", "_runs", "program")

    def __init__(self, program: dict[str, Any]) -> None:
        self.program = program
        self._runs: tuple[Any, ...] | None = None
        self._fields: dict[str, Any] | None = None

    def runs(self) -> tuple[Any, ...]:
        if self._runs is None:
            program = self.program
            self._runs = tuple(
                run.get("key") for course in program.get("courses") or () for run in course.get("course_runs") or ()
            )
        return self._runs

    def fields(self) -> dict[str, Any]:
        if self._fields is None:
            program = self.program
            self._fields = {
                "uuid": program["uuid"],
                "title": program.get("title") or "",
                "type": program.get("type") or "",
                "banner_image": banner_image(program),
                "authoring_organizations": [
                    {"key": org.get("key"), "logo_image_url": org.get("logo_image_url")}
                    for org in program.get("authoring_organizations") or ()
                ],
            }
        return self._fields


# The list heads of parsed program documents (shared between requests and never changed,
# readmodels/parsed.py), kept per document while it is in use.
_LIST_HEADS: dict[int, _ListHead] = {}
MAX_LIST_HEADS = 1024


def _list_head(program: dict[str, Any]) -> _ListHead:
    head = _LIST_HEADS.get(id(program))
    if head is not None and head.program is program:
        return head
    if len(_LIST_HEADS) >= MAX_LIST_HEADS:
        _LIST_HEADS.clear()
    head = _LIST_HEADS[id(program)] = _ListHead(program)  # holds `program`: its id is not reused meanwhile
    return head


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
    pcert = user.get(fieldnames.f_program_certificate(program["uuid"]))
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
