"""Program progress counting (API.md "Counting"), shared by the program routes and the course
route's `related_programs`. Pure: program document + learner facts + now -> progress.

Interface (stable; the course route depends on it):

    progress(program: dict, user: UserFacts, now: datetime, *, enterprise_uuid: str | None = None)
        -> ProgramProgress

`program` is the stored program document (events.catalog.ProgramSnapshot as JSON);
`enterprise_uuid` restricts the learner's enrollments to those linked to that enterprise.

Choices where the contract is silent (each follows upstream's ProgramProgressMeter unless said):
- Certificates are never filtered by enterprise: only enrollments are (upstream passes the
  filtered enrollments to the meter and lets it read every certificate of the user).
- A certificate "run has failed" mark (upstream) never affects `in_progress`: upstream compares
  dicts of different shapes there, so it is a no-op; API.md rule 2 has no such condition either.
- `is_enrolled` on a run is true for an active (counted) enrollment, and also for the run whose
  certificate completed the course: the enterprise portal reads the completed course's run
  through `isEnrolled` and breaks without one (real-clients.md §3 item 28).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from events.base import format_time, parse_time
from readmodels.facts import ReadUserFacts, UserFacts

CERT_DOWNLOADABLE = "downloadable"
RUN_TIME_FIELDS = ("start", "end", "enrollment_start", "enrollment_end")
BANNER_SIZES = ("large", "medium", "small", "x-small")


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


def downloadable_certificates(user: UserFacts) -> dict[str, dict[str, Any]]:
    """Run key -> certificate fact, for certificates whose status is `downloadable` (read-only for
    callers: shared per request as active_enrollments)."""
    if isinstance(user, ReadUserFacts):
        found: dict[str, dict[str, Any]] = user.derived("downloadable_certificates", lambda: _certificates(user))
        return found
    return _certificates(user)


def _certificates(user: UserFacts) -> dict[str, dict[str, Any]]:
    return {
        run_key: cert
        for run_key, cert in user.with_prefix("cert:").items()
        if isinstance(cert, dict) and cert.get("status") == CERT_DOWNLOADABLE
    }


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


def run_in_progress(run: dict[str, Any], enrollment: Enrollment, now: datetime) -> bool:
    """Rule 2 for one actively enrolled run."""
    return _mode(enrollment.mode) == _mode(run.get("type")) or _seat_open(run, now)


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
    out["enrollment_open_date"] = _short_date(start)
    out["is_course_ended"] = ended
    # Upstream certificates_viewable_for_course: self-paced runs always, others once ended.
    out["may_certify"] = out["pacing_type"] == "self_paced" or ended
    out["certificate_url"] = relative_url(certificate.get("download_url")) if certificate else None
    out["course_url"] = f"/courses/{run['key']}/course/"
    out["upgrade_url"] = _upgrade_url(run, enrollment, now, ecommerce_url)
    out["is_mobile_only"] = False
    return out


# Progress ----------------------------------------------------------------------------------------


def _completing_runs(course: dict[str, Any], certificates: dict[str, dict[str, Any]]) -> set[str]:
    """Runs of the course whose downloadable certificate completes it (rule 1)."""
    return {
        run["key"]
        for run in course.get("course_runs") or ()
        if run["key"] in certificates and certificate_completes_run(certificates[run["key"]], run.get("type", ""))
    }


def progress(
    program: dict[str, Any], user: UserFacts, now: datetime, *, enterprise_uuid: str | None = None
) -> ProgramProgress:
    """Count every course of the program, in catalog order (API.md "Counting").

    The course objects are the catalog's (shallow copies, `expired: true` on enrolled-but-lapsed
    courses); their runs are extended with the learner's fields by `extend_course`, which only
    progress_details needs. Counting stays cheap for the course route and the change records.
    """
    buckets: tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]] = ([], [], [])
    any_enrolled = False
    for course, bucket, enrolled in _classified(program, user, now, enterprise_uuid):
        any_enrolled = any_enrolled or enrolled
        obj = dict(course)
        if bucket == NOT_STARTED and enrolled:
            obj["expired"] = True
        buckets[bucket].append(obj)
    completed, in_progress, not_started = buckets
    return ProgramProgress(completed, in_progress, not_started, all_unenrolled=not any_enrolled)


COMPLETED, IN_PROGRESS, NOT_STARTED = range(3)


def _classified(
    program: dict[str, Any], user: UserFacts, now: datetime, enterprise_uuid: str | None
) -> Iterator[tuple[dict[str, Any], int, bool]]:
    """(catalog course, bucket, whether the learner is actively enrolled in one of its runs), in
    catalog order: the counting rules, shared by `progress` and `progress_counted`."""
    enrollments = active_enrollments(user, enterprise_uuid)
    certificates = downloadable_certificates(user)
    for course in program.get("courses") or ():
        enrolled = [run for run in course.get("course_runs") or () if run["key"] in enrollments]
        if _completing_runs(course, certificates):
            yield course, COMPLETED, bool(enrolled)
        elif any(run_in_progress(run, enrollments[run["key"]], now) for run in enrolled):
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
    program: dict[str, Any], user: UserFacts, now: datetime, *, enterprise_uuid: str | None = None
) -> CountedProgress:
    """`progress` counted only: same rules (_classified), no copies of the course objects."""
    counts = [0, 0, 0]
    any_enrolled = False
    for _course, bucket, enrolled in _classified(program, user, now, enterprise_uuid):
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
) -> dict[str, Any]:
    """A course object of `progress` with its runs extended for progress_details."""
    completing = _completing_runs(course, certificates)
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
    pcert = user.get(f"pcert:{program['uuid']}")
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
