"""Program routes: progress details and program lists, under three prefixes.

`/api/dashboard/v1/` is the documented prefix; the real clients call `/api/dashboard/v0/` and
`/api/learner_home/v1/` (reference/real-clients.md §2.1). All three behave identically. Path
parameters are matched the way the LMS url patterns match them (openedx-api-behaviour.md §1.2): a
value outside the pattern is a route miss (404 `{"detail": "Not found."}`), never a 422.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from api.answer_memo import AnswerMemo, render
from api.auth import Caller
from api.deps import RequiredCallerDep, memo_of, now_of, settings_of
from api.errors import ApiError
from api.responses import JSON
from readmodels.program_readers import ProgramReaders
from readmodels.views.certificates import effective_courses
from readmodels.views.program_bodies import DetailUrls, list_entries, progress_details

PREFIXES = ("/api/dashboard/v1", "/api/dashboard/v0", "/api/learner_home/v1")
NO_PROGRAM_DATA = "No program data available."
PROGRAMS_MEMO = "programs"  # what a memo key of the list starts with (api/answer_memo.py)

# The LMS patterns: program uuids are lower-case hex and hyphens (any length); enterprise uuids are
# version-4 shaped, hyphens optional, any case.
PROGRAM_UUID = re.compile(r"[0-9a-f-]+")
ENTERPRISE_UUID = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?4[0-9a-fA-F]{3}-?[89abAB][0-9a-fA-F]{3}-?[0-9a-fA-F]{12}"
)

router = APIRouter(tags=["programs"])


# Documented response shapes (OpenAPI only: the bodies are built by readmodels.views.program_bodies and
# returned as they are; schemathesis checks them against these).


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Detail(BaseModel):
    detail: str


class NoProgramData(BaseModel):
    error_code: str


class Image(BaseModel):
    url: str
    width: int
    height: int


class BannerImage(BaseModel):
    large: Image
    medium: Image
    small: Image
    x_small: Image = Field(alias="x-small")


class ListOrganization(BaseModel):
    key: str
    logo_image_url: str | None


class ListProgress(BaseModel):
    uuid: str
    completed: int
    in_progress: int
    not_started: int
    all_unenrolled: bool


class ProgramListEntry(BaseModel):
    uuid: str
    title: str
    type: str
    banner_image: BannerImage
    authoring_organizations: list[ListOrganization]
    progress: ListProgress


class Run(_Open):
    key: str
    type: str
    pacing_type: str
    is_enrolled: bool
    is_enrollment_open: bool
    is_course_ended: bool
    may_certify: bool
    certificate_url: str | None
    upgrade_url: str | None
    advertised_start: str | None


class Course(_Open):
    key: str
    uuid: str
    title: str
    course_runs: list[Run]


class CourseData(BaseModel):
    uuid: str
    completed: list[Course]
    in_progress: list[Course]
    not_started: list[Course]
    all_unenrolled: bool


class ProgramData(_Open):
    uuid: str
    title: str
    type: str
    authoring_organizations: list[dict[str, Any]]


class Urls(BaseModel):
    program_listing_url: str
    track_selection_url: str
    commerce_api_url: str
    buy_button_url: str
    program_record_url: str | None


class CertificateItem(_Open):
    type: str
    title: str | None
    url: str | None


class ProgressDetails(BaseModel):
    urls: Urls
    program_data: ProgramData
    course_data: CourseData
    certificate_data: list[CertificateItem]
    industry_pathways: list[dict[str, Any]]
    credit_pathways: list[dict[str, Any]]


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Detail, "description": "No or invalid credentials"},
    404: {"model": Detail, "description": "No such route (malformed uuid)"},
}


# Dependencies -----------------------------------------------------------------------------------


def program_readers_of(request: Request) -> ProgramReaders:
    """Called directly by the handlers (a FastAPI dependency costs more than this per request)."""
    readers: ProgramReaders = request.app.state.program_readers
    return readers


def _not_found() -> ApiError:
    """What the LMS answers for a path its url patterns do not match (in this route's error shape)."""
    return ApiError(404, "Not found.")


# Handlers ---------------------------------------------------------------------------------------


async def get_progress_details(program_uuid: str, request: Request, caller: RequiredCallerDep) -> Any:
    """A learner's progress in one program (any authenticated user may read any program)."""
    if not PROGRAM_UUID.fullmatch(program_uuid):
        raise _not_found()
    now, settings = now_of(request), settings_of(request)
    facts = await program_readers_of(request).program(program_uuid, caller.user_id)
    if facts.program is None:
        return JSON({"error_code": NO_PROGRAM_DATA}, status_code=404)
    urls = DetailUrls(ecommerce_url=settings.ecommerce_url, credentials_url=settings.credentials_url)
    courses = effective_courses(facts.certificate_courses)
    return JSON(progress_details(facts.program, facts.user, now, urls, courses=courses))


async def get_programs(request: Request, caller: RequiredCallerDep) -> Any:
    """The learner's programs (B2C list): a bare JSON array."""
    return JSON(await program_list(program_readers_of(request), memo_of(request), caller, now_of(request)))


async def get_enterprise_programs(enterprise_uuid: str, request: Request, caller: RequiredCallerDep) -> Any:
    """The learner's programs counting only enrollments linked to the enterprise customer."""
    if not ENTERPRISE_UUID.fullmatch(enterprise_uuid):
        raise _not_found()
    hexed = enterprise_uuid.replace("-", "").lower()
    canonical = f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}"
    return JSON(await program_list(program_readers_of(request), memo_of(request), caller, now_of(request),
                                   enterprise_uuid=canonical))


