"""Integrity signatures: edx-platform's `IntegritySignature` (openedx/core/djangoapps/agreements)
-> `ext.learning.integrity.signature.created.v1`, with the row's `created` time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from learner_projector_openedx import data, signals
from learner_projector_openedx.publisher import PUBLISHER, guarded


def signature_event(row: Any) -> tuple[dict[str, data.SignatureData], datetime]:
    return {"signature": data.SignatureData(user_id=row.user_id, course_key=row.course_key)}, row.created


@guarded
def on_integrity_signature_saved(sender: Any, instance: Any, created: bool = False, raw: bool = False,
                                 **kwargs: Any) -> None:
    if created and not raw:
        PUBLISHER.submit_on_commit(signals.INTEGRITY_SIGNATURE_CREATED, *signature_event(instance))
