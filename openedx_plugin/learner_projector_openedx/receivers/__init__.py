"""The plugin's signal receivers, one module per source; apps.py's `signals_config` names them here."""

from learner_projector_openedx.receivers.bookmarks import on_bookmark_deleted, on_bookmark_saved
from learner_projector_openedx.receivers.celebrations import on_celebration_saved
from learner_projector_openedx.receivers.completion import on_block_completion_saved
from learner_projector_openedx.receivers.course_goals import on_course_goal_deleted, on_course_goal_saved
from learner_projector_openedx.receivers.course_published import on_course_published
from learner_projector_openedx.receivers.enterprise import (
    on_enterprise_enrollment_deleted,
    on_enterprise_enrollment_saved,
)
from learner_projector_openedx.receivers.positions import on_student_module_saved
from learner_projector_openedx.receivers.preferences import (
    on_student_info_field_saved,
    on_user_preference_deleted,
    on_user_preference_saved,
)
from learner_projector_openedx.receivers.signatures import on_integrity_signature_saved
from learner_projector_openedx.receivers.subsection_grades import on_subsection_score_changed

__all__ = [
    "on_block_completion_saved", "on_bookmark_deleted", "on_bookmark_saved", "on_celebration_saved",
    "on_course_goal_deleted", "on_course_goal_saved", "on_course_published", "on_enterprise_enrollment_deleted",
    "on_enterprise_enrollment_saved", "on_integrity_signature_saved", "on_student_info_field_saved",
    "on_student_module_saved", "on_subsection_score_changed", "on_user_preference_deleted",
    "on_user_preference_saved",
]
