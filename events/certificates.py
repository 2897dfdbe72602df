"""Course certificates and program certificates (openedx-events)."""

from __future__ import annotations

from typing import ClassVar

from events.base import EventData, Record
from events.common import CourseData, Time, UserData
from events.registry import register

TOPIC = "learning-certificate-lifecycle"


class CertificateData(Record):
    user: UserData
    course: CourseData
    mode: str
    grade: str
    download_url: str
    name: str
    current_status: str
    previous_status: str


class _CertificateEvent(EventData):
    TOPIC: ClassVar[str] = TOPIC
    certificate: CertificateData

    def partition_key(self) -> str:
        return self.certificate.course.course_key


@register
class CertificateCreated(_CertificateEvent):
    TYPE: ClassVar[str] = "org.openedx.learning.certificate.created.v1"


@register
class CertificateChanged(_CertificateEvent):
    TYPE: ClassVar[str] = "org.openedx.learning.certificate.changed.v1"


@register
class CertificateRevoked(_CertificateEvent):
    TYPE: ClassVar[str] = "org.openedx.learning.certificate.revoked.v1"


class ProgramData(Record):
    uuid: str
    title: str
    program_type: str


class ProgramCertificateData(Record):
    user: UserData
    program: ProgramData
    uuid: str
    status: str
    url: str
    certificate_available_date: Time | None = None


class _ProgramCertificateEvent(EventData):
    TOPIC: ClassVar[str] = TOPIC
    program_certificate: ProgramCertificateData

    def partition_key(self) -> str:
        return self.program_certificate.program.uuid


@register
class ProgramCertificateAwarded(_ProgramCertificateEvent):
    TYPE: ClassVar[str] = "org.openedx.learning.program.certificate.awarded.v1"


@register
class ProgramCertificateRevoked(_ProgramCertificateEvent):
    TYPE: ClassVar[str] = "org.openedx.learning.program.certificate.revoked.v1"
