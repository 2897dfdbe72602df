"""The program route bodies (API.md "GET /api/dashboard/v1/programs/..."): the list entries and
progress_details, built on the counting rules of program_progress.py. Pure: program documents +
learner facts + now -> response body.

Choices where the contract is silent (each follows upstream unless said):
- `is_enrolled` on a run is true for an active (counted) enrollment, and also for the run whose
  certificate completed the course: the enterprise portal reads the completed course's run
  through `isEnrolled` and breaks without one (real-clients.md §3 item 28).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from events.base import format_time
from readmodels import keys
from readmodels.facts import UserFacts
from readmodels.views.program_progress import (
    Enrollment,
    ProgramProgress,
    active_enrollments,
    catalog_time,
    completing_runs,
    downloadable_certificates,
    mode_of,
    progress,
    progress_counted,
)

RUN_TIME_FIELDS = ("start", "end", "enrollment_start", "enrollment_end")
BANNER_SIZES = ("large", "medium", "small", "x-small")


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
    out["enrollment_open_date"] = _short_date(start)
    out["is_course_ended"] = ended
    # Upstream certificates_viewable_for_course: self-paced runs always, others once ended.
    out["may_certify"] = out["pacing_type"] == "self_paced" or ended
    out["certificate_url"] = relative_url(certificate.get("download_url")) if certificate else None
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
) -> dict[str, Any]:
    """A course object of `progress` with its runs extended for progress_details."""
    completing = completing_runs(course, certificates)
    out = dict(course)
    out["course_runs"] = [
        extended_run(
            run,
            enrollment=enrollments.get(run["key"]),
            certificate=certificates.get(run["key"]),
            completed_here=run["key"] in completing,
            now=now,
            ecommerce_url=ecommerce_url,
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
    programs: dict[str, dict[str, Any]], user: UserFacts, now: datetime, *, enterprise_uuid: str | None = None
) -> list[dict[str, Any]]:
    """The learner's programs (the list route): every program with a run among the learner's
    active (with an enterprise: linked) enrollments, newest enrollment first, then by uuid."""
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
            newest[uuid] = (max(stamps) if stamps else float("-inf"), uuid)
    ordered = sorted(newest, key=lambda u: (-newest[u][0], u))
    entries = []
    for uuid in ordered:
        program = programs[uuid]
        counts = progress_counted(program, user, now, enterprise_uuid=enterprise_uuid).counts()
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


def _certificate_data(program: dict[str, Any], result: ProgramProgress, user: UserFacts) -> list[dict[str, Any]]:
    """One earned certificate per course (first run that may certify and has one), then the
    program certificate when awarded."""
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
    pcert = user.get(keys.f_program_certificate(program["uuid"]))
    if isinstance(pcert, dict) and pcert.get("awarded") is True:
        certs.append({"type": "program", "title": pcert.get("title") or program.get("title"), "url": pcert.get("url")})
    return certs


def _purchase_skus(program: dict[str, Any], result: ProgramProgress) -> list[str]:
    """Seats a learner would buy in one click: for each course not completed and not already
    enrolled in an applicable mode, the sku of the first open, unended run's applicable seat."""
    if not program.get("is_program_eligible_for_one_click_purchase"):
        return []
    applicable = set(program.get("applicable_seat_types") or ())
    skus: list[str] = []
    for course in (*result.in_progress, *result.not_started):
        runs = course["course_runs"]
        if any(run["is_enrolled"] and run.get("upgrade_url") is None and run.get("type") in applicable for run in runs):
            continue
        for run in runs:
            if run["is_enrollment_open"] and not run["is_course_ended"]:
                sku = next((s.get("sku") for s in run["seats"] if s.get("type") in applicable and s.get("sku")), None)
                if sku:
                    skus.append(sku)
                    break
        else:
            return []  # a course that cannot be bought now: no one-click purchase (upstream)
    return skus


def progress_details(program: dict[str, Any], user: UserFacts, now: datetime, urls: DetailUrls) -> dict[str, Any]:
    """The progress_details body for a known program."""
    counted = progress(program, user, now)
    enrollments, certificates = active_enrollments(user), downloadable_certificates(user)

    def extend(courses: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [extend_course(c, enrollments, certificates, now, ecommerce_url=urls.ecommerce_url) for c in courses]

    result = ProgramProgress(
        extend(counted.completed),
        extend(counted.in_progress),
        extend(counted.not_started),
        all_unenrolled=counted.all_unenrolled,
    )
    earned = _certificate_data(program, result, user)
    skus = _purchase_skus(program, result)
    pathways = list(program.get("pathways") or ())
    program_data = {k: v for k, v in program.items() if k not in ("courses", "pathways")}
    program_data["authoring_organizations"] = list(program.get("authoring_organizations") or ())
    program_data["banner_image"] = banner_image(program)
    program_data["pathway_ids"] = [p["id"] for p in pathways]
    program_data["applicable_seat_types"] = list(program.get("applicable_seat_types") or ())
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
        "industry_pathways": [p for p in pathways if p.get("pathway_type") == "industry"],
        "credit_pathways": [p for p in pathways if p.get("pathway_type") == "credit"],
    }
