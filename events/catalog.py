"""Catalog programs (extension): complete snapshots, and deletion."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from events.base import EventData, Record
from events.common import CourseKeyStr, Time
from events.registry import register

TOPIC = "catalog-program-lifecycle"


class Seat(Record):
    type: str
    upgrade_deadline: Time | None = None
    price: str | float | None = None
    currency: str | None = None
    sku: str | None = None


class CourseRun(Record):
    key: CourseKeyStr
    title: str | None = None
    type: str
    pacing_type: str
    start: Time | None = None
    end: Time | None = None
    enrollment_start: Time | None = None
    enrollment_end: Time | None = None
    advertised_start: str | None = None
    status: str
    seats: tuple[Seat, ...]


class ProgramCourse(Record):
    key: str
    uuid: str
    title: str
    image: dict[str, object] | None = None
    short_description: str | None = None
    course_runs: tuple[CourseRun, ...]


class ImageSize(Record):
    url: str
    width: int
    height: int


class Organization(Record):
    key: str
    name: str
    logo_image_url: str | None = None
    certificate_logo_image_url: str | None = None


class Pathway(Record):
    id: int
    uuid: str
    name: str
    org_name: str
    email: str
    description: str
    destination_url: str
    pathway_type: str
    program_uuids: tuple[str, ...]


class ProgramSnapshot(Record):
    uuid: str = Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
    title: str
    subtitle: str | None = None
    type: str
    type_slug: str
    status: str
    marketing_slug: str | None = None
    marketing_url: str | None = None
    card_image_url: str | None = None
    banner_image: dict[Literal["large", "medium", "small", "x-small"], ImageSize] | None = None
    authoring_organizations: tuple[Organization, ...]
    courses: tuple[ProgramCourse, ...]
    pathways: tuple[Pathway, ...]
    applicable_seat_types: tuple[str, ...]
    is_program_eligible_for_one_click_purchase: bool


@register
class ProgramChanged(EventData):
    TYPE: ClassVar[str] = "ext.catalog.program.changed.v1"
    TOPIC: ClassVar[str] = TOPIC
    program: ProgramSnapshot

    def partition_key(self) -> str:
        return self.program.uuid


class ProgramRef(Record):
    uuid: str = Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@register
class ProgramDeleted(EventData):
    TYPE: ClassVar[str] = "ext.catalog.program.deleted.v1"
    TOPIC: ClassVar[str] = TOPIC
    program: ProgramRef

    def partition_key(self) -> str:
        return self.program.uuid