async def program_list(
    readers: ProgramReaders, memo: AnswerMemo, caller: Caller, now: datetime, *, enterprise_uuid: str | None = None
) -> bytes:
    """The list routes' body as JSON (shared with the fast path, api/fastpath.py); from `memo` while
    nothing its read read has changed and the body cannot have changed (api/answer_memo.py)."""

    def build(raw: Any) -> tuple[bytes | None, datetime | None]:
        facts = readers.user_programs_facts(caller.user_id, raw)
        courses = effective_courses(facts.certificate_courses)  # certificate dates: their courses
        return render(now, lambda at: list_entries(facts.programs, facts.user, at, enterprise_uuid=enterprise_uuid,
                                                   courses=courses, shared_documents=True))  # the reader's documents

    body: bytes = await memo.answer(
        (PROGRAMS_MEMO, caller, enterprise_uuid), now,
        lambda stamps: readers.user_programs_reply(caller.user_id, stamps), build,
    )
    return body  # a list, never None


def _register() -> None:
    detail_responses = {**ERRORS, 404: {"model": NoProgramData | Detail, "description": "Unknown program"}}
    for prefix in PREFIXES:
        version = prefix.strip("/").replace("/", "_")
        for slash in ("/", ""):
            in_schema = slash == "/"  # the LMS routes end in "/"; the bare form is tolerated, undocumented
            suffix = "" if in_schema else "_noslash"
            router.add_api_route(
                f"{prefix}/programs/{{program_uuid}}/progress_details{slash}",
                get_progress_details,
                methods=["GET"],
                response_model=None,
                responses={200: {"model": ProgressDetails}, **detail_responses},
                operation_id=f"program_progress_details_{version}{suffix}",
                include_in_schema=in_schema,
            )
            router.add_api_route(
                f"{prefix}/programs/{{enterprise_uuid}}{slash}",
                get_enterprise_programs,
                methods=["GET"],
                response_model=None,
                responses={200: {"model": list[ProgramListEntry]}, **ERRORS},
                operation_id=f"enterprise_programs_{version}{suffix}",
                include_in_schema=in_schema,
            )
            router.add_api_route(
                f"{prefix}/programs{slash}",
                get_programs,
                methods=["GET"],
                response_model=None,
                responses={200: {"model": list[ProgramListEntry]}, 401: ERRORS[401]},
                operation_id=f"programs_{version}{suffix}",
                include_in_schema=in_schema,
            )


_register()
