"""The Django app Open edX loads as a plugin (edx-django-utils: entry points `lms.djangoapp` / `cms.djangoapp`).

`plugin_app` tells the LMS and Studio what to wire, as every Open edX plugin does:
- `settings_config`: settings/common.py adds our event types to `EVENT_BUS_PRODUCER_CONFIG`;
- `signals_config`: each receiver (receivers/, one module per source) and the upstream signal and
  sender it listens to; the model paths are `edx_platform`'s, so they are written once.
Our OpenEdxPublicSignals are defined when this module is imported (before any app is ready),
because openedx-events checks every type named in `EVENT_BUS_PRODUCER_CONFIG` in its own `ready()`.
"""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig

from learner_projector_openedx import edx_platform as edx
from learner_projector_openedx import signals  # noqa: F401 - defines our event types now (see above)

POST_SAVE = "django.db.models.signals.post_save"
POST_DELETE = "django.db.models.signals.post_delete"
COURSE_PUBLISHED = "xmodule.modulestore.django.COURSE_PUBLISHED"
SUBSECTION_SCORE_CHANGED = "lms.djangoapps.grades.signals.signals.SUBSECTION_SCORE_CHANGED"


def receiver(func: str, signal: str, sender: str | None = None) -> dict[str, Any]:
    entry = {"receiver_func_name": func, "signal_path": signal,
             "dispatch_uid": f"learner_projector_openedx.{func}"}
    if sender is not None:
        entry["sender_path"] = sender
    return entry


LMS_RECEIVERS = [
    receiver("on_block_completion_saved", POST_SAVE, "completion.models.BlockCompletion"),
    receiver("on_subsection_score_changed", SUBSECTION_SCORE_CHANGED),
    receiver("on_course_goal_saved", POST_SAVE, edx.COURSE_GOAL),
    receiver("on_course_goal_deleted", POST_DELETE, edx.COURSE_GOAL),
    receiver("on_user_preference_saved", POST_SAVE, edx.USER_PREFERENCE),
    receiver("on_user_preference_deleted", POST_DELETE, edx.USER_PREFERENCE),
    receiver("on_student_info_field_saved", POST_SAVE, edx.STUDENT_INFO_FIELD),
    receiver("on_bookmark_saved", POST_SAVE, edx.BOOKMARK),
    receiver("on_bookmark_deleted", POST_DELETE, edx.BOOKMARK),
    receiver("on_student_module_saved", POST_SAVE, edx.STUDENT_MODULE),
    receiver("on_integrity_signature_saved", POST_SAVE, edx.INTEGRITY_SIGNATURE),
    receiver("on_enterprise_enrollment_saved", POST_SAVE, edx.ENTERPRISE_ENROLLMENT),
    receiver("on_enterprise_enrollment_deleted", POST_DELETE, edx.ENTERPRISE_ENROLLMENT),
    receiver("on_celebration_saved", POST_SAVE, edx.CELEBRATION),
]
CMS_RECEIVERS = [
    receiver("on_course_published", COURSE_PUBLISHED),
]


class LearnerProjectorConfig(AppConfig):
    name = "learner_projector_openedx"
    label = "learner_projector"
    verbose_name = "learner-projector event bridge"

    plugin_app = {
        "settings_config": {
            "lms.djangoapp": {"common": {"relative_path": "settings.common"}},
            "cms.djangoapp": {"common": {"relative_path": "settings.common"}},
        },
        "signals_config": {
            "lms.djangoapp": {"relative_path": "receivers", "receivers": LMS_RECEIVERS},
            "cms.djangoapp": {"relative_path": "receivers", "receivers": CMS_RECEIVERS},
        },
    }

    def ready(self) -> None:
        from learner_projector_openedx import avro_compat, publisher

        avro_compat.install()
        publisher.watch_producer_errors()
