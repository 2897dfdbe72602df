"""The `ext.catalog.program.changed.v1` snapshot of a program, from course-discovery's program document
as the LMS caches it (openedx/core/djangoapps/catalog, filled by `cache_programs`).

The document's fields are taken by name (EVENTS.md `Program` uses discovery's names); what
discovery nests differently is mapped here: the program type's slug (`type_attrs.slug`), a
course's image (`{src, description, height, width}`, kept as a map of strings), a seat's price
(a decimal string, as discovery serves it), and the pathways (the LMS caches them apart, by the
ids in `pathway_ids`). Times are discovery's ISO strings, parsed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from learner_projector_openedx import data

Doc = Mapping[str, Any]


def time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))  # 3.11: takes "Z"


def text(value: Any) -> str | None:
    return None if value is None else str(value)


def build_seat(seat: Doc) -> data.Seat:
    return data.Seat(type=str(seat.get("type") or ""), upgrade_deadline=time(seat.get("upgrade_deadline")),
                     price=text(seat.get("price")), currency=text(seat.get("currency")), sku=text(seat.get("sku")))


def build_run(run: Doc) -> data.CourseRun | None:
    try:
        key = CourseKey.from_string(str(run.get("key")))
    except InvalidKeyError:
        return None
    return data.CourseRun(
        key=key, title=text(run.get("title")), type=str(run.get("type") or ""),
        pacing_type=str(run.get("pacing_type") or ""), start=time(run.get("start")), end=time(run.get("end")),
        enrollment_start=time(run.get("enrollment_start")), enrollment_end=time(run.get("enrollment_end")),
        advertised_start=text(run.get("advertised_start")), status=str(run.get("status") or ""),
        seats=[build_seat(s) for s in run.get("seats") or []],
    )


def build_course(course: Doc) -> data.ProgramCourse:
    image = course.get("image")
    runs = [build_run(r) for r in course.get("course_runs") or []]
    return data.ProgramCourse(
        key=str(course.get("key") or ""), uuid=str(course.get("uuid") or ""), title=str(course.get("title") or ""),
        image={k: str(v) for k, v in image.items() if v is not None} if isinstance(image, Mapping) else None,
        short_description=text(course.get("short_description")),
        course_runs=[r for r in runs if r is not None],
    )


def build_pathway(pathway: Doc) -> data.Pathway:
    return data.Pathway(
        id=int(pathway["id"]), uuid=str(pathway.get("uuid") or ""), name=str(pathway.get("name") or ""),
        org_name=str(pathway.get("org_name") or ""), email=str(pathway.get("email") or ""),
        description=str(pathway.get("description") or ""), destination_url=str(pathway.get("destination_url") or ""),
        pathway_type=str(pathway.get("pathway_type") or ""),
        program_uuids=[str(u) for u in pathway.get("program_uuids") or []],
    )


def build_program(program: Doc, pathways: Iterable[Doc] = ()) -> data.ProgramSnapshot:
    kind = program.get("type_attrs") or {}
    banner = program.get("banner_image")
    return data.ProgramSnapshot(
        uuid=str(program["uuid"]),
        title=str(program.get("title") or ""),
        subtitle=text(program.get("subtitle")),
        type=str(program.get("type") or ""),
        type_slug=str(kind.get("slug") or program.get("type_slug") or ""),
        status=str(program.get("status") or ""),
        marketing_slug=text(program.get("marketing_slug")),
        marketing_url=text(program.get("marketing_url")),
        card_image_url=text(program.get("card_image_url")),
        banner_image={size: data.ImageSize(url=str(img.get("url") or ""), width=int(img.get("width") or 0),
                                           height=int(img.get("height") or 0))
                      for size, img in banner.items() if isinstance(img, Mapping)}
        if isinstance(banner, Mapping) else None,
        authoring_organizations=[
            data.Organization(key=str(o.get("key") or ""), name=str(o.get("name") or ""),
                              logo_image_url=text(o.get("logo_image_url")),
                              certificate_logo_image_url=text(o.get("certificate_logo_image_url")))
            for o in program.get("authoring_organizations") or []],
        courses=[build_course(c) for c in program.get("courses") or []],
        pathways=[build_pathway(p) for p in pathways],
        applicable_seat_types=[str(s) for s in program.get("applicable_seat_types") or []],
        is_program_eligible_for_one_click_purchase=bool(program.get("is_program_eligible_for_one_click_purchase")),
    )
