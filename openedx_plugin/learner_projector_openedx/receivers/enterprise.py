"""Enterprise course enrollment links: edx-enterprise's `EnterpriseCourseEnrollment`
-> `ext.enterprise.course.enrollment.linked.v1` / `.unlinked.v1`.

A saved row links the enrollment to its enterprise customer (unlinks it when the row is marked
`unenrolled`), with the row's `modified` time; a deleted row unlinks it, seen now.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey
from openedx_events.tooling import OpenEdxPublicSignal

from learner_projector_openedx import data, signals
from learner_projector_openedx.publisher import PUBLISHER, guarded
from learner_projector_openedx.times import now


def link_event(row: Any, time: datetime, deleted: bool = False
               ) -> tuple[OpenEdxPublicSignal, dict[str, data.EnterpriseEnrollmentData], datetime] | None:
    try:
        course_key = CourseKey.from_string(str(row.course_id))
    except InvalidKeyError:
        return None
    link = row.enterprise_customer_user
    payload = data.EnterpriseEnrollmentData(enterprise_customer_uuid=str(link.enterprise_customer.uuid),
                                            user_id=link.user_id, course_key=course_key)
    unlinked = deleted or bool(getattr(row, "unenrolled", False))
    signal = signals.ENTERPRISE_ENROLLMENT_UNLINKED if unlinked else signals.ENTERPRISE_ENROLLMENT_LINKED
    return signal, {"enterprise_enrollment": payload}, time


@guarded
def on_enterprise_enrollment_saved(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    event = None if raw else link_event(instance, instance.modified)
    if event is not None:
        PUBLISHER.submit_on_commit(*event)


@guarded
def on_enterprise_enrollment_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    event = link_event(instance, now(), deleted=True)
    if event is not None:
        PUBLISHER.submit_on_commit(*event)
